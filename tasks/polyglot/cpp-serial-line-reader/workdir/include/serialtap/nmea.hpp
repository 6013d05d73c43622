#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace serialtap {

// One NMEA 0183 sentence, e.g. "$GPGGA,123519,4807.038,N,...*47".
struct Sentence {
    std::string talker;               // "GP"
    std::string type;                 // "GGA"
    std::vector<std::string> fields;  // the comma-separated fields after the address
};

// XOR of the characters between '$' and '*' (both excluded).
unsigned checksum(std::string_view body);

// Parses a sentence; nothing when it is malformed or its checksum does not match.
std::optional<Sentence> parse_sentence(std::string_view line);

}  // namespace serialtap
