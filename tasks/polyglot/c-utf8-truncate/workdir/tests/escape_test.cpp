#include "logfmt/escape.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

std::string escaped(const char* s) {
    char buf[128];
    size_t need = lf_escape(buf, sizeof buf, s, std::strlen(s));
    EXPECT_EQ(need, std::strlen(buf));
    return buf;
}

}  // namespace

TEST(Escape, QuotesAndBackslashes) {
    EXPECT_EQ(escaped("say \"hi\""), "say \\\"hi\\\"");
    EXPECT_EQ(escaped("C:\\tmp"), "C:\\\\tmp");
}

TEST(Escape, ControlBytes) {
    EXPECT_EQ(escaped("a\nb\tc\rd"), "a\\nb\\tc\\rd");
    EXPECT_EQ(escaped("bell\x07"), "bell\\u0007");
    EXPECT_EQ(escaped("del\x7f"), "del\\u007f");
}

TEST(Escape, NonAsciiIsKept) {
    EXPECT_EQ(escaped("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(Escape, ReportsTheFullLengthLikeSnprintf) {
    char buf[4];
    EXPECT_EQ(lf_escape(buf, sizeof buf, "a\"bc", 4), 5u);
    EXPECT_STREQ(buf, "a\\\"");
    EXPECT_EQ(lf_escape(nullptr, 0, "a\nb", 3), 4u);
}

TEST(Escape, NeedsQuotes) {
    EXPECT_FALSE(lf_needs_quotes("info", 4));
    EXPECT_TRUE(lf_needs_quotes("", 0));
    EXPECT_TRUE(lf_needs_quotes("disk full", 9));
    EXPECT_TRUE(lf_needs_quotes("a=b", 3));
    EXPECT_TRUE(lf_needs_quotes("x\"", 2));
    EXPECT_FALSE(lf_needs_quotes("caf\xc3\xa9", 5));
}
