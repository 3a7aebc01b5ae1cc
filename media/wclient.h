/* The client side of a WebRTC transport over one UDP socket: ICE controlling agent (sends
 * Binding requests with USE-CANDIDATE), DTLS client, SRTP. Used by the load generator, the
 * benches and the transport tests to play a browser against the server. Not thread-safe:
 * one owner thread per client. */
#ifndef MEDIA_WCLIENT_H
#define MEDIA_WCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "media/dtls.h"
#include "media/srtp.h"

struct wclient {
    int fd;                           /* our UDP socket, owned */
    struct sockaddr_storage server;   /* the server candidate we talk to */
    socklen_t server_len;
    char local_ufrag[16], local_pwd[40];  /* ours, as put in our offer */
    char remote_ufrag[64], remote_pwd[128]; /* the server's, from its answer */
    dtls_conn_t *dtls;
    srtpx_session_t *srtp;            /* once connected */
    int srtp_profile;
    unsigned srtp_flags;              /* srtpx_session_new_ex flags, e.g. SRTPX_LIBSRTP_ONLY */
    uint64_t tiebreaker;
    bool ice_ok;                      /* a Binding success came back */
    struct sockaddr_storage mapped;   /* XOR-MAPPED-ADDRESS of the last success */
    int64_t next_check_ms;            /* wclient_advance: when to repeat the check */
    bool dtls_started;                /* wclient_advance: ClientHello queued */
};

/* Creates the socket bound to `bind_addr` (port 0) and the DTLS client. The server's
 * fingerprint may be NULL when not yet known. 0 or -1. */
int wclient_init(struct wclient *c, dtls_identity_t *id, const char *bind_addr);
/* The server's transport parameters, from its SDP answer. */
int wclient_set_remote(struct wclient *c, const char *addr, int port, const char *ufrag,
                       const char *pwd, const char *fingerprint);
/* Sends one Binding request (USE-CANDIDATE when `nominate`); 0 or -1. */
int wclient_send_check(struct wclient *c, bool nominate);
/* Blocking: ICE check until answered, then the DTLS handshake and SRTP keys. 0 or -1. */
int wclient_connect(struct wclient *c, int timeout_ms);
/* Protects and sends one RTP (or RTCP when `rtcp`) packet; buf needs SRTPX_MAX_TRAILER spare. */
int wclient_send_srtp(struct wclient *c, uint8_t *buf, size_t len, size_t cap, bool rtcp);
int wclient_send_raw(struct wclient *c, const void *buf, size_t len);
/* Waits up to timeout_ms for an SRTP/SRTCP packet, unprotects it into buf. Returns its
 * length, 0 on timeout, -1 on error. STUN and DTLS datagrams met meanwhile are handled. */
int wclient_recv_srtp(struct wclient *c, uint8_t *buf, size_t cap, int timeout_ms, bool *is_rtcp);
void wclient_free(struct wclient *c);

/* Non-blocking use, for many clients driven by one event loop (tools/mcu-load). */
/* Hands one datagram read from c->fd to the client. STUN successes and DTLS records are
 * consumed (DTLS replies sent at once) and 0 is returned; SRTP or SRTCP is unprotected in
 * place and its length returned with *is_rtcp set; -1 if it does not unprotect (or before
 * the keys exist). */
int wclient_input(struct wclient *c, uint8_t *buf, size_t len, bool *is_rtcp);
/* Moves the connection on at now_ms (any monotonic milliseconds): a nominating check every
 * 100 ms until one is answered, then the DTLS handshake and its retransmissions. Call it
 * after wclient_input and from a timer of ~20 ms. Returns 1 once connected (c->srtp set;
 * later calls do nothing), 0 while in progress, -1 when DTLS failed. */
int wclient_advance(struct wclient *c, int64_t now_ms);

#endif
