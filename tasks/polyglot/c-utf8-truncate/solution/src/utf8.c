#include "logfmt/utf8.h"

#include <string.h>

static int is_continuation(unsigned char c) {
    return (c & 0xC0) == 0x80;
}

/* Length of the valid UTF-8 sequence starting at `s`, or 0 when it is invalid. */
static size_t sequence_len(const unsigned char *s) {
    if (s[0] < 0x80) return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) return is_continuation(s[1]) ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        if (!is_continuation(s[1]) || !is_continuation(s[2])) return 0;
        if (s[0] == 0xE0 && s[1] < 0xA0) return 0; /* overlong */
        if (s[0] == 0xED && s[1] >= 0xA0) return 0; /* surrogate */
        return 3;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        if (!is_continuation(s[1]) || !is_continuation(s[2]) || !is_continuation(s[3])) return 0;
        if (s[0] == 0xF0 && s[1] < 0x90) return 0; /* overlong */
        if (s[0] == 0xF4 && s[1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

int utf8_valid(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = sequence_len(p);
        if (n == 0) return 0;
        p += n;
    }
    return 1;
}

size_t utf8_count(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;
    while (*p) {
        size_t n = sequence_len(p);
        p += n ? n : 1;
        count++;
    }
    return count;
}

size_t utf8_prefix_len(const char *s, size_t max_bytes) {
    size_t len = strlen(s);
    if (len <= max_bytes) return len;
    len = max_bytes;
    /* s[len] is the first byte left out: while it continues a character, that character
     * would be cut in two, so leave out its earlier bytes too. */
    while (len > 0 && is_continuation((unsigned char)s[len])) len--;
    return len;
}

size_t utf8_truncate(char *dst, size_t dstsize, const char *src) {
    size_t n;
    if (dstsize == 0) return 0;
    n = utf8_prefix_len(src, dstsize - 1); /* room for the NUL */
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}
