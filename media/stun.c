/* STUN message parsing, FINGERPRINT / MESSAGE-INTEGRITY checks and Binding builders for
 * the ICE-lite agent. The parser trusts nothing in the datagram: every length is checked
 * against the buffer before it is read, and nothing is allocated. */
#include "media/bytes.h"
#include "media/stun.h"

#include <netinet/in.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#define ATTR_HDR_LEN 4
#define INTEGRITY_LEN 20
#define FINGERPRINT_LEN 4
#define MAX_USERNAME_LEN 513 /* RFC 5389 §15.3: "less than 513 bytes" */
#define MAX_REASON_LEN 763   /* RFC 5389 §15.6: 128 characters, up to 763 bytes */

static const char *const err_names[STUN_ERR_COUNT + 1] = {
    [0] = "stun_ok",
    [-STUN_ERR_TRUNCATED] = "stun_truncated",
    [-STUN_ERR_NOT_STUN] = "stun_not_stun",
    [-STUN_ERR_BAD_COOKIE] = "stun_bad_cookie",
    [-STUN_ERR_BAD_LENGTH] = "stun_bad_length",
    [-STUN_ERR_TRAILING] = "stun_trailing_bytes",
    [-STUN_ERR_ATTR_TRUNCATED] = "stun_attr_truncated",
    [-STUN_ERR_ATTR_LEN] = "stun_attr_bad_length",
    [-STUN_ERR_ATTR_VALUE] = "stun_attr_bad_value",
    [-STUN_ERR_FINGERPRINT_NOT_LAST] = "stun_fingerprint_not_last",
    [-STUN_ERR_NO_FINGERPRINT] = "stun_no_fingerprint",
    [-STUN_ERR_BAD_FINGERPRINT] = "stun_bad_fingerprint",
    [-STUN_ERR_NO_INTEGRITY] = "stun_no_integrity",
    [-STUN_ERR_BAD_INTEGRITY] = "stun_bad_integrity",
    [-STUN_ERR_BAD_USERNAME] = "stun_bad_username",
    [-STUN_ERR_NO_SPACE] = "stun_no_space",
    [-STUN_ERR_INVALID] = "stun_invalid_argument",
    [-STUN_ERR_CRYPTO] = "stun_crypto_failure",
};

const char *stun_strerror(int err)
{
    if (err > 0 || err < -STUN_ERR_COUNT)
        return "stun_unknown_error";
    return err_names[-err];
}





/* CRC-32 (IEEE, reflected 0xEDB88320) a nibble at a time: 16 entries are easy to check by
 * eye, and STUN messages are small enough that a 256-entry table buys nothing measurable. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
    static const uint32_t nib[16] = {
        0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
        0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
        0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
    };
    uint32_t crc = 0xFFFFFFFFu;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nib[crc & 0xF];
        crc = (crc >> 4) ^ nib[crc & 0xF];
    }
    return ~crc;
}

/* HMAC-SHA1 over a || b. Two segments so the checker can feed a patched copy of the header
 * and then the rest of the message in place, without copying the datagram. */
static int hmac_sha1(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len,
                     const uint8_t *b, size_t b_len, uint8_t out[INTEGRITY_LEN])
{
    static const uint8_t empty_key[1];
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    size_t out_len = 0;
    int rc = STUN_ERR_CRYPTO;

    if (!key_len)
        key = empty_key; /* OpenSSL wants a non-NULL key even when it is empty */
    if (ctx && EVP_MAC_init(ctx, key, key_len, params) && EVP_MAC_update(ctx, a, a_len) &&
        (b_len == 0 || EVP_MAC_update(ctx, b, b_len)) &&
        EVP_MAC_final(ctx, out, &out_len, INTEGRITY_LEN) && out_len == INTEGRITY_LEN)
        rc = 0;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

/* ---- parsing ---- */

static bool is_known_required(uint16_t type)
{
    switch (type) {
    case STUN_ATTR_MAPPED_ADDRESS:
    case STUN_ATTR_USERNAME:
    case STUN_ATTR_MESSAGE_INTEGRITY:
    case STUN_ATTR_ERROR_CODE:
    case STUN_ATTR_UNKNOWN_ATTRIBUTES:
    case STUN_ATTR_REALM:
    case STUN_ATTR_NONCE:
    case STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
    case STUN_ATTR_XOR_MAPPED_ADDRESS:
    case STUN_ATTR_PRIORITY:
    case STUN_ATTR_USE_CANDIDATE:
        return true;
    default:
        return false;
    }
}

/* XOR-MAPPED-ADDRESS: port XOR the cookie's top half, address XOR cookie (IPv4) or
 * cookie || transaction id (IPv6). */
static int parse_xor_address(const uint8_t *v, uint16_t len, const uint8_t *hdr,
                             struct sockaddr_storage *ss)
{
    uint16_t port;

    if (len < 4)
        return STUN_ERR_ATTR_LEN;
    port = be_rd16(v + 2) ^ (uint16_t)(STUN_MAGIC_COOKIE >> 16);
    memset(ss, 0, sizeof *ss);
    if (v[1] == 0x01) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;

        if (len != 8)
            return STUN_ERR_ATTR_LEN;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        sin->sin_addr.s_addr = htonl(be_rd32(v + 4) ^ STUN_MAGIC_COOKIE);
        return 0;
    }
    if (v[1] == 0x02) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

        if (len != 20)
            return STUN_ERR_ATTR_LEN;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        for (int i = 0; i < 16; i++) /* hdr + 4 is the cookie followed by the tid */
            sin6->sin6_addr.s6_addr[i] = v[4 + i] ^ hdr[4 + i];
        return 0;
    }
    return STUN_ERR_ATTR_VALUE;
}

static int parse_error_code(const uint8_t *v, uint16_t len, stun_msg_t *m)
{
    unsigned cls, num;

    if (len < 4 || len - 4 > MAX_REASON_LEN)
        return STUN_ERR_ATTR_LEN;
    cls = v[2] & 0x07;
    num = v[3];
    if (cls < 3 || cls > 6 || num > 99)
        return STUN_ERR_ATTR_VALUE;
    m->has_error = true;
    m->error_code = (uint16_t)(cls * 100 + num);
    m->error_reason = (const char *)v + 4;
    m->error_reason_len = (uint16_t)(len - 4);
    return 0;
}

/* Stores a string-valued attribute the first time it is seen. */
static void take_string(const uint8_t *v, uint16_t len, const uint8_t **dst, uint16_t *dlen)
{
    if (!*dst) {
        *dst = v;
        *dlen = len;
    }
}

static int fixed_len(uint16_t len, uint16_t want)
{
    return len == want ? 0 : STUN_ERR_ATTR_LEN;
}

/* One attribute before MESSAGE-INTEGRITY. First occurrence wins for every type. */
static int parse_attr(uint16_t type, const uint8_t *v, uint16_t len, const uint8_t *hdr,
                      stun_msg_t *m)
{
    int rc = 0;

    switch (type) {
    case STUN_ATTR_USERNAME:
        if (len > MAX_USERNAME_LEN)
            return STUN_ERR_ATTR_LEN;
        take_string(v, len, &m->username, &m->username_len);
        return 0;
    case STUN_ATTR_SOFTWARE:
        take_string(v, len, &m->software, &m->software_len);
        return 0;
    case STUN_ATTR_REALM:
        take_string(v, len, &m->realm, &m->realm_len);
        return 0;
    case STUN_ATTR_NONCE:
        take_string(v, len, &m->nonce, &m->nonce_len);
        return 0;
    case STUN_ATTR_PRIORITY:
        if ((rc = fixed_len(len, 4)) == 0 && !m->has_priority) {
            m->has_priority = true;
            m->priority = be_rd32(v);
        }
        return rc;
    case STUN_ATTR_USE_CANDIDATE:
        if ((rc = fixed_len(len, 0)) == 0)
            m->use_candidate = true;
        return rc;
    case STUN_ATTR_ICE_CONTROLLING:
    case STUN_ATTR_ICE_CONTROLLED:
        if ((rc = fixed_len(len, 8)) != 0)
            return rc;
        if (!m->ice_controlling && !m->ice_controlled)
            m->tie_breaker = (uint64_t)be_rd32(v) << 32 | be_rd32(v + 4);
        if (type == STUN_ATTR_ICE_CONTROLLING)
            m->ice_controlling = true;
        else
            m->ice_controlled = true;
        return 0;
    case STUN_ATTR_ERROR_CODE:
        return m->has_error ? 0 : parse_error_code(v, len, m);
    case STUN_ATTR_XOR_MAPPED_ADDRESS:
        if (m->has_xor_mapped)
            return 0;
        rc = parse_xor_address(v, len, hdr, &m->xor_mapped);
        m->has_xor_mapped = rc == 0;
        return rc;
    default:
        if (type < 0x8000 && !is_known_required(type) && m->n_unknown < STUN_MAX_UNKNOWN)
            m->unknown[m->n_unknown++] = type;
        return 0;
    }
}

static int parse_header(const uint8_t *buf, size_t len, stun_msg_t *m)
{
    uint16_t t;

    if (len < STUN_HEADER_LEN)
        return STUN_ERR_TRUNCATED;
    if (buf[0] & 0xC0)
        return STUN_ERR_NOT_STUN;
    if (be_rd32(buf + 4) != STUN_MAGIC_COOKIE)
        return STUN_ERR_BAD_COOKIE;
    m->length = be_rd16(buf + 2);
    if (m->length & 3)
        return STUN_ERR_BAD_LENGTH;
    if (len < STUN_HEADER_LEN + (size_t)m->length)
        return STUN_ERR_TRUNCATED;
    if (len > STUN_HEADER_LEN + (size_t)m->length)
        return STUN_ERR_TRAILING;
    t = be_rd16(buf);
    m->type = t;
    m->cls = (uint8_t)(((t >> 7) & 0x2) | ((t >> 4) & 0x1));
    m->method = (uint16_t)((t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80));
    memcpy(m->tid, buf + 8, STUN_TID_LEN);
    return 0;
}

int stun_parse(const uint8_t *buf, size_t len, stun_msg_t *out)
{
    size_t off = STUN_HEADER_LEN, end;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = parse_header(buf, len, out)) != 0)
        return rc;
    end = STUN_HEADER_LEN + (size_t)out->length;
    while (off < end) {
        uint16_t type, alen;

        if (end - off < ATTR_HDR_LEN)
            return STUN_ERR_ATTR_TRUNCATED; /* unreachable while length % 4 == 0 */
        if (out->has_fingerprint)
            return STUN_ERR_FINGERPRINT_NOT_LAST;
        type = be_rd16(buf + off);
        alen = be_rd16(buf + off + 2);
        if (end - off - ATTR_HDR_LEN < (((size_t)alen + 3) & ~(size_t)3))
            return STUN_ERR_ATTR_TRUNCATED;
        if (type == STUN_ATTR_FINGERPRINT) {
            if (alen != FINGERPRINT_LEN)
                return STUN_ERR_ATTR_LEN;
            out->has_fingerprint = true;
            out->fingerprint_off = (uint32_t)off;
        } else if (out->has_integrity) {
            /* RFC 5389 §15.4: whatever follows MESSAGE-INTEGRITY is not covered by it */
        } else if (type == STUN_ATTR_MESSAGE_INTEGRITY) {
            if (alen != INTEGRITY_LEN)
                return STUN_ERR_ATTR_LEN;
            out->has_integrity = true;
            out->integrity_off = (uint32_t)off;
        } else if ((rc = parse_attr(type, buf + off + ATTR_HDR_LEN, alen, buf, out)) != 0) {
            return rc;
        }
        off += ATTR_HDR_LEN + (((size_t)alen + 3) & ~(size_t)3);
    }
    return 0;
}

/* ---- checks ---- */

int stun_check_fingerprint(const uint8_t *buf, size_t len, const stun_msg_t *m)
{
    size_t off = m->fingerprint_off;

    if (!m->has_fingerprint)
        return STUN_ERR_NO_FINGERPRINT;
    if (off < STUN_HEADER_LEN || off + ATTR_HDR_LEN + FINGERPRINT_LEN > len)
        return STUN_ERR_INVALID; /* m does not describe buf */
    if ((crc32_ieee(buf, off) ^ STUN_FINGERPRINT_XOR) != be_rd32(buf + off + ATTR_HDR_LEN))
        return STUN_ERR_BAD_FINGERPRINT;
    return 0;
}

int stun_check_integrity(const uint8_t *buf, size_t len, const stun_msg_t *m,
                         const uint8_t *key, size_t key_len)
{
    size_t off = m->integrity_off;
    uint8_t hdr[STUN_HEADER_LEN], mac[INTEGRITY_LEN];
    int rc;

    if (!m->has_integrity)
        return STUN_ERR_NO_INTEGRITY;
    if (!key && key_len)
        return STUN_ERR_INVALID;
    if (off < STUN_HEADER_LEN || off + ATTR_HDR_LEN + INTEGRITY_LEN > len)
        return STUN_ERR_INVALID;
    /* RFC 5389 §15.4: the length field is hashed as if MESSAGE-INTEGRITY ended the message */
    memcpy(hdr, buf, STUN_HEADER_LEN);
    be_wr16(hdr + 2, (uint16_t)(off + ATTR_HDR_LEN + INTEGRITY_LEN - STUN_HEADER_LEN));
    rc = hmac_sha1(key, key_len, hdr, STUN_HEADER_LEN, buf + STUN_HEADER_LEN,
                   off - STUN_HEADER_LEN, mac);
    if (rc)
        return rc;
    if (CRYPTO_memcmp(mac, buf + off + ATTR_HDR_LEN, INTEGRITY_LEN) != 0)
        return STUN_ERR_BAD_INTEGRITY;
    return 0;
}

int stun_username_split(const uint8_t *user, size_t user_len,
                        const uint8_t **local, size_t *local_len,
                        const uint8_t **remote, size_t *remote_len)
{
    const uint8_t *colon = user ? memchr(user, ':', user_len) : NULL;
    size_t before;

    if (!colon)
        return STUN_ERR_BAD_USERNAME;
    before = (size_t)(colon - user);
    if (before == 0 || before + 1 == user_len)
        return STUN_ERR_BAD_USERNAME;
    if (local && local_len) {
        *local = user;
        *local_len = before;
    }
    if (remote && remote_len) {
        *remote = colon + 1;
        *remote_len = user_len - before - 1;
    }
    return 0;
}

int stun_random_tid(uint8_t tid[STUN_TID_LEN])
{
    return RAND_bytes(tid, STUN_TID_LEN) == 1 ? 0 : STUN_ERR_CRYPTO;
}

/* ---- building ---- */

/* Appends to a caller buffer. The first failure sticks in `err`, so a builder can write all
 * its attributes and check once at the end. The header length field is kept current. */
struct writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int err;
};

static void w_start(struct writer *w, uint8_t *buf, size_t cap, uint16_t type,
                    const uint8_t tid[STUN_TID_LEN])
{
    *w = (struct writer){ .buf = buf, .cap = cap };
    if (!buf || !tid) {
        w->err = STUN_ERR_INVALID;
        return;
    }
    if (cap < STUN_HEADER_LEN) {
        w->err = STUN_ERR_NO_SPACE;
        return;
    }
    be_wr16(buf, type);
    be_wr16(buf + 2, 0);
    be_wr32(buf + 4, STUN_MAGIC_COOKIE);
    memcpy(buf + 8, tid, STUN_TID_LEN);
    w->len = STUN_HEADER_LEN;
}

/* Reserves an attribute of `vlen` value bytes, zeroes its padding, and returns where the
 * value goes, or NULL (with w->err set) if it does not fit. */
static uint8_t *w_attr(struct writer *w, uint16_t type, size_t vlen)
{
    size_t padded = (vlen + 3) & ~(size_t)3;
    uint8_t *p;

    if (w->err)
        return NULL;
    if (vlen > 0xFFFF || w->len - STUN_HEADER_LEN + ATTR_HDR_LEN + padded > 0xFFFF) {
        w->err = STUN_ERR_INVALID;
        return NULL;
    }
    if (w->cap - w->len < ATTR_HDR_LEN + padded) {
        w->err = STUN_ERR_NO_SPACE;
        return NULL;
    }
    p = w->buf + w->len;
    be_wr16(p, type);
    be_wr16(p + 2, (uint16_t)vlen);
    memset(p + ATTR_HDR_LEN + vlen, 0, padded - vlen);
    w->len += ATTR_HDR_LEN + padded;
    be_wr16(w->buf + 2, (uint16_t)(w->len - STUN_HEADER_LEN));
    return p + ATTR_HDR_LEN;
}

static void w_bytes(struct writer *w, uint16_t type, const void *v, size_t vlen)
{
    uint8_t *p = w_attr(w, type, vlen);

    if (p && vlen)
        memcpy(p, v, vlen);
}

static void w_u32(struct writer *w, uint16_t type, uint32_t v)
{
    uint8_t *p = w_attr(w, type, 4);

    if (p)
        be_wr32(p, v);
}

static void w_u64(struct writer *w, uint16_t type, uint64_t v)
{
    uint8_t *p = w_attr(w, type, 8);

    if (p) {
        be_wr32(p, (uint32_t)(v >> 32));
        be_wr32(p + 4, (uint32_t)v);
    }
}

static void w_xor_address(struct writer *w, const struct sockaddr *sa)
{
    const uint8_t *ip;
    uint16_t port;
    uint8_t family, *p;
    size_t ip_len;

    if (w->err)
        return;
    if (!sa) {
        w->err = STUN_ERR_INVALID;
        return;
    }
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

        ip = (const uint8_t *)&sin->sin_addr;
        ip_len = 4;
        port = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

        ip = sin6->sin6_addr.s6_addr;
        ip_len = 16;
        port = ntohs(sin6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            ip += 12; /* the peer really is IPv4: tell it so */
            ip_len = 4;
        }
    } else {
        w->err = STUN_ERR_INVALID;
        return;
    }
    family = ip_len == 4 ? 0x01 : 0x02;
    p = w_attr(w, STUN_ATTR_XOR_MAPPED_ADDRESS, 4 + ip_len);
    if (!p)
        return;
    p[0] = 0;
    p[1] = family;
    be_wr16(p + 2, port ^ (uint16_t)(STUN_MAGIC_COOKIE >> 16));
    for (size_t i = 0; i < ip_len; i++) /* buf + 4: cookie then tid, as the RFC XORs */
        p[4 + i] = ip[i] ^ w->buf[4 + i];
}

/* MESSAGE-INTEGRITY over everything written so far; w_attr has already set the length
 * field to include the attribute itself, exactly as RFC 5389 §15.4 hashes it. */
static void w_integrity(struct writer *w, const uint8_t *key, size_t key_len)
{
    size_t before = w->len;
    uint8_t *p = w_attr(w, STUN_ATTR_MESSAGE_INTEGRITY, INTEGRITY_LEN);
    int rc;

    if (!p)
        return;
    rc = hmac_sha1(key, key_len, w->buf, before, NULL, 0, p);
    if (rc)
        w->err = rc;
}

static void w_fingerprint(struct writer *w)
{
    size_t before = w->len;
    uint8_t *p = w_attr(w, STUN_ATTR_FINGERPRINT, FINGERPRINT_LEN);

    if (p)
        be_wr32(p, crc32_ieee(w->buf, before) ^ STUN_FINGERPRINT_XOR);
}

/* Adds MESSAGE-INTEGRITY (if key) and FINGERPRINT; returns the length or the first error. */
static int w_finish(struct writer *w, const uint8_t *key, size_t key_len)
{
    if (key)
        w_integrity(w, key, key_len);
    w_fingerprint(w);
    return w->err ? w->err : (int)w->len;
}

int stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                               const struct sockaddr *mapped,
                               const uint8_t *key, size_t key_len)
{
    struct writer w;

    w_start(&w, out, cap, STUN_BINDING_SUCCESS, tid);
    w_xor_address(&w, mapped);
    return w_finish(&w, key, key_len);
}

static const char *default_reason(int code)
{
    switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 420: return "Unknown Attribute";
    case 487: return "Role Conflict";
    case 500: return "Server Error";
    default: return "";
    }
}

static void w_error_code(struct writer *w, int code, const char *reason)
{
    size_t rlen;
    uint8_t *p;

    if (code < 300 || code > 699) {
        if (!w->err)
            w->err = STUN_ERR_INVALID;
        return;
    }
    if (!reason)
        reason = default_reason(code);
    rlen = strlen(reason);
    if (rlen > MAX_REASON_LEN) {
        if (!w->err)
            w->err = STUN_ERR_INVALID;
        return;
    }
    p = w_attr(w, STUN_ATTR_ERROR_CODE, 4 + rlen);
    if (!p)
        return;
    p[0] = p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    memcpy(p + 4, reason, rlen);
}

int stun_build_binding_error(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                             int code, const char *reason,
                             const uint8_t *key, size_t key_len)
{
    struct writer w;

    w_start(&w, out, cap, STUN_BINDING_ERROR, tid);
    w_error_code(&w, code, reason);
    return w_finish(&w, key, key_len);
}

int stun_build_unknown_attributes(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                                  const uint16_t *types, size_t n_types,
                                  const uint8_t *key, size_t key_len)
{
    struct writer w;
    uint8_t *p;

    w_start(&w, out, cap, STUN_BINDING_ERROR, tid);
    w_error_code(&w, 420, NULL);
    if (!w.err && (!types || !n_types || n_types > 0x7FFF))
        w.err = STUN_ERR_INVALID;
    p = w_attr(&w, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n_types);
    for (size_t i = 0; p && i < n_types; i++)
        be_wr16(p + 2 * i, types[i]);
    return w_finish(&w, key, key_len);
}

int stun_build_binding_request(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                               const char *username, uint32_t priority, bool controlling,
                               uint64_t tiebreaker, bool use_candidate,
                               const uint8_t *key, size_t key_len)
{
    struct writer w;

    w_start(&w, out, cap, STUN_BINDING_REQUEST, tid);
    if (!w.err && use_candidate && !controlling)
        w.err = STUN_ERR_INVALID; /* RFC 8445 §7.1.2: only the controlling agent nominates */
    if (username && strlen(username) > MAX_USERNAME_LEN && !w.err)
        w.err = STUN_ERR_INVALID;
    if (username)
        w_bytes(&w, STUN_ATTR_USERNAME, username, strlen(username));
    w_u32(&w, STUN_ATTR_PRIORITY, priority);
    w_u64(&w, controlling ? STUN_ATTR_ICE_CONTROLLING : STUN_ATTR_ICE_CONTROLLED, tiebreaker);
    if (use_candidate)
        w_attr(&w, STUN_ATTR_USE_CANDIDATE, 0);
    return w_finish(&w, key, key_len);
}
