/* HTTP on the signaling thread: a route table for the dynamic endpoints, static files from
 * web_root for everything else, and response bodies written one chunk per WRITEABLE
 * callback as libwebsockets requires. Before a request is routed it passes the limits: its
 * connection's address within max_conns_per_addr, the connection's request rate, the body's
 * size, and an API body's JSON nesting. */
#include "signaling/internal.h"
#include "signaling/jsonlimit.h"
#include "mcu/log.h"
#include "mcu/server.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHUNK 16384
#define HTTP_BODY_MAX (1u << 20) /* the largest request body; the API's are a few KB */

typedef int (*route_fn)(struct conn *c); /* 0: responded; 1: deferred */

struct route {
    const char *method;
    const char *path;
    route_fn handle;
};

static const struct route routes[] = {
    {"GET", "/healthz", health_handle},
    {"GET", "/metrics", metrics_handle},
};

static const struct {
    const char *ext, *mime;
} mimes[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
    {".ico", "image/x-icon"}, {".wav", "audio/wav"}, {".txt", "text/plain; charset=utf-8"},
    {".m3u8", "application/vnd.apple.mpegurl"}, {".m4s", "video/iso.segment"}, {".mp4", "video/mp4"},
    {".webm", "video/webm"}, {".ts", "video/mp2t"},
};

static void http_reset(struct conn *c)
{
    free(c->body);
    sbuf_free(&c->req_body);
    free(c->pong_rtt_ns);
    struct signaling *sig = c->sig;
    struct lws *wsi = c->wsi;
    memset(c, 0, sizeof *c);
    c->sig = sig;
    c->wsi = wsi;
    c->kind = CONN_HTTP;
}

/* On every response: no MIME sniffing, no framing by other sites, a strict CSP for the pages
 * under web/, and HSTS when the server speaks TLS. */
static int add_security_headers(struct conn *c, uint8_t **p, uint8_t *end)
{
    static const char *const hdrs[][2] = {
        {"x-content-type-options:", "nosniff"},
        {"x-frame-options:", "DENY"},
        {"referrer-policy:", "no-referrer"},
        {"content-security-policy:", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                                     "media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
                                     "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
    };
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++)
        if (lws_add_http_header_by_name(c->wsi, (const unsigned char *)hdrs[i][0], (const unsigned char *)hdrs[i][1],
                                        (int)strlen(hdrs[i][1]), p, end))
            return -1;
    if (c->sig->srv->cfg.tls_cert[0] &&
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"strict-transport-security:",
                                    (const unsigned char *)"max-age=31536000", 16, p, end))
        return -1;
    return 0;
}

static int send_headers(struct conn *c)
{
    uint8_t buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    if (lws_add_http_common_headers(c->wsi, (unsigned)c->status, c->ctype, c->body_len, &p, end))
        return -1;
    if (lws_add_http_header_by_name(c->wsi, (const unsigned char *)"cache-control:",
                                    (const unsigned char *)"no-store", 8, &p, end) ||
        add_security_headers(c, &p, end))
        return -1;
    if (c->set_cookie[0] &&
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"set-cookie:", (const unsigned char *)c->set_cookie,
                                    (int)strlen(c->set_cookie), &p, end))
        return -1;
    if (c->close_after &&
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"connection:", (const unsigned char *)"close", 5,
                                    &p, end))
        return -1;
    if (lws_finalize_write_http_header(c->wsi, start, &p, end))
        return -1;
    c->headers_sent = true;
    lws_callback_on_writable(c->wsi);
    return 0;
}

void http_respond(struct conn *c, int status, const char *ctype, char *body, size_t len)
{
    free(c->body);
    c->status = status;
    c->ctype = ctype;
    c->body = body;
    c->body_len = len;
    c->body_off = 0;
}

void http_respond_json(struct conn *c, int status, char *json)
{
    http_respond(c, status, "application/json", json, json ? strlen(json) : 0);
}

/* Errors are JSON with a stable machine code and a human message. */
void http_error(struct conn *c, int status, const char *code, const char *message)
{
    json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    http_respond_json(c, status, s);
}

void http_resume(struct conn *c)
{
    c->deferred = false;
    if (send_headers(c) < 0)
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

static const char *mime_for(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof mimes / sizeof mimes[0]; i++)
        if (!strcmp(dot, mimes[i].ext))
            return mimes[i].mime;
    return "application/octet-stream";
}

/* Returns 0 when lws is now sending the file, 1 if the caller should send c's response. */
static int serve_static(struct conn *c)
{
    const char *root = c->sig->srv->cfg.web_root;
    char rel[300], full[600];
    if (c->path[0] != '/' || strstr(c->path, "..") || strchr(c->path, '\\')) {
        http_error(c, 400, "bad_path", "the path is not allowed");
        return 1;
    }
    snprintf(rel, sizeof rel, "%s", c->path);
    size_t n = strlen(rel);
    if (rel[n - 1] == '/')
        snprintf(rel + n, sizeof rel - n, "index.html");
    snprintf(full, sizeof full, "%s%s", root, rel);
    struct stat st;
    if (stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(full + strlen(full), sizeof full - strlen(full), "/index.html");
        if (stat(full, &st) < 0)
            goto not_found;
    } else if (stat(full, &st) < 0 || !S_ISREG(st.st_mode)) {
        goto not_found;
    }
    uint8_t hbuf[1024], *hp = hbuf;
    if (add_security_headers(c, &hp, hbuf + sizeof hbuf) < 0)
        return -1;
    int rc = lws_serve_http_file(c->wsi, full, mime_for(full), (const char *)hbuf, (int)(hp - hbuf));
    if (rc < 0)
        return -1;
    return 0;
not_found:
    http_error(c, 404, "not_found", "no such page");
    return 1;
}

/* A handler named a file in c->send_file: lws streams it, with the security headers, no
 * caching, and as an attachment when c->file_download names it. 0 or -1 to close. */
static int send_file(struct conn *c)
{
    uint8_t hbuf[1024], *hp = hbuf, *end = hbuf + sizeof hbuf;
    char disp[160];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s\"", c->file_download);
    if (add_security_headers(c, &hp, end) ||
        lws_add_http_header_by_name(c->wsi, (const unsigned char *)"cache-control:", (const unsigned char *)"no-cache",
                                    8, &hp, end) ||
        (c->file_download[0] &&
         lws_add_http_header_by_name(c->wsi, (const unsigned char *)"content-disposition:",
                                     (const unsigned char *)disp, (int)strlen(disp), &hp, end)))
        return -1;
    const char *mime = c->file_mime ? c->file_mime : mime_for(c->send_file);
    return lws_serve_http_file(c->wsi, c->send_file, mime, (const char *)hbuf, (int)(hp - hbuf)) < 0 ? -1 : 0;
}

static void read_method(struct conn *c)
{
    static const struct {
        enum lws_token_indexes tok;
        const char *name;
    } methods[] = {
        {WSI_TOKEN_GET_URI, "GET"}, {WSI_TOKEN_POST_URI, "POST"}, {WSI_TOKEN_PUT_URI, "PUT"},
        {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_PATCH_URI, "PATCH"},
        {WSI_TOKEN_OPTIONS_URI, "OPTIONS"}, {WSI_TOKEN_HEAD_URI, "HEAD"},
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (lws_hdr_total_length(c->wsi, methods[i].tok) > 0) {
            snprintf(c->method, sizeof c->method, "%s", methods[i].name);
            return;
        }
    snprintf(c->method, sizeof c->method, "?");
}

/* Routes a complete request. Returns <0 to close, 0 when a response is under way. */
static int dispatch(struct conn *c)
{
    bool path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].path, c->path))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, c->method))
            continue;
        if (routes[i].handle(c) == 1) {
            c->deferred = true;
            return 0;
        }
        return send_headers(c);
    }
    if (path_known) {
        http_error(c, 405, "method_not_allowed", "this method is not allowed here");
        return send_headers(c);
    }
    if (!strncmp(c->path, "/api/v1/", 8)) {
        if (c->req_body.len && jsonlimit_depth(c->req_body.p, c->req_body.len, JSONLIMIT_DEPTH) < 0) {
            char msg[80];
            snprintf(msg, sizeof msg, "the body is JSON nested deeper than %d levels", JSONLIMIT_DEPTH);
            http_error(c, 400, "bad_json", msg);
        } else {
            api_handle(c);
        }
        return c->send_file[0] ? send_file(c) : send_headers(c);
    }
    if (!strncmp(c->path, "/live/", 6)) {
        recorder_http_live(c);
        return c->send_file[0] ? send_file(c) : send_headers(c);
    }
    if (!strncmp(c->path, "/api/", 5)) {
        http_error(c, 404, "not_found", "no such API endpoint");
        return send_headers(c);
    }
    if (strcmp(c->method, "GET") && strcmp(c->method, "HEAD")) {
        http_error(c, 405, "method_not_allowed", "static files are read-only");
        return send_headers(c);
    }
    int rc = serve_static(c);
    return rc == 1 ? send_headers(c) : rc;
}

static int write_body(struct conn *c)
{
    uint8_t buf[LWS_PRE + CHUNK];
    size_t left = c->body_len - c->body_off;
    size_t n = left > CHUNK ? CHUNK : left;
    if (n)
        memcpy(buf + LWS_PRE, c->body + c->body_off, n);
    c->body_off += n;
    bool last = c->body_off == c->body_len;
    if (lws_write(c->wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    if (!last) {
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->close_after)
        return -1;
    http_reset(c);
    return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

/* Answers now with an error, before the body (if any) is read: lws drops the rest of the
 * body itself once the response is complete, and the connection can serve the next request. */
static int refuse(struct conn *c, int status, const char *code, const char *message)
{
    c->refused = true;
    http_error(c, status, code, message);
    return send_headers(c);
}

/* The declared body length of a POST, PUT or PATCH; 0 for none, -1 when it is not a number. */
static long long body_length(struct conn *c)
{
    if (strcmp(c->method, "POST") && strcmp(c->method, "PUT") && strcmp(c->method, "PATCH"))
        return 0;
    char cl[24] = "", *end;
    if (lws_hdr_copy(c->wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return 0;
    long long n = strtoll(cl, &end, 10);
    return end == cl || *end || n < 0 ? -1 : n;
}

/* A new request: its limits, then either wait for its body or route it. */
static int on_request(struct conn *c)
{
    long long len = body_length(c);
    if (conn_over_limit(c->wsi)) {
        c->close_after = true;
        return refuse(c, 429, "too_many_connections", "too many connections from your address; close some");
    }
    if (!conn_request_allowed(c->wsi))
        return refuse(c, 429, "rate_limited", "too many requests on this connection; slow down");
    if (len < 0)
        return refuse(c, 400, "bad_request", "the Content-Length is not a number");
    if (len > HTTP_BODY_MAX)
        return refuse(c, 413, "body_too_large", "request body is larger than 1 MiB");
    if (len > 0)
        return 0; /* wait for the body */
    /* no body at all: lws will not call BODY_COMPLETION, so answer now */
    return dispatch(c);
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        c->wsi = wsi;
        c->sig = lws_context_user(lws_get_context(wsi));
        http_reset(c);
        snprintf(c->path, sizeof c->path, "%s", (const char *)in);
        lws_get_peer_simple(wsi, c->addr, sizeof c->addr);
        read_method(c);
        return on_request(c) < 0 ? -1 : 0;
    case LWS_CALLBACK_HTTP_BODY:
        if (c->refused) /* answered already: drop what still comes */
            return 0;
        if (c->req_body.len + len > HTTP_BODY_MAX) /* more than its Content-Length said */
            return refuse(c, 413, "body_too_large", "request body is larger than 1 MiB") < 0 ? -1 : 0;
        sbuf_append(&c->req_body, in, len);
        if (c->req_body.oom)
            return refuse(c, 503, "busy", "out of memory; try again") < 0 ? -1 : 0;
        return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        if (c->headers_sent || c->refused)
            return 0;
        return dispatch(c) < 0 ? -1 : 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        if (!c || !c->headers_sent || c->deferred)
            return 0;
        return write_body(c) < 0 ? -1 : 0;
    case LWS_CALLBACK_HTTP_FILE_COMPLETION:
        return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_TIMER:
        if (c && c->deferred)
            health_on_timeout(c);
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (c && c->kind == CONN_HTTP) {
            health_forget(c);
            free(c->body);
            free(c->pong_rtt_ns);
            sbuf_free(&c->req_body);
            c->body = NULL;
            c->pong_rtt_ns = NULL;
            c->kind = CONN_NONE;
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
