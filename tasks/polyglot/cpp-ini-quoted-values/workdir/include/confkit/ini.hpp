#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace confkit {

// A malformed INI file; line() is 1-based.
class ParseError : public std::runtime_error {
public:
    ParseError(int line, const std::string& what);
    int line() const { return line_; }

private:
    int line_;
};

// A parsed INI file (syntax in README.md).
class IniFile {
public:
    static IniFile parse(std::string_view text);

    // The value of `key` in `section` ("" for the global section); names are case-insensitive.
    std::optional<std::string> get(std::string_view section, std::string_view key) const;
    std::string get_or(std::string_view section, std::string_view key, std::string fallback) const;
    // Section names in file order, the global section first when it has keys.
    std::vector<std::string> sections() const;
    // Key names of `section`, sorted.
    std::vector<std::string> keys(std::string_view section) const;

private:
    std::vector<std::string> order_;
    std::map<std::string, std::map<std::string, std::string>> values_;
};

}  // namespace confkit
