/* SRTP/SRTCP for one peer, over OpenSSL for AEAD_AES_128_GCM and libsrtp2 for AES-CM: an
 * outbound context (any SSRC we send) and an inbound one (any SSRC the peer sends), keyed
 * from DTLS-SRTP. Prefixed srtpx_ so it cannot clash with libsrtp2's own srtp_* symbols.
 * A session belongs to one thread; packets are transformed in place with no allocation
 * (except libsrtp cloning its template the first time it sees a new SSRC). */
#ifndef MEDIA_SRTP_H
#define MEDIA_SRTP_H

#include <stddef.h>
#include <stdint.h>

/* Protection profiles, IANA numbers (same values as dtls_srtp_profile_t). */
enum {
    SRTPX_AES128_CM_SHA1_80 = 0x0001,
    SRTPX_AEAD_AES_128_GCM = 0x0007,
};

/* Errors, so callers can count drops by reason. */
enum {
    SRTPX_ERR_AUTH = -1,      /* authentication tag did not verify */
    SRTPX_ERR_REPLAY = -2,    /* already seen, or older than the replay window */
    SRTPX_ERR_MALFORMED = -3, /* too short or not a parseable RTP/RTCP packet */
    SRTPX_ERR_SPACE = -4,     /* buffer cannot take the auth tag / SRTCP trailer */
    SRTPX_ERR_PARAM = -5,     /* bad argument or unknown profile */
    SRTPX_ERR_INIT = -6,      /* libsrtp could not be initialised or keyed */
    SRTPX_ERR_OTHER = -7,     /* anything else libsrtp reports */
};

/* Most bytes protect may append (SRTCP with GCM: 4-byte index + 16-byte tag). */
#define SRTPX_MAX_TRAILER 20
#define SRTPX_REPLAY_WINDOW 1024 /* packets; video bursts reorder by more than 64 */

typedef struct srtpx_session srtpx_session_t;

/* Initialises libsrtp once per process; safe from any thread, any number of times.
 * srtpx_session_new() calls it. Returns 0 or SRTPX_ERR_INIT. */
int srtpx_init(void);

/* Master key + salt length for a profile (30 or 28), or 0 if the profile is unknown. */
size_t srtpx_master_len(int profile);

/* Creates a session. tx_master / rx_master are key || salt (srtpx_master_len bytes)
 * for what we send and what we receive; they are copied. Returns NULL on an unknown
 * profile, bad arguments or libsrtp failure. Caller owns the result. */
srtpx_session_t *srtpx_session_new(int profile, const uint8_t *tx_master,
                                   const uint8_t *rx_master);

/* As srtpx_session_new. SRTP and SRTCP under AEAD_AES_128_GCM go through media/srtp_gcm.c
 * (OpenSSL) rather than libsrtp2, whose NSS backend locks and allocates per packet; the
 * AES-CM profile always uses libsrtp2. SRTPX_LIBSRTP_ONLY keeps libsrtp2 for everything
 * (tests cross-check the two with it). With media/srtp_gcm.c a session tracks at most
 * 16 SSRCs per direction for RTP and 16 for SRTCP (SRTPX_ERR_OTHER beyond). */
#define SRTPX_LIBSRTP_ONLY 1u
srtpx_session_t *srtpx_session_new_ex(int profile, const uint8_t *tx_master,
                                      const uint8_t *rx_master, unsigned flags);
/* Frees the session (NULL is fine); libsrtp wipes the keys. */
void srtpx_session_free(srtpx_session_t *s);

/* Encrypt / decrypt in place. *len is the packet length in and out; protect needs
 * cap - *len >= the trailer (at most SRTPX_MAX_TRAILER). Retransmitting an identical
 * packet through protect again is allowed (NACK/RTX). Return 0 or an SRTPX_ERR_*;
 * on error the buffer content is unspecified and must be dropped. */
int srtpx_protect_rtp(srtpx_session_t *s, uint8_t *buf, size_t *len, size_t cap);
int srtpx_unprotect_rtp(srtpx_session_t *s, uint8_t *buf, size_t *len);
int srtpx_protect_rtcp(srtpx_session_t *s, uint8_t *buf, size_t *len, size_t cap);
int srtpx_unprotect_rtcp(srtpx_session_t *s, uint8_t *buf, size_t *len);

/* Static description of an SRTPX_ERR_* code (or 0). */
const char *srtpx_strerror(int err);

#endif
