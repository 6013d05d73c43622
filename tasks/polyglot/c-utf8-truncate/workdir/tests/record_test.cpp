#include "logfmt/record.h"

#include <gtest/gtest.h>

#include <string>

TEST(Record, BuildsALine) {
    char line[128];
    lf_record rec;
    lf_init(&rec, line, sizeof line);
    EXPECT_STREQ(lf_str(&rec), "");
    EXPECT_EQ(lf_add(&rec, "level", "info"), 0);
    EXPECT_EQ(lf_add(&rec, "msg", "disk \"sda\" almost full"), 0);
    EXPECT_EQ(lf_add_int(&rec, "used_pct", 93), 0);
    EXPECT_EQ(lf_add_int(&rec, "delta", -7), 0);
    EXPECT_EQ(lf_add(&rec, "empty", ""), 0);
    EXPECT_STREQ(lf_str(&rec), "level=info msg=\"disk \\\"sda\\\" almost full\" used_pct=93 delta=-7 empty=\"\"");
}

TEST(Record, FieldThatDoesNotFitIsLeftOut) {
    char line[16];
    lf_record rec;
    lf_init(&rec, line, sizeof line);
    EXPECT_EQ(lf_add(&rec, "level", "warn"), 0);          // "level=warn": 10 bytes
    EXPECT_EQ(lf_add(&rec, "code", "507"), -1);           // " code=507" would need 9 more
    EXPECT_STREQ(lf_str(&rec), "level=warn");
    EXPECT_EQ(lf_add(&rec, "ok", "1"), 0);                // " ok=1": 15 bytes + NUL
    EXPECT_STREQ(lf_str(&rec), "level=warn ok=1");
}

TEST(Record, LongValuesAreCut) {
    char line[256];
    lf_record rec;
    lf_init(&rec, line, sizeof line);
    const std::string value(100, 'a');
    EXPECT_EQ(lf_add(&rec, "v", value.c_str()), 0);
    EXPECT_EQ(std::string(lf_str(&rec)), "v=" + std::string(LF_VALUE_MAX, 'a'));
}

TEST(Record, NonAsciiValues) {
    char line[64];
    lf_record rec;
    lf_init(&rec, line, sizeof line);
    EXPECT_EQ(lf_add(&rec, "user", "Ren\xc3\xa9"), 0);
    EXPECT_STREQ(lf_str(&rec), "user=Ren\xc3\xa9");
}
