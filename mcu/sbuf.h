/* A growable text buffer for building HTTP bodies, metrics and JSON off the packet path. */
#ifndef MCU_SBUF_H
#define MCU_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
    char *p;    /* NUL-terminated contents, owned; NULL until the first append */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
    bool oom;   /* an append failed; contents are truncated */
};

void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_append(struct sbuf *b, const char *s, size_t n);
void sbuf_free(struct sbuf *b);
/* Hands the contents to the caller (free() them) and empties the buffer. */
char *sbuf_take(struct sbuf *b, size_t *len);

#endif
