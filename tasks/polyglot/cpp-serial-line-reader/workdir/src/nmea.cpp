#include "serialtap/nmea.hpp"

#include <cctype>

namespace serialtap {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(sep, start);
        if (comma == std::string_view::npos) {
            parts.emplace_back(text.substr(start));
            return parts;
        }
        parts.emplace_back(text.substr(start, comma - start));
        start = comma + 1;
    }
}

}  // namespace

unsigned checksum(std::string_view body) {
    unsigned sum = 0;
    for (char c : body) {
        sum ^= static_cast<unsigned char>(c);
    }
    return sum;
}

std::optional<Sentence> parse_sentence(std::string_view line) {
    if (line.size() < 9 || line[0] != '$') return std::nullopt;
    const std::size_t star = line.rfind('*');
    if (star == std::string_view::npos || star + 3 != line.size()) return std::nullopt;
    const int hi = hex_value(line[star + 1]);
    const int lo = hex_value(line[star + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    const std::string_view body = line.substr(1, star - 1);
    if (checksum(body) != static_cast<unsigned>(hi * 16 + lo)) return std::nullopt;

    std::vector<std::string> parts = split(body, ',');
    const std::string& address = parts.front();
    if (address.size() != 5) return std::nullopt;
    Sentence s;
    s.talker = address.substr(0, 2);
    s.type = address.substr(2);
    s.fields.assign(parts.begin() + 1, parts.end());
    return s;
}

}  // namespace serialtap
