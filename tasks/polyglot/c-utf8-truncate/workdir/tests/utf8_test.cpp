#include "logfmt/utf8.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

TEST(Utf8, Valid) {
    EXPECT_TRUE(utf8_valid("plain ascii"));
    EXPECT_TRUE(utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x91\x8d"));
    EXPECT_TRUE(utf8_valid(""));
    EXPECT_FALSE(utf8_valid("h\xc3"));              // truncated sequence
    EXPECT_FALSE(utf8_valid("\xc0\xaf"));           // overlong '/'
    EXPECT_FALSE(utf8_valid("\xed\xa0\x80"));       // surrogate
    EXPECT_FALSE(utf8_valid("\xf4\x90\x80\x80"));   // above U+10FFFF
}

TEST(Utf8, Count) {
    EXPECT_EQ(utf8_count("hello"), 5u);
    EXPECT_EQ(utf8_count("h\xc3\xa9llo"), 5u);
    EXPECT_EQ(utf8_count("\xe2\x82\xac\xf0\x9f\x91\x8d"), 2u);
    EXPECT_EQ(utf8_count("a\xff" "b"), 3u);
}

TEST(Utf8, PrefixOfAsciiText) {
    EXPECT_EQ(utf8_prefix_len("hello world", 5), 5u);
    EXPECT_EQ(utf8_prefix_len("hello", 5), 5u);
    EXPECT_EQ(utf8_prefix_len("hello", 100), 5u);
    EXPECT_EQ(utf8_prefix_len("hello", 0), 0u);
}

TEST(Utf8, TruncateWhenItFits) {
    char buf[16];
    EXPECT_EQ(utf8_truncate(buf, sizeof buf, "short"), 5u);
    EXPECT_STREQ(buf, "short");
    EXPECT_EQ(utf8_truncate(buf, sizeof buf, "h\xc3\xa9llo"), 6u);
    EXPECT_STREQ(buf, "h\xc3\xa9llo");
}

TEST(Utf8, TruncateIntoNothing) {
    char buf[4] = {'X', 'X', 'X', 'X'};
    EXPECT_EQ(utf8_truncate(buf, 0, "abc"), 0u);
    EXPECT_EQ(buf[0], 'X');
}
