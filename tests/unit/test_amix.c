/* Unit tests for media/amix with real Opus: each participant encodes its own sine (or
 * silence) with its own encoder and RFC 6464 level; every participant's output is decoded by
 * a decoder of its own, and a Goertzel filter over the last 0.5 s says which tones it holds.
 * Checked: every receiver hears every talker but itself; silent participants are never
 * selected nor decoded; a lost packet is recovered by FEC; mute and gain; 16 kHz mixing;
 * full-scale overload is limited, never wrapped; DTX; error codes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <opus.h>

#include "media/amix.h"

#define MS        1000000LL
#define MAXP      8
#define MAX_TICKS 400

struct sender {
    OpusEncoder *enc;
    double freq, amp;      /* amp 0: sends encoded silence with level 127 */
    uint16_t seq;
    uint32_t ts;
    long n;                /* samples generated */
};

struct conf {
    struct amix *m;
    int rate;              /* mixing rate */
    int n;
    int slot[MAXP];
    struct sender s[MAXP];
    OpusDecoder *dec[MAXP];  /* one per receiver, following its stream */
    int16_t *heard[MAXP];    /* everything each receiver decoded */
    size_t heard_len[MAXP];
    int ticks;
    int drop_slot, drop_tick; /* a packet lost on the way in */
    bool check_pcm;           /* every tick: the encoded PCM never nears a wrap */
    int ever_talker[MAXP];    /* ticks each was a talker */
};

static void conf_init(struct conf *c, const struct amix_cfg *cfg, int n, const double *freq,
                      const double *amp)
{
    memset(c, 0, sizeof(*c));
    c->m = amix_new(cfg);
    assert_non_null(c->m);
    c->rate = cfg->sample_rate;
    c->n = n;
    c->drop_slot = -1;
    for (int i = 0; i < n; i++) {
        int err;
        c->slot[i] = amix_add(c->m);
        assert_int_equal(c->slot[i], i);
        c->s[i] = (struct sender){ .freq = freq[i], .amp = amp[i], .seq = (uint16_t)(1000 * i),
                                   .ts = 0x10000000u * (uint32_t)i };
        c->s[i].enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
        assert_non_null(c->s[i].enc);
        opus_encoder_ctl(c->s[i].enc, OPUS_SET_BITRATE(32000));
        opus_encoder_ctl(c->s[i].enc, OPUS_SET_COMPLEXITY(5));
        opus_encoder_ctl(c->s[i].enc, OPUS_SET_INBAND_FEC(1));
        opus_encoder_ctl(c->s[i].enc, OPUS_SET_PACKET_LOSS_PERC(10));
        c->dec[i] = opus_decoder_create(c->rate, 1, &err);
        assert_non_null(c->dec[i]);
        c->heard[i] = calloc((size_t)MAX_TICKS * 960, sizeof(int16_t));
        assert_non_null(c->heard[i]);
    }
}

static void conf_free(struct conf *c)
{
    amix_free(c->m);
    for (int i = 0; i < c->n; i++) {
        opus_encoder_destroy(c->s[i].enc);
        opus_decoder_destroy(c->dec[i]);
        free(c->heard[i]);
    }
}

/* RMS of a frame as an RFC 6464 level, as a browser would put in the extension. */
static int level_of(const int16_t *pcm, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)pcm[i] * pcm[i];
    if (sum == 0)
        return 127;
    double l = -10.0 * log10(sum / n / (32768.0 * 32768.0));
    return l > 127 ? 127 : (int)lrint(l);
}

static int sender_packet(struct sender *s, uint8_t *pkt, int *level)
{
    int16_t pcm[960];
    for (int i = 0; i < 960; i++, s->n++)
        pcm[i] = (int16_t)lrint(s->amp * sin(2 * M_PI * s->freq * (double)s->n / 48000.0));
    *level = s->amp > 0 ? level_of(pcm, 960) : 127;
    int len = opus_encode(s->enc, pcm, 960, pkt, AMIX_MAX_PACKET);
    assert_true(len > 0);
    return len;
}

static void check_no_wrap(const int16_t *pcm, size_t n, int limit, int max_step)
{
    for (size_t i = 0; i < n; i++) {
        assert_true(pcm[i] <= limit && pcm[i] >= -limit);
        if (i)
            assert_true(abs(pcm[i] - pcm[i - 1]) < max_step);
    }
}

static void conf_run(struct conf *c, int ticks)
{
    uint8_t pkt[AMIX_MAX_PACKET];
    int frame = c->rate / 50;
    for (int t = 0; t < ticks; t++, c->ticks++) {
        int64_t now = (int64_t)c->ticks * 20 * MS;
        for (int i = 0; i < c->n; i++) {
            int level, len = sender_packet(&c->s[i], pkt, &level);
            if (!(i == c->drop_slot && c->ticks == c->drop_tick))
                assert_int_equal(amix_push(c->m, c->slot[i], c->s[i].seq, c->s[i].ts, level, pkt,
                                           (size_t)len, now + 3 * MS), 0);
            c->s[i].seq++;
            c->s[i].ts += 960;
        }
        amix_tick(c->m, now + 5 * MS);
        for (int i = 0; i < c->n; i++) {
            size_t len;
            uint8_t level;
            bool own;
            const uint8_t *out = amix_output(c->m, c->slot[i], &len, &level, &own);
            bool talker = amix_is_talker(c->m, c->slot[i]);
            assert_int_equal(own, talker);
            c->ever_talker[i] += talker;
            int16_t *dst = c->heard[i] + c->heard_len[i];
            int got = opus_decode(c->dec[i], out, out ? (opus_int32)len : 0, dst, frame, 0);
            assert_int_equal(got, frame);
            c->heard_len[i] += (size_t)frame;
            if (c->check_pcm) {
                size_t n;
                const int16_t *pcm = amix_debug_last_mix(c->m, c->slot[i], &n);
                assert_non_null(pcm);
                assert_int_equal(n, frame);
                check_no_wrap(pcm, n, 29200, 16000); /* the -1 dBFS ceiling */
            }
        }
    }
}

/* Tone power at f over the last 0.5 s a receiver heard, in dB relative to a full-scale sine. */
static double tone_db(const struct conf *c, int r, double f)
{
    size_t n = (size_t)c->rate / 2;
    const int16_t *x = c->heard[r] + c->heard_len[r] - n;
    double w = 2 * M_PI * f / c->rate, k = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i] + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double p = s1 * s1 + s2 * s2 - k * s1 * s2;
    double amp = 2 * sqrt(p > 0 ? p : 0) / (double)n;
    return 20 * log10(amp / 32767.0 + 1e-12);
}

static const double freqs[6] = { 300, 500, 700, 1100, 1300, 1700 };
static const double amps3[6] = { 6000, 5000, 4000, 0, 0, 0 };

/* Receiver r hears talker tones t (talking[t]) and nothing of the others; its own tone
 * stays below own_max dB (codec noise; under heavy limiting, also the limiter's modulation). */
static void check_hearing_own(const struct conf *c, const bool *talking, double own_max)
{
    for (int r = 0; r < c->n; r++) {
        double weakest = 0;
        for (int t = 0; t < c->n; t++) {
            double db = tone_db(c, r, freqs[t]);
            if (talking[t] && t != r) {
                assert_true(db > -30.0); /* -15..-18 dB as sent (-24 with -6 dB gain) */
                if (db < weakest)
                    weakest = db;
            } else if (t != r) {
                assert_true(db < -50.0); /* codec noise only */
            }
        }
        double own = tone_db(c, r, freqs[r]);
        assert_true(weakest - own > 20.0); /* strong margin even for talkers' own residual */
        assert_true(own < own_max);
    }
}

static void check_hearing(const struct conf *c, const bool *talking)
{
    check_hearing_own(c, talking, -50.0);
}

static void test_mix_minus_tones(void **state)
{
    (void)state;
    struct amix_cfg cfg;
    amix_cfg_defaults(&cfg);
    struct conf *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    conf_init(c, &cfg, 6, freqs, amps3);
    conf_run(c, 100);

    const bool talking[6] = { true, true, true, false, false, false };
    check_hearing(c, talking);
    for (int i = 0; i < 6; i++) {
        if (i < 3)
            assert_true(c->ever_talker[i] >= 95); /* selected within a few ticks */
        else
            assert_int_equal(c->ever_talker[i], 0);
    }
    struct amix_stats st;
    amix_get_stats(c->m, &st);
    /* only the three talkers were ever decoded, the rest only consumed */
    assert_int_equal(st.decodes, (uint64_t)(c->ever_talker[0] + c->ever_talker[1] +
                                            c->ever_talker[2]));
    assert_int_equal(st.fec_decodes + st.plc_frames, 0);
    assert_int_equal(st.skipped_frames + st.decodes, 600);
    assert_int_equal(st.encodes, 100 + st.decodes); /* shared + one per talker */
    assert_int_equal(st.late + st.duplicate + st.too_big + st.overflow, 0);
    assert_int_equal(st.limited_samples, 0);

    bool changed;
    assert_int_equal(amix_dominant(c->m, &changed), 0); /* the loudest */
    assert_false(changed);
    /* the shared stream's level is that of three tones together: about -14 dBov */
    uint8_t level;
    size_t len;
    assert_non_null(amix_output(c->m, 5, &len, &level, NULL));
    assert_true(level >= 11 && level <= 17);
    conf_free(c);
    free(c);
}

static void test_fec_recovers_loss(void **state)
{
    (void)state;
    struct amix_cfg cfg;
    amix_cfg_defaults(&cfg);
    cfg.jb_min_ms = 40; /* a frame of slack: time to see the next packet */
    struct conf *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    conf_init(c, &cfg, 6, freqs, amps3);
    c->drop_slot = 0;
    c->drop_tick = 50;
    conf_run(c, 100);
    struct amix_stats st;
    amix_get_stats(c->m, &st);
    assert_int_equal(st.fec_decodes, 1);
    assert_int_equal(st.plc_frames, 0);
    /* a silent participant's loss costs nothing: no decode of any kind */
    c->drop_slot = 4;
    c->drop_tick = 120;
    conf_run(c, 30);
    amix_get_stats(c->m, &st);
    assert_int_equal(st.fec_decodes, 1);
    assert_int_equal(st.plc_frames, 0);
    const bool talking[6] = { true, true, true, false, false, false };
    check_hearing(c, talking);
    conf_free(c);
    free(c);
}

static void test_mute_and_gain(void **state)
{
    (void)state;
    struct amix_cfg cfg;
    amix_cfg_defaults(&cfg);
    struct conf *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    conf_init(c, &cfg, 6, freqs, amps3);
    conf_run(c, 40);
    double before = tone_db(c, 5, freqs[2]) - tone_db(c, 5, freqs[0]);
    amix_set_muted(c->m, 1, true);
    amix_set_gain(c->m, 2, -6.0f);
    conf_run(c, 60);
    assert_false(amix_is_talker(c->m, 1));
    const bool talking[6] = { true, false, true, false, false, false };
    check_hearing(c, talking);
    double after = tone_db(c, 5, freqs[2]) - tone_db(c, 5, freqs[0]);
    assert_true(fabs(after - before + 6.0) < 1.5);
    /* unmuted, it comes back */
    amix_set_muted(c->m, 1, false);
    conf_run(c, 40);
    const bool all3[6] = { true, true, true, false, false, false };
    check_hearing(c, all3);
    conf_free(c);
    free(c);
}

/* A site with a weak microphone: with AGC on, its voice comes up relative to a normal one. */
static void test_agc_raises_quiet_talker(void **state)
{
    (void)state;
    static const double amps[6] = { 6000, 250, 0, 0, 0, 0 }; /* talker 1 is ~28 dB quieter */
    struct amix_cfg cfg;
    amix_cfg_defaults(&cfg);
    struct conf *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    conf_init(c, &cfg, 6, freqs, amps);
    conf_run(c, 40);
    double before = tone_db(c, 4, freqs[1]) - tone_db(c, 4, freqs[0]);
    assert_int_equal(amix_set_cleanup(c->m, 1, true, false), 0);
    conf_run(c, 250);
    double after = tone_db(c, 4, freqs[1]) - tone_db(c, 4, freqs[0]);
    print_message("agc: %.1f -> %.1f dB\n", before, after);
    assert_true(after - before > 10.0);
    assert_int_equal(amix_set_cleanup(c->m, 1, false, false), 0); /* and off again */
    assert_int_equal(amix_set_cleanup(c->m, 42, true, true), AMIX_ERR_ARG);
    conf_free(c);
    free(c);
}

static void test_16khz(void **state)
{
    (void)state;
    struct amix_cfg cfg;
    amix_cfg_defaults(&cfg);
    cfg.sample_rate = 16000;
    struct conf *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    conf_init(c, &cfg, 6, freqs, amps3);
    conf_run(c, 100);
    const bool talking[6] = { true, true, true, false, false, false };
    check_hearing(c, talking);
    size_t n;
    assert_non_null(amix_debug_last_mix(c->m, 0, &n));
    assert_int_equal(n, 320);
    conf_free(c);
    free(c);
}

static void test_overload_limited(void **state)
{
    (void)state;
    struct amix_cfg cfg;
    amix_cfg_defaults(&cfg);
    const double loud[6] = { 32767, 32767, 32767, 0, 0, 0 };
    struct conf *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    conf_init(c, &cfg, 6, freqs, loud);
    c->check_pcm = true;
    conf_run(c, 100);
    struct amix_stats st;
    amix_get_stats(c->m, &st);
    assert_true(st.limited_samples > 50000);
    /* what receivers decode: still no wrap-around (a wrap jumps by ~65536), and hardly a
     * sample at full scale (the decoder's own saturation, after codec overshoot) */
    for (int r = 0; r < 6; r++) {
        check_no_wrap(c->heard[r], c->heard_len[r], 32768, 24000);
        size_t full = 0;
        for (size_t i = 0; i < c->heard_len[r]; i++)
            full += abs(c->heard[r][i]) >= 32767;
        assert_true(full < c->heard_len[r] / 1000);
    }
    const bool talking[6] = { true, true, true, false, false, false };
    check_hearing_own(c, talking, -40.0);
    conf_free(c);
    free(c);
}

/* Talkers come and go (K = 2): a new talker takes a position, a quiet one leaves after its
 * hold, and one who talks again gets its (reset) decoder back. Receivers keep hearing
 * exactly the current talkers, none of them itself. */
static void test_turn_taking(void **state)
{
    (void)state;
    struct amix_cfg cfg;
    amix_cfg_defaults(&cfg);
    cfg.talkers = 2;
    const double amp[5] = { 6000, 5000, 0, 0, 0 };
    struct conf *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    conf_init(c, &cfg, 5, freqs, amp);
    conf_run(c, 60);
    const bool p1[6] = { true, true, false, false, false };
    check_hearing(c, p1);

    c->s[0].amp = 0; /* 0 stops, 2 starts */
    c->s[2].amp = 4000;
    conf_run(c, 60);
    assert_false(amix_is_talker(c->m, 0));
    assert_true(amix_is_talker(c->m, 1) && amix_is_talker(c->m, 2));
    const bool p2[6] = { false, true, true, false, false };
    check_hearing(c, p2);

    c->s[0].amp = 6000; /* 0 again, 1 stops */
    c->s[1].amp = 0;
    conf_run(c, 60);
    const bool p3[6] = { true, false, true, false, false };
    check_hearing(c, p3);
    assert_int_equal(c->ever_talker[3] + c->ever_talker[4], 0);
    struct amix_stats st;
    amix_get_stats(c->m, &st);
    assert_true(st.decodes <= 2 * 180);
    assert_int_equal(st.skipped_frames + st.decodes, 5 * 180);
    bool changed;
    assert_int_equal(amix_dominant(c->m, &changed), 0);
    conf_free(c);
    free(c);
}

static void test_dtx_silence(void **state)
{
    (void)state;
    struct amix_cfg cfg;
    amix_cfg_defaults(&cfg);
    cfg.dtx = true;
    const double none[3] = { 0, 0, 0 };
    struct conf *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    conf_init(c, &cfg, 3, freqs, none);
    int sent = 0;
    for (int t = 0; t < 100; t++) {
        conf_run(c, 1);
        size_t len;
        uint8_t level;
        if (amix_output(c->m, 0, &len, &level, NULL)) {
            sent++;
            assert_int_equal(level, 127);
        }
        assert_false(amix_is_talker(c->m, 0));
    }
    assert_true(sent < 20); /* Opus DTX: a packet every 400 ms or so */
    bool changed;
    assert_int_equal(amix_dominant(c->m, &changed), -1);
    struct amix_stats st;
    amix_get_stats(c->m, &st);
    assert_int_equal(st.decodes, 0);
    assert_int_equal(st.encodes, 100);
    conf_free(c);
    free(c);
}

static void test_push_errors_and_slots(void **state)
{
    (void)state;
    struct amix_cfg cfg;
    amix_cfg_defaults(&cfg);
    cfg.talkers = 0;
    assert_null(amix_new(&cfg));
    amix_cfg_defaults(&cfg);
    cfg.sample_rate = 44100;
    assert_null(amix_new(&cfg));
    amix_cfg_defaults(&cfg);
    struct amix *m = amix_new(&cfg);
    assert_non_null(m);
    int a = amix_add(m), b = amix_add(m);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);

    int err;
    OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    assert_non_null(enc);
    int16_t pcm[1920] = { 0 };
    uint8_t pkt[AMIX_MAX_PACKET];
    int len = opus_encode(enc, pcm, 960, pkt, sizeof(pkt));
    assert_true(len > 0);
    assert_int_equal(amix_push(m, a, 1, 960, 127, pkt, (size_t)len, 0), 0);
    assert_int_equal(amix_push(m, a, 1, 960, 127, pkt, (size_t)len, 0), AMIX_ERR_DUPLICATE);
    amix_tick(m, 0);
    assert_int_equal(amix_push(m, a, 0, 0, 127, pkt, (size_t)len, 0), AMIX_ERR_LATE);
    assert_int_equal(amix_push(m, 7, 2, 1920, 127, pkt, (size_t)len, 0), AMIX_ERR_ARG);
    assert_int_equal(amix_push(m, a, 2, 1920, 127, pkt, 0, 0), AMIX_ERR_ARG);
    int len40 = opus_encode(enc, pcm, 1920, pkt, sizeof(pkt)); /* 40 ms */
    assert_true(len40 > 0);
    assert_int_equal(amix_push(m, a, 2, 1920, 127, pkt, (size_t)len40, 0), AMIX_ERR_DURATION);
    uint8_t big[600] = { 1 << 3 }; /* TOC: SILK NB 20 ms, one frame (of 599 bytes) */
    assert_int_equal(amix_push(m, a, 2, 1920, 127, big, sizeof(big), 0), AMIX_ERR_TOO_BIG);
    struct amix_stats st;
    amix_get_stats(m, &st);
    assert_int_equal(st.duplicate, 1);
    assert_int_equal(st.late, 1);
    assert_int_equal(st.too_big, 1);

    size_t n;
    assert_null(amix_output(m, 5, &n, NULL, NULL));
    assert_non_null(amix_output(m, b, &n, NULL, NULL)); /* the shared stream, from the start */
    amix_remove(m, a);
    assert_null(amix_output(m, a, &n, NULL, NULL));
    assert_int_equal(amix_add(m), 0); /* the slot is reused */
    amix_get_stats(m, &st); /* stats of the removed participant are kept */
    assert_int_equal(st.duplicate, 1);
    opus_encoder_destroy(enc);
    amix_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mix_minus_tones),
        cmocka_unit_test(test_fec_recovers_loss),
        cmocka_unit_test(test_mute_and_gain),
        cmocka_unit_test(test_agc_raises_quiet_talker),
        cmocka_unit_test(test_16khz),
        cmocka_unit_test(test_overload_limited),
        cmocka_unit_test(test_turn_taking),
        cmocka_unit_test(test_dtx_silence),
        cmocka_unit_test(test_push_errors_and_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
