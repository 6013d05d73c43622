// Scoring tests for TRK-915; copied into the work dir only when grading.
#include "serialtap/line_reader.hpp"
#include "serialtap/ring_buffer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using serialtap::LineReader;
using serialtap::RingBuffer;

namespace {

std::size_t put(RingBuffer& rb, const std::string& s) {
    return rb.write(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

std::string take(RingBuffer& rb, std::size_t n) {
    std::string out(n, '\0');
    out.resize(rb.read(reinterpret_cast<std::uint8_t*>(out.data()), n));
    return out;
}

std::vector<std::string> drain(LineReader& reader) {
    std::vector<std::string> lines;
    while (auto line = reader.next_line()) {
        lines.push_back(*line);
    }
    return lines;
}

}  // namespace

TEST(HiddenRingBuffer, HoldsExactlyItsCapacity) {
    RingBuffer rb(4);
    EXPECT_EQ(put(rb, "abcd"), 4u);
    EXPECT_EQ(rb.size(), 4u);
    EXPECT_EQ(rb.free_space(), 0u);
    EXPECT_FALSE(rb.empty());
    EXPECT_EQ(take(rb, 10), "abcd");
    EXPECT_TRUE(rb.empty());
}

TEST(HiddenRingBuffer, WriteTakesOnlyWhatFits) {
    RingBuffer rb(4);
    EXPECT_EQ(put(rb, "0123456789"), 4u);
    EXPECT_EQ(put(rb, "x"), 0u);
    EXPECT_EQ(take(rb, 10), "0123");
    EXPECT_EQ(put(rb, "wxyz"), 4u);
    EXPECT_EQ(take(rb, 10), "wxyz");
}

TEST(HiddenRingBuffer, FillsUpAcrossTheWrap) {
    RingBuffer rb(5);
    put(rb, "abc");
    EXPECT_EQ(take(rb, 2), "ab");
    EXPECT_EQ(put(rb, "defgh"), 4u);
    EXPECT_EQ(rb.size(), 5u);
    EXPECT_EQ(rb.find('g'), 4u);
    EXPECT_EQ(rb.at(4), 'g');
    EXPECT_EQ(take(rb, 5), "cdefg");
}

TEST(HiddenLineReader, LineThatFillsTheBufferExactly) {
    LineReader reader(8);
    EXPECT_EQ(reader.feed("ABCDEFG\n"), 8u);
    EXPECT_EQ(reader.buffered(), 8u);
    EXPECT_EQ(drain(reader), (std::vector<std::string>{"ABCDEFG"}));
    EXPECT_EQ(reader.dropped(), 0u);
}

TEST(HiddenLineReader, BytesThatDoNotFitAreCounted) {
    LineReader reader(8);
    EXPECT_EQ(reader.feed("0123456789"), 8u);
    EXPECT_EQ(reader.dropped(), 2u);
    EXPECT_EQ(reader.buffered(), 8u);
}

TEST(HiddenLineReader, OverlongLineIsDiscardedAndCounted) {
    LineReader reader(8);
    reader.feed("0123456789ABCDEF\n");
    EXPECT_FALSE(reader.next_line().has_value());
    EXPECT_EQ(reader.overlong(), 1u);
    EXPECT_EQ(reader.buffered(), 0u);
    reader.feed("$OK\n");
    EXPECT_EQ(drain(reader), (std::vector<std::string>{"$OK"}));
}

TEST(HiddenLineReader, CrLfSplitAcrossChunksIsOneTerminator) {
    LineReader reader;
    std::vector<std::string> lines;
    for (const char* chunk : {"$A\r", "\n$B\r", "\n"}) {
        reader.feed(chunk);
        for (auto& l : drain(reader)) lines.push_back(l);
    }
    EXPECT_EQ(lines, (std::vector<std::string>{"$A", "$B"}));
}

TEST(HiddenLineReader, ByteByByteWithCrLf) {
    LineReader reader(16);
    std::vector<std::string> lines;
    for (char c : std::string("$A\r\n\r\n$B\r\n")) {
        reader.feed(std::string(1, c));
        for (auto& l : drain(reader)) lines.push_back(l);
    }
    EXPECT_EQ(lines, (std::vector<std::string>{"$A", "", "$B"}));
}

TEST(HiddenLineReader, SameLinesWhereverTheStreamIsSplit) {
    const std::string stream = "one\r\ntwo\n\rthree\r\rfour\r\n";
    const std::vector<std::string> expected{"one", "two", "", "three", "", "four"};
    for (std::size_t k = 0; k <= stream.size(); ++k) {
        LineReader reader(32);
        std::vector<std::string> lines;
        reader.feed(stream.substr(0, k));
        for (auto& l : drain(reader)) lines.push_back(l);
        reader.feed(stream.substr(k));
        for (auto& l : drain(reader)) lines.push_back(l);
        EXPECT_EQ(lines, expected) << "split at " << k;
    }
}
