#include "serialtap/line_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using serialtap::LineReader;

namespace {

std::vector<std::string> drain(LineReader& reader) {
    std::vector<std::string> lines;
    while (auto line = reader.next_line()) {
        lines.push_back(*line);
    }
    return lines;
}

}  // namespace

TEST(LineReader, SplitsOnNewlines) {
    LineReader reader;
    reader.feed("$GPGSA,A,3*00\n$GPVTG,054.7,T*11\n");
    EXPECT_EQ(drain(reader), (std::vector<std::string>{"$GPGSA,A,3*00", "$GPVTG,054.7,T*11"}));
    EXPECT_EQ(reader.buffered(), 0u);
}

TEST(LineReader, AcceptsEveryTerminator) {
    LineReader reader;
    reader.feed("crlf\r\nlf\ncr\rlast\r\n");
    EXPECT_EQ(drain(reader), (std::vector<std::string>{"crlf", "lf", "cr", "last"}));
}

TEST(LineReader, KeepsEmptyLines) {
    LineReader reader;
    reader.feed("a\n\nb\r\n\r\n");
    EXPECT_EQ(drain(reader), (std::vector<std::string>{"a", "", "b", ""}));
}

TEST(LineReader, WaitsForTheRestOfALine) {
    LineReader reader;
    reader.feed("$GPGGA,1235");
    EXPECT_FALSE(reader.next_line().has_value());
    reader.feed("19*5F\n");
    EXPECT_EQ(drain(reader), (std::vector<std::string>{"$GPGGA,123519*5F"}));
}

TEST(LineReader, ByteByByte) {
    LineReader reader(16);
    std::vector<std::string> lines;
    for (char c : std::string("one\ntwo\nthree\n")) {
        reader.feed(std::string(1, c));
        for (auto& l : drain(reader)) lines.push_back(l);
    }
    EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three"}));
    EXPECT_EQ(reader.dropped(), 0u);
}
