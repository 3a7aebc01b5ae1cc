/* Unit tests for media/jitter: in-order play, reordering, loss (FEC, then PLC, then quiet),
 * duplicates, late packets, sequence and timestamp wrap-around, DTX gaps, timeline restarts,
 * overflow, and the adaptive target: it grows with jitter, stays bounded, and shrinks back.
 * Time is simulated: packets are "sent" every 20 ms and arrive after a chosen delay. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "media/jitter.h"

#define MS      1000000LL
#define TICKS   960u
#define TS0     12345u

static struct jb *new_jb(int min_ms, int max_ms)
{
    struct jb_cfg c = { .min_ms = min_ms, .max_ms = max_ms, .frame_ms = 20, .clock_hz = 48000 };
    struct jb *jb = jb_new(&c);
    assert_non_null(jb);
    return jb;
}

/* The payload names its sequence number, so every frame handed out can be checked. */
static int put(struct jb *jb, uint16_t seq, uint32_t ts, int64_t now)
{
    uint8_t p[10] = { (uint8_t)(seq >> 8), (uint8_t)seq, 0xA5 };
    int rc = jb_put(jb, seq, ts, p, sizeof(p), seq & 0x7f, now);
    assert_true(jb_check(jb));
    return rc;
}

static enum jb_kind get(struct jb *jb, int64_t now, struct jb_frame *f)
{
    enum jb_kind k = jb_get(jb, now, f);
    assert_true(jb_check(jb));
    assert_int_equal(k, f->kind);
    if (k == JB_FRAME || k == JB_FEC) {
        assert_int_equal(f->len, 10);
        assert_int_equal((f->data[0] << 8) | f->data[1], f->seq);
        assert_int_equal(f->tag, f->seq & 0x7f);
    } else {
        assert_null(f->data);
    }
    return k;
}

/* Packet i is sent at i * 20 ms with timestamp TS0 + i * 960. */
static void put_i(struct jb *jb, int i, int64_t now)
{
    assert_int_equal(put(jb, (uint16_t)(1000 + i), TS0 + (uint32_t)i * TICKS, now), 0);
}

static void test_in_order_no_buffering(void **state)
{
    (void)state;
    struct jb *jb = new_jb(20, 200);
    struct jb_frame f;
    for (int i = 0; i < 100; i++) {
        put_i(jb, i, i * 20 * MS);
        assert_int_equal(get(jb, i * 20 * MS, &f), JB_FRAME);
        assert_int_equal(f.seq, 1000 + i);
        assert_int_equal(f.ts, TS0 + (uint32_t)i * TICKS);
    }
    struct jb_stats st;
    jb_get_stats(jb, &st);
    assert_int_equal(st.frames, 100);
    assert_int_equal(st.late + st.duplicate + st.plc + st.fec + st.overflow + st.shrunk, 0);
    jb_free(jb);
}

static void test_in_order_target_delay(void **state)
{
    (void)state;
    struct jb *jb = new_jb(60, 200); /* three frames */
    struct jb_frame f;
    assert_int_equal(get(jb, 0, &f), JB_EMPTY); /* nothing yet */
    for (int i = 0; i < 50; i++) {
        put_i(jb, i, i * 20 * MS);
        enum jb_kind k = get(jb, i * 20 * MS, &f);
        if (i < 2) {
            assert_int_equal(k, JB_EMPTY);
        } else {
            assert_int_equal(k, JB_FRAME);
            assert_int_equal(f.seq, 1000 + i - 2);
        }
    }
    assert_int_equal(jb_target_ms(jb), 60);
    assert_int_equal(jb_depth_ms(jb), 40); /* two waiting after the get */
    jb_free(jb);
}

static void test_reorder(void **state)
{
    (void)state;
    struct jb *jb = new_jb(40, 200);
    struct jb_frame f;
    int expect = 0;
    for (int i = 0; i < 40; i++) {
        /* 10 and 11 swap places; 20 and 21 arrive together, reversed: each packet is at
         * most 20 ms late, within the 40 ms target */
        if (i == 10)
            put_i(jb, 11, i * 20 * MS);
        else if (i == 11)
            put_i(jb, 10, i * 20 * MS);
        else if (i == 21)
            put_i(jb, 21, i * 20 * MS), put_i(jb, 20, i * 20 * MS);
        else if (i != 20)
            put_i(jb, i, i * 20 * MS);
        enum jb_kind k = get(jb, i * 20 * MS, &f);
        if (i == 0)
            continue;
        assert_int_equal(k, JB_FRAME);
        assert_int_equal(f.seq, 1000 + expect++);
    }
    struct jb_stats st;
    jb_get_stats(jb, &st);
    assert_int_equal(st.late, 0);
    assert_int_equal(st.plc + st.fec, 0);
    jb_free(jb);
}

static void test_loss_fec_then_plc(void **state)
{
    (void)state;
    struct jb *jb = new_jb(40, 200); /* two frames: room to use the next packet's FEC */
    struct jb_frame f;
    enum jb_kind seen[120];
    uint16_t seqs[120];
    for (int i = 0; i < 120; i++) {
        bool lost = i == 10 || i == 20 || i == 21 || (i >= 40 && i < 52);
        if (!lost)
            put_i(jb, i, i * 20 * MS);
        seen[i] = get(jb, i * 20 * MS, &f);
        seqs[i] = f.seq;
    }
    /* tick i plays frame i - 1 */
    assert_int_equal(seen[10], JB_FRAME);
    assert_int_equal(seen[11], JB_FEC); /* frame 10 from packet 11's FEC */
    assert_int_equal(seqs[11], 1011);
    assert_int_equal(seen[12], JB_FRAME);
    assert_int_equal(seqs[12], 1011);
    /* 20 and 21 lost: hold (PLC) while nothing newer exists, then FEC for 21 */
    assert_int_equal(seen[21], JB_PLC);
    assert_int_equal(seen[22], JB_FEC);
    assert_int_equal(seqs[22], 1022);
    assert_int_equal(seen[23], JB_FRAME);
    assert_int_equal(seqs[23], 1022);
    /* a long loss: PLC for JB_MAX_PLC frames, then quiet, then FEC and back on time */
    for (int i = 41; i < 41 + JB_MAX_PLC; i++)
        assert_int_equal(seen[i], JB_PLC);
    for (int i = 41 + JB_MAX_PLC; i < 52; i++)
        assert_int_equal(seen[i], JB_EMPTY);
    assert_int_equal(seen[52], JB_FEC);
    assert_int_equal(seen[53], JB_FRAME);
    assert_int_equal(seqs[53], 1052);
    assert_int_equal(seen[119], JB_FRAME);
    assert_int_equal(seqs[119], 1118);
    jb_free(jb);
}

static void test_duplicates_and_late(void **state)
{
    (void)state;
    struct jb *jb = new_jb(40, 200);
    struct jb_frame f;
    for (int i = 0; i < 20; i++) {
        if (i != 8)
            put_i(jb, i, i * 20 * MS);
        if (i == 5)
            assert_int_equal(put(jb, 1005, TS0 + 5 * TICKS, i * 20 * MS), JB_ERR_DUPLICATE);
        if (i == 11) { /* 8 was due at tick 9 and concealed with 9's FEC */
            assert_int_equal(put(jb, 1008, TS0 + 8 * TICKS, i * 20 * MS), JB_ERR_LATE);
            assert_int_equal(jb_target_ms(jb), 60); /* lateness deepens the buffer */
        }
        if (i == 12) /* a copy of an already played packet is late too */
            assert_int_equal(put(jb, 1003, TS0 + 3 * TICKS, i * 20 * MS), JB_ERR_LATE);
        get(jb, i * 20 * MS, &f);
    }
    struct jb_stats st;
    jb_get_stats(jb, &st);
    assert_int_equal(st.duplicate, 1);
    assert_int_equal(st.late, 2);
    assert_int_equal(st.fec, 1);
    assert_true(jb_target_ms(jb) >= 60 && jb_target_ms(jb) <= 200);
    jb_free(jb);
}

static void test_wraparound(void **state)
{
    (void)state;
    struct jb *jb = new_jb(40, 200);
    struct jb_frame f;
    uint16_t seq0 = 65530;
    uint32_t ts0 = 0xFFFFFFFFu - 5 * TICKS + 100;
    int frames = 0, fec = 0;
    uint16_t last = 0;
    for (int i = 0; i < 20; i++) {
        if (i != 7) /* lost right after both counters wrapped */
            assert_int_equal(put(jb, (uint16_t)(seq0 + i), ts0 + (uint32_t)i * TICKS, i * 20 * MS), 0);
        enum jb_kind k = get(jb, i * 20 * MS, &f);
        if (k == JB_FRAME) {
            if (frames++)
                assert_int_equal((uint16_t)(f.seq - last), f.seq == (uint16_t)(seq0 + 8) ? 2 : 1);
            last = f.seq;
        } else if (k == JB_FEC) {
            fec++;
            assert_int_equal(f.seq, (uint16_t)(seq0 + 8));
        }
    }
    assert_int_equal(frames, 18);
    assert_int_equal(fec, 1);
    assert_int_equal(last, (uint16_t)(seq0 + 18));
    jb_free(jb);
}

/* DTX: the sender stops for 400 ms; sequence numbers stay contiguous, timestamps jump. That
 * gap is not a loss: no FEC, and the next spurt plays at the target delay, not later. */
static void test_dtx_gap(void **state)
{
    (void)state;
    struct jb *jb = new_jb(40, 200);
    struct jb_frame f;
    int fec = 0, first_after = -1;
    for (int i = 0; i < 80; i++) {
        bool silent = i >= 20 && i < 40;
        if (!silent) {
            uint16_t seq = (uint16_t)(i < 20 ? i : i - 20);
            assert_int_equal(put(jb, seq, TS0 + (uint32_t)i * TICKS, i * 20 * MS), 0);
        }
        enum jb_kind k = get(jb, i * 20 * MS, &f);
        fec += k == JB_FEC;
        if (k == JB_FRAME && f.seq == 20 && first_after < 0)
            first_after = i;
    }
    assert_int_equal(fec, 0);
    assert_int_equal(first_after, 41); /* arrived at tick 40, one frame of delay as before */
    jb_free(jb);
}

/* Arrival delays from a fixed-seed generator, uniform in [0, spread_ms]. Packets are
 * delivered in arrival order on a 1 ms clock; a get every 20 ms. Returns the highest target
 * seen; checks that frames come out in order. */
struct net {
    struct jb *jb;
    int next;             /* next packet to send */
    int64_t arrive[4096]; /* arrival time of each packet, ms */
    int played_last;      /* seq of the last frame out, -1 none */
    unsigned rng;
    int64_t waited_ms;    /* over the frames played in the last run: total and least time */
    int64_t waited_min;   /* from arrival to play, ms */
    int waited_n;
};

static unsigned rnd(struct net *n)
{
    n->rng = n->rng * 1103515245u + 12345u;
    return (n->rng >> 16) & 0x7fff;
}

static int run_net(struct net *n, int packets, int spread_ms, int base_delay_ms)
{
    int max_target = 0;
    int first = n->next;
    for (int i = first; i < first + packets; i++)
        n->arrive[i % 4096] = (int64_t)i * 20 + base_delay_ms +
                              (spread_ms ? (int64_t)(rnd(n) % (unsigned)(spread_ms + 1)) : 0);
    int64_t t0 = (int64_t)first * 20, t1 = (int64_t)(first + packets) * 20;
    n->waited_ms = n->waited_n = 0;
    n->waited_min = INT64_MAX;
    for (int64_t t = t0; t < t1; t++) {
        /* packet i arrives within [i * 20 + base, i * 20 + base + spread] */
        int64_t lo = (t - base_delay_ms - spread_ms) / 20, hi = (t - base_delay_ms) / 20;
        for (int64_t i = lo > first ? lo : first; i <= hi && i < first + packets; i++)
            if (n->arrive[i % 4096] == t)
                (void)put(n->jb, (uint16_t)i, TS0 + (uint32_t)i * TICKS, t * MS);
        if (t % 20 == 0) {
            struct jb_frame f;
            if (get(n->jb, t * MS, &f) == JB_FRAME) {
                if (n->played_last >= 0)
                    assert_true((int16_t)(f.seq - (uint16_t)n->played_last) > 0);
                n->played_last = f.seq;
                int64_t w = t - n->arrive[f.seq % 4096];
                n->waited_ms += w;
                n->waited_min = w < n->waited_min ? w : n->waited_min;
                n->waited_n++;
            }
            if (jb_target_ms(n->jb) > max_target)
                max_target = jb_target_ms(n->jb);
        }
    }
    n->next = first + packets;
    return max_target;
}

static void test_target_follows_jitter(void **state)
{
    (void)state;
    struct net *n = calloc(1, sizeof(*n));
    assert_non_null(n);
    n->jb = new_jb(20, 200);
    n->played_last = -1;
    n->rng = 42;

    run_net(n, 200, 0, 5);
    assert_int_equal(jb_target_ms(n->jb), 20);
    assert_true(jb_jitter_ms(n->jb) < 1.0);

    struct jb_stats before, after;
    jb_get_stats(n->jb, &before);
    int peak = run_net(n, 500, 80, 5); /* 0..80 ms of jitter */
    jb_get_stats(n->jb, &after);
    assert_true(jb_jitter_ms(n->jb) > 10.0);
    assert_true(peak >= 100);
    assert_true(peak <= 200);
    /* once deep enough, it stops losing packets to lateness */
    uint64_t late_a = after.late - before.late;
    jb_get_stats(n->jb, &before);
    run_net(n, 500, 80, 5);
    jb_get_stats(n->jb, &after);
    assert_true(after.late - before.late < late_a);
    assert_true(after.late - before.late <= 10);

    /* extreme jitter: bounded by max_ms */
    peak = run_net(n, 300, 1000, 5);
    assert_int_equal(peak, 200);

    /* a calm network again: the target and the real depth come back down */
    run_net(n, 3000, 0, 5);
    assert_int_equal(jb_target_ms(n->jb), 20);
    assert_true(jb_depth_ms(n->jb) <= 40);
    jb_get_stats(n->jb, &after);
    assert_true(after.shrunk > 0);
    jb_free(n->jb);
    free(n);
}

/* The target counts frames, but how long a frame really waits also depends on where in the
 * tick period its packet lands. After a burst of heavy jitter has deepened the buffer, the
 * network calms to ~3-4 ms of jitter, which still asks for a two-frame target. Packets
 * landing 0..10 ms after a tick then wait 30..40 ms; a frame less still leaves them 10 ms,
 * so the buffer plays one frame earlier and loses nothing to lateness. Packets landing
 * 12..22 ms after a tick (just before the next one) have no such spare time: they keep
 * their delay. */
static void test_delay_follows_arrival_phase(void **state)
{
    (void)state;
    for (int phase = 0; phase < 2; phase++) {
        struct net *n = calloc(1, sizeof(*n));
        assert_non_null(n);
        n->jb = new_jb(20, 200);
        n->played_last = -1;
        n->rng = 7;
        int base = phase == 0 ? 0 : 12;
        run_net(n, 300, 60, base);
        run_net(n, 1000, 10, base);
        assert_int_equal(jb_target_ms(n->jb), 40); /* the jitter left asks for two frames */
        struct jb_stats before, after;
        jb_get_stats(n->jb, &before);
        run_net(n, 250, 10, base); /* settled: how long frames wait now */
        jb_get_stats(n->jb, &after);
        double mean = (double)n->waited_ms / n->waited_n;
        if (phase == 0) {
            assert_true(before.shrunk >= 1);
            assert_true(mean < 20.0);
            assert_true(n->waited_min >= 9);
        } else {
            assert_true(mean > 20.0);
            assert_true(n->waited_min >= 18);
        }
        assert_int_equal(after.late, before.late); /* nothing lost to lateness once settled */
        assert_int_equal(after.shrunk, before.shrunk); /* and no more skipping */
        jb_free(n->jb);
        free(n);
    }
}

static void test_timeline_restart(void **state)
{
    (void)state;
    struct jb *jb = new_jb(40, 200);
    struct jb_frame f;
    int i;
    for (i = 0; i < 20; i++) {
        put_i(jb, i, i * 20 * MS);
        get(jb, i * 20 * MS, &f);
    }
    /* the sender restarts with timestamps far behind: a new timeline at once */
    for (int j = 0; j < 10; j++, i++) {
        assert_int_equal(put(jb, (uint16_t)(5000 + j), TS0 - 1000000u + (uint32_t)j * TICKS, i * 20 * MS), 0);
        enum jb_kind k = get(jb, i * 20 * MS, &f);
        if (j >= 1) {
            assert_int_equal(k, JB_FRAME);
            assert_int_equal(f.seq, 5000 + j - 1);
        }
    }
    struct jb_stats st;
    jb_get_stats(jb, &st);
    assert_int_equal(st.resets, 1);
    assert_int_equal(st.late, 1);
    jb_free(jb);
}

static void test_overflow_and_errors(void **state)
{
    (void)state;
    struct jb *jb = new_jb(40, 200);
    struct jb_frame f;
    uint8_t big[JB_MAX_PAYLOAD + 1] = { 0 };
    assert_int_equal(jb_put(jb, 1, 0, big, sizeof(big), 0, 0), JB_ERR_TOO_BIG);
    assert_int_equal(jb_put(jb, 1, 0, big, 0, 0, 0), JB_ERR_ARG);
    /* a stalled network delivers 100 packets at once: the oldest make room */
    for (int i = 0; i < 100; i++)
        put_i(jb, i, 0);
    struct jb_stats st;
    jb_get_stats(jb, &st);
    assert_int_equal(st.too_big, 1);
    assert_true(st.overflow > 50);
    int last = -1, frames = 0;
    for (int t = 0; t < 100; t++) {
        if (get(jb, t * 20 * MS, &f) == JB_FRAME) {
            assert_true(f.seq > last);
            last = f.seq;
            frames++;
        }
    }
    assert_int_equal(last, 1099);
    assert_int_equal((uint64_t)frames + st.overflow, 100);
    jb_free(jb);

    struct jb_cfg bad = { .min_ms = 100, .max_ms = 50, .frame_ms = 20, .clock_hz = 48000 };
    assert_null(jb_new(&bad));
    bad = (struct jb_cfg){ .min_ms = 0, .max_ms = 5000, .frame_ms = 20, .clock_hz = 48000 };
    assert_null(jb_new(&bad));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_no_buffering),
        cmocka_unit_test(test_in_order_target_delay),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_loss_fec_then_plc),
        cmocka_unit_test(test_duplicates_and_late),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_dtx_gap),
        cmocka_unit_test(test_target_follows_jitter),
        cmocka_unit_test(test_delay_follows_arrival_phase),
        cmocka_unit_test(test_timeline_restart),
        cmocka_unit_test(test_overflow_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
