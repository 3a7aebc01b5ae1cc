/* DTLS 1.2 handshake and DTLS-SRTP key export over OpenSSL, without sockets.
 * A custom BIO turns OpenSSL's record writes into a per-conn queue of datagrams (each at
 * most one path MTU) and reads the single datagram the worker is currently feeding.
 * The peer certificate is self-signed; trust comes from the SDP fingerprint (RFC 8827). */
#include "media/dtls.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define DEFAULT_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"
/* Only ECDSA certificates are ever made here, and WebRTC peers all do ECDHE + AEAD. */
#define CIPHERS                                                                            \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"                         \
    "ECDHE-ECDSA-CHACHA20-POLY1305"
#define GROUPS "X25519:P-256:P-384"
#define EXPORTER_LABEL "EXTRACTOR-dtls_srtp"

#define LINK_MTU 1200      /* UDP payload that fits any sane path incl. VPN/tunnel overheads */
#define FALLBACK_MTU 548   /* 576 - IPv4/UDP headers; OpenSSL asks after 2 lost flights */
#define OUTQ_BYTES 8192    /* several full flights; our own flights are ~1 KB */
#define TIMER_FIRST_US 400000u  /* RFC 6347 says 1 s; ICE already proved the path is live */
#define TIMER_MAX_US 6400000u   /* cap the doubling so a late peer is not left waiting long */
#define FP_BYTES 32
#define NO_ENTRY SIZE_MAX

struct dtls_identity {
    atomic_int refs;                        /* caller's reference + one per live conn */
    SSL_CTX *ctx;                           /* configured once, then only SSL_new'd from */
    BIO_METHOD *bio_meth;                   /* the datagram-queue BIO used by every conn */
    char fingerprint[DTLS_FINGERPRINT_LEN]; /* our certificate's SHA-256, "AB:CD:..." */
};

struct dtls_conn {
    dtls_identity_t *id;       /* referenced identity (SSL_CTX, BIO method) */
    SSL *ssl;                  /* owns the BIO */
    dtls_state_t state;        /* see dtls.h */
    bool is_server;            /* decides which exported half is ours */
    bool have_fp;              /* remote_fp is valid */
    bool fp_mismatch;          /* verify callback rejected the peer certificate */
    bool hs_finished;          /* OpenSSL finished the handshake (maybe awaiting the fp) */
    uint8_t remote_fp[FP_BYTES];
    const uint8_t *in;         /* datagram being fed, borrowed for one dtls_conn_feed() */
    size_t in_len;             /* bytes left in it; 0 after OpenSSL read it */
    size_t mtu;                /* biggest datagram we build (also what OpenSSL is told) */
    size_t out_head;           /* offset of the oldest queued datagram */
    size_t out_tail;           /* end of queued data */
    size_t out_last;           /* offset of the newest datagram (to append records), or NO_ENTRY */
    uint64_t out_dropped;      /* records lost because the queue was full */
    uint64_t app_ignored;      /* application data bytes received and discarded */
    dtls_srtp_keys_t keys;     /* valid once DTLS_CONNECTED */
    char reason[160];          /* why DTLS_FAILED */
    /* Queue of datagrams, each a 2-byte host-order length then the bytes. */
    uint8_t outq[OUTQ_BYTES];
};

/* ---- outgoing datagram queue ---- */

static uint16_t entry_len(const dtls_conn_t *c, size_t off)
{
    uint16_t n;
    memcpy(&n, c->outq + off, sizeof n);
    return n;
}

static void outq_compact(dtls_conn_t *c)
{
    memmove(c->outq, c->outq + c->out_head, c->out_tail - c->out_head);
    c->out_tail -= c->out_head;
    if (c->out_last != NO_ENTRY)
        c->out_last -= c->out_head;
    c->out_head = 0;
}

/* Records written in one burst (a flight) are packed into as few datagrams as the MTU
 * allows: a record never straddles datagrams, which RFC 6347 §4.1.1 permits. */
static void outq_push(dtls_conn_t *c, const uint8_t *p, size_t n)
{
    if (c->out_last != NO_ENTRY) {
        size_t last = entry_len(c, c->out_last);
        if (last + n <= c->mtu && c->out_tail + n <= OUTQ_BYTES) {
            uint16_t grown = (uint16_t)(last + n);
            memcpy(c->outq + c->out_tail, p, n);
            memcpy(c->outq + c->out_last, &grown, sizeof grown);
            c->out_tail += n;
            return;
        }
    }
    if (c->out_tail + 2 + n > OUTQ_BYTES && c->out_head > 0)
        outq_compact(c);
    if (c->out_tail + 2 + n > OUTQ_BYTES) {
        c->out_dropped++; /* like a lost packet: the retransmission timer recovers */
        return;
    }
    uint16_t len = (uint16_t)n;
    memcpy(c->outq + c->out_tail, &len, sizeof len);
    memcpy(c->outq + c->out_tail + 2, p, n);
    c->out_last = c->out_tail;
    c->out_tail += 2 + n;
}

int dtls_conn_next_out(dtls_conn_t *c, uint8_t *buf, size_t cap)
{
    if (!c || !buf)
        return DTLS_ERR_PARAM;
    if (c->out_head == c->out_tail)
        return 0;
    size_t n = entry_len(c, c->out_head);
    if (n > cap)
        return DTLS_ERR_SPACE;
    memcpy(buf, c->outq + c->out_head + 2, n);
    if (c->out_last == c->out_head)
        c->out_last = NO_ENTRY;
    c->out_head += 2 + n;
    if (c->out_head == c->out_tail)
        c->out_head = c->out_tail = 0;
    return (int)n;
}

/* ---- the BIO OpenSSL reads from and writes to ---- */

static int bio_write(BIO *b, const char *data, int len)
{
    dtls_conn_t *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    outq_push(c, (const uint8_t *)data, (size_t)len);
    return len; /* a full queue drops the datagram, as the network would */
}

static int bio_read(BIO *b, char *out, int cap)
{
    dtls_conn_t *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (c->in_len == 0 || cap <= 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = c->in_len < (size_t)cap ? c->in_len : (size_t)cap;
    memcpy(out, c->in, n);
    c->in_len = 0; /* datagram semantics: one read consumes the whole datagram */
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    dtls_conn_t *c = BIO_get_data(b);
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return (long)c->in_len;
    case BIO_CTRL_WPENDING:
        return 0; /* queued datagrams are the worker's business, not OpenSSL's */
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_MTU:
        return (long)c->mtu;
    case BIO_CTRL_DGRAM_SET_MTU:
        if (num >= 256 && num <= LINK_MTU)
            c->mtu = (size_t)num;
        return (long)c->mtu;
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        /* OpenSSL shrinks its fragments to this; shrink our packing to match. */
        c->mtu = FALLBACK_MTU;
        return FALLBACK_MTU;
    default:
        return 0; /* GET_PEER, MTU_EXCEEDED, SET_NEXT_TIMEOUT, ...: nothing to say */
    }
}

static BIO_METHOD *bio_method_new(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mcu-dgram-queue");
    if (!m)
        return NULL;
    if (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
        !BIO_meth_set_ctrl(m, bio_ctrl)) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

/* ---- fingerprints ---- */

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int parse_fp(const char *s, uint8_t out[FP_BYTES])
{
    size_t n = 0;
    if (strncasecmp(s, "sha-256 ", 8) == 0)
        s += 8;
    for (; *s; s++) {
        if (*s == ':')
            continue;
        int hi = hexval(s[0]);
        int lo = hi < 0 ? -1 : hexval(s[1]);
        if (lo < 0 || n == FP_BYTES)
            return DTLS_ERR_PARAM;
        out[n++] = (uint8_t)(hi << 4 | lo);
        s++;
    }
    return n == FP_BYTES ? 0 : DTLS_ERR_PARAM;
}

static bool cert_matches(const dtls_conn_t *c, X509 *cert)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!X509_digest(cert, EVP_sha256(), md, &n) || n != FP_BYTES)
        return false;
    return CRYPTO_memcmp(md, c->remote_fp, FP_BYTES) == 0;
}

static int format_fp(X509 *cert, char out[DTLS_FINGERPRINT_LEN])
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!X509_digest(cert, EVP_sha256(), md, &n) || n != FP_BYTES)
        return DTLS_ERR_SSL;
    for (unsigned int i = 0; i < n; i++) {
        out[3 * i] = hex[md[i] >> 4];
        out[3 * i + 1] = hex[md[i] & 15];
        out[3 * i + 2] = i + 1 < n ? ':' : '\0';
    }
    return 0;
}

/* Self-signed peers would fail chain validation; accept any chain and judge only the
 * leaf by its fingerprint, early, so a mismatch aborts the handshake with an alert. */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    dtls_conn_t *c = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (!c || !cert)
        return 0;
    if (!c->have_fp)
        return 1; /* judged once the SDP fingerprint arrives */
    if (cert_matches(c, cert))
        return 1;
    c->fp_mismatch = true;
    return 0;
}

/* ---- identity ---- */

static X509 *make_cert(EVP_PKEY *key)
{
    X509 *x = X509_new();
    uint64_t serial = 0;
    if (!x || RAND_bytes((unsigned char *)&serial, sizeof serial) != 1)
        goto out_free;
    serial = (serial >> 1) | 1; /* positive and non-zero, as RFC 5280 wants */
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_set_version(x, X509_VERSION_3) ||
        !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -30L * 86400) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"mcu",
                                    -1, -1, 0) ||
        !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key) ||
        !X509_sign(x, key, EVP_sha256()))
        goto out_free;
    return x;
out_free:
    X509_free(x);
    return NULL;
}

static unsigned int timer_cb(SSL *ssl, unsigned int prev_us)
{
    (void)ssl;
    if (prev_us == 0)
        return TIMER_FIRST_US;
    return prev_us >= TIMER_MAX_US / 2 ? TIMER_MAX_US : prev_us * 2;
}

static SSL_CTX *make_ctx(X509 *cert, EVP_PKEY *key, const char *profiles)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    if (!ctx)
        return NULL;
    if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) ||
        SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1 || SSL_CTX_set_cipher_list(ctx, CIPHERS) != 1 ||
        SSL_CTX_set1_groups_list(ctx, GROUPS) != 1 ||
        SSL_CTX_set_tlsext_use_srtp(ctx, profiles) != 0) /* 0 means success here */
        goto out_free;
    /* Ask the client for its certificate too: both sides are checked by fingerprint. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
out_free:
    SSL_CTX_free(ctx);
    return NULL;
}

dtls_identity_t *dtls_identity_new_with_profiles(const char *srtp_profiles)
{
    if (!srtp_profiles)
        return NULL;
    dtls_identity_t *id = calloc(1, sizeof *id);
    if (!id)
        return NULL;
    atomic_init(&id->refs, 1);
    X509 *cert = NULL;
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!key || !(cert = make_cert(key)) || format_fp(cert, id->fingerprint) < 0 ||
        !(id->ctx = make_ctx(cert, key, srtp_profiles)) || !(id->bio_meth = bio_method_new()))
        goto out_free;
    X509_free(cert); /* the SSL_CTX holds its own references */
    EVP_PKEY_free(key);
    return id;
out_free:
    X509_free(cert);
    EVP_PKEY_free(key);
    SSL_CTX_free(id->ctx);
    free(id);
    ERR_clear_error();
    return NULL;
}

dtls_identity_t *dtls_identity_new(void)
{
    return dtls_identity_new_with_profiles(DEFAULT_PROFILES);
}

void dtls_identity_free(dtls_identity_t *id)
{
    if (!id || atomic_fetch_sub(&id->refs, 1) != 1)
        return;
    SSL_CTX_free(id->ctx);
    BIO_meth_free(id->bio_meth);
    free(id);
}

const char *dtls_identity_fingerprint(const dtls_identity_t *id)
{
    return id ? id->fingerprint : "";
}

/* ---- conn ---- */

dtls_conn_t *dtls_conn_new(dtls_identity_t *id, bool is_server, const char *remote_fp_sha256)
{
    if (!id)
        return NULL;
    dtls_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->is_server = is_server;
    c->mtu = LINK_MTU;
    c->out_last = NO_ENTRY;
    if (remote_fp_sha256) {
        if (parse_fp(remote_fp_sha256, c->remote_fp) < 0)
            goto out_free;
        c->have_fp = true;
    }
    BIO *bio = BIO_new(id->bio_meth);
    c->ssl = SSL_new(id->ctx);
    if (!bio || !c->ssl) {
        BIO_free(bio);
        goto out_free;
    }
    BIO_set_data(bio, c);
    BIO_set_init(bio, 1);
    SSL_set_bio(c->ssl, bio, bio); /* one reference, owned by the SSL from now on */
    SSL_set_app_data(c->ssl, c);
    DTLS_set_timer_cb(c->ssl, timer_cb);
    if (is_server)
        SSL_set_accept_state(c->ssl);
    else
        SSL_set_connect_state(c->ssl);
    atomic_fetch_add(&id->refs, 1);
    c->id = id;
    return c;
out_free:
    SSL_free(c->ssl);
    free(c);
    ERR_clear_error();
    return NULL;
}

void dtls_conn_free(dtls_conn_t *c)
{
    if (!c)
        return;
    SSL_free(c->ssl);
    dtls_identity_free(c->id);
    OPENSSL_cleanse(&c->keys, sizeof c->keys);
    free(c);
}

static int fail(dtls_conn_t *c, const char *why)
{
    c->state = DTLS_FAILED;
    snprintf(c->reason, sizeof c->reason, "%s", why);
    ERR_clear_error(); /* the error queue is per thread, shared by the worker's conns */
    return c->state;
}

static int fail_ssl(dtls_conn_t *c, const char *what)
{
    char err[120] = "no OpenSSL error";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, err, sizeof err);
    c->state = DTLS_FAILED;
    snprintf(c->reason, sizeof c->reason, "%s: %s", what, err);
    ERR_clear_error();
    return c->state;
}

/* RFC 5764 §4.2: client key | server key | client salt | server salt. */
static int export_keys(dtls_conn_t *c)
{
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(c->ssl);
    size_t klen = 16, slen;
    if (!p)
        return fail(c, "peer negotiated no SRTP profile");
    if (p->id == SRTP_AEAD_AES_128_GCM)
        slen = 12;
    else if (p->id == SRTP_AES128_CM_SHA1_80)
        slen = 14;
    else
        return fail(c, "unsupported SRTP profile");
    uint8_t km[2 * DTLS_SRTP_MASTER_MAX];
    if (SSL_export_keying_material(c->ssl, km, 2 * (klen + slen), EXPORTER_LABEL,
                                   strlen(EXPORTER_LABEL), NULL, 0, 0) != 1)
        return fail_ssl(c, "SRTP key export");
    const uint8_t *ckey = km, *skey = km + klen;
    const uint8_t *csalt = km + 2 * klen, *ssalt = csalt + slen;
    dtls_srtp_keys_t *k = &c->keys;
    k->profile = (dtls_srtp_profile_t)p->id;
    k->key_len = klen;
    k->salt_len = slen;
    memcpy(k->local, c->is_server ? skey : ckey, klen);
    memcpy(k->local + klen, c->is_server ? ssalt : csalt, slen);
    memcpy(k->remote, c->is_server ? ckey : skey, klen);
    memcpy(k->remote + klen, c->is_server ? csalt : ssalt, slen);
    OPENSSL_cleanse(km, sizeof km);
    c->state = DTLS_CONNECTED;
    return c->state;
}

/* The handshake is over in OpenSSL's eyes; ours needs a matching fingerprint too. */
static int finish_handshake(dtls_conn_t *c)
{
    X509 *peer = SSL_get0_peer_certificate(c->ssl);
    if (!peer)
        return fail(c, "peer sent no certificate");
    if (!c->have_fp)
        return c->state; /* stays HANDSHAKING until dtls_conn_set_remote_fingerprint() */
    if (!cert_matches(c, peer)) {
        SSL_shutdown(c->ssl); /* tell the peer with a close_notify rather than silence */
        return fail(c, "peer certificate does not match the expected fingerprint");
    }
    return export_keys(c);
}

/* Reads whatever records the fed datagram holds after the handshake: alerts,
 * retransmitted Finished (OpenSSL answers those itself), stray application data. */
static int drain_records(dtls_conn_t *c)
{
    uint8_t buf[2048];
    for (;;) {
        ERR_clear_error();
        int r = SSL_read(c->ssl, buf, sizeof buf);
        if (r > 0) {
            c->app_ignored += (uint64_t)r; /* no data channels: nothing reads it */
            continue;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return c->state;
        if (e == SSL_ERROR_ZERO_RETURN) {
            c->state = DTLS_CLOSED;
            return c->state;
        }
        return fail_ssl(c, "DTLS read");
    }
}

static int drive(dtls_conn_t *c)
{
    if (c->state == DTLS_NEW)
        c->state = DTLS_HANDSHAKING;
    if (!c->hs_finished) {
        ERR_clear_error();
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return c->state;
            if (c->fp_mismatch)
                return fail(c, "peer certificate does not match the expected fingerprint");
            return fail_ssl(c, "DTLS handshake");
        }
        c->hs_finished = true;
        finish_handshake(c);
        if (c->state == DTLS_FAILED)
            return c->state;
    }
    return drain_records(c);
}

int dtls_conn_start(dtls_conn_t *c)
{
    if (!c)
        return DTLS_ERR_PARAM;
    if (c->state != DTLS_NEW)
        return c->state;
    if (c->is_server) {
        c->state = DTLS_HANDSHAKING;
        return c->state;
    }
    return drive(c);
}

int dtls_conn_feed(dtls_conn_t *c, const uint8_t *rec, size_t len)
{
    if (!c || !rec || len == 0 || len > INT_MAX)
        return DTLS_ERR_PARAM;
    if (c->state == DTLS_FAILED || c->state == DTLS_CLOSED)
        return c->state;
    c->in = rec;
    c->in_len = len;
    int st = drive(c);
    c->in = NULL;
    c->in_len = 0;
    return st;
}

int dtls_conn_set_remote_fingerprint(dtls_conn_t *c, const char *remote_fp_sha256)
{
    uint8_t fp[FP_BYTES];
    if (!c || !remote_fp_sha256 || parse_fp(remote_fp_sha256, fp) < 0)
        return DTLS_ERR_PARAM;
    memcpy(c->remote_fp, fp, sizeof fp);
    c->have_fp = true;
    if (c->hs_finished && c->state == DTLS_HANDSHAKING)
        return finish_handshake(c);
    return c->state;
}

int dtls_conn_timeout_ms(dtls_conn_t *c)
{
    struct timeval tv;
    if (!c || c->state == DTLS_FAILED || c->state == DTLS_CLOSED || c->state == DTLS_NEW)
        return -1;
    if (DTLSv1_get_timeout(c->ssl, &tv) != 1)
        return -1;
    long long ms = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

int dtls_conn_on_timer(dtls_conn_t *c)
{
    if (!c)
        return DTLS_ERR_PARAM;
    if (c->state != DTLS_HANDSHAKING && c->state != DTLS_CONNECTED)
        return c->state;
    ERR_clear_error();
    if (DTLSv1_handle_timeout(c->ssl) < 0)
        return fail_ssl(c, "DTLS retransmission gave up");
    return c->state;
}

int dtls_conn_close(dtls_conn_t *c)
{
    if (!c)
        return DTLS_ERR_PARAM;
    if (c->state == DTLS_FAILED)
        return DTLS_ERR_STATE;
    if (c->state != DTLS_CLOSED && c->hs_finished) {
        ERR_clear_error();
        if (SSL_shutdown(c->ssl) < 0) /* 0 = sent, peer's not seen yet: fine for DTLS */
            ERR_clear_error();
    }
    c->state = DTLS_CLOSED;
    return 0;
}

dtls_state_t dtls_conn_state(const dtls_conn_t *c)
{
    return c ? c->state : DTLS_FAILED;
}

const char *dtls_conn_reason(const dtls_conn_t *c)
{
    return c && c->state == DTLS_FAILED ? c->reason : "";
}

int dtls_conn_srtp_keys(const dtls_conn_t *c, dtls_srtp_keys_t *out)
{
    if (!c || !out)
        return DTLS_ERR_PARAM;
    if (c->state != DTLS_CONNECTED)
        return DTLS_ERR_STATE;
    *out = c->keys;
    return 0;
}

uint64_t dtls_conn_out_dropped(const dtls_conn_t *c)
{
    return c ? c->out_dropped : 0;
}
