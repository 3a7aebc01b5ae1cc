/* The server's own SRTP and SRTCP under AEAD_AES_128_GCM (media/srtp_gcm.c) against
 * libsrtp2 in both directions: RTP across a sequence-number wrap, with CSRCs and header
 * extensions; SRTCP compounds of several kinds and SSRCs, byte for byte; the replay windows;
 * tampering with any bit; short packets; the SRTCP index running out; the limit on streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/rand.h>
#include <string.h>

#include "media/bytes.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "media/srtp.h"
#include "media/srtp_gcm.h"

/* Only for the E=0 (authenticated-only) SRTCP case, which srtpx never sends: libsrtp2 is
 * the independent sender to check media/srtp_gcm.c against. */
#include <srtp2/srtp.h>

#define MLEN 28

struct pair {
    srtpx_session_t *lib;  /* libsrtp2 only */
    srtpx_session_t *own;  /* RTP through media/srtp_gcm.c */
};

static struct pair make_pair(void)
{
    uint8_t a[MLEN], b[MLEN];
    RAND_bytes(a, MLEN);
    RAND_bytes(b, MLEN);
    struct pair p = {
        .lib = srtpx_session_new_ex(SRTPX_AEAD_AES_128_GCM, a, b, SRTPX_LIBSRTP_ONLY),
        .own = srtpx_session_new(SRTPX_AEAD_AES_128_GCM, b, a),
    };
    assert_non_null(p.lib);
    assert_non_null(p.own);
    return p;
}

static size_t packet(uint8_t *buf, uint16_t seq, uint32_t ssrc, uint8_t fill)
{
    static const uint32_t csrc[2] = {0x11111111, 0x22222222};
    uint8_t lvl = 0x85;
    rtp_ext_t ext = {.id = 1, .len = 1, .data = &lvl};
    rtp_write_t w = {.pt = 111, .seq = seq, .ts = seq * 960u, .ssrc = ssrc, .csrc = csrc,
                     .csrc_count = (uint8_t)(seq & 1 ? 2 : 0), .ext = &ext, .ext_count = 1};
    int off = rtp_write_header(buf, 1500, &w);
    assert_true(off > 0);
    memset(buf + off, fill, 200);
    return (size_t)off + 200;
}

static void one_way(srtpx_session_t *from, srtpx_session_t *to, uint16_t seq, uint32_t ssrc)
{
    uint8_t buf[1600], orig[1600];
    size_t len = packet(buf, seq, ssrc, (uint8_t)seq);
    memcpy(orig, buf, len);
    size_t plen = len;
    assert_int_equal(srtpx_protect_rtp(from, buf, &plen, sizeof buf), 0);
    assert_int_equal(plen, len + 16);
    assert_int_equal(srtpx_unprotect_rtp(to, buf, &plen), 0);
    assert_int_equal(plen, len);
    assert_memory_equal(buf, orig, len);
}

#define N_KINDS 7

/* Compound number `kind` from `ssrc`, as the server and browsers send them; returns its length. */
static size_t compound(uint8_t *buf, int kind, uint32_t ssrc)
{
    rtcp_sender_info_t si = {.ssrc = ssrc, .ntp = 0xE1234567ABCDEF01ull, .rtp_ts = 96000,
                             .packet_count = 500, .octet_count = 60000};
    rtcp_rb_t rb[3] = {{.ssrc = 0x5151, .fraction_lost = 3, .cum_lost = 9, .ext_high_seq = 70000},
                       {.ssrc = 0x5252, .jitter = 40}, {.ssrc = 0x5353, .lsr = 77, .dlsr = 5}};
    uint16_t lost[3] = {100, 101, 140};
    uint32_t remb_ssrc[2] = {0x5151, 0x5252};
    rtcp_twcc_status_t tw[20];
    for (int i = 0; i < 20; i++)
        tw[i] = (rtcp_twcc_status_t){.seq = (uint16_t)(300 + i), .received = i % 7 != 3,
                                     .arrival_us = i % 7 != 3 ? 1000000 + i * 1250 : 0};
    int n = 0, m = 0;
    const size_t cap = 1400;
    switch (kind) {
    case 0: /* an empty RR: 8 bytes, nothing to encrypt */
        n = rtcp_build_rr(buf, cap, ssrc, NULL, 0);
        break;
    case 1: /* SR with report blocks + SDES CNAME */
        n = rtcp_build_sr(buf, cap, &si, rb, 3);
        m = rtcp_build_sdes_cname(buf + n, cap - (size_t)n, ssrc, "mcu-cname-0123456789", 20);
        break;
    case 2:
        n = rtcp_build_pli(buf, cap, ssrc, 0x5151);
        break;
    case 3: /* RR + NACK */
        n = rtcp_build_rr(buf, cap, ssrc, rb, 1);
        m = rtcp_build_nack(buf + n, cap - (size_t)n, ssrc, 0x5151, lost, 3);
        break;
    case 4:
        n = rtcp_build_remb(buf, cap, ssrc, 1500000, remb_ssrc, 2);
        break;
    case 5: /* TWCC, ~20 a second from each browser */
        n = rtcp_build_twcc(buf, cap, ssrc, 0x5151, 7, tw, 20);
        break;
    default: /* RR + SDES + BYE */
        n = rtcp_build_rr(buf, cap, ssrc, rb, 2);
        m = rtcp_build_sdes_cname(buf + n, cap - (size_t)n, ssrc, "x", 1);
        assert_true(m > 0);
        n += m;
        m = rtcp_build_bye(buf + n, cap - (size_t)n, &ssrc, 1, "bye", 3);
        break;
    }
    assert_true(n > 0 && m >= 0);
    return (size_t)(n + m);
}

static void test_interop_both_ways_across_wrap(void **state)
{
    (void)state;
    struct pair p = make_pair();
    for (uint32_t i = 0; i < 40; i++) {
        uint16_t seq = (uint16_t)(65520 + i); /* wraps after 16 packets: the ROC moves */
        one_way(p.lib, p.own, seq, 0xAAAA0001);
        one_way(p.own, p.lib, seq, 0xBBBB0002);
        one_way(p.own, p.lib, (uint16_t)(seq + 7), 0xBBBB0003); /* a second stream */
    }
    srtpx_session_free(p.lib);
    srtpx_session_free(p.own);
}

static void test_replay_window(void **state)
{
    (void)state;
    struct pair q = make_pair();
    /* Fresh pair: protect in order, deliver out of order within the window. */
    uint8_t bufs[8][1600];
    size_t blen[8];
    for (int i = 0; i < 8; i++) {
        blen[i] = packet(bufs[i], (uint16_t)(5000 + i), 0xD00D, 2);
        assert_int_equal(srtpx_protect_rtp(q.lib, bufs[i], &blen[i], sizeof bufs[i]), 0);
    }
    uint8_t copy[1600];
    size_t cl;
    int order[8] = {0, 2, 1, 5, 3, 4, 7, 6};
    for (int k = 0; k < 8; k++) {
        int i = order[k];
        memcpy(copy, bufs[i], blen[i]);
        cl = blen[i];
        assert_int_equal(srtpx_unprotect_rtp(q.own, copy, &cl), 0);
    }
    memcpy(copy, bufs[3], blen[3]); /* replayed */
    cl = blen[3];
    assert_int_equal(srtpx_unprotect_rtp(q.own, copy, &cl), SRTPX_ERR_REPLAY);
    /* A packet more than 1024 behind the newest is refused as too old. */
    uint8_t old[1600];
    size_t ol = packet(old, 5000, 0xE0E0, 3);
    assert_int_equal(srtpx_protect_rtp(q.lib, old, &ol, sizeof old), 0);
    for (int i = 1; i <= 1100; i++) {
        uint8_t b[1600];
        size_t l = packet(b, (uint16_t)(5000 + i), 0xE0E0, 3);
        assert_int_equal(srtpx_protect_rtp(q.lib, b, &l, sizeof b), 0);
        assert_int_equal(srtpx_unprotect_rtp(q.own, b, &l), 0);
    }
    assert_int_equal(srtpx_unprotect_rtp(q.own, old, &ol), SRTPX_ERR_REPLAY);
    srtpx_session_free(q.lib);
    srtpx_session_free(q.own);
}

static void test_tampering_fails_and_records_nothing(void **state)
{
    (void)state;
    struct pair p = make_pair();
    uint8_t buf[1600], bad[1600];
    size_t len = packet(buf, 77, 0x1234, 9);
    assert_int_equal(srtpx_protect_rtp(p.lib, buf, &len, sizeof buf), 0);
    for (size_t where = 0; where < len; where += len / 5) {
        memcpy(bad, buf, len);
        bad[where == 0 ? 1 : where] ^= 0x04; /* header (authenticated), payload, or tag */
        size_t bl = len;
        assert_int_equal(srtpx_unprotect_rtp(p.own, bad, &bl), SRTPX_ERR_AUTH);
    }
    size_t l = len; /* the genuine packet still gets in: failures recorded nothing */
    assert_int_equal(srtpx_unprotect_rtp(p.own, buf, &l), 0);
    uint8_t tiny[20] = {0x80, 111};
    size_t tl = sizeof tiny;
    assert_int_equal(srtpx_unprotect_rtp(p.own, tiny, &tl), SRTPX_ERR_MALFORMED);
    srtpx_session_free(p.lib);
    srtpx_session_free(p.own);
}

static void test_stream_limit_and_space(void **state)
{
    (void)state;
    struct pair p = make_pair();
    uint8_t buf[1600];
    for (uint32_t s = 1; s <= 16; s++) {
        size_t l = packet(buf, 1, s, 1);
        assert_int_equal(srtpx_protect_rtp(p.own, buf, &l, sizeof buf), 0);
    }
    size_t l = packet(buf, 1, 17, 1);
    assert_int_equal(srtpx_protect_rtp(p.own, buf, &l, sizeof buf), SRTPX_ERR_OTHER);
    l = packet(buf, 1, 1, 1);
    assert_int_equal(srtpx_protect_rtp(p.own, buf, &l, l + 15), SRTPX_ERR_SPACE);
    for (uint32_t s = 1; s <= 16; s++) { /* SRTCP keeps its own table */
        l = compound(buf, 2, 100 + s);
        assert_int_equal(srtpx_protect_rtcp(p.own, buf, &l, sizeof buf), 0);
    }
    l = compound(buf, 2, 117);
    assert_int_equal(srtpx_protect_rtcp(p.own, buf, &l, sizeof buf), SRTPX_ERR_OTHER);
    srtpx_session_free(p.lib);
    srtpx_session_free(p.own);
}

/* ---- SRTCP ---- */

/* Protect with `from`, check the trailer carries E=1 and `index`, unprotect with `to`. */
static void rtcp_one_way(srtpx_session_t *from, srtpx_session_t *to, int kind, uint32_t ssrc,
                         uint32_t index)
{
    uint8_t buf[1600], orig[1600];
    size_t len = compound(buf, kind, ssrc), plen = len;
    memcpy(orig, buf, len);
    assert_int_equal(srtpx_protect_rtcp(from, buf, &plen, sizeof buf), 0);
    assert_int_equal(plen, len + 20);
    assert_memory_equal(buf, orig, 8); /* the header stays clear */
    assert_int_equal(be_rd32(buf + plen - 4), 0x80000000u | index);
    assert_int_equal(srtpx_unprotect_rtcp(to, buf, &plen), 0);
    assert_int_equal(plen, len);
    assert_memory_equal(buf, orig, len);
}

static void test_rtcp_interop_both_ways(void **state)
{
    (void)state;
    struct pair p = make_pair();
    const uint32_t ssrcs[3] = {0x11110001, 0x22220002, 0xFFFFFFFF};
    uint32_t sent_lib[3] = {0}, sent_own[3] = {0}; /* libsrtp2 numbers from 1 per SSRC */
    for (int round = 0; round < 40; round++)
        for (int k = 0; k < N_KINDS; k++) {
            int w = (round + k) % 3;
            rtcp_one_way(p.lib, p.own, k, ssrcs[w], ++sent_lib[w]);
            rtcp_one_way(p.own, p.lib, k, ssrcs[w], ++sent_own[w]);
        }
    /* RTP and SRTCP keep separate keys and numbers: RTP still flows both ways. */
    one_way(p.lib, p.own, 10, ssrcs[0]);
    one_way(p.own, p.lib, 10, ssrcs[0]);
    srtpx_session_free(p.lib);
    srtpx_session_free(p.own);
}

/* Same master key, same packets, same order: our output is libsrtp2's, byte for byte. */
static void test_rtcp_same_bytes_as_libsrtp(void **state)
{
    (void)state;
    uint8_t a[MLEN], b[MLEN];
    RAND_bytes(a, MLEN);
    RAND_bytes(b, MLEN);
    srtpx_session_t *lib = srtpx_session_new_ex(SRTPX_AEAD_AES_128_GCM, a, b, SRTPX_LIBSRTP_ONLY);
    srtpx_session_t *own = srtpx_session_new(SRTPX_AEAD_AES_128_GCM, a, b);
    assert_non_null(lib);
    assert_non_null(own);
    for (int i = 0; i < 30; i++) {
        uint8_t x[1600], y[1600];
        size_t lx = compound(x, i % N_KINDS, 0xC0DE0000u + (uint32_t)(i % 4)), ly = lx;
        memcpy(y, x, lx);
        assert_int_equal(srtpx_protect_rtcp(lib, x, &lx, sizeof x), 0);
        assert_int_equal(srtpx_protect_rtcp(own, y, &ly, sizeof y), 0);
        assert_int_equal(lx, ly);
        assert_memory_equal(x, y, lx);
    }
    srtpx_session_free(lib);
    srtpx_session_free(own);
}

static void test_rtcp_replay(void **state)
{
    (void)state;
    struct pair p = make_pair();
    uint8_t bufs[6][1600], copy[1600];
    size_t blen[6], cl;
    for (int i = 0; i < 6; i++) {
        blen[i] = compound(bufs[i], i, 0xD00D);
        assert_int_equal(srtpx_protect_rtcp(p.lib, bufs[i], &blen[i], sizeof bufs[i]), 0);
    }
    const int order[6] = {1, 0, 3, 2, 5, 4}; /* reordered inside the window: all accepted */
    for (int k = 0; k < 6; k++) {
        memcpy(copy, bufs[order[k]], blen[order[k]]);
        cl = blen[order[k]];
        assert_int_equal(srtpx_unprotect_rtcp(p.own, copy, &cl), 0);
    }
    for (int i = 0; i < 6; i++) {
        memcpy(copy, bufs[i], blen[i]);
        cl = blen[i];
        assert_int_equal(srtpx_unprotect_rtcp(p.own, copy, &cl), SRTPX_ERR_REPLAY);
    }
    /* The same index from another SSRC is another stream: accepted. */
    cl = compound(copy, 2, 0xD00E);
    assert_int_equal(srtpx_protect_rtcp(p.lib, copy, &cl, sizeof copy), 0);
    assert_int_equal(be_rd32(copy + cl - 4), 0x80000001u);
    assert_int_equal(srtpx_unprotect_rtcp(p.own, copy, &cl), 0);
    /* More than the window behind the newest: too old. */
    uint8_t old[1600];
    size_t ol = compound(old, 2, 0xE0E0);
    assert_int_equal(srtpx_protect_rtcp(p.lib, old, &ol, sizeof old), 0);
    for (int i = 0; i < SGCM_WINDOW + 10; i++) {
        cl = compound(copy, 2, 0xE0E0);
        assert_int_equal(srtpx_protect_rtcp(p.lib, copy, &cl, sizeof copy), 0);
        if (i >= SGCM_WINDOW - 5)
            assert_int_equal(srtpx_unprotect_rtcp(p.own, copy, &cl), 0);
    }
    assert_int_equal(srtpx_unprotect_rtcp(p.own, old, &ol), SRTPX_ERR_REPLAY);
    srtpx_session_free(p.lib);
    srtpx_session_free(p.own);
}

/* Every single-bit flip, in the header, the ciphertext, the tag, the E flag or the index,
 * fails authentication and records nothing; then the genuine packet gets in. */
static void test_rtcp_any_flipped_bit_fails(void **state)
{
    (void)state;
    struct pair p = make_pair();
    uint8_t buf[1600], bad[1600];
    size_t len = compound(buf, 3, 0xF1F1);
    assert_int_equal(srtpx_protect_rtcp(p.lib, buf, &len, sizeof buf), 0);
    for (size_t bit = 0; bit < len * 8; bit++) {
        memcpy(bad, buf, len);
        bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        size_t bl = len;
        assert_int_equal(srtpx_unprotect_rtcp(p.own, bad, &bl), SRTPX_ERR_AUTH);
    }
    size_t l = len;
    assert_int_equal(srtpx_unprotect_rtcp(p.own, buf, &l), 0);
    srtpx_session_free(p.lib);
    srtpx_session_free(p.own);
}

static void test_rtcp_short_and_space(void **state)
{
    (void)state;
    struct pair p = make_pair();
    uint8_t buf[64] = {0x80, 201, 0, 1, 0, 0, 0x12, 0x34};
    for (size_t n = 0; n < 28; n++) { /* header 8 + tag 16 + index 4 */
        size_t l = n;
        assert_int_equal(srtpx_unprotect_rtcp(p.own, buf, &l), SRTPX_ERR_MALFORMED);
    }
    struct sgcm g; /* and below the srtpx checks, the module itself */
    uint8_t k[SGCM_MASTER_LEN] = {7};
    assert_int_equal(sgcm_init(&g, k, k), 0);
    for (size_t n = 0; n < 28; n++) {
        size_t l = n;
        assert_int_equal(sgcm_unprotect_rtcp(&g, buf, &l), SGCM_ERR_MALFORMED);
    }
    for (size_t n = 0; n < 8; n++) {
        size_t l = n;
        assert_int_equal(sgcm_protect_rtcp(&g, buf, &l, sizeof buf), SGCM_ERR_MALFORMED);
    }
    size_t l = 8;
    assert_int_equal(sgcm_protect_rtcp(&g, buf, &l, 27), SGCM_ERR_SPACE);
    sgcm_free(&g);
    l = 8;
    assert_int_equal(srtpx_protect_rtcp(p.own, buf, &l, 27), SRTPX_ERR_SPACE);
    assert_int_equal(srtpx_protect_rtcp(p.own, buf, &l, 28), 0); /* exactly fits */
    assert_int_equal(l, 28);
    assert_int_equal(srtpx_unprotect_rtcp(p.lib, buf, &l), 0);
    assert_int_equal(l, 8);
    srtpx_session_free(p.lib);
    srtpx_session_free(p.own);
}

/* The SRTCP index stops at 2^31 - 1 (RFC 3711 3.3.2: re-key before it wraps): the last
 * one still interoperates, the next is refused rather than reusing an IV. */
static void test_rtcp_index_exhausted(void **state)
{
    (void)state;
    uint8_t a[MLEN], b[MLEN], buf[1600];
    RAND_bytes(a, MLEN);
    RAND_bytes(b, MLEN);
    srtpx_session_t *lib = srtpx_session_new_ex(SRTPX_AEAD_AES_128_GCM, a, b, SRTPX_LIBSRTP_ONLY);
    assert_non_null(lib);
    struct sgcm g;
    assert_int_equal(sgcm_init(&g, b, a), 0);
    size_t len = compound(buf, 2, 0x7777);
    assert_int_equal(sgcm_protect_rtcp(&g, buf, &len, sizeof buf), 0);
    assert_int_equal(srtpx_unprotect_rtcp(lib, buf, &len), 0);
    for (int i = 0; i < SGCM_STREAMS; i++)
        if (g.tx.rtcp_streams[i].used)
            g.tx.rtcp_streams[i].highest = 0x7FFFFFFE;
    len = compound(buf, 2, 0x7777);
    assert_int_equal(sgcm_protect_rtcp(&g, buf, &len, sizeof buf), 0);
    assert_int_equal(be_rd32(buf + len - 4), 0xFFFFFFFFu);
    assert_int_equal(srtpx_unprotect_rtcp(lib, buf, &len), 0);
    len = compound(buf, 2, 0x7777);
    assert_int_equal(sgcm_protect_rtcp(&g, buf, &len, sizeof buf), SGCM_ERR_EXHAUSTED);
    len = compound(buf, 2, 0x7778); /* other SSRCs carry on */
    assert_int_equal(sgcm_protect_rtcp(&g, buf, &len, sizeof buf), 0);
    sgcm_free(&g);
    srtpx_session_free(lib);
}

/* RFC 7714 9.3: a sender may leave SRTCP unencrypted (E=0), the whole compound then being
 * associated data. srtpx never sends that; a peer may, so we accept it. */
static void test_rtcp_unencrypted_accepted(void **state)
{
    (void)state;
    uint8_t a[MLEN], b[MLEN];
    RAND_bytes(a, MLEN);
    RAND_bytes(b, MLEN);
    assert_int_equal(srtpx_init(), 0);
    srtp_policy_t pol;
    memset(&pol, 0, sizeof pol);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
    pol.rtcp.sec_serv = sec_serv_auth;
    pol.key = a;
    pol.ssrc.type = ssrc_any_outbound;
    srtp_t tx = NULL;
    assert_int_equal(srtp_create(&tx, &pol), srtp_err_status_ok);
    srtpx_session_t *own = srtpx_session_new(SRTPX_AEAD_AES_128_GCM, b, a);
    assert_non_null(own);
    for (int k = 0; k < N_KINDS; k++) {
        uint8_t buf[1600], orig[1600], bad[1600];
        size_t len = compound(buf, k, 0xABCD);
        int n = (int)len;
        memcpy(orig, buf, len);
        assert_int_equal(srtp_protect_rtcp(tx, buf, &n), srtp_err_status_ok);
        assert_int_equal(n, (int)len + 20);
        assert_int_equal(buf[n - 4] & 0x80, 0); /* E=0 */
        assert_memory_equal(buf, orig, len);    /* nothing encrypted */
        memcpy(bad, buf, (size_t)n);
        bad[len - 1] ^= 1; /* the clear compound is authenticated */
        size_t bl = (size_t)n, pl = (size_t)n;
        assert_int_equal(srtpx_unprotect_rtcp(own, bad, &bl), SRTPX_ERR_AUTH);
        memcpy(bad, buf, (size_t)n);
        bad[n - 4] ^= 0x80; /* claiming E=1 */
        bl = (size_t)n;
        assert_int_equal(srtpx_unprotect_rtcp(own, bad, &bl), SRTPX_ERR_AUTH);
        assert_int_equal(srtpx_unprotect_rtcp(own, buf, &pl), 0);
        assert_int_equal(pl, len);
        assert_memory_equal(buf, orig, len);
    }
    srtp_dealloc(tx);
    srtpx_session_free(own);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interop_both_ways_across_wrap),
        cmocka_unit_test(test_replay_window),
        cmocka_unit_test(test_tampering_fails_and_records_nothing),
        cmocka_unit_test(test_stream_limit_and_space),
        cmocka_unit_test(test_rtcp_interop_both_ways),
        cmocka_unit_test(test_rtcp_same_bytes_as_libsrtp),
        cmocka_unit_test(test_rtcp_replay),
        cmocka_unit_test(test_rtcp_any_flipped_bit_fails),
        cmocka_unit_test(test_rtcp_short_and_space),
        cmocka_unit_test(test_rtcp_index_exhausted),
        cmocka_unit_test(test_rtcp_unencrypted_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
