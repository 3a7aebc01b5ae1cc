/* The server's own SRTP AEAD_AES_128_GCM for RTP (media/srtp_gcm.c) against libsrtp2 in
 * both directions, across a sequence-number wrap, with CSRCs and header extensions; its
 * replay window; tampering; and the limit on streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/rand.h>
#include <string.h>

#include "media/rtp.h"
#include "media/srtp.h"

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
    srtpx_session_free(p.lib);
    srtpx_session_free(p.own);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interop_both_ways_across_wrap),
        cmocka_unit_test(test_replay_window),
        cmocka_unit_test(test_tampering_fails_and_records_nothing),
        cmocka_unit_test(test_stream_limit_and_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
