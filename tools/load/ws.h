/* A small RFC 6455 WebSocket client for the load generator: the opening handshake
 * (HTTP/1.1 Upgrade, Sec-WebSocket-Accept checked), masked client frames, and a
 * non-blocking connection that reassembles fragmented server messages and answers
 * ping and close by itself. The frame and handshake codecs are pure functions over
 * byte buffers; struct ws_conn does the socket I/O for one event loop thread. */
#ifndef LOAD_WS_H
#define LOAD_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_KEY_SZ 25    /* base64 of 16 random bytes, plus NUL */
#define WS_ACCEPT_SZ 29 /* base64 of a SHA-1 digest, plus NUL */
#define WS_MAX_MESSAGE (1u << 20) /* longer server messages close the connection */

enum { WS_OP_CONT = 0, WS_OP_TEXT = 1, WS_OP_BINARY = 2, WS_OP_CLOSE = 8, WS_OP_PING = 9,
       WS_OP_PONG = 10 };

enum {
    WS_ERR_PROTO = -1, /* not what RFC 6455 allows (bad opcode, masked server frame...) */
    WS_ERR_SPACE = -2, /* the caller's buffer is too small */
    WS_ERR_TOO_BIG = -3, /* a frame or message longer than WS_MAX_MESSAGE */
    WS_ERR_IO = -4,    /* the socket failed or the peer closed it */
    WS_ERR_NOMEM = -5,
};

/* One parsed frame header; the payload is buf[payload_off .. payload_off + payload_len). */
struct ws_frame {
    bool fin;
    uint8_t opcode;
    bool masked;
    uint8_t mask[4];
    size_t payload_off;
    uint64_t payload_len;
};

/* A fresh random Sec-WebSocket-Key. */
void ws_make_key(char key[WS_KEY_SZ]);
/* The Sec-WebSocket-Accept a server must answer to `key`. */
void ws_accept_for_key(const char *key, char out[WS_ACCEPT_SZ]);
/* Writes the GET request of the opening handshake, asking for subprotocol `protocol` when
 * it is not NULL (Janus wants "janus-protocol"); returns its length or WS_ERR_SPACE. */
int ws_build_upgrade(char *out, size_t cap, const char *host_port, const char *path,
                     const char *key, const char *protocol);
/* Looks for a complete response head in buf[0..len). Returns its length (through the blank
 * line) when it is a 101 with Upgrade: websocket and the right accept, 0 when more bytes
 * are needed, WS_ERR_PROTO otherwise. */
int ws_parse_upgrade_response(const char *buf, size_t len, const char *key);
/* Parses the frame at buf[0..len). Returns the whole frame's length when it is all there,
 * 0 when more bytes are needed, WS_ERR_PROTO or WS_ERR_TOO_BIG. */
int ws_parse_frame(const uint8_t *buf, size_t len, struct ws_frame *f);
/* Writes one masked, unfragmented client frame; returns its length or WS_ERR_SPACE. */
int ws_build_frame(uint8_t *out, size_t cap, int opcode, const uint8_t *payload, size_t len,
                   const uint8_t mask[4]);

/* ---- a connection over a connected, non-blocking TCP socket ---- */

/* Called with each complete text message (NUL-terminated, borrowed for the call). */
typedef void (*ws_on_message)(void *arg, char *text, size_t len);

struct ws_conn {
    int fd;                 /* borrowed; the caller closes it */
    char key[WS_KEY_SZ];
    bool open;              /* the handshake completed */
    bool closing;           /* a close frame was sent or received */
    uint8_t *rx;            /* bytes read and not parsed yet, owned */
    size_t rx_len, rx_cap;
    uint8_t *msg;           /* the message being reassembled, owned */
    size_t msg_len, msg_cap;
    bool in_msg;            /* continuation frames belong to msg */
    uint8_t *tx;            /* bytes to write, owned */
    size_t tx_len, tx_cap;
    uint64_t frames_in, fragments_in, pings_in;
};

/* Starts the handshake: queues the request (with the subprotocol `protocol`, may be NULL).
 * fd must be connected (or connecting). 0 or < 0. */
int ws_conn_start(struct ws_conn *c, int fd, const char *host_port, const char *path,
                  const char *protocol);
/* Reads what the socket has and handles it: the handshake response, then frames; each
 * complete text message goes to cb. Returns 0, or a WS_ERR_* when the connection is unusable. */
int ws_conn_on_readable(struct ws_conn *c, ws_on_message cb, void *arg);
/* Queues a text message (once open) and tries to write. 0 or < 0. */
int ws_conn_send_text(struct ws_conn *c, const char *text, size_t len);
/* Queues a close frame with this status code. */
int ws_conn_send_close(struct ws_conn *c, uint16_t code);
/* Writes as much queued data as the socket takes. 0, or WS_ERR_IO. */
int ws_conn_flush(struct ws_conn *c);
static inline bool ws_conn_want_write(const struct ws_conn *c)
{
    return c->tx_len > 0;
}
/* Frees the buffers (not the fd). */
void ws_conn_free(struct ws_conn *c);

#endif
