/* Unit tests for media/mixer: RFC 6464 level conversions, talker selection (K loudest,
 * hysteresis against flapping, hold time, mute, the activity floor), dominant speaker
 * switching only after its threshold, mix-minus arithmetic, and the soft limiter: sums of
 * full-scale signals stay inside int16 with every sample's sign kept, and quiet signals pass
 * bit for bit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "media/mixer.h"

#define MS 1000000LL
#define CEIL 29196 /* the limiter ceiling, -1 dBFS, rounded up */

static struct mixer_sel_cfg sel_cfg(int k)
{
    return (struct mixer_sel_cfg){ .k = k, .hold_ns = 600 * MS, .hyst_ratio = mixer_db_ratio(6.0f),
                                   .floor_power = mixer_level_power(60) };
}

static float dbov(float db) /* a power from dBov (negative) */
{
    return powf(10.0f, db / 10.0f);
}

static void test_levels(void **state)
{
    (void)state;
    assert_true(fabsf(mixer_level_power(0) - 1.0f) < 1e-6f);
    assert_true(fabsf(mixer_level_power(10) - 0.1f) < 1e-7f);
    assert_true(fabsf(mixer_level_power(33) / dbov(-33.0f) - 1.0f) < 1e-5f);
    assert_true(mixer_level_power(127) == 0.0f);
    assert_true(mixer_level_power(-1) == 0.0f);
    for (int l = 0; l < 127; l++)
        assert_int_equal(mixer_power_level(mixer_level_power(l)), l);
    assert_int_equal(mixer_power_level(0.0), 127);
    assert_int_equal(mixer_power_level(1e-20), 127);
    assert_int_equal(mixer_power_level(4.0), 0);

    int16_t pcm[960];
    for (int i = 0; i < 960; i++)
        pcm[i] = i & 1 ? -32767 : 32767; /* full-scale square: 0 dBov */
    assert_int_equal(mixer_pcm_level(pcm, 960), 0);
    for (int i = 0; i < 960; i++) /* sine at 1/10 full scale: RMS -23 dBov */
        pcm[i] = (int16_t)lrint(3277.0 * sin(2 * M_PI * 1000.0 * i / 48000.0));
    assert_int_equal(mixer_pcm_level(pcm, 960), 23);
    memset(pcm, 0, sizeof(pcm));
    assert_int_equal(mixer_pcm_level(pcm, 960), 127);
}

static void test_smoothing(void **state)
{
    (void)state;
    float a = mixer_smooth_coef(20, 40), r = mixer_smooth_coef(20, 200);
    assert_true(a > r);
    float p = 0;
    for (int i = 0; i < 10; i++) /* 200 ms of speech at -20 dBov: most of the way up */
        mixer_smooth(&p, dbov(-20), a, r);
    assert_true(p > dbov(-21));
    mixer_smooth(&p, 0.0f, a, r); /* one silent frame costs well under 1 dB */
    assert_true(p > dbov(-21.5));
}

static int count_talkers(const struct mixer_part *p, int n)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += p[i].talker;
    return c;
}

static void test_select_k_loudest(void **state)
{
    (void)state;
    struct mixer_sel_cfg c = sel_cfg(3);
    struct mixer_part p[10] = { 0 };
    const float db[10] = { -40, -25, -70, -30, -10, -50, -127, -20, -35, -45 };
    for (int i = 0; i < 10; i++)
        p[i] = (struct mixer_part){ .power = dbov(db[i]), .present = true };
    int t[3];
    int n = mixer_select(&c, p, 10, 0, t);
    assert_int_equal(n, 3);
    assert_int_equal(count_talkers(p, 10), 3);
    assert_true(p[4].talker && p[7].talker && p[1].talker);

    /* below the floor nobody is chosen, even with free places */
    struct mixer_part q[4] = { { .power = dbov(-65), .present = true },
                               { .power = 0, .present = true },
                               { .power = dbov(-20), .present = false } };
    assert_int_equal(mixer_select(&c, q, 4, 0, t), 0);
    assert_int_equal(count_talkers(q, 4), 0);
}

static void test_hysteresis_no_flapping(void **state)
{
    (void)state;
    struct mixer_sel_cfg c = sel_cfg(1);
    struct mixer_part p[2] = { { .power = dbov(-20), .present = true },
                               { .power = dbov(-22), .present = true } };
    int t[1], switches = 0, first = -1;
    /* two similar voices, each louder half the time, up to 3.5 dB apart, for 20 s */
    for (int i = 0; i < 1000; i++) {
        p[0].power = dbov(i % 7 < 3 ? -19.0f : -23.0f);
        p[1].power = dbov(i % 5 < 2 ? -19.5f : -22.0f);
        assert_int_equal(mixer_select(&c, p, 2, i * 20 * MS, t), 1);
        if (first < 0)
            first = t[0];
        switches += t[0] != first;
    }
    assert_int_equal(first, 0);
    assert_int_equal(switches, 0);
    /* a clearly louder voice does take over */
    p[1].power = dbov(-12.0f);
    mixer_select(&c, p, 2, 1000 * 20 * MS, t);
    assert_int_equal(t[0], 1);
    assert_false(p[0].talker);
}

static void test_hold_time(void **state)
{
    (void)state;
    struct mixer_sel_cfg c = sel_cfg(1);
    struct mixer_part p[2] = { { .power = dbov(-30), .present = true },
                               { .power = 0, .present = true } };
    int t[1];
    assert_int_equal(mixer_select(&c, p, 2, 0, t), 1);
    assert_int_equal(t[0], 0);
    p[1].power = dbov(-5); /* far louder, 100 ms later: must wait for the hold */
    for (int64_t now = 100 * MS; now < 600 * MS; now += 20 * MS) {
        mixer_select(&c, p, 2, now, t);
        assert_int_equal(t[0], 0);
    }
    mixer_select(&c, p, 2, 600 * MS, t);
    assert_int_equal(t[0], 1);
    assert_int_equal(p[1].since_ns, 600 * MS);

    /* a talker that falls silent stays for its hold, then leaves */
    p[0].power = 0;
    p[1].power = 0;
    mixer_select(&c, p, 2, 1000 * MS, t);
    assert_true(p[1].talker);
    assert_int_equal(mixer_select(&c, p, 2, 1200 * MS, t), 0);
    assert_false(p[1].talker);
}

static void test_mute_excludes(void **state)
{
    (void)state;
    struct mixer_sel_cfg c = sel_cfg(2);
    struct mixer_part p[3] = { { .power = dbov(-5), .present = true, .muted = true },
                               { .power = dbov(-20), .present = true },
                               { .power = dbov(-30), .present = true } };
    int t[2];
    assert_int_equal(mixer_select(&c, p, 3, 0, t), 2);
    assert_false(p[0].talker);
    assert_true(p[1].talker && p[2].talker);
    /* muting a talker takes it out at once, hold or not */
    p[1].muted = true;
    assert_int_equal(mixer_select(&c, p, 3, 20 * MS, t), 1);
    assert_false(p[1].talker);
    assert_int_equal(t[0], 2);
    /* and a participant who leaves, too */
    p[2].present = false;
    assert_int_equal(mixer_select(&c, p, 3, 40 * MS, t), 0);
}

static void test_dominant_switch_threshold(void **state)
{
    (void)state;
    struct mixer_dom d;
    mixer_dom_init(&d);
    float floor = mixer_level_power(60);
    struct mixer_part p[3] = { { .power = dbov(-20), .present = true },
                               { .power = dbov(-30), .present = true },
                               { .power = 0, .present = true } };
    const int64_t sw = 1500 * MS;
    assert_true(mixer_dom_update(&d, p, 3, floor, sw, 0));
    assert_int_equal(d.current, 0); /* the first speaker needs no wait */

    /* 1 leads for 1 s, then 0 again for a moment: no switch, and the clock restarts */
    p[1].power = dbov(-10);
    int64_t t = 20 * MS;
    for (; t < 1020 * MS; t += 20 * MS)
        assert_false(mixer_dom_update(&d, p, 3, floor, sw, t));
    p[0].power = dbov(-5);
    assert_false(mixer_dom_update(&d, p, 3, floor, sw, t));
    p[0].power = dbov(-20);
    t += 20 * MS;
    int64_t lead_from = t;
    bool changed = false;
    for (; !changed && t < 5000 * MS; t += 20 * MS)
        changed = mixer_dom_update(&d, p, 3, floor, sw, t);
    assert_true(changed);
    assert_int_equal(d.current, 1);
    assert_int_equal(t - 20 * MS - lead_from, sw);

    /* silence keeps the last speaker; leaving drops it */
    p[0].power = p[1].power = 0;
    assert_false(mixer_dom_update(&d, p, 3, floor, sw, t));
    assert_int_equal(d.current, 1);
    p[1].present = false;
    assert_true(mixer_dom_update(&d, p, 3, floor, sw, t + 20 * MS));
    assert_int_equal(d.current, -1);
}

static void test_mix_minus(void **state)
{
    (void)state;
    int16_t a[8] = { 1000, -2000, 32767, -32768, 0, 5, -5, 100 };
    int16_t b[8] = { 32767, 32767, 32767, -32768, 1, 2, 3, 4 };
    int32_t mix[8] = { 0 }, own_a[8], own_b[8], out[8];
    assert_int_equal(mixer_gain_q12(0.0f), 4096);
    assert_int_equal(mixer_gain_q12(-6.0206f), 2048);
    assert_int_equal(mixer_gain_q12(100.0f), mixer_gain_q12(20.0f));
    mixer_add(mix, own_a, a, 4096, 8);
    mixer_add(mix, own_b, b, mixer_gain_q12(-6.0206f), 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(own_a[i], a[i]);
        assert_true(abs(own_b[i] * 2 - b[i]) <= 1);
        assert_int_equal(mix[i], own_a[i] + own_b[i]);
    }
    mixer_minus(out, mix, own_b, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(out[i], a[i]); /* exactly the others, before limiting */
}

static void test_limiter_overload(void **state)
{
    (void)state;
    struct mixer_limiter l;
    mixer_limiter_init(&l, 48000);
    const double f[4] = { 300, 500, 700, 1100 };
    int32_t in[960];
    int16_t out[960];
    size_t limited = 0;
    int16_t prev = 0;
    for (int fr = 0; fr < 50; fr++) {
        for (int i = 0; i < 960; i++) {
            double s = 0;
            int n = fr * 960 + i;
            for (int k = 0; k < 4; k++) /* four full-scale voices */
                s += 32767.0 * sin(2 * M_PI * f[k] * n / 48000.0);
            in[i] = (int32_t)lrint(s);
        }
        limited += mixer_limit(&l, in, out, 960);
        for (int i = 0; i < 960; i++) {
            assert_true(out[i] <= CEIL && out[i] >= -CEIL);
            /* a wrap would flip the sign of a large sample */
            if (in[i] > 0)
                assert_true(out[i] >= 0);
            if (in[i] < 0)
                assert_true(out[i] <= 0);
            /* and jump: the sum moves at most ~0.4 of full scale per sample */
            assert_true(abs(out[i] - prev) < 14000);
            prev = out[i];
        }
    }
    assert_true(limited > 40000);
    assert_true(l.gain < 0.5f);

    /* a step from silence to a huge value in the middle of a frame */
    mixer_limiter_init(&l, 48000);
    for (int i = 0; i < 960; i++)
        in[i] = i < 500 ? 100 : 1000000;
    mixer_limit(&l, in, out, 960);
    for (int i = 0; i < 960; i++) {
        assert_true(out[i] > 0 && out[i] <= CEIL);
        if (i < 432) /* untouched until the 1 ms block before the step's block */
            assert_int_equal(out[i], 100);
    }
    /* and at a frame boundary, where there is no lookahead: still bounded */
    for (int i = 0; i < 960; i++)
        in[i] = i < 959 ? 0 : 100;
    mixer_limit(&l, in, out, 960);
    for (int i = 0; i < 960; i++)
        in[i] = -2000000;
    mixer_limit(&l, in, out, 960);
    for (int i = 0; i < 960; i++)
        assert_true(out[i] < 0 && out[i] >= -CEIL);
}

static void test_limiter_quiet_unchanged(void **state)
{
    (void)state;
    struct mixer_limiter l;
    mixer_limiter_init(&l, 16000);
    int32_t in[320];
    int16_t out[320];
    for (int fr = 0; fr < 10; fr++) {
        for (int i = 0; i < 320; i++)
            in[i] = (int32_t)lrint(20000.0 * sin(2 * M_PI * 440.0 * (fr * 320 + i) / 16000.0));
        assert_int_equal(mixer_limit(&l, in, out, 320), 0);
        for (int i = 0; i < 320; i++)
            assert_int_equal(out[i], in[i]);
    }
    /* after an overload the gain comes back to exactly 1 within a second */
    for (int i = 0; i < 320; i++)
        in[i] = 200000;
    assert_int_equal(mixer_limit(&l, in, out, 320), 320);
    for (int i = 0; i < 320; i++)
        in[i] = 1000;
    for (int fr = 0; fr < 50; fr++)
        mixer_limit(&l, in, out, 320);
    assert_true(l.gain == 1.0f);
    assert_int_equal(mixer_limit(&l, in, out, 320), 0);
    assert_int_equal(out[0], 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_smoothing),
        cmocka_unit_test(test_select_k_loudest),
        cmocka_unit_test(test_hysteresis_no_flapping),
        cmocka_unit_test(test_hold_time),
        cmocka_unit_test(test_mute_excludes),
        cmocka_unit_test(test_dominant_switch_threshold),
        cmocka_unit_test(test_mix_minus),
        cmocka_unit_test(test_limiter_overload),
        cmocka_unit_test(test_limiter_quiet_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
