/* RFC 6455 client: handshake and frame codecs, and a non-blocking connection (see ws.h).
 * Servers must not mask their frames (5.1) and may fragment messages and interleave
 * control frames between the fragments (5.4); both are handled here. */
#include "tools/load/ws.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* RFC 6455 1.3 */

void ws_make_key(char key[WS_KEY_SZ])
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)random();
    EVP_EncodeBlock((unsigned char *)key, r, sizeof r);
}

void ws_accept_for_key(const char *key, char out[WS_ACCEPT_SZ])
{
    char cat[128];
    unsigned char md[SHA_DIGEST_LENGTH];
    int n = snprintf(cat, sizeof cat, "%s%s", key, WS_GUID);
    SHA1((const unsigned char *)cat, (size_t)n, md);
    EVP_EncodeBlock((unsigned char *)out, md, sizeof md);
}

int ws_build_upgrade(char *out, size_t cap, const char *host_port, const char *path,
                     const char *key, const char *protocol)
{
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s"
                     "User-Agent: mcu-load\r\n\r\n",
                     path, host_port, key, protocol ? "Sec-WebSocket-Protocol: " : "",
                     protocol ? protocol : "", protocol ? "\r\n" : "");
    return n < 0 || (size_t)n >= cap ? WS_ERR_SPACE : n;
}

/* The value of header `name` in the head (lines after the status line), trimmed, or NULL. */
static const char *header(const char *head, size_t len, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *p = memchr(head, '\n', len), *end = head + len;
    while (p && p + 1 < end) {
        const char *line = p + 1;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            return NULL;
        if ((size_t)(eol - line) > nl && !strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol;
    }
    return NULL;
}

static bool has_token(const char *v, size_t vlen, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= vlen; i++)
        if (!strncasecmp(v + i, tok, tl) && (i == 0 || v[i - 1] == ' ' || v[i - 1] == ',') &&
            (i + tl == vlen || v[i + tl] == ',' || v[i + tl] == ' '))
            return true;
    return false;
}

int ws_parse_upgrade_response(const char *buf, size_t len, const char *key)
{
    const char *end = NULL;
    for (size_t i = 0; i + 3 < len; i++)
        if (!memcmp(buf + i, "\r\n\r\n", 4)) {
            end = buf + i + 4;
            break;
        }
    if (!end)
        return len > 16384 ? WS_ERR_PROTO : 0;
    size_t hl = (size_t)(end - buf), vl;
    if (hl < 12 || strncmp(buf, "HTTP/1.1 101", 12))
        return WS_ERR_PROTO;
    const char *v = header(buf, hl, "Upgrade", &vl);
    if (!v || !has_token(v, vl, "websocket"))
        return WS_ERR_PROTO;
    v = header(buf, hl, "Connection", &vl);
    if (!v || !has_token(v, vl, "upgrade"))
        return WS_ERR_PROTO;
    char want[WS_ACCEPT_SZ];
    ws_accept_for_key(key, want);
    v = header(buf, hl, "Sec-WebSocket-Accept", &vl);
    if (!v || vl != strlen(want) || memcmp(v, want, vl))
        return WS_ERR_PROTO;
    return (int)hl;
}

int ws_parse_frame(const uint8_t *buf, size_t len, struct ws_frame *f)
{
    if (len < 2)
        return 0;
    f->fin = buf[0] & 0x80;
    f->opcode = buf[0] & 0x0F;
    f->masked = buf[1] & 0x80;
    if (buf[0] & 0x70) /* RSV bits: no extension was negotiated */
        return WS_ERR_PROTO;
    bool control = f->opcode & 0x08;
    if (f->opcode > WS_OP_BINARY && !control)
        return WS_ERR_PROTO;
    if (control && (f->opcode > WS_OP_PONG || !f->fin))
        return WS_ERR_PROTO;
    uint64_t plen = buf[1] & 0x7F;
    size_t off = 2;
    if (plen == 126) {
        if (len < 4)
            return 0;
        plen = (uint64_t)buf[2] << 8 | buf[3];
        off = 4;
    } else if (plen == 127) {
        if (len < 10)
            return 0;
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = plen << 8 | buf[2 + i];
        off = 10;
    }
    if (control && plen > 125)
        return WS_ERR_PROTO;
    if (plen > WS_MAX_MESSAGE)
        return WS_ERR_TOO_BIG;
    if (f->masked) {
        if (len < off + 4)
            return 0;
        memcpy(f->mask, buf + off, 4);
        off += 4;
    }
    f->payload_off = off;
    f->payload_len = plen;
    return len - off < plen ? 0 : (int)(off + plen);
}

int ws_build_frame(uint8_t *out, size_t cap, int opcode, const uint8_t *payload, size_t len,
                   const uint8_t mask[4])
{
    size_t hl = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
    if (cap < hl + 4 + len)
        return WS_ERR_SPACE;
    out[0] = (uint8_t)(0x80 | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        out[1] = 0x80 | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
    } else {
        out[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    }
    memcpy(out + hl, mask, 4);
    for (size_t i = 0; i < len; i++)
        out[hl + 4 + i] = payload[i] ^ mask[i & 3];
    return (int)(hl + 4 + len);
}

/* ---- connection ---- */

static int reserve(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 4096;
    while (n < need)
        n *= 2;
    uint8_t *p = realloc(*buf, n);
    if (!p)
        return WS_ERR_NOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

static int queue(struct ws_conn *c, const void *data, size_t len)
{
    if (reserve(&c->tx, &c->tx_cap, c->tx_len + len) < 0)
        return WS_ERR_NOMEM;
    memcpy(c->tx + c->tx_len, data, len);
    c->tx_len += len;
    return 0;
}

static int queue_frame(struct ws_conn *c, int opcode, const uint8_t *payload, size_t len)
{
    uint8_t mask[4];
    if (RAND_bytes(mask, 4) != 1)
        return WS_ERR_PROTO;
    if (reserve(&c->tx, &c->tx_cap, c->tx_len + len + 14) < 0)
        return WS_ERR_NOMEM;
    int n = ws_build_frame(c->tx + c->tx_len, c->tx_cap - c->tx_len, opcode, payload, len, mask);
    if (n < 0)
        return n;
    c->tx_len += (size_t)n;
    return 0;
}

int ws_conn_flush(struct ws_conn *c)
{
    size_t done = 0;
    while (done < c->tx_len) {
        ssize_t n = send(c->fd, c->tx + done, c->tx_len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOTCONN))
            break; /* ENOTCONN: the connect is still under way */
        if (n <= 0)
            return WS_ERR_IO;
        done += (size_t)n;
    }
    memmove(c->tx, c->tx + done, c->tx_len - done);
    c->tx_len -= done;
    return 0;
}

int ws_conn_start(struct ws_conn *c, int fd, const char *host_port, const char *path,
                  const char *protocol)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    ws_make_key(c->key);
    char req[1024];
    int n = ws_build_upgrade(req, sizeof req, host_port, path, c->key, protocol);
    return n < 0 ? n : queue(c, req, (size_t)n);
}

int ws_conn_send_text(struct ws_conn *c, const char *text, size_t len)
{
    if (!c->open || c->closing)
        return WS_ERR_PROTO;
    int rc = queue_frame(c, WS_OP_TEXT, (const uint8_t *)text, len);
    return rc < 0 ? rc : ws_conn_flush(c);
}

int ws_conn_send_close(struct ws_conn *c, uint16_t code)
{
    if (!c->open || c->closing)
        return 0;
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    c->closing = true;
    int rc = queue_frame(c, WS_OP_CLOSE, p, sizeof p);
    return rc < 0 ? rc : ws_conn_flush(c);
}

/* One complete frame: control frames are answered, data frames assembled into messages. */
static int on_frame(struct ws_conn *c, const struct ws_frame *f, uint8_t *payload,
                    ws_on_message cb, void *arg)
{
    size_t len = (size_t)f->payload_len;
    if (f->masked)
        for (size_t i = 0; i < len; i++)
            payload[i] ^= f->mask[i & 3];
    c->frames_in++;
    switch (f->opcode) {
    case WS_OP_PING:
        c->pings_in++;
        return c->closing ? 0 : queue_frame(c, WS_OP_PONG, payload, len);
    case WS_OP_PONG:
        return 0;
    case WS_OP_CLOSE:
        if (!c->closing) { /* echo the status code, as 5.5.1 asks */
            c->closing = true;
            queue_frame(c, WS_OP_CLOSE, payload, len >= 2 ? 2 : 0);
        }
        return WS_ERR_IO;
    case WS_OP_CONT:
        if (!c->in_msg)
            return WS_ERR_PROTO;
        break;
    default: /* text or binary starts a message */
        if (c->in_msg)
            return WS_ERR_PROTO;
        c->in_msg = true;
        c->msg_len = 0;
        break;
    }
    if (!f->fin || f->opcode == WS_OP_CONT)
        c->fragments_in++;
    if (c->msg_len + len > WS_MAX_MESSAGE)
        return WS_ERR_TOO_BIG;
    if (reserve(&c->msg, &c->msg_cap, c->msg_len + len + 1) < 0)
        return WS_ERR_NOMEM;
    memcpy(c->msg + c->msg_len, payload, len);
    c->msg_len += len;
    if (!f->fin)
        return 0;
    c->in_msg = false;
    c->msg[c->msg_len] = 0;
    cb(arg, (char *)c->msg, c->msg_len);
    return 0;
}

/* Parses everything complete in rx; keeps the tail. */
static int drain_rx(struct ws_conn *c, ws_on_message cb, void *arg)
{
    size_t off = 0;
    int rc = 0;
    if (!c->open) {
        int n = ws_parse_upgrade_response((const char *)c->rx, c->rx_len, c->key);
        if (n <= 0)
            return n;
        c->open = true;
        off = (size_t)n;
    }
    while (off < c->rx_len) {
        struct ws_frame f;
        int n = ws_parse_frame(c->rx + off, c->rx_len - off, &f);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        rc = on_frame(c, &f, c->rx + off + f.payload_off, cb, arg);
        off += (size_t)n;
        if (rc < 0)
            break;
    }
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
    return rc;
}

int ws_conn_on_readable(struct ws_conn *c, ws_on_message cb, void *arg)
{
    for (;;) {
        if (reserve(&c->rx, &c->rx_cap, c->rx_len + 16384) < 0)
            return WS_ERR_NOMEM;
        ssize_t n = recv(c->fd, c->rx + c->rx_len, c->rx_cap - c->rx_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return WS_ERR_IO;
        c->rx_len += (size_t)n;
        int rc = drain_rx(c, cb, arg);
        if (rc < 0)
            return rc;
        if (c->rx_len > WS_MAX_MESSAGE + 16)
            return WS_ERR_TOO_BIG;
    }
    return ws_conn_flush(c);
}

void ws_conn_free(struct ws_conn *c)
{
    free(c->rx);
    free(c->msg);
    free(c->tx);
    c->rx = c->msg = c->tx = NULL;
    c->rx_len = c->msg_len = c->tx_len = 0;
}
