#pragma once

#include <string>
#include <string_view>

namespace confkit {

// `s` without leading and trailing blanks (space, tab, CR).
std::string_view trim(std::string_view s);
// ASCII lowercase copy of `s`.
std::string to_lower(std::string_view s);
// True when `s` is a blank character (space, tab, CR).
bool is_blank(char c);

}  // namespace confkit
