/* SRTP and SRTCP under AEAD_AES_128_GCM (RFC 7714) over OpenSSL EVP, with replay windows.
 * Why not libsrtp2: Debian builds libsrtp2 on NSS, whose every encrypt/decrypt takes
 * process-wide locks, allocates, and walks hash chains that grow with the sessions in the
 * process (bench/srtp and the 1,000-site load runs measured it at half of a busy worker).
 * The AES-CM profile stays with libsrtp2 (media/srtp.c). */
#ifndef MEDIA_SRTP_GCM_H
#define MEDIA_SRTP_GCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SGCM_MASTER_LEN 28  /* 16-byte key || 12-byte salt, as DTLS-SRTP exports them */
#define SGCM_TAG_LEN 16
#define SGCM_RTCP_TRAILER (SGCM_TAG_LEN + 4) /* tag, then the E flag || 31-bit SRTCP index */
#define SGCM_STREAMS 16     /* SSRCs tracked per direction: audio, simulcast layers, RTX */
#define SGCM_WINDOW 1024    /* replay window, packets */

enum { SGCM_ERR_AUTH = -1, SGCM_ERR_REPLAY = -2, SGCM_ERR_MALFORMED = -3, SGCM_ERR_SPACE = -4,
       SGCM_ERR_STREAMS = -5, SGCM_ERR_EXHAUSTED = -6 };

/* Per-SSRC state: the highest index used (sending) or, receiving, which recent indexes
 * were seen. RTP and SRTCP keep separate tables: their indexes are unrelated. */
struct sgcm_stream {
    uint32_t ssrc;
    bool used;
    uint64_t highest;                  /* RTP: 48-bit index (ROC << 16 | SEQ); SRTCP: 31-bit */
    uint64_t window[SGCM_WINDOW / 64]; /* bit i: index highest - i was received */
};

/* One key: an EVP_CIPHER_CTX keyed once (re-keying per packet would cost more than the
 * packet) and the session salt the IV is XORed with. */
struct sgcm_key {
    void *ctx;                         /* EVP_CIPHER_CTX, owned */
    uint8_t salt[12];
};

struct sgcm_dir {
    struct sgcm_key rtp, rtcp;         /* RFC 3711 labels 0/2 and 3/5 of one master key */
    struct sgcm_stream streams[SGCM_STREAMS];      /* RTP */
    struct sgcm_stream rtcp_streams[SGCM_STREAMS]; /* SRTCP, by the first packet's SSRC */
};

struct sgcm {
    struct sgcm_dir tx, rx;
};

/* Derives the session keys (RFC 3711 4.3 KDF, RFC 7714 section 11) for both directions. 0 or -1. */
int sgcm_init(struct sgcm *s, const uint8_t tx_master[SGCM_MASTER_LEN],
              const uint8_t rx_master[SGCM_MASTER_LEN]);
void sgcm_free(struct sgcm *s);
/* In place. Protect needs SGCM_TAG_LEN spare bytes; unprotect rejects a replay or a packet
 * older than the window before decrypting, and records the index only once it verified. */
int sgcm_protect(struct sgcm *s, uint8_t *buf, size_t *len, size_t cap);
int sgcm_unprotect(struct sgcm *s, uint8_t *buf, size_t *len);
/* SRTCP (RFC 7714 section 9), in place: header(8) | ciphertext | tag | E || index.
 * Protect always encrypts (E=1), needs SGCM_RTCP_TRAILER spare bytes, and numbers each
 * SSRC's packets from 1 as libsrtp2 does (SGCM_ERR_EXHAUSTED after 2^31 - 1: re-key).
 * Unprotect also accepts E=0 (authenticated only, RFC 7714 9.3), checks the SRTCP index
 * against a per-SSRC replay window first, and records it only once the tag verified. */
int sgcm_protect_rtcp(struct sgcm *s, uint8_t *buf, size_t *len, size_t cap);
int sgcm_unprotect_rtcp(struct sgcm *s, uint8_t *buf, size_t *len);

#endif
