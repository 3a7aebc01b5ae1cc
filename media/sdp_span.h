/* Length-delimited slices of SDP text and the small scanners the parser builds on.
 * Internal to media/sdp*.c: the input need not be NUL-terminated, so nothing here
 * relies on a terminator. */
#ifndef MEDIA_SDP_SPAN_H
#define MEDIA_SDP_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "media/sdp.h"

/* A slice of the input: the text need not be NUL-terminated. */
typedef struct {
    const char *p;
    size_t n;
} span_t;

static inline bool is_ws(char c) { return c == ' ' || c == '\t'; }

static inline bool span_eq(span_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static inline bool span_has(span_t s, const char *lit)
{
    size_t n = strlen(lit);
    for (size_t i = 0; i + n <= s.n; i++)
        if (memcmp(s.p + i, lit, n) == 0)
            return true;
    return false;
}

static inline span_t span_trim(span_t s)
{
    while (s.n && is_ws(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_ws(s.p[s.n - 1]))
        s.n--;
    return s;
}

/* Next whitespace-separated token of *s (empty when none left); *s moves past it. */
static inline span_t span_token(span_t *s)
{
    *s = span_trim(*s);
    size_t i = 0;
    while (i < s->n && !is_ws(s->p[i]))
        i++;
    span_t t = { s->p, i };
    s->p += i;
    s->n -= i;
    return t;
}

/* Text of *s up to the first `sep` (all of it if none); *s moves past the separator. */
static inline span_t span_split(span_t *s, char sep)
{
    const char *q = s->n ? memchr(s->p, sep, s->n) : NULL;
    size_t i = q ? (size_t)(q - s->p) : s->n;
    span_t t = { s->p, i };
    size_t skip = q ? i + 1 : i;
    s->p += skip;
    s->n -= skip;
    return t;
}

/* Decimal number without sign, at most `max`. */
static inline int span_u64(span_t s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    if (s.n == 0 || s.n > 20)
        return SDP_ERR_SYNTAX;
    for (size_t i = 0; i < s.n; i++) {
        unsigned d = (unsigned char)s.p[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return SDP_ERR_SYNTAX;
        v = v * 10 + d;
    }
    if (v > max)
        return SDP_ERR_SYNTAX;
    *out = v;
    return 0;
}

static inline int span_uint(span_t s, uint32_t max, uint32_t *out)
{
    uint64_t v;
    int rc = span_u64(s, max, &v);
    *out = (uint32_t)v; /* 0 on error */
    return rc;
}

/* Copies s into dst[sz] with a NUL; SDP_ERR_TOO_LONG if it does not fit. */
static inline int span_copy(span_t s, char *dst, size_t sz)
{
    if (s.n >= sz)
        return SDP_ERR_TOO_LONG;
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
    return 0;
}

/* A non-empty token copied whole, for identifiers such as mid, msid and cname. */
static inline int copy_token(span_t s, char *dst, size_t sz)
{
    if (s.n == 0)
        return SDP_ERR_SYNTAX;
    return span_copy(s, dst, sz);
}

/* RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/". */
static inline bool is_ice_chars(span_t s)
{
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return s.n > 0;
}

/* RFC 8851 rid-id: alpha-numeric, "-" and "_". */
static inline bool is_rid_chars(span_t s)
{
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return s.n > 0;
}

static inline int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}


/* DTLS-SRTP RTP profiles we serve (RFC 5764); TCP/TLS is not offered by a UDP-only server. */
static inline bool proto_is_dtls_srtp(const char *proto)
{
    return strcmp(proto, "UDP/TLS/RTP/SAVPF") == 0 || strcmp(proto, "RTP/SAVPF") == 0;
}

#endif
