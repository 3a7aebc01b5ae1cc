/* SRTP and SRTCP under AEAD_AES_128_GCM (see srtp_gcm.h). RFC 7714 section 8: the 12-byte
 * RTP IV is (00 00 || SSRC || ROC || SEQ) XOR the session salt, the RTP header is the
 * associated data, the 16-byte tag follows the ciphertext. Section 9: SRTCP the same way with
 * its own keys, the SRTCP index in place of ROC || SEQ, and the E || index word authenticated
 * too. Section 11: session keys from the RFC 3711 AES-CM KDF, with the 96-bit master salt
 * padded with zeros to 112 bits. */
#include "media/srtp_gcm.h"
#include "media/bytes.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <limits.h>
#include <string.h>

/* RFC 3711 4.3.1: the AES-CM keystream under the master key from IV = (salt XOR label<<48) || 0. */
static int kdf(const uint8_t master[SGCM_MASTER_LEN], uint8_t label, uint8_t *out, size_t n)
{
    uint8_t iv[16] = {0}, zero[32] = {0};
    memcpy(iv, master + 16, 12);
    iv[7] ^= label;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, master, iv) &&
                      EVP_EncryptUpdate(c, out, &len, zero, (int)n) && len == (int)n;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* Keys one direction of one protocol: labels (RFC 3711 4.3.2) 0x00/0x02 for SRTP, 0x03/0x05
 * for SRTCP; GCM needs no authentication key. */
static int key_init(struct sgcm_key *k, const uint8_t master[SGCM_MASTER_LEN], uint8_t key_label,
                    int enc)
{
    uint8_t key[16];
    if (kdf(master, key_label, key, sizeof key) < 0 ||
        kdf(master, key_label + 2, k->salt, sizeof k->salt) < 0)
        return -1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    k->ctx = c;
    int ok = c && EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL, enc) &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) &&
             EVP_CipherInit_ex(c, NULL, NULL, key, NULL, enc);
    OPENSSL_cleanse(key, sizeof key);
    return ok ? 0 : -1;
}

static int dir_init(struct sgcm_dir *d, const uint8_t master[SGCM_MASTER_LEN], int enc)
{
    if (key_init(&d->rtp, master, 0x00, enc) < 0 || key_init(&d->rtcp, master, 0x03, enc) < 0)
        return -1;
    return 0;
}

int sgcm_init(struct sgcm *s, const uint8_t tx_master[SGCM_MASTER_LEN],
              const uint8_t rx_master[SGCM_MASTER_LEN])
{
    memset(s, 0, sizeof *s);
    if (dir_init(&s->tx, tx_master, 1) < 0 || dir_init(&s->rx, rx_master, 0) < 0) {
        sgcm_free(s);
        return -1;
    }
    return 0;
}

void sgcm_free(struct sgcm *s)
{
    EVP_CIPHER_CTX_free(s->tx.rtp.ctx);
    EVP_CIPHER_CTX_free(s->tx.rtcp.ctx);
    EVP_CIPHER_CTX_free(s->rx.rtp.ctx);
    EVP_CIPHER_CTX_free(s->rx.rtcp.ctx);
    OPENSSL_cleanse(s, sizeof *s);
}

/* RTP header length (fixed part, CSRCs, extension block), or -1. */
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

static struct sgcm_stream *stream_of(struct sgcm_stream t[SGCM_STREAMS], uint32_t ssrc)
{
    struct sgcm_stream *free_slot = NULL;
    for (int i = 0; i < SGCM_STREAMS; i++) {
        if (t[i].used && t[i].ssrc == ssrc)
            return &t[i];
        if (!t[i].used && !free_slot)
            free_slot = &t[i];
    }
    return free_slot; /* unused: the caller initialises it once the packet is accepted */
}

/* RFC 3711 3.3.1: the index of `seq` nearest to the highest index seen so far. */
static uint64_t guess_index(const struct sgcm_stream *st, uint16_t seq)
{
    if (!st->used)
        return seq;
    uint32_t roc = (uint32_t)(st->highest >> 16);
    uint16_t s_l = (uint16_t)st->highest;
    int64_t v = roc;
    if (s_l < 0x8000) {
        if (seq - s_l > 0x8000 && roc > 0)
            v = (int64_t)roc - 1;
    } else if (s_l - 0x8000 > seq) {
        v = (int64_t)roc + 1;
    }
    return ((uint64_t)(uint32_t)v << 16) | seq;
}

static bool window_test(const struct sgcm_stream *st, uint64_t idx)
{
    uint64_t d = st->highest - idx;
    return (st->window[d / 64] >> (d % 64)) & 1;
}

/* Already received, or too far behind the newest to tell. */
static bool is_replay(const struct sgcm_stream *st, uint64_t idx)
{
    return st->used && idx <= st->highest &&
           (st->highest - idx >= SGCM_WINDOW || window_test(st, idx));
}

static void window_shift(struct sgcm_stream *st, uint64_t by)
{
    const int words = SGCM_WINDOW / 64;
    if (by >= SGCM_WINDOW) {
        memset(st->window, 0, sizeof st->window);
        return;
    }
    int w = (int)(by / 64), b = (int)(by % 64);
    for (int i = words - 1; i >= 0; i--) {
        uint64_t hi = i - w >= 0 ? st->window[i - w] << b : 0;
        uint64_t lo = (b && i - w - 1 >= 0) ? st->window[i - w - 1] >> (64 - b) : 0;
        st->window[i] = hi | lo;
    }
}

static void window_record(struct sgcm_stream *st, uint32_t ssrc, uint64_t idx)
{
    if (!st->used) {
        memset(st, 0, sizeof *st);
        st->used = true;
        st->ssrc = ssrc;
        st->highest = idx;
    } else if (idx > st->highest) {
        window_shift(st, idx - st->highest);
        st->highest = idx;
    }
    uint64_t d = st->highest - idx;
    st->window[d / 64] |= 1ULL << (d % 64);
}

/* Also the SRTCP IV (RFC 7714 9.1): with a 31-bit idx the ROC || SEQ field reads
 * 00 00 || 0 || index, exactly that layout. */
static void make_iv(uint8_t iv[12], const uint8_t salt[12], uint32_t ssrc, uint64_t idx)
{
    iv[0] = iv[1] = 0;
    be_wr32(iv + 2, ssrc);
    be_wr32(iv + 6, (uint32_t)(idx >> 16));
    be_wr16(iv + 10, (uint16_t)idx);
    for (int i = 0; i < 12; i++)
        iv[i] ^= salt[i];
}

int sgcm_protect(struct sgcm *s, uint8_t *buf, size_t *len, size_t cap)
{
    int h = header_len(buf, *len);
    if (h < 0)
        return SGCM_ERR_MALFORMED;
    if (cap < *len + SGCM_TAG_LEN)
        return SGCM_ERR_SPACE;
    uint32_t ssrc = be_rd32(buf + 8);
    struct sgcm_stream *st = stream_of(s->tx.streams, ssrc);
    if (!st)
        return SGCM_ERR_STREAMS;
    /* The sender's index: a retransmission of an old packet keeps its old index. */
    uint64_t idx = guess_index(st, be_rd16(buf + 2));
    uint8_t iv[12];
    make_iv(iv, s->tx.rtp.salt, ssrc, idx);
    EVP_CIPHER_CTX *c = s->tx.rtp.ctx;
    int n, plen = (int)*len - h;
    if (!EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) || !EVP_EncryptUpdate(c, NULL, &n, buf, h) ||
        !EVP_EncryptUpdate(c, buf + h, &n, buf + h, plen) || !EVP_EncryptFinal_ex(c, buf + h + n, &n) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SGCM_TAG_LEN, buf + *len))
        return SGCM_ERR_MALFORMED;
    if (!st->used || idx > st->highest) {
        if (!st->used) {
            st->used = true;
            st->ssrc = ssrc;
        }
        st->highest = idx;
    }
    *len += SGCM_TAG_LEN;
    return 0;
}

int sgcm_unprotect(struct sgcm *s, uint8_t *buf, size_t *len)
{
    int h = header_len(buf, *len);
    if (h < 0 || *len < (size_t)h + SGCM_TAG_LEN)
        return SGCM_ERR_MALFORMED;
    uint32_t ssrc = be_rd32(buf + 8);
    struct sgcm_stream *st = stream_of(s->rx.streams, ssrc);
    if (!st)
        return SGCM_ERR_STREAMS;
    uint64_t idx = guess_index(st, be_rd16(buf + 2));
    if (is_replay(st, idx))
        return SGCM_ERR_REPLAY;
    uint8_t iv[12];
    make_iv(iv, s->rx.rtp.salt, ssrc, idx);
    EVP_CIPHER_CTX *c = s->rx.rtp.ctx;
    int n, clen = (int)*len - h - SGCM_TAG_LEN;
    if (!EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) || !EVP_DecryptUpdate(c, NULL, &n, buf, h) ||
        !EVP_DecryptUpdate(c, buf + h, &n, buf + h, clen) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SGCM_TAG_LEN, buf + h + clen) ||
        EVP_DecryptFinal_ex(c, buf + h + n, &n) <= 0)
        return SGCM_ERR_AUTH;
    window_record(st, ssrc, idx);
    *len -= SGCM_TAG_LEN;
    return 0;
}

#define SRTCP_HEADER 8         /* V/P/RC, PT, length, SSRC: authenticated, never encrypted */
#define SRTCP_E 0x80000000u    /* E flag: the rest of the compound is encrypted */
#define SRTCP_INDEX_MAX 0x7FFFFFFFu

int sgcm_protect_rtcp(struct sgcm *s, uint8_t *buf, size_t *len, size_t cap)
{
    if (*len < SRTCP_HEADER || *len > INT_MAX - SGCM_RTCP_TRAILER)
        return SGCM_ERR_MALFORMED;
    if (cap < *len + SGCM_RTCP_TRAILER)
        return SGCM_ERR_SPACE;
    uint32_t ssrc = be_rd32(buf + 4);
    struct sgcm_stream *st = stream_of(s->tx.rtcp_streams, ssrc);
    if (!st)
        return SGCM_ERR_STREAMS;
    uint64_t idx = st->used ? st->highest + 1 : 1;
    if (idx > SRTCP_INDEX_MAX)
        return SGCM_ERR_EXHAUSTED;
    /* Taken before encrypting: even if OpenSSL failed halfway, no IV is ever used twice. */
    st->used = true;
    st->ssrc = ssrc;
    st->highest = idx;
    uint8_t *tag = buf + *len, *word = tag + SGCM_TAG_LEN, iv[12];
    be_wr32(word, SRTCP_E | (uint32_t)idx);
    make_iv(iv, s->tx.rtcp.salt, ssrc, idx);
    EVP_CIPHER_CTX *c = s->tx.rtcp.ctx;
    int n, plen = (int)*len - SRTCP_HEADER;
    /* Associated data: the header, then the E || index word (RFC 7714 9.2). */
    if (!EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv) ||
        !EVP_EncryptUpdate(c, NULL, &n, buf, SRTCP_HEADER) ||
        !EVP_EncryptUpdate(c, NULL, &n, word, 4) ||
        (plen && !EVP_EncryptUpdate(c, buf + SRTCP_HEADER, &n, buf + SRTCP_HEADER, plen)) ||
        !EVP_EncryptFinal_ex(c, tag, &n) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SGCM_TAG_LEN, tag))
        return SGCM_ERR_MALFORMED;
    *len += SGCM_RTCP_TRAILER;
    return 0;
}

int sgcm_unprotect_rtcp(struct sgcm *s, uint8_t *buf, size_t *len)
{
    if (*len < SRTCP_HEADER + SGCM_RTCP_TRAILER || *len > INT_MAX)
        return SGCM_ERR_MALFORMED;
    size_t body = *len - SGCM_RTCP_TRAILER; /* header and compound, without the trailer */
    uint8_t *tag = buf + body, *word = tag + SGCM_TAG_LEN, iv[12];
    uint32_t ssrc = be_rd32(buf + 4), idx = be_rd32(word) & SRTCP_INDEX_MAX;
    struct sgcm_stream *st = stream_of(s->rx.rtcp_streams, ssrc);
    if (!st)
        return SGCM_ERR_STREAMS;
    if (is_replay(st, idx))
        return SGCM_ERR_REPLAY;
    /* E=0 (RFC 7714 9.3): the whole compound is associated data and nothing is encrypted. */
    bool enc = be_rd32(word) & SRTCP_E;
    int n, aad = enc ? SRTCP_HEADER : (int)body, clen = enc ? (int)body - SRTCP_HEADER : 0;
    make_iv(iv, s->rx.rtcp.salt, ssrc, idx);
    EVP_CIPHER_CTX *c = s->rx.rtcp.ctx;
    if (!EVP_DecryptInit_ex(c, NULL, NULL, NULL, iv) || !EVP_DecryptUpdate(c, NULL, &n, buf, aad) ||
        !EVP_DecryptUpdate(c, NULL, &n, word, 4) ||
        (clen && !EVP_DecryptUpdate(c, buf + SRTCP_HEADER, &n, buf + SRTCP_HEADER, clen)) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SGCM_TAG_LEN, tag) ||
        EVP_DecryptFinal_ex(c, tag, &n) <= 0)
        return SGCM_ERR_AUTH;
    window_record(st, ssrc, idx);
    *len = body;
    return 0;
}
