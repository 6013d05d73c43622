// Scoring tests for OPS-2231; copied into the work dir only when grading.
#include "confkit/ini.hpp"
#include "confkit/settings.hpp"

#include <gtest/gtest.h>

#include <string>

using confkit::IniFile;
using confkit::ParseError;

namespace {

std::string value_of(const std::string& line) {
    return IniFile::parse("[t]\n" + line + "\n").get("t", "v").value();
}

int error_line(const std::string& text) {
    try {
        IniFile::parse(text);
    } catch (const ParseError& e) {
        return e.line();
    }
    return -1;
}

}  // namespace

TEST(HiddenQuoted, CommentCharactersInsideQuotesAreKept) {
    EXPECT_EQ(value_of("v = \"Welcome ; no spam\""), "Welcome ; no spam");
    EXPECT_EQ(value_of("v = \"http://intranet/status #top\""), "http://intranet/status #top");
    EXPECT_EQ(value_of("v = \" ; \""), " ; ");
}

TEST(HiddenQuoted, InlineCommentAfterTheClosingQuote) {
    EXPECT_EQ(value_of("v = \"p;ss #1\" ; rotated in March"), "p;ss #1");
    EXPECT_EQ(value_of("v = \"a\"   # trailing"), "a");
    EXPECT_EQ(value_of("v = \"say \\\"hi\\\" ; twice\" ; greeting"), "say \"hi\" ; twice");
}

TEST(HiddenQuoted, EscapedBackslashes) {
    EXPECT_EQ(value_of(R"(v = "C:\\relay\\new\\tmp")"), "C:\\relay\\new\\tmp");
    EXPECT_EQ(value_of(R"(v = "ends with \\")"), "ends with \\");
    EXPECT_EQ(value_of(R"(v = "\\\"quoted\\\"")"), "\\\"quoted\\\"");
}

TEST(HiddenQuoted, EscapesAreResolvedOnce) {
    EXPECT_EQ(value_of(R"(v = "line1\nline2\tend")"), "line1\nline2\tend");
    EXPECT_EQ(value_of(R"(v = "\\n is not a newline")"), "\\n is not a newline");
    EXPECT_EQ(value_of(R"(v = "\d+ stays")"), "\\d+ stays");
}

TEST(HiddenQuoted, UnterminatedQuoteIsAnError) {
    EXPECT_EQ(error_line("[a]\nok = 1\nmotd = \"Welcome ; no spam\n"), 3);
    EXPECT_EQ(error_line("[a]\nv = \"ends with \\\"\n"), 2);
}

TEST(HiddenQuoted, TextAfterTheClosingQuoteIsAnError) {
    EXPECT_EQ(error_line("[a]\nv = \"a\" b\n"), 2);
}

TEST(HiddenQuoted, WholeFileFromTheTicket) {
    const IniFile ini = IniFile::parse(
        "[smtp]\r\n"
        "host     = mail.example.org     ; primary relay\r\n"
        "password = \"Tr0ub4dor ;&3\"     # rotated 2024-03\r\n"
        "banner   = \"Welcome; #1 relay\"\r\n"
        "spool    = \"D:\\\\relay\\\\new\"\r\n"
        "tls      = yes ; required\r\n");
    EXPECT_EQ(ini.get("smtp", "host"), "mail.example.org");
    EXPECT_EQ(ini.get("smtp", "password"), "Tr0ub4dor ;&3");
    EXPECT_EQ(ini.get("smtp", "banner"), "Welcome; #1 relay");
    EXPECT_EQ(ini.get("smtp", "spool"), "D:\\relay\\new");
    EXPECT_TRUE(confkit::Settings(ini).get_bool("smtp", "tls", false));
}
