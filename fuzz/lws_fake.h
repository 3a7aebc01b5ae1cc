/* A stand-in for the few libwebsockets calls the admin API and the WebSocket handlers make on
 * a connection, so fuzz_api_json.c and fuzz_events.c can run signaling/api.c, ws.c and
 * rooms.c unchanged on a request built from the input, without a socket. The definitions
 * here are in the fuzz executable, so they take precedence over libwebsockets.so's (the
 * project links it as a shared library); the compiler checks them against <libwebsockets.h>.
 * What the code "writes" to the peer is collected in fake.out. Include it once per binary. */
#ifndef FUZZ_LWS_FAKE_H
#define FUZZ_LWS_FAKE_H

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcu/sbuf.h"

struct fake_req {
    void *ctx_user;            /* what lws_context_user returns: the struct signaling */
    const char *addr;          /* the peer's address */
    const char *uri;           /* WSI_TOKEN_GET_URI */
    const char *query;         /* "a=1&b=2" as sent (URL-encoded), or NULL */
    const char *authorization; /* the Authorization header, or NULL */
    const char *cookie;        /* the Cookie header, or NULL */
    bool binary, partial;      /* the frame being received is binary / not the final fragment */
    int writes;                /* lws_write calls */
    int timeouts;              /* lws_set_timeout calls: the code asked for a close */
    struct sbuf out;           /* every lws_write, one after the other */
};

static struct fake_req fake;
static char fake_wsi_storage[64];
#define FAKE_WSI ((struct lws *)fake_wsi_storage)

int lws_hdr_copy(struct lws *wsi, char *dest, int len, enum lws_token_indexes h)
{
    (void)wsi;
    const char *v = h == WSI_TOKEN_GET_URI ? fake.uri : h == WSI_TOKEN_HTTP_AUTHORIZATION ? fake.authorization
                  : h == WSI_TOKEN_HTTP_COOKIE ? fake.cookie : NULL;
    if (!v || len <= 0)
        return v ? -1 : 0;
    int n = (int)strlen(v);
    if (n + 1 > len)
        return -1;
    memcpy(dest, v, (size_t)n + 1);
    return n;
}

/* "name=value" pairs of the Cookie header, separated by ';' and spaces. 0 when found. */
int lws_http_cookie_get(struct lws *wsi, const char *name, char *buf, size_t *max)
{
    (void)wsi;
    size_t nl = strlen(name);
    for (const char *p = fake.cookie; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        size_t n = strcspn(p, ";");
        if (n > nl && !strncmp(p, name, nl) && p[nl] == '=') {
            size_t vl = n - nl - 1;
            if (vl + 1 > *max)
                return 1;
            memcpy(buf, p + nl + 1, vl);
            buf[vl] = 0;
            *max = vl;
            return 0;
        }
        p += n;
    }
    return 1;
}

static int fake_hex(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* Like lws: the query's '&'-separated arguments, URL-decoded; name includes its '='. Returns
 * buf holding the value of the first argument that starts with name, or NULL. */
const char *lws_get_urlarg_by_name(struct lws *wsi, const char *name, char *buf, int len)
{
    (void)wsi;
    size_t nl = strlen(name);
    for (const char *p = fake.query; p && *p && len > 0;) {
        size_t n = strcspn(p, "&"), o = 0;
        char arg[1024];
        for (size_t i = 0; i < n && o + 1 < sizeof arg; i++) {
            if (p[i] == '%' && i + 2 < n && fake_hex(p[i + 1]) >= 0 && fake_hex(p[i + 2]) >= 0) {
                arg[o++] = (char)(fake_hex(p[i + 1]) * 16 + fake_hex(p[i + 2]));
                i += 2;
            } else {
                arg[o++] = p[i] == '+' ? ' ' : p[i];
            }
        }
        arg[o] = 0;
        if (o >= nl && !strncmp(arg, name, nl)) {
            snprintf(buf, (size_t)len, "%s", arg + nl);
            return buf;
        }
        p += n + (p[n] == '&');
    }
    return NULL;
}

void lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs)
{
    (void)wsi, (void)reason, (void)secs;
    fake.timeouts++;
}

int lws_callback_on_writable(struct lws *wsi)
{
    (void)wsi;
    return 1;
}

struct lws_context *lws_get_context(const struct lws *wsi)
{
    (void)wsi;
    return (struct lws_context *)&fake;
}

void *lws_context_user(struct lws_context *context)
{
    (void)context;
    return fake.ctx_user;
}

const char *lws_get_peer_simple(struct lws *wsi, char *name, size_t namelen)
{
    (void)wsi;
    snprintf(name, namelen, "%s", fake.addr ? fake.addr : "");
    return name;
}

int lws_is_final_fragment(struct lws *wsi)
{
    (void)wsi;
    return !fake.partial;
}

int lws_frame_is_binary(struct lws *wsi)
{
    (void)wsi;
    return fake.binary;
}

int lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp)
{
    (void)wsi, (void)wp;
    fake.writes++;
    sbuf_append(&fake.out, (const char *)buf, len);
    sbuf_append(&fake.out, "\n", 1);
    return (int)len;
}

void lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf, size_t len)
{
    (void)wsi, (void)status, (void)buf, (void)len;
}

struct lws *lws_get_network_wsi(struct lws *wsi)
{
    return wsi;
}

void *lws_get_opaque_user_data(const struct lws *wsi)
{
    (void)wsi;
    return NULL; /* no connection count: the per-address limit is not what is fuzzed */
}

#endif
