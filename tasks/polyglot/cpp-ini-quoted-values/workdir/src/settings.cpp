#include "confkit/settings.hpp"

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "confkit/strings.hpp"

namespace confkit {
namespace {

std::invalid_argument bad(std::string_view section, std::string_view key, const std::string& what) {
    return std::invalid_argument(std::string(section) + "." + std::string(key) + ": " + what);
}

}  // namespace

long Settings::get_int(std::string_view section, std::string_view key, long fallback) const {
    const auto raw = ini_.get(section, key);
    if (!raw) return fallback;
    const std::string text(trim(*raw));
    if (text.empty()) throw bad(section, key, "empty number");
    char* end = nullptr;
    errno = 0;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') throw bad(section, key, "not an integer: '" + text + "'");
    return value;
}

bool Settings::get_bool(std::string_view section, std::string_view key, bool fallback) const {
    const auto raw = ini_.get(section, key);
    if (!raw) return fallback;
    const std::string v = to_lower(trim(*raw));
    if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
    if (v == "false" || v == "no" || v == "off" || v == "0") return false;
    throw bad(section, key, "not a boolean: '" + *raw + "'");
}

}  // namespace confkit
