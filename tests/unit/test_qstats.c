/* Per-peer quality counters: loss from sequence numbers (gaps, reordering, duplicates, wrap,
 * a restarted stream, several SSRCs), RFC 3550 jitter against hand-computed values, the
 * round trip from receiver reports, and byte counts per interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "media/qstats.h"
#include "media/rtcp.h"

#define MS 1000000LL /* ns */

/* A stream of 20 ms Opus packets (960 ticks) arriving exactly on time from t0. */
static void feed(struct qstats *q, uint32_t ssrc, uint16_t seq0, int n, const int *skip, int nskip)
{
    for (int i = 0; i < n; i++) {
        bool skipped = false;
        for (int k = 0; k < nskip; k++)
            skipped |= skip[k] == i;
        if (!skipped)
            qstats_rtp(q, ssrc, (uint16_t)(seq0 + i), 1000u + 960u * (uint32_t)i, 48000, 5000 * MS + i * 20 * MS);
    }
}

static void test_no_loss(void **state)
{
    (void)state;
    struct qstats q;
    memset(&q, 0, sizeof q);
    struct qstats_interval qi;
    qstats_interval(&q, &qi);
    assert_int_equal(qi.expected, 0);
    assert_true(qi.jitter_ms < 0);
    assert_int_equal(qi.rtt_ms, -1);
    feed(&q, 7, 100, 50, NULL, 0);
    qstats_interval(&q, &qi);
    assert_int_equal(qi.expected, 50);
    assert_int_equal(qi.lost, 0);
    assert_true(fabs(qi.jitter_ms) < 1e-9); /* perfectly paced */
}

static void test_gaps_and_intervals(void **state)
{
    (void)state;
    struct qstats q;
    memset(&q, 0, sizeof q);
    int skip[] = {10, 11, 12, 40};
    feed(&q, 7, 65500, 100, skip, 4); /* wraps past 65535 */
    struct qstats_interval qi;
    qstats_interval(&q, &qi);
    assert_int_equal(qi.expected, 100);
    assert_int_equal(qi.lost, 4);
    /* The next interval counts only what came since. */
    for (int i = 100; i < 110; i += 2)
        qstats_rtp(&q, 7, (uint16_t)(65500 + i), 0, 0, 0);
    qstats_interval(&q, &qi);
    assert_int_equal(qi.expected, 9); /* 100..108 */
    assert_int_equal(qi.lost, 4);
    qstats_interval(&q, &qi);
    assert_int_equal(qi.expected, 0);
    assert_int_equal(qi.lost, 0);
}

static void test_reorder_and_duplicates(void **state)
{
    (void)state;
    struct qstats q;
    memset(&q, 0, sizeof q);
    const uint16_t order[] = {1, 2, 4, 3, 5, 5, 6, 9, 8, 7, 10};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        qstats_rtp(&q, 1, order[i], 0, 0, 0);
    struct qstats_interval qi;
    qstats_interval(&q, &qi);
    assert_int_equal(qi.expected, 10);
    assert_int_equal(qi.lost, -1); /* one duplicate, nothing missing */
}

static void test_restart_and_stray(void **state)
{
    (void)state;
    struct qstats q;
    memset(&q, 0, sizeof q);
    for (int i = 0; i < 20; i++)
        qstats_rtp(&q, 1, (uint16_t)(1000 + i), 0, 0, 0);
    /* A single packet far away is a stray: neither counted nor moving the sequence. */
    qstats_rtp(&q, 1, 30000, 0, 0, 0);
    qstats_rtp(&q, 1, 1020, 0, 0, 0);
    struct qstats_interval qi;
    qstats_interval(&q, &qi);
    assert_int_equal(qi.expected, 21);
    assert_int_equal(qi.lost, 0);
    /* Two in a row far away: the sender restarted its sequence. */
    qstats_rtp(&q, 1, 40000, 0, 0, 0);
    qstats_rtp(&q, 1, 40001, 0, 0, 0);
    qstats_rtp(&q, 1, 40003, 0, 0, 0);
    qstats_interval(&q, &qi);
    assert_int_equal(qi.expected, 3); /* 40001..40003 */
    assert_int_equal(qi.lost, 1);
}

static void test_streams_add_up(void **state)
{
    (void)state;
    struct qstats q;
    memset(&q, 0, sizeof q);
    int skip_a[] = {5};
    feed(&q, 0xA, 0, 50, skip_a, 1);
    for (int i = 0; i < 30; i++)
        if (i != 1 && i != 2)
            qstats_rtp(&q, 0xB, (uint16_t)(200 + i), 0, 0, 0);
    qstats_rtp(&q, 0xC, 1, 0, 0, 0);
    qstats_rtp(&q, 0xD, 1, 0, 0, 0);
    /* A fifth SSRC finds no slot and is not counted. */
    for (int i = 0; i < 10; i += 2)
        qstats_rtp(&q, 0xE, (uint16_t)i, 0, 0, 0);
    struct qstats_interval qi;
    qstats_interval(&q, &qi);
    assert_int_equal(qi.expected, 50 + 30 + 1 + 1);
    assert_int_equal(qi.lost, 1 + 2);
}

/* RFC 3550 6.4.1 by hand: J += (|D| - J) / 16 with D in timestamp units. */
static void test_jitter(void **state)
{
    (void)state;
    struct qstats q;
    memset(&q, 0, sizeof q);
    const int delay_ms[] = {0, 5, 0, 10, 2, 2};
    double j = 0;
    for (int i = 0; i < 6; i++) {
        qstats_rtp(&q, 3, (uint16_t)i, 4294966000u + 960u * (uint32_t)i, 48000, /* ts wraps */
                   1000 * MS + (int64_t)i * 20 * MS + delay_ms[i] * MS);
        if (i) {
            double d = (delay_ms[i] - delay_ms[i - 1]) * 48.0;
            j += (fabs(d) - j) / 16.0;
        }
    }
    struct qstats_interval qi;
    qstats_interval(&q, &qi);
    assert_true(fabs(qi.jitter_ms - j / 48.0) < 1e-6);
    assert_true(qi.jitter_ms > 0.5 && qi.jitter_ms < 2.0);
    /* A video stream (clock 0) keeps no jitter and does not replace the audio's. */
    qstats_rtp(&q, 4, 1, 0, 0, 0);
    qstats_rtp(&q, 4, 2, 90000, 0, 999 * MS);
    qstats_interval(&q, &qi);
    assert_true(fabs(qi.jitter_ms - j / 48.0) < 1e-6);
}

static int rr_with(uint8_t *buf, size_t cap, uint32_t ssrc, uint32_t lsr, uint32_t dlsr)
{
    rtcp_rb_t rb = {.ssrc = ssrc, .lsr = lsr, .dlsr = dlsr};
    return rtcp_build_rr(buf, cap, 0x1234, &rb, 1);
}

static void test_rtt(void **state)
{
    (void)state;
    struct qstats q;
    memset(&q, 0, sizeof q);
    uint8_t buf[256];
    uint64_t sr_ntp = rtcp_ntp_from_unix_us(1700000000000000ull);
    uint32_t lsr = rtcp_ntp_mid32(sr_ntp);
    /* The peer held our SR 100 ms; it reached us 130 ms after we sent it: 30 ms round trip. */
    uint32_t dlsr = rtcp_dlsr_from_us(100000);
    uint32_t now = rtcp_ntp_mid32(rtcp_ntp_from_unix_us(1700000000000000ull + 130000));
    /* A block about another SSRC, or without an SR echoed, says nothing. */
    int n = rr_with(buf, sizeof buf, 0x9999, lsr, dlsr);
    assert_int_equal(qstats_rtcp(&q, buf, (size_t)n, 0x5555, now), 0);
    n = rr_with(buf, sizeof buf, 0x5555, 0, 0);
    assert_int_equal(qstats_rtcp(&q, buf, (size_t)n, 0x5555, now), 0);
    struct qstats_interval qi;
    qstats_interval(&q, &qi);
    assert_int_equal(qi.rtt_ms, -1);
    n = rr_with(buf, sizeof buf, 0x5555, lsr, dlsr);
    assert_int_equal(qstats_rtcp(&q, buf, (size_t)n, 0x5555, now), 0);
    qstats_interval(&q, &qi);
    assert_in_range(qi.rtt_ms, 29, 31);
    /* In an SR's blocks too (a peer that also sends), and after a PLI in the compound. */
    rtcp_rb_t rb = {.ssrc = 0x5555, .lsr = lsr, .dlsr = rtcp_dlsr_from_us(50000)};
    rtcp_sender_info_t si = {.ssrc = 0x1234};
    n = rtcp_build_pli(buf, sizeof buf, 0x1234, 0x5555);
    n += rtcp_build_sr(buf + n, sizeof buf - (size_t)n, &si, &rb, 1);
    assert_int_equal(qstats_rtcp(&q, buf, (size_t)n, 0x5555, now), 0);
    qstats_interval(&q, &qi);
    assert_in_range(qi.rtt_ms, 79, 81);
    /* Malformed: reported, the last round trip kept. */
    buf[0] = 0x40;
    assert_true(qstats_rtcp(&q, buf, (size_t)n, 0x5555, now) < 0);
    qstats_interval(&q, &qi);
    assert_in_range(qi.rtt_ms, 79, 81);
}

static void test_bytes(void **state)
{
    (void)state;
    struct qstats q;
    memset(&q, 0, sizeof q);
    qstats_received(&q, 100);
    qstats_received(&q, 60);
    qstats_sent(&q, 1200);
    qstats_sent_audio(&q, 80);
    struct qstats_interval qi;
    qstats_interval(&q, &qi);
    assert_int_equal(qi.bytes_in, 160);
    assert_int_equal(qi.pkts_in, 2);
    assert_int_equal(qi.bytes_out, 1200);
    assert_int_equal(qi.pkts_out, 1);
    assert_int_equal(q.audio_pkts_out, 1);
    assert_int_equal(q.audio_octets_out, 80);
    qstats_sent(&q, 10);
    qstats_interval(&q, &qi);
    assert_int_equal(qi.bytes_in, 0);
    assert_int_equal(qi.bytes_out, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_loss),
        cmocka_unit_test(test_gaps_and_intervals),
        cmocka_unit_test(test_reorder_and_duplicates),
        cmocka_unit_test(test_restart_and_stray),
        cmocka_unit_test(test_streams_add_up),
        cmocka_unit_test(test_jitter),
        cmocka_unit_test(test_rtt),
        cmocka_unit_test(test_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
