/* The load generator's own SRTP for RTP packets under AEAD_AES_128_GCM (RFC 7714), over
 * OpenSSL EVP with the key schedule kept per direction. Why: Debian's libsrtp2 runs on NSS,
 * whose per-packet cost grows with the sessions in the process; at 1,000 sites it was ~58 %
 * of the tool's CPU. lgcm_selftest() checks this code against libsrtp2 (media/srtp.h) both
 * ways before a run uses it. RTCP, and any other profile, stays with libsrtp2. No replay
 * window: a load generator has no one to defend against. */
#ifndef LOAD_GCM_H
#define LOAD_GCM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LGCM_MASTER_LEN 28  /* 16-byte key || 12-byte salt, as DTLS-SRTP exports them */
#define LGCM_TAG_LEN 16
#define LGCM_SSRCS 4        /* streams tracked per direction (rollover counters) */

struct lgcm_roc {
    uint32_t ssrc;
    uint32_t roc;
    uint16_t last_seq;      /* highest seen (rx) or last sent (tx) */
    bool used;
};

struct lgcm_dir {
    void *ctx;              /* EVP_CIPHER_CTX keyed with the session key, owned */
    uint8_t salt[12];       /* session salt */
    struct lgcm_roc roc[LGCM_SSRCS];
};

struct lgcm {
    struct lgcm_dir tx, rx;
};

/* Derives the session keys (RFC 3711 4.3 KDF) and keys both directions. 0 or -1. */
int lgcm_init(struct lgcm *s, const uint8_t tx_master[LGCM_MASTER_LEN],
              const uint8_t rx_master[LGCM_MASTER_LEN]);
void lgcm_free(struct lgcm *s);
/* In place; protect needs LGCM_TAG_LEN spare bytes in cap. 0 or -1. */
int lgcm_protect(struct lgcm *s, uint8_t *buf, size_t *len, size_t cap);
int lgcm_unprotect(struct lgcm *s, uint8_t *buf, size_t *len);
/* Checks interoperation with libsrtp2 across a sequence-number wrap. 0, or -1 with err. */
int lgcm_selftest(char *err, size_t errlen);

#endif
