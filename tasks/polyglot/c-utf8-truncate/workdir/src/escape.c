#include "logfmt/escape.h"

int lf_needs_quotes(const char *s, size_t n) {
    size_t i;
    if (n == 0) return 1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7F) return 1;
    }
    return 0;
}

/* Appends `c` at position `*len` if it fits before the NUL, and counts it either way. */
static void put(char *dst, size_t dstsize, size_t *len, char c) {
    if (*len + 1 < dstsize) dst[*len] = c;
    (*len)++;
}

size_t lf_escape(char *dst, size_t dstsize, const char *src, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t len = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        switch (c) {
        case '"':  put(dst, dstsize, &len, '\\'); put(dst, dstsize, &len, '"'); break;
        case '\\': put(dst, dstsize, &len, '\\'); put(dst, dstsize, &len, '\\'); break;
        case '\n': put(dst, dstsize, &len, '\\'); put(dst, dstsize, &len, 'n'); break;
        case '\t': put(dst, dstsize, &len, '\\'); put(dst, dstsize, &len, 't'); break;
        case '\r': put(dst, dstsize, &len, '\\'); put(dst, dstsize, &len, 'r'); break;
        default:
            if (c < 0x20 || c == 0x7F) {
                put(dst, dstsize, &len, '\\');
                put(dst, dstsize, &len, 'u');
                put(dst, dstsize, &len, '0');
                put(dst, dstsize, &len, '0');
                put(dst, dstsize, &len, hex[c >> 4]);
                put(dst, dstsize, &len, hex[c & 0xF]);
            } else {
                put(dst, dstsize, &len, (char)c);
            }
        }
    }
    if (dstsize > 0) dst[len < dstsize ? len : dstsize - 1] = '\0';
    return len;
}
