#ifndef LOGFMT_UTF8_H
#define LOGFMT_UTF8_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when the NUL-terminated string `s` is valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF), else 0. */
int utf8_valid(const char *s);

/* Number of code points in `s`; each byte of an invalid sequence counts as one. */
size_t utf8_count(const char *s);

/* The length in bytes of the longest prefix of `s` that is at most `max_bytes` long and does
 * not end inside a multi-byte character. */
size_t utf8_prefix_len(const char *s, size_t max_bytes);

/* Copies the longest prefix of `src` that fits in `dst` (`dstsize` bytes, the terminating NUL
 * included) without cutting a multi-byte character, and NUL-terminates it. Returns the number
 * of bytes copied, NUL excluded. With dstsize == 0 nothing is written and 0 is returned. */
size_t utf8_truncate(char *dst, size_t dstsize, const char *src);

#ifdef __cplusplus
}
#endif

#endif
