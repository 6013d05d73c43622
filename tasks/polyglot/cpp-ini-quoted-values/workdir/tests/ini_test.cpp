#include "confkit/ini.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using confkit::IniFile;
using confkit::ParseError;

TEST(Ini, SectionsAndKeys) {
    const IniFile ini = IniFile::parse(
        "log_level = info\n"
        "\n"
        "[smtp]\n"
        "host = mail.example.org\n"
        "port=587\n"
        "[Spool]\n"
        "  Dir   =   /var/spool/relay  \n");
    EXPECT_EQ(ini.get("", "log_level"), "info");
    EXPECT_EQ(ini.get("smtp", "host"), "mail.example.org");
    EXPECT_EQ(ini.get("smtp", "port"), "587");
    EXPECT_EQ(ini.get("SPOOL", "dir"), "/var/spool/relay");
    EXPECT_EQ(ini.sections(), (std::vector<std::string>{"", "smtp", "spool"}));
    EXPECT_EQ(ini.keys("smtp"), (std::vector<std::string>{"host", "port"}));
    EXPECT_FALSE(ini.get("smtp", "user").has_value());
    EXPECT_EQ(ini.get_or("smtp", "user", "nobody"), "nobody");
}

TEST(Ini, Comments) {
    const IniFile ini = IniFile::parse(
        "; a comment\n"
        "# another one\n"
        "[a]\n"
        "   ; indented comment\n"
        "port = 8080 ; the default\n"
        "mode = fast # or slow\n"
        "tag = release#2\n");
    EXPECT_EQ(ini.get("a", "port"), "8080");
    EXPECT_EQ(ini.get("a", "mode"), "fast");
    EXPECT_EQ(ini.get("a", "tag"), "release#2");
    EXPECT_EQ(ini.keys("a").size(), 3u);
}

TEST(Ini, QuotedValuesKeepTheirBlanks) {
    const IniFile ini = IniFile::parse(
        "[ui]\n"
        "prompt = \"  > \"\n"
        "greeting = \"say \\\"hi\\\"\"\n"
        "empty = \"\"\n");
    EXPECT_EQ(ini.get("ui", "prompt"), "  > ");
    EXPECT_EQ(ini.get("ui", "greeting"), "say \"hi\"");
    EXPECT_EQ(ini.get("ui", "empty"), "");
}

TEST(Ini, LaterKeyWins) {
    const IniFile ini = IniFile::parse("[a]\nx = 1\nX = 2\n[b]\nx = 3\n[a]\ny = 4\n");
    EXPECT_EQ(ini.get("a", "x"), "2");
    EXPECT_EQ(ini.get("a", "y"), "4");
    EXPECT_EQ(ini.sections(), (std::vector<std::string>{"a", "b"}));
}

TEST(Ini, CrLfFiles) {
    const IniFile ini = IniFile::parse("[a]\r\nx = 1\r\ny = \"two\"\r\n");
    EXPECT_EQ(ini.get("a", "x"), "1");
    EXPECT_EQ(ini.get("a", "y"), "two");
}

TEST(Ini, ErrorsNameTheLine) {
    try {
        IniFile::parse("[a]\nx = 1\n[broken\n");
        FAIL() << "expected ParseError";
    } catch (const ParseError& e) {
        EXPECT_EQ(e.line(), 3);
    }
    EXPECT_THROW(IniFile::parse("just words\n"), ParseError);
    EXPECT_THROW(IniFile::parse(" = value\n"), ParseError);
}
