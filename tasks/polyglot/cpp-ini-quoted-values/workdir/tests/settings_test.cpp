#include "confkit/settings.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "confkit/strings.hpp"

using confkit::IniFile;
using confkit::Settings;

TEST(Settings, Integers) {
    const Settings s(IniFile::parse("[pool]\nsize = 16\nneg = -3\nbad = 12abc\n"));
    EXPECT_EQ(s.get_int("pool", "size", 4), 16);
    EXPECT_EQ(s.get_int("pool", "neg", 0), -3);
    EXPECT_EQ(s.get_int("pool", "missing", 4), 4);
    EXPECT_THROW(s.get_int("pool", "bad", 0), std::invalid_argument);
}

TEST(Settings, Booleans) {
    const Settings s(IniFile::parse("[tls]\nenabled = Yes\nverify = off\nodd = maybe\n"));
    EXPECT_TRUE(s.get_bool("tls", "enabled", false));
    EXPECT_FALSE(s.get_bool("tls", "verify", true));
    EXPECT_TRUE(s.get_bool("tls", "missing", true));
    EXPECT_THROW(s.get_bool("tls", "odd", false), std::invalid_argument);
}

TEST(Strings, TrimAndLower) {
    EXPECT_EQ(confkit::trim(" \t a b \r"), "a b");
    EXPECT_EQ(confkit::trim(""), "");
    EXPECT_EQ(confkit::to_lower("MiXeD_1"), "mixed_1");
}
