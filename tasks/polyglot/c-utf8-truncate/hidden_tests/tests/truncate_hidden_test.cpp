// Scoring tests for FW-1290; copied into the work dir only when grading.
#include "logfmt/record.h"
#include "logfmt/utf8.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

// "ok " + U+1F44D (4 bytes) + " caf" + U+00E9 (2 bytes) + U+20AC (3 bytes)
const char kMixed[] = "ok \xf0\x9f\x91\x8d caf\xc3\xa9\xe2\x82\xac";

}  // namespace

TEST(HiddenUtf8, PrefixNeverEndsInsideACharacter) {
    EXPECT_EQ(utf8_prefix_len("h\xc3\xa9llo", 2), 1u);
    EXPECT_EQ(utf8_prefix_len("h\xc3\xa9llo", 3), 3u);
    EXPECT_EQ(utf8_prefix_len("h\xc3\xa9!", 3), 3u);
    EXPECT_EQ(utf8_prefix_len(kMixed, 4), 3u);
    EXPECT_EQ(utf8_prefix_len(kMixed, 6), 3u);
    EXPECT_EQ(utf8_prefix_len(kMixed, 7), 7u);
    EXPECT_EQ(utf8_prefix_len(kMixed, 12), 11u);
    EXPECT_EQ(utf8_prefix_len(kMixed, 13), 13u);
    EXPECT_EQ(utf8_prefix_len(kMixed, 15), 13u);
}

TEST(HiddenUtf8, TruncateLeavesRoomForTheNul) {
    char buf[16];
    std::memset(buf, 'X', sizeof buf);
    EXPECT_EQ(utf8_truncate(buf, 6, "hello world"), 5u);
    EXPECT_STREQ(buf, "hello");
    EXPECT_EQ(buf[6], 'X') << "wrote past dstsize";

    std::memset(buf, 'X', sizeof buf);
    EXPECT_EQ(utf8_truncate(buf, 5, "hello"), 4u);
    EXPECT_STREQ(buf, "hell");
    EXPECT_EQ(buf[5], 'X') << "wrote past dstsize";

    std::memset(buf, 'X', sizeof buf);
    EXPECT_EQ(utf8_truncate(buf, 1, "hello"), 0u);
    EXPECT_EQ(buf[0], '\0');
    EXPECT_EQ(buf[1], 'X') << "wrote past dstsize";
}

TEST(HiddenUtf8, TruncateKeepsWholeCharacters) {
    char buf[16];
    std::memset(buf, 'X', sizeof buf);
    EXPECT_EQ(utf8_truncate(buf, 3, "h\xc3\xa9llo"), 1u);
    EXPECT_STREQ(buf, "h");
    EXPECT_EQ(utf8_truncate(buf, 4, "h\xc3\xa9llo"), 3u);
    EXPECT_STREQ(buf, "h\xc3\xa9");
}

TEST(HiddenUtf8, EveryBufferSizeGivesAValidPrefix) {
    const size_t len = std::strlen(kMixed);
    for (size_t size = 1; size <= len + 2; ++size) {
        char buf[32];
        std::memset(buf, 'X', sizeof buf);
        const size_t n = utf8_truncate(buf, size, kMixed);
        EXPECT_LT(n, size) << "size " << size;
        EXPECT_EQ(std::strlen(buf), n) << "size " << size;
        EXPECT_EQ(std::strncmp(buf, kMixed, n), 0) << "size " << size;
        EXPECT_TRUE(utf8_valid(buf)) << "size " << size;
        EXPECT_EQ(buf[size], 'X') << "wrote past dstsize " << size;
        if (size > len) {
            EXPECT_EQ(n, len) << "size " << size;
        }
    }
}

TEST(HiddenRecord, LongValueIsCutOnACharacterBoundary) {
    char line[256];
    lf_record rec;
    lf_init(&rec, line, sizeof line);
    // 62 ASCII bytes, then two 2-byte characters: only the first one fits in LF_VALUE_MAX.
    const std::string value = std::string(62, 'a') + "\xc3\xa9\xc3\xa8";
    ASSERT_EQ(LF_VALUE_MAX, 64);
    EXPECT_EQ(lf_add(&rec, "msg", value.c_str()), 0);
    EXPECT_EQ(std::string(lf_str(&rec)), "msg=" + std::string(62, 'a') + "\xc3\xa9");
    EXPECT_TRUE(utf8_valid(lf_str(&rec)));
}

TEST(HiddenRecord, EmojiAtTheLimitIsDroppedWhole) {
    char line[256];
    lf_record rec;
    lf_init(&rec, line, sizeof line);
    const std::string value = std::string(61, 'b') + "\xf0\x9f\x91\x8d";
    EXPECT_EQ(lf_add(&rec, "note", value.c_str()), 0);
    EXPECT_EQ(std::string(lf_str(&rec)), "note=" + std::string(61, 'b'));
    EXPECT_EQ(lf_add(&rec, "user", "Ren\xc3\xa9"), 0);
    EXPECT_TRUE(utf8_valid(lf_str(&rec)));
}
