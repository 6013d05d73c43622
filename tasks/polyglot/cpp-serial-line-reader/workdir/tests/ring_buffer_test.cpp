#include "serialtap/ring_buffer.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

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

}  // namespace

TEST(RingBuffer, StartsEmpty) {
    RingBuffer rb(16);
    EXPECT_TRUE(rb.empty());
    EXPECT_EQ(rb.capacity(), 16u);
    EXPECT_EQ(rb.free_space(), 16u);
    EXPECT_THROW(RingBuffer(0), std::invalid_argument);
}

TEST(RingBuffer, ReadsBackInOrder) {
    RingBuffer rb(16);
    EXPECT_EQ(put(rb, "hello"), 5u);
    EXPECT_EQ(rb.size(), 5u);
    EXPECT_EQ(rb.free_space(), 11u);
    EXPECT_EQ(take(rb, 3), "hel");
    EXPECT_EQ(take(rb, 10), "lo");
    EXPECT_TRUE(rb.empty());
}

TEST(RingBuffer, WrapsAroundTheEnd) {
    RingBuffer rb(8);
    put(rb, "abcdef");
    EXPECT_EQ(take(rb, 4), "abcd");
    EXPECT_EQ(put(rb, "ghijk"), 5u);
    EXPECT_EQ(rb.size(), 7u);
    EXPECT_EQ(take(rb, 7), "efghijk");
}

TEST(RingBuffer, PeekDoesNotConsume) {
    RingBuffer rb(8);
    put(rb, "xyz");
    std::uint8_t out[3] = {};
    EXPECT_EQ(rb.peek(out, 3), 3u);
    EXPECT_EQ(out[0], 'x');
    EXPECT_EQ(out[2], 'z');
    EXPECT_EQ(rb.size(), 3u);
}

TEST(RingBuffer, FindAtAndDiscard) {
    RingBuffer rb(8);
    put(rb, "abcdef");
    take(rb, 5);
    put(rb, "gh\ni");
    EXPECT_EQ(rb.find('\n'), 3u);
    EXPECT_EQ(rb.at(0), 'f');
    EXPECT_EQ(rb.at(2), 'h');
    EXPECT_FALSE(rb.find('a').has_value());
    EXPECT_THROW(rb.at(5), std::out_of_range);
    EXPECT_EQ(rb.discard(2), 2u);
    EXPECT_EQ(take(rb, 8), "h\ni");
}
