/* The endpoint protocol's messages (docs/protocol.md), from text to a checked JSON object:
 * nesting depth, JSON syntax, an object with a `type` string, and the length allowed for
 * that type. Pure (no I/O, no globals), so it is unit-tested and fuzzed without a socket;
 * ws.c dispatches what it returns. */
#ifndef SIGNALING_WSMSG_H
#define SIGNALING_WSMSG_H

#include <jansson.h>
#include <stddef.h>

#define WSMSG_SMALL_MAX 4096 /* every type but join and control, and unknown types */

struct wsmsg_error {
    const char *code;  /* NULL: the message may be handled; else bad_json, bad_request, too_large */
    char message[160]; /* a sentence for the client */
};

/* Parses one message. Returns the parsed object (the caller owns it: json_decref), or NULL
 * when the text is not a JSON object. e->code is NULL when the message may be dispatched;
 * otherwise it names the error, and a returned object still carries the `id` the error
 * reply must echo. */
json_t *wsmsg_parse(const char *text, size_t len, struct wsmsg_error *e);

/* The checks that need no parse, for text handed on unparsed (the admin events socket):
 * nested at most JSONLIMIT_DEPTH deep (else bad_json), at most max bytes (else too_large).
 * 0, or -1 with e filled in. */
int wsmsg_precheck(const char *text, size_t len, size_t max, struct wsmsg_error *e);

/* The longest message of this type, in bytes (a static table). */
size_t wsmsg_max_len(const char *type);

#endif
