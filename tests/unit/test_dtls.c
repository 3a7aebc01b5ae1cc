/* Unit tests for media/dtls and media/srtp: a server and a client conn wired back to
 * back in memory, checked through handshake, key export, SRTP both ways, failures
 * (fingerprint, tampering, replay) and retransmission after a lost flight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "media/dtls.h"
#include "media/srtp.h"

_Static_assert(DTLS_SRTP_AEAD_AES_128_GCM == (int)SRTPX_AEAD_AES_128_GCM, "profile ids");
_Static_assert(DTLS_SRTP_AES128_CM_SHA1_80 == (int)SRTPX_AES128_CM_SHA1_80, "profile ids");

#define WRONG_FP                                                                           \
    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:"   \
    "BB:CC:DD:EE:FF"

static dtls_identity_t *g_srv_id;    /* default profiles */
static dtls_identity_t *g_cli_id;    /* default profiles */
static dtls_identity_t *g_cli_cm_id; /* offers only AES128_CM_SHA1_80 */

typedef struct {
    dtls_conn_t *srv;
    dtls_conn_t *cli;
} pair_t;

static int setup_ids(void **state)
{
    (void)state;
    g_srv_id = dtls_identity_new();
    g_cli_id = dtls_identity_new();
    g_cli_cm_id = dtls_identity_new_with_profiles("SRTP_AES128_CM_SHA1_80");
    return g_srv_id && g_cli_id && g_cli_cm_id ? 0 : -1;
}

static int teardown_ids(void **state)
{
    (void)state;
    dtls_identity_free(g_srv_id);
    dtls_identity_free(g_cli_id);
    dtls_identity_free(g_cli_cm_id);
    return 0;
}

/* Moves every queued datagram from one conn to the other; returns how many. */
static int pump(dtls_conn_t *from, dtls_conn_t *to)
{
    uint8_t buf[1500];
    int n, moved = 0;
    while ((n = dtls_conn_next_out(from, buf, sizeof buf)) > 0) {
        assert_true(n <= 1200);
        dtls_conn_feed(to, buf, (size_t)n);
        moved++;
    }
    assert_true(n == 0);
    return moved;
}

static void run(pair_t *p)
{
    for (int i = 0; i < 20; i++)
        if (pump(p->cli, p->srv) + pump(p->srv, p->cli) == 0)
            return;
    fail_msg("handshake did not settle");
}

static void discard(dtls_conn_t *c)
{
    uint8_t buf[1500];
    while (dtls_conn_next_out(c, buf, sizeof buf) > 0)
        ;
}

/* NULL expectation means "the other side's real fingerprint". */
static void pair_new(pair_t *p, dtls_identity_t *cli_id, const char *srv_expects,
                     const char *cli_expects)
{
    p->srv = dtls_conn_new(g_srv_id, true,
                           srv_expects ? srv_expects : dtls_identity_fingerprint(cli_id));
    p->cli = dtls_conn_new(cli_id, false,
                           cli_expects ? cli_expects : dtls_identity_fingerprint(g_srv_id));
    assert_non_null(p->srv);
    assert_non_null(p->cli);
    assert_int_equal(dtls_conn_start(p->srv), DTLS_HANDSHAKING);
    assert_int_equal(dtls_conn_start(p->cli), DTLS_HANDSHAKING);
}

static void pair_free(pair_t *p)
{
    dtls_conn_free(p->srv);
    dtls_conn_free(p->cli);
}

static void connect_pair(pair_t *p, dtls_identity_t *cli_id)
{
    pair_new(p, cli_id, NULL, NULL);
    run(p);
    assert_int_equal(dtls_conn_state(p->srv), DTLS_CONNECTED);
    assert_int_equal(dtls_conn_state(p->cli), DTLS_CONNECTED);
}

static void test_fingerprint_format(void **state)
{
    (void)state;
    const char *fp = dtls_identity_fingerprint(g_srv_id);
    assert_int_equal(strlen(fp), 95);
    for (size_t i = 0; i < 95; i++) {
        if (i % 3 == 2)
            assert_int_equal(fp[i], ':');
        else
            assert_non_null(strchr("0123456789ABCDEF", fp[i]));
    }
    assert_string_not_equal(fp, dtls_identity_fingerprint(g_cli_id));
}

static void test_fingerprint_parsing(void **state)
{
    (void)state;
    char lower[128] = "sha-256 ";
    const char *fp = dtls_identity_fingerprint(g_cli_id);
    for (size_t i = 0; fp[i]; i++)
        lower[8 + i] = (char)(fp[i] >= 'A' && fp[i] <= 'F' ? fp[i] + 32 : fp[i]);
    dtls_conn_t *c = dtls_conn_new(g_srv_id, true, lower);
    assert_non_null(c);
    dtls_conn_free(c);
    assert_null(dtls_conn_new(g_srv_id, true, "AB:CD"));
    assert_null(dtls_conn_new(g_srv_id, true, WRONG_FP ":00"));
    assert_null(dtls_conn_new(g_srv_id, true, "zz:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
                                               "EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:"
                                               "CC:DD:EE:FF"));
    assert_null(dtls_conn_new(NULL, true, NULL));
}

static void check_keys(pair_t *p, dtls_srtp_profile_t profile, size_t salt_len)
{
    dtls_srtp_keys_t ks, kc;
    assert_int_equal(dtls_conn_srtp_keys(p->srv, &ks), 0);
    assert_int_equal(dtls_conn_srtp_keys(p->cli, &kc), 0);
    assert_int_equal(ks.profile, profile);
    assert_int_equal(kc.profile, profile);
    assert_int_equal(ks.key_len, 16);
    assert_int_equal(ks.salt_len, salt_len);
    assert_int_equal(kc.salt_len, salt_len);
    size_t n = ks.key_len + ks.salt_len;
    assert_int_equal(n, srtpx_master_len((int)profile));
    assert_memory_equal(kc.local, ks.remote, n);
    assert_memory_equal(kc.remote, ks.local, n);
    assert_memory_not_equal(ks.local, ks.remote, n);
}

static void test_handshake_gcm(void **state)
{
    (void)state;
    pair_t p;
    connect_pair(&p, g_cli_id);
    check_keys(&p, DTLS_SRTP_AEAD_AES_128_GCM, 12);
    assert_string_equal(dtls_conn_reason(p.srv), "");
    assert_int_equal(dtls_conn_out_dropped(p.srv), 0);
    assert_int_equal(dtls_conn_timeout_ms(p.srv), -1); /* nothing left for the tick */
    assert_int_equal(dtls_conn_timeout_ms(p.cli), -1);
    pair_free(&p);
}

static void test_handshake_cm80(void **state)
{
    (void)state;
    pair_t p;
    connect_pair(&p, g_cli_cm_id);
    check_keys(&p, DTLS_SRTP_AES128_CM_SHA1_80, 14);
    pair_free(&p);
}

static void test_keys_before_connect(void **state)
{
    (void)state;
    pair_t p;
    dtls_srtp_keys_t k;
    pair_new(&p, g_cli_id, NULL, NULL);
    assert_int_equal(dtls_conn_srtp_keys(p.cli, &k), DTLS_ERR_STATE);
    assert_true(dtls_conn_timeout_ms(p.cli) > 0); /* ClientHello is waiting for an answer */
    assert_int_equal(dtls_conn_timeout_ms(p.srv), -1);
    pair_free(&p);
}

static void make_rtp(uint8_t *pkt, uint16_t seq, size_t payload)
{
    pkt[0] = 0x80;
    pkt[1] = 111;
    pkt[2] = (uint8_t)(seq >> 8);
    pkt[3] = (uint8_t)seq;
    memset(pkt + 4, 0, 4);            /* timestamp */
    memcpy(pkt + 8, "\x11\x22\x33\x44", 4); /* SSRC */
    for (size_t i = 0; i < payload; i++)
        pkt[12 + i] = (uint8_t)(i * 7 + seq);
}

/* Receiver report with one report block: 32 bytes. */
static size_t make_rtcp(uint8_t *pkt)
{
    static const uint8_t rr[32] = {0x81, 201, 0, 7, 0x11, 0x22, 0x33, 0x44,
                                   0x55, 0x66, 0x77, 0x88, 0, 0, 0, 1};
    memcpy(pkt, rr, sizeof rr);
    return sizeof rr;
}

static void rtp_roundtrip(srtpx_session_t *tx, srtpx_session_t *rx, uint16_t seq)
{
    uint8_t clear[200], buf[256];
    make_rtp(clear, seq, 160);
    memcpy(buf, clear, 172);
    size_t len = 172;
    assert_int_equal(srtpx_protect_rtp(tx, buf, &len, sizeof buf), 0);
    assert_true(len > 172 && len <= 172 + SRTPX_MAX_TRAILER);
    assert_memory_not_equal(buf + 12, clear + 12, 160);
    assert_int_equal(srtpx_unprotect_rtp(rx, buf, &len), 0);
    assert_int_equal(len, 172);
    assert_memory_equal(buf, clear, 172);
}

static void rtcp_roundtrip(srtpx_session_t *tx, srtpx_session_t *rx)
{
    uint8_t clear[64], buf[128];
    size_t n = make_rtcp(clear), len = n;
    memcpy(buf, clear, n);
    assert_int_equal(srtpx_protect_rtcp(tx, buf, &len, sizeof buf), 0);
    assert_true(len > n && len <= n + SRTPX_MAX_TRAILER);
    assert_int_equal(srtpx_unprotect_rtcp(rx, buf, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(buf, clear, n);
}

/* Tampering, replay and NACK retransmission through protect, on one path. A failed
 * unprotect may scribble over its buffer, so every attempt gets a fresh copy. */
static void rtp_failures(srtpx_session_t *tx, srtpx_session_t *rx)
{
    uint8_t a[128], b[128], orig[128], old[128], far[128];
    size_t la = 52, lb = 52, lo = 52, lf = 52, plen;
    make_rtp(a, 500, 40);
    make_rtp(b, 500, 40);
    make_rtp(old, 502, 40);
    make_rtp(far, 502 + 1100, 40);
    assert_int_equal(srtpx_protect_rtp(tx, a, &la, sizeof a), 0);
    assert_int_equal(srtpx_protect_rtp(tx, b, &lb, sizeof b), 0); /* allow_repeat_tx */
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_int_equal(srtpx_protect_rtp(tx, old, &lo, sizeof old), 0); /* delivered late */
    assert_int_equal(srtpx_protect_rtp(tx, far, &lf, sizeof far), 0);
    memcpy(orig, a, la);
    plen = la;

    b[20] ^= 0x01; /* in the encrypted payload */
    assert_int_equal(srtpx_unprotect_rtp(rx, b, &lb), SRTPX_ERR_AUTH);
    memcpy(b, orig, plen);
    lb = plen;
    b[plen - 1] ^= 0x80; /* in the tag itself */
    assert_int_equal(srtpx_unprotect_rtp(rx, b, &lb), SRTPX_ERR_AUTH);

    assert_int_equal(srtpx_unprotect_rtp(rx, a, &la), 0);
    memcpy(b, orig, plen);
    lb = plen;
    assert_int_equal(srtpx_unprotect_rtp(rx, b, &lb), SRTPX_ERR_REPLAY);

    /* More than the 1024-packet window behind the newest is rejected as too old. */
    assert_int_equal(srtpx_unprotect_rtp(rx, far, &lf), 0);
    assert_int_equal(srtpx_unprotect_rtp(rx, old, &lo), SRTPX_ERR_REPLAY);
}

static void rtcp_failures(srtpx_session_t *tx, srtpx_session_t *rx)
{
    uint8_t buf[128], copy[128];
    size_t len = make_rtcp(buf);
    assert_int_equal(srtpx_protect_rtcp(tx, buf, &len, sizeof buf), 0);
    memcpy(copy, buf, len);
    size_t clen = len;
    copy[10] ^= 0x80;
    assert_int_equal(srtpx_unprotect_rtcp(rx, copy, &clen), SRTPX_ERR_AUTH);
    memcpy(copy, buf, len);
    clen = len;
    assert_int_equal(srtpx_unprotect_rtcp(rx, buf, &len), 0);
    assert_int_equal(srtpx_unprotect_rtcp(rx, copy, &clen), SRTPX_ERR_REPLAY);
}

/* The tag must fit into exactly cap bytes: a heap buffer lets ASan prove no overrun. */
static void exact_capacity(srtpx_session_t *tx, srtpx_session_t *rx, size_t tag)
{
    uint8_t *buf = malloc(12 + 100 + tag);
    assert_non_null(buf);
    make_rtp(buf, 4000, 100);
    size_t len = 112;
    assert_int_equal(srtpx_protect_rtp(tx, buf, &len, 112 + tag - 1), SRTPX_ERR_SPACE);
    assert_int_equal(srtpx_protect_rtp(tx, buf, &len, 112 + tag), 0);
    assert_int_equal(len, 112 + tag);
    assert_int_equal(srtpx_unprotect_rtp(rx, buf, &len), 0);
    free(buf);
}

static void srtp_over_pair(dtls_identity_t *cli_id, size_t tag)
{
    pair_t p;
    dtls_srtp_keys_t ks, kc;
    connect_pair(&p, cli_id);
    assert_int_equal(dtls_conn_srtp_keys(p.srv, &ks), 0);
    assert_int_equal(dtls_conn_srtp_keys(p.cli, &kc), 0);
    srtpx_session_t *srv = srtpx_session_new((int)ks.profile, ks.local, ks.remote);
    srtpx_session_t *cli = srtpx_session_new((int)kc.profile, kc.local, kc.remote);
    assert_non_null(srv);
    assert_non_null(cli);

    for (uint16_t seq = 1; seq <= 3; seq++) {
        rtp_roundtrip(cli, srv, seq);
        rtp_roundtrip(srv, cli, seq);
    }
    rtcp_roundtrip(cli, srv);
    rtcp_roundtrip(srv, cli);
    rtp_failures(cli, srv);
    rtcp_failures(srv, cli);
    exact_capacity(srv, cli, tag);

    srtpx_session_free(srv);
    srtpx_session_free(cli);
    pair_free(&p);
}

static void test_srtp_gcm(void **state)
{
    (void)state;
    srtp_over_pair(g_cli_id, 16);
}

static void test_srtp_cm80(void **state)
{
    (void)state;
    srtp_over_pair(g_cli_cm_id, 10);
}

static void test_srtp_args(void **state)
{
    (void)state;
    uint8_t key[30] = {1};
    uint8_t buf[64] = {0x80};
    size_t len = 8;
    assert_null(srtpx_session_new(0x0002, key, key));
    assert_null(srtpx_session_new(SRTPX_AEAD_AES_128_GCM, NULL, key));
    assert_int_equal(srtpx_master_len(0x0002), 0);
    srtpx_session_t *s = srtpx_session_new(SRTPX_AEAD_AES_128_GCM, key, key);
    assert_non_null(s);
    assert_int_equal(srtpx_protect_rtp(s, buf, &len, sizeof buf), SRTPX_ERR_MALFORMED);
    assert_int_equal(srtpx_unprotect_rtp(s, buf, &len), SRTPX_ERR_MALFORMED);
    len = 4;
    assert_int_equal(srtpx_unprotect_rtcp(s, buf, &len), SRTPX_ERR_MALFORMED);
    len = 12;
    assert_int_equal(srtpx_unprotect_rtp(s, buf, &len), SRTPX_ERR_MALFORMED); /* < tag */
    assert_int_equal(srtpx_protect_rtp(NULL, buf, &len, sizeof buf), SRTPX_ERR_PARAM);
    srtpx_session_free(s);
    srtpx_session_free(NULL);
    assert_string_equal(srtpx_strerror(SRTPX_ERR_AUTH), "SRTP authentication failed");
    assert_non_null(srtpx_strerror(12345));
}

static void test_client_rejects_server_fp(void **state)
{
    (void)state;
    pair_t p;
    pair_new(&p, g_cli_id, NULL, WRONG_FP);
    run(&p);
    assert_int_equal(dtls_conn_state(p.cli), DTLS_FAILED);
    assert_non_null(strstr(dtls_conn_reason(p.cli), "fingerprint"));
    assert_int_equal(dtls_conn_state(p.srv), DTLS_FAILED); /* it got our fatal alert */
    assert_int_equal(dtls_conn_timeout_ms(p.cli), -1);
    pair_free(&p);
}

static void test_server_rejects_client_fp(void **state)
{
    (void)state;
    pair_t p;
    dtls_srtp_keys_t k;
    pair_new(&p, g_cli_id, WRONG_FP, NULL);
    run(&p);
    assert_int_equal(dtls_conn_state(p.srv), DTLS_FAILED);
    assert_non_null(strstr(dtls_conn_reason(p.srv), "fingerprint"));
    assert_int_equal(dtls_conn_srtp_keys(p.srv, &k), DTLS_ERR_STATE);
    assert_int_not_equal(dtls_conn_state(p.cli), DTLS_CONNECTED);
    pair_free(&p);
}

/* The answer with the peer's fingerprint may arrive after the handshake did. */
static void test_late_fingerprint(void **state)
{
    (void)state;
    pair_t p;
    p.srv = dtls_conn_new(g_srv_id, true, NULL);
    p.cli = dtls_conn_new(g_cli_id, false, dtls_identity_fingerprint(g_srv_id));
    assert_non_null(p.srv);
    assert_non_null(p.cli);
    dtls_conn_start(p.cli);
    run(&p);
    assert_int_equal(dtls_conn_state(p.cli), DTLS_CONNECTED);
    assert_int_equal(dtls_conn_state(p.srv), DTLS_HANDSHAKING);
    assert_int_equal(dtls_conn_set_remote_fingerprint(p.srv, "nonsense"), DTLS_ERR_PARAM);
    assert_int_equal(dtls_conn_set_remote_fingerprint(p.srv, dtls_identity_fingerprint(g_cli_id)),
                     DTLS_CONNECTED);
    check_keys(&p, DTLS_SRTP_AEAD_AES_128_GCM, 12);
    pair_free(&p);
}

static void test_late_fingerprint_mismatch(void **state)
{
    (void)state;
    pair_t p;
    uint8_t buf[1500];
    dtls_srtp_keys_t k;
    p.srv = dtls_conn_new(g_srv_id, true, NULL);
    p.cli = dtls_conn_new(g_cli_id, false, dtls_identity_fingerprint(g_srv_id));
    assert_non_null(p.srv);
    assert_non_null(p.cli);
    dtls_conn_start(p.cli);
    run(&p);
    assert_int_equal(dtls_conn_set_remote_fingerprint(p.srv, WRONG_FP), DTLS_FAILED);
    assert_non_null(strstr(dtls_conn_reason(p.srv), "fingerprint"));
    assert_int_equal(dtls_conn_srtp_keys(p.srv, &k), DTLS_ERR_STATE);
    int n = dtls_conn_next_out(p.srv, buf, sizeof buf); /* close_notify tells the client */
    assert_true(n > 0);
    assert_int_equal(dtls_conn_feed(p.cli, buf, (size_t)n), DTLS_CLOSED);
    assert_int_equal(dtls_conn_feed(p.srv, buf, (size_t)n), DTLS_FAILED); /* stays dead */
    pair_free(&p);
}

static void sleep_until_due(dtls_conn_t *c)
{
    int ms = dtls_conn_timeout_ms(c);
    assert_true(ms > 0 && ms <= 400);
    struct timespec ts = {0, (long)(ms + 30) * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(dtls_conn_timeout_ms(c), 0);
}

static void test_lost_flight_retransmits(void **state)
{
    (void)state;
    pair_t p;
    pair_new(&p, g_cli_id, NULL, NULL);
    assert_true(pump(p.cli, p.srv) > 0); /* ClientHello */
    discard(p.srv);                       /* the server's first flight is lost */
    assert_int_equal(pump(p.cli, p.srv), 0);

    assert_int_equal(dtls_conn_on_timer(p.cli), DTLS_HANDSHAKING); /* not yet due */
    assert_int_equal(pump(p.cli, p.srv), 0);

    sleep_until_due(p.cli);
    assert_int_equal(dtls_conn_on_timer(p.cli), DTLS_HANDSHAKING);
    assert_int_equal(dtls_conn_on_timer(p.srv), DTLS_HANDSHAKING);
    run(&p);
    assert_int_equal(dtls_conn_state(p.srv), DTLS_CONNECTED);
    assert_int_equal(dtls_conn_state(p.cli), DTLS_CONNECTED);
    check_keys(&p, DTLS_SRTP_AEAD_AES_128_GCM, 12);
    pair_free(&p);
}

/* The server is done once it sends its Finished; if that flight is lost, the client's
 * retransmitted Finished must make the (already connected) server send it again. */
static void test_lost_final_flight(void **state)
{
    (void)state;
    pair_t p;
    pair_new(&p, g_cli_id, NULL, NULL);
    pump(p.cli, p.srv);
    pump(p.srv, p.cli);
    pump(p.cli, p.srv);
    assert_int_equal(dtls_conn_state(p.srv), DTLS_CONNECTED);
    discard(p.srv);
    assert_int_equal(dtls_conn_state(p.cli), DTLS_HANDSHAKING);
    sleep_until_due(p.cli);
    assert_int_equal(dtls_conn_on_timer(p.cli), DTLS_HANDSHAKING);
    assert_true(pump(p.cli, p.srv) > 0);
    assert_true(pump(p.srv, p.cli) > 0);
    assert_int_equal(dtls_conn_state(p.cli), DTLS_CONNECTED);
    assert_int_equal(dtls_conn_state(p.srv), DTLS_CONNECTED);
    check_keys(&p, DTLS_SRTP_AEAD_AES_128_GCM, 12);
    pair_free(&p);
}

static void test_close_notify(void **state)
{
    (void)state;
    pair_t p;
    connect_pair(&p, g_cli_id);
    assert_int_equal(dtls_conn_close(p.cli), 0);
    assert_int_equal(dtls_conn_state(p.cli), DTLS_CLOSED);
    assert_int_equal(pump(p.cli, p.srv), 1);
    assert_int_equal(dtls_conn_state(p.srv), DTLS_CLOSED);
    pair_free(&p);
}

/* Junk and truncated records mid-handshake are dropped, not fatal. */
static void test_garbage_ignored(void **state)
{
    (void)state;
    pair_t p;
    uint8_t junk[64], buf[1500];
    pair_new(&p, g_cli_id, NULL, NULL);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 22);
    junk[0] = 22; /* looks like a handshake record */
    assert_int_equal(dtls_conn_feed(p.srv, junk, sizeof junk), DTLS_HANDSHAKING);
    int n = dtls_conn_next_out(p.cli, buf, sizeof buf);
    assert_true(n > 20);
    assert_int_equal(dtls_conn_next_out(p.cli, buf, 10), 0); /* queue empty now */
    assert_int_equal(dtls_conn_feed(p.srv, buf, 20), DTLS_HANDSHAKING);
    assert_int_equal(dtls_conn_feed(p.srv, buf, (size_t)n), DTLS_HANDSHAKING);
    assert_int_equal(dtls_conn_feed(p.srv, NULL, 5), DTLS_ERR_PARAM);
    run(&p);
    assert_int_equal(dtls_conn_state(p.cli), DTLS_CONNECTED);
    assert_int_equal(dtls_conn_feed(p.cli, junk, sizeof junk), DTLS_CONNECTED);
    pair_free(&p);
}

/* Conns keep their identity alive: the process may rotate certificates under them. */
static void test_identity_outlives_caller(void **state)
{
    (void)state;
    dtls_identity_t *id = dtls_identity_new();
    assert_non_null(id);
    pair_t p;
    p.srv = dtls_conn_new(g_srv_id, true, dtls_identity_fingerprint(id));
    p.cli = dtls_conn_new(id, false, dtls_identity_fingerprint(g_srv_id));
    assert_non_null(p.cli);
    dtls_identity_free(id);
    dtls_conn_start(p.cli);
    run(&p);
    assert_int_equal(dtls_conn_state(p.cli), DTLS_CONNECTED);
    pair_free(&p);
}

static void test_next_out_small_buffer(void **state)
{
    (void)state;
    pair_t p;
    uint8_t buf[1500];
    pair_new(&p, g_cli_id, NULL, NULL);
    assert_int_equal(dtls_conn_next_out(p.cli, buf, 16), DTLS_ERR_SPACE);
    assert_true(dtls_conn_next_out(p.cli, buf, sizeof buf) > 16); /* still queued */
    pair_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_format),
        cmocka_unit_test(test_fingerprint_parsing),
        cmocka_unit_test(test_handshake_gcm),
        cmocka_unit_test(test_handshake_cm80),
        cmocka_unit_test(test_keys_before_connect),
        cmocka_unit_test(test_srtp_gcm),
        cmocka_unit_test(test_srtp_cm80),
        cmocka_unit_test(test_srtp_args),
        cmocka_unit_test(test_client_rejects_server_fp),
        cmocka_unit_test(test_server_rejects_client_fp),
        cmocka_unit_test(test_late_fingerprint),
        cmocka_unit_test(test_late_fingerprint_mismatch),
        cmocka_unit_test(test_lost_flight_retransmits),
        cmocka_unit_test(test_lost_final_flight),
        cmocka_unit_test(test_close_notify),
        cmocka_unit_test(test_garbage_ignored),
        cmocka_unit_test(test_identity_outlives_caller),
        cmocka_unit_test(test_next_out_small_buffer),
    };
    return cmocka_run_group_tests(tests, setup_ids, teardown_ids);
}
