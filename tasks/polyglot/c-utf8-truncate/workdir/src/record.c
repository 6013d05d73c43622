#include "logfmt/record.h"

#include <string.h>

#include "logfmt/escape.h"
#include "logfmt/utf8.h"

void lf_init(lf_record *r, char *buf, size_t size) {
    r->buf = buf;
    r->size = size;
    r->len = 0;
    if (size > 0) buf[0] = '\0';
}

int lf_add(lf_record *r, const char *key, const char *value) {
    size_t n = utf8_prefix_len(value, LF_VALUE_MAX);
    int quote = lf_needs_quotes(value, n);
    size_t key_len = strlen(key);
    size_t sep = r->len > 0 ? 1 : 0;
    size_t escaped = lf_escape(NULL, 0, value, n);
    size_t need = sep + key_len + 1 + (quote ? 2 : 0) + escaped;
    char *p;

    if (key_len == 0 || r->len + need + 1 > r->size) return -1;
    p = r->buf + r->len;
    if (sep) *p++ = ' ';
    memcpy(p, key, key_len);
    p += key_len;
    *p++ = '=';
    if (quote) *p++ = '"';
    lf_escape(p, escaped + 1, value, n);
    p += escaped;
    if (quote) *p++ = '"';
    *p = '\0';
    r->len += need;
    return 0;
}

int lf_add_int(lf_record *r, const char *key, long value) {
    char digits[24];
    char *p = digits + sizeof digits;
    unsigned long u = value < 0 ? 0UL - (unsigned long)value : (unsigned long)value;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (value < 0) *--p = '-';
    return lf_add(r, key, p);
}

const char *lf_str(const lf_record *r) {
    return r->buf;
}
