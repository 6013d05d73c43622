#pragma once

#include <string_view>

#include "confkit/ini.hpp"

namespace confkit {

// Typed access to an IniFile. Getters throw std::invalid_argument naming section.key when a
// value is present but malformed, and return `fallback` when it is absent.
class Settings {
public:
    explicit Settings(IniFile ini) : ini_(std::move(ini)) {}

    const IniFile& ini() const { return ini_; }
    long get_int(std::string_view section, std::string_view key, long fallback) const;
    // true/false, yes/no, on/off, 1/0 (any case).
    bool get_bool(std::string_view section, std::string_view key, bool fallback) const;

private:
    IniFile ini_;
};

}  // namespace confkit
