#include "serialtap/nmea.hpp"

#include <gtest/gtest.h>

using serialtap::parse_sentence;

TEST(Nmea, ParsesAValidSentence) {
    auto s = parse_sentence("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->talker, "GP");
    EXPECT_EQ(s->type, "GGA");
    ASSERT_EQ(s->fields.size(), 14u);
    EXPECT_EQ(s->fields[0], "123519");
    EXPECT_EQ(s->fields[1], "4807.038");
    EXPECT_EQ(s->fields[13], "");
}

TEST(Nmea, ChecksumIsCaseInsensitiveHex) {
    EXPECT_TRUE(parse_sentence("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"));
    EXPECT_TRUE(parse_sentence("$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6a"));
}

TEST(Nmea, RejectsMalformedSentences) {
    EXPECT_FALSE(parse_sentence("$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*48"));
    EXPECT_FALSE(parse_sentence("GPGGA,123519*47"));
    EXPECT_FALSE(parse_sentence("$GPGGA,123519"));
    EXPECT_FALSE(parse_sentence("$GPGGA,123519*4"));
    EXPECT_FALSE(parse_sentence(""));
}
