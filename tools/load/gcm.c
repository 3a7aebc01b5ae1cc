/* SRTP AEAD_AES_128_GCM for RTP (see gcm.h). RFC 7714 section 8: the 12-byte IV is
 * (00 00 || SSRC || ROC || SEQ) XOR the session salt, the whole RTP header is the
 * associated data, the 16-byte tag follows the encrypted payload. Section 11: the keys come
 * from the RFC 3711 AES-CM KDF with the 96-bit master salt padded with zeros to 112 bits. */
#include "tools/load/gcm.h"
#include "media/bytes.h"
#include "media/srtp.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* RFC 3711 4.3.1: AES-CM keystream from IV = (salt XOR label at byte 7) || 00 00. */
static int kdf(const uint8_t master[LGCM_MASTER_LEN], uint8_t label, uint8_t *out, size_t n)
{
    uint8_t iv[16] = {0}, zero[32] = {0};
    memcpy(iv, master + 16, 12); /* bytes 12, 13 (salt padding) and 14, 15 (counter) stay 0 */
    iv[7] ^= label;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, master, iv) &&
                      EVP_EncryptUpdate(c, out, &len, zero, (int)n) && len == (int)n;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

static int dir_init(struct lgcm_dir *d, const uint8_t master[LGCM_MASTER_LEN], bool enc)
{
    uint8_t key[16];
    memset(d, 0, sizeof *d);
    if (kdf(master, 0x00, key, sizeof key) < 0 || kdf(master, 0x02, d->salt, sizeof d->salt) < 0)
        return -1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    d->ctx = c;
    if (!c || !EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL, enc) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) ||
        !EVP_CipherInit_ex(c, NULL, NULL, key, NULL, enc))
        return -1;
    return 0;
}

int lgcm_init(struct lgcm *s, const uint8_t tx_master[LGCM_MASTER_LEN],
              const uint8_t rx_master[LGCM_MASTER_LEN])
{
    memset(s, 0, sizeof *s);
    if (dir_init(&s->tx, tx_master, true) < 0 || dir_init(&s->rx, rx_master, false) < 0) {
        lgcm_free(s);
        return -1;
    }
    return 0;
}

void lgcm_free(struct lgcm *s)
{
    EVP_CIPHER_CTX_free(s->tx.ctx);
    EVP_CIPHER_CTX_free(s->rx.ctx);
    s->tx.ctx = s->rx.ctx = NULL;
}

/* Header length (fixed + CSRCs + extension block), or -1. */
static int header_len(const uint8_t *b, size_t len)
{
    if (len < 12 || (b[0] >> 6) != 2)
        return -1;
    size_t h = 12 + 4u * (b[0] & 0x0F);
    if (b[0] & 0x10) {
        if (len < h + 4)
            return -1;
        h += 4 + 4u * be_rd16(b + h + 2);
    }
    return h <= len ? (int)h : -1;
}

static struct lgcm_roc *roc_slot(struct lgcm_dir *d, uint32_t ssrc)
{
    for (int i = 0; i < LGCM_SSRCS; i++)
        if (d->roc[i].used && d->roc[i].ssrc == ssrc)
            return &d->roc[i];
    for (int i = 0; i < LGCM_SSRCS; i++)
        if (!d->roc[i].used)
            return &d->roc[i];
    return NULL;
}

/* Sender: the ROC goes up when the sequence number wraps. */
static uint32_t tx_roc(struct lgcm_dir *d, uint32_t ssrc, uint16_t seq)
{
    struct lgcm_roc *r = roc_slot(d, ssrc);
    if (!r)
        return 0;
    if (!r->used)
        *r = (struct lgcm_roc){.ssrc = ssrc, .last_seq = seq, .used = true};
    else if (seq < r->last_seq && r->last_seq - seq > 0x8000)
        r->roc++;
    r->last_seq = seq;
    return r->roc;
}

/* Receiver: RFC 3711 3.3.1's guess of the ROC from the highest sequence number so far. */
static uint32_t rx_guess(struct lgcm_roc *r, uint16_t seq)
{
    if (!r->used)
        return 0;
    if (r->last_seq < 0x8000)
        return seq - r->last_seq > 0x8000 ? r->roc - 1 : r->roc;
    return r->last_seq - 0x8000 > seq ? r->roc + 1 : r->roc;
}

static void rx_commit(struct lgcm_roc *r, uint32_t ssrc, uint16_t seq, uint32_t roc)
{
    if (!r->used) {
        *r = (struct lgcm_roc){.ssrc = ssrc, .last_seq = seq, .roc = roc, .used = true};
    } else if (roc > r->roc || (roc == r->roc && seq > r->last_seq)) {
        r->roc = roc;
        r->last_seq = seq;
    }
}

static void make_iv(uint8_t iv[12], const uint8_t salt[12], uint32_t ssrc, uint32_t roc, uint16_t seq)
{
    iv[0] = iv[1] = 0;
    be_wr32(iv + 2, ssrc);
    be_wr32(iv + 6, roc);
    be_wr16(iv + 10, seq);
    for (int i = 0; i < 12; i++)
        iv[i] ^= salt[i];
}

int lgcm_protect(struct lgcm *s, uint8_t *buf, size_t *len, size_t cap)
{
    int h = header_len(buf, *len);
    if (h < 0 || cap < *len + LGCM_TAG_LEN)
        return -1;
    uint32_t ssrc = be_rd32(buf + 8);
    uint16_t seq = be_rd16(buf + 2);
    uint8_t iv[12];
    make_iv(iv, s->tx.salt, ssrc, tx_roc(&s->tx, ssrc, seq), seq);
    EVP_CIPHER_CTX *c = s->tx.ctx;
    int n, plen = (int)*len - h;
    if (!EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) || !EVP_EncryptUpdate(c, NULL, &n, buf, h) ||
        !EVP_EncryptUpdate(c, buf + h, &n, buf + h, plen) || !EVP_EncryptFinal_ex(c, buf + h + n, &n) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, LGCM_TAG_LEN, buf + *len))
        return -1;
    *len += LGCM_TAG_LEN;
    return 0;
}

int lgcm_unprotect(struct lgcm *s, uint8_t *buf, size_t *len)
{
    int h = header_len(buf, *len);
    if (h < 0 || *len < (size_t)h + LGCM_TAG_LEN)
        return -1;
    uint32_t ssrc = be_rd32(buf + 8);
    uint16_t seq = be_rd16(buf + 2);
    struct lgcm_roc *r = roc_slot(&s->rx, ssrc);
    if (!r)
        return -1;
    uint32_t roc = rx_guess(r, seq);
    uint8_t iv[12];
    make_iv(iv, s->rx.salt, ssrc, roc, seq);
    EVP_CIPHER_CTX *c = s->rx.ctx;
    int n, clen = (int)*len - h - LGCM_TAG_LEN;
    if (!EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) || !EVP_DecryptUpdate(c, NULL, &n, buf, h) ||
        !EVP_DecryptUpdate(c, buf + h, &n, buf + h, clen) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, LGCM_TAG_LEN, buf + h + clen) ||
        EVP_DecryptFinal_ex(c, buf + h + n, &n) <= 0)
        return -1;
    rx_commit(r, ssrc, seq, roc);
    *len -= LGCM_TAG_LEN;
    return 0;
}

/* ---- against libsrtp2 ---- */

static size_t test_packet(uint8_t *p, uint16_t seq, uint32_t ssrc)
{
    static const uint8_t ext[8] = {0xBE, 0xDE, 0x00, 0x01, 0x10, 0x99, 0x00, 0x00};
    p[0] = 0x90; /* V=2, X=1: the extension is authenticated, not encrypted */
    p[1] = 111;
    be_wr16(p + 2, seq);
    be_wr32(p + 4, seq * 960u);
    be_wr32(p + 8, ssrc);
    memcpy(p + 12, ext, sizeof ext);
    for (int i = 0; i < 60; i++)
        p[20 + i] = (uint8_t)(seq + i);
    return 80;
}

int lgcm_selftest(char *err, size_t errlen)
{
    uint8_t a[LGCM_MASTER_LEN], b[LGCM_MASTER_LEN], p[256], q[256];
    struct lgcm mine;
    RAND_bytes(a, sizeof a);
    RAND_bytes(b, sizeof b);
    srtpx_session_t *lib = srtpx_session_new(SRTPX_AEAD_AES_128_GCM, a, b); /* sends with a */
    if (!lib || lgcm_init(&mine, b, a) < 0) {
        snprintf(err, errlen, "cannot set up the SRTP self-test");
        srtpx_session_free(lib);
        return -1;
    }
    int rc = 0;
    for (uint32_t i = 0; i < 8 && !rc; i++) { /* 65532 .. 65535, 0 .. 3: across a ROC step */
        uint16_t seq = (uint16_t)(65532 + i);
        size_t n = test_packet(p, seq, 0x1234), m;
        memcpy(q, p, n);
        m = n;
        if (srtpx_protect_rtp(lib, q, &m, sizeof q) < 0 || lgcm_unprotect(&mine, q, &m) < 0 ||
            m != n || memcmp(p, q, n)) {
            snprintf(err, errlen, "libsrtp2 -> own GCM disagree at seq %u", seq);
            rc = -1;
            break;
        }
        m = n;
        memcpy(q, p, n);
        if (lgcm_protect(&mine, q, &m, sizeof q) < 0 || srtpx_unprotect_rtp(lib, q, &m) < 0 ||
            m != n || memcmp(p, q, n)) {
            snprintf(err, errlen, "own GCM -> libsrtp2 disagree at seq %u", seq);
            rc = -1;
        }
    }
    lgcm_free(&mine);
    srtpx_session_free(lib);
    return rc;
}
