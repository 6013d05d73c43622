#ifndef LOGFMT_ESCAPE_H
#define LOGFMT_ESCAPE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when the first `n` bytes of `s` must be quoted in a logfmt value: empty, or containing a
 * blank, '=', '"', '\\' or a control byte. */
int lf_needs_quotes(const char *s, size_t n);

/* Escapes the first `n` bytes of `src` into `dst` (`dstsize` bytes, NUL included), like
 * snprintf: writes at most dstsize - 1 bytes and a NUL (when dstsize > 0) and returns the
 * length the full escaped text needs, NUL excluded. `dst` may be NULL when dstsize is 0. */
size_t lf_escape(char *dst, size_t dstsize, const char *src, size_t n);

#ifdef __cplusplus
}
#endif

#endif
