/* SRTP AEAD_AES_128_GCM for RTP packets (RFC 7714) over OpenSSL EVP, with a replay window.
 * Why not libsrtp2: Debian builds libsrtp2 on NSS, whose every encrypt/decrypt takes
 * process-wide locks, allocates, and walks hash chains that grow with the sessions in the
 * process (bench/srtp and the 1,000-site load runs measured it at half of a busy worker).
 * This module is the hot path only: RTP under GCM. SRTCP, and the AES-CM profile, stay
 * with libsrtp2 (media/srtp.c), keyed from the same master keys. */
#ifndef MEDIA_SRTP_GCM_H
#define MEDIA_SRTP_GCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SGCM_MASTER_LEN 28  /* 16-byte key || 12-byte salt, as DTLS-SRTP exports them */
#define SGCM_TAG_LEN 16
#define SGCM_STREAMS 16     /* SSRCs tracked per direction: audio, simulcast layers, RTX */
#define SGCM_WINDOW 1024    /* replay window, packets */

enum { SGCM_ERR_AUTH = -1, SGCM_ERR_REPLAY = -2, SGCM_ERR_MALFORMED = -3, SGCM_ERR_SPACE = -4,
       SGCM_ERR_STREAMS = -5 };

/* Per-SSRC state: the rollover counter and, receiving, which recent indexes were seen. */
struct sgcm_stream {
    uint32_t ssrc;
    bool used;
    uint64_t highest;                  /* 48-bit packet index (ROC << 16 | SEQ) */
    uint64_t window[SGCM_WINDOW / 64]; /* bit i: index highest - i was received */
};

struct sgcm_dir {
    void *ctx;                         /* EVP_CIPHER_CTX keyed with the session key, owned */
    uint8_t salt[12];                  /* session salt */
    struct sgcm_stream streams[SGCM_STREAMS];
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

#endif
