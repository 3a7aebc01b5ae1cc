/* DTLS 1.2 for WebRTC peers (RFC 6347, RFC 5764 DTLS-SRTP, RFC 8827 fingerprints).
 * OpenSSL runs over an in-memory datagram BIO: the worker owns the UDP socket, feeds
 * incoming records with dtls_conn_feed(), sends what dtls_conn_next_out() hands back
 * and drives retransmission from its tick with dtls_conn_timeout_ms()/dtls_conn_on_timer().
 * A conn is used by one thread; the identity (certificate + SSL_CTX) is shared read-only. */
#ifndef MEDIA_DTLS_H
#define MEDIA_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors (negative); states are the non-negative dtls_state_t values. */
enum {
    DTLS_ERR_PARAM = -1, /* bad argument (NULL, malformed fingerprint) */
    DTLS_ERR_NOMEM = -2, /* allocation failed */
    DTLS_ERR_STATE = -3, /* not possible in the current state */
    DTLS_ERR_SPACE = -4, /* caller's buffer too small; the datagram stays queued */
    DTLS_ERR_SSL = -5,   /* OpenSSL refused the operation */
};

typedef enum {
    DTLS_NEW = 0,     /* created, nothing sent or received yet */
    DTLS_HANDSHAKING, /* flights in progress */
    DTLS_CONNECTED,   /* handshake done, fingerprint checked, SRTP keys ready */
    DTLS_FAILED,      /* fatal: see dtls_conn_reason() */
    DTLS_CLOSED,      /* close_notify sent or received */
} dtls_state_t;

/* SRTP protection profiles, numbered as in the IANA registry (RFC 5764, RFC 7714),
 * which is also how media/srtp.h numbers them. */
typedef enum {
    DTLS_SRTP_NONE = 0x0000,
    DTLS_SRTP_AES128_CM_SHA1_80 = 0x0001,
    DTLS_SRTP_AEAD_AES_128_GCM = 0x0007,
} dtls_srtp_profile_t;

#define DTLS_SRTP_MASTER_MAX 30 /* key || salt, longest profile (16 + 14) */
#define DTLS_FINGERPRINT_LEN 96 /* "AB:CD:..." for SHA-256 plus NUL */

/* Exported SRTP master keys, each stored as key || salt as libsrtp wants them. */
typedef struct {
    dtls_srtp_profile_t profile;          /* negotiated protection profile */
    size_t key_len;                       /* master key bytes (16) */
    size_t salt_len;                      /* master salt bytes (14 CM, 12 GCM) */
    uint8_t local[DTLS_SRTP_MASTER_MAX];  /* what we protect (send) with */
    uint8_t remote[DTLS_SRTP_MASTER_MAX]; /* what we unprotect (receive) with */
} dtls_srtp_keys_t;

typedef struct dtls_identity dtls_identity_t;
typedef struct dtls_conn dtls_conn_t;

/* Generates a fresh self-signed ECDSA P-256 certificate and a DTLS 1.2 SSL_CTX
 * offering AEAD_AES_128_GCM then AES128_CM_SHA1_80. Returns NULL on failure.
 * Caller owns the result (dtls_identity_free); it may be shared by many threads. */
dtls_identity_t *dtls_identity_new(void);

/* Same, with an OpenSSL SRTP profile list such as "SRTP_AES128_CM_SHA1_80"
 * (colon-separated, in preference order). Mainly for tests and the load generator. */
dtls_identity_t *dtls_identity_new_with_profiles(const char *srtp_profiles);

/* Drops the caller's reference; the memory goes when the last conn made from it is freed. */
void dtls_identity_free(dtls_identity_t *id);

/* SHA-256 fingerprint as uppercase hex with colons, for a=fingerprint:sha-256.
 * The string lives as long as the identity. */
const char *dtls_identity_fingerprint(const dtls_identity_t *id);

/* Creates a conn for one peer. remote_fp_sha256 is the peer's SDP fingerprint (hex
 * pairs, colons optional, any case, an optional "sha-256 " prefix); it may be NULL if
 * not known yet: the conn then stays DTLS_HANDSHAKING after the handshake until
 * dtls_conn_set_remote_fingerprint() supplies it.
 * Takes a reference on id. Returns NULL on bad arguments or allocation failure. */
dtls_conn_t *dtls_conn_new(dtls_identity_t *id, bool is_server, const char *remote_fp_sha256);

/* Sets or replaces the expected peer fingerprint. If the handshake already finished
 * while it was unknown, the peer certificate is checked now. Returns the state
 * (DTLS_CONNECTED or DTLS_FAILED in that case) or DTLS_ERR_PARAM. */
int dtls_conn_set_remote_fingerprint(dtls_conn_t *c, const char *remote_fp_sha256);

/* Begins the handshake: a client queues its ClientHello, a server just waits.
 * Returns the new state (dtls_state_t) or a negative error. */
int dtls_conn_start(dtls_conn_t *c);

/* Hands one received DTLS datagram (first byte 20..63 per RFC 7983) to the conn; the
 * bytes are only borrowed for the call. Drives the handshake and queues any replies.
 * Returns the state after processing; the caller sees DTLS_CONNECTED exactly once as
 * a change from the previous value and should then fetch the SRTP keys. */
int dtls_conn_feed(dtls_conn_t *c, const uint8_t *rec, size_t len);

/* Copies the next queued outgoing datagram into buf. Returns its length, 0 when the
 * queue is empty, or DTLS_ERR_SPACE if cap is too small (the datagram stays queued). */
int dtls_conn_next_out(dtls_conn_t *c, uint8_t *buf, size_t cap);

/* Milliseconds until dtls_conn_on_timer() has work to do (0 = now), or -1 if no
 * retransmission timer is running. */
int dtls_conn_timeout_ms(dtls_conn_t *c);

/* Retransmits the last flight if its timer expired (no-op otherwise); gives up with
 * DTLS_FAILED after OpenSSL's retry limit. Returns the state. */
int dtls_conn_on_timer(dtls_conn_t *c);

/* Queues a close_notify alert and moves to DTLS_CLOSED. Returns 0 or a negative error. */
int dtls_conn_close(dtls_conn_t *c);

/* Current state, and a human-readable reason once DTLS_FAILED ("" otherwise). */
dtls_state_t dtls_conn_state(const dtls_conn_t *c);
const char *dtls_conn_reason(const dtls_conn_t *c);

/* Copies the exported SRTP keys out. Returns 0, or DTLS_ERR_STATE before DTLS_CONNECTED. */
int dtls_conn_srtp_keys(const dtls_conn_t *c, dtls_srtp_keys_t *out);

/* Datagrams dropped because the outgoing queue was full (the worker did not drain it). */
uint64_t dtls_conn_out_dropped(const dtls_conn_t *c);

/* Frees the conn (NULL is fine) and wipes its keys; drops its identity reference. */
void dtls_conn_free(dtls_conn_t *c);

#endif
