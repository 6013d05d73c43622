#ifndef LOGFMT_RECORD_H
#define LOGFMT_RECORD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest value, in bytes before escaping, that a record keeps; longer values are cut. */
#define LF_VALUE_MAX 64

/* A logfmt line being built in a caller-provided buffer. */
typedef struct {
    char *buf;
    size_t size; /* bytes in buf, NUL included */
    size_t len;  /* bytes used, NUL excluded */
} lf_record;

void lf_init(lf_record *r, char *buf, size_t size);

/* Appends ` key=value` (no leading blank for the first field). The value is cut to at most
 * LF_VALUE_MAX bytes on a character boundary, then quoted and escaped when needed. Returns 0,
 * or -1 when the field does not fit; the record is then unchanged. */
int lf_add(lf_record *r, const char *key, const char *value);
int lf_add_int(lf_record *r, const char *key, long value);

/* The line so far (always NUL-terminated). */
const char *lf_str(const lf_record *r);

#ifdef __cplusplus
}
#endif

#endif
