/* Synthetic talkers, their Opus rings, and the tone and beep detectors (see audio.h).
 * Levels: signature tone -20 dBFS peak, noise about -30 dBFS RMS while "speaking", the
 * beep -12 dBFS for 60 ms; so a mix of three talkers stays clear of the server's limiter. */
#include "tools/load/audio.h"

#include <math.h>
#include <opus.h>
#include <stdlib.h>
#include <string.h>

#define RING_SAMPLES (LA_RING_FRAMES * LA_FRAME)
#define TONE_AMP 3277.0          /* -20 dBFS */
#define NOISE_RMS 1036.0         /* -30 dBFS */
#define BEEP_AMP 8231.0          /* -12 dBFS */
#define BEEP_SAMPLES (LA_RATE * 60 / 1000)
#define DET_ON_DBFS (-30.0)      /* a block this loud at the beep frequency is the beep */
#define DET_QUIET_BLOCKS 250     /* 500 ms */
#define ENC_BITRATE 32000

double la_talker_hz(int i)
{
    return 500.0 + 150.0 * i;
}

/* A deterministic generator so every run sends the same audio. */
static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Syllables: 0.25 s units, each voiced (1) or a pause (0.1), smoothed at the edges; the
 * pattern repeats every 2.5 s so the ring stays periodic. */
static double envelope(int talker, size_t i)
{
    static const double pattern[10] = {1, 1, 0.1, 1, 1, 1, 0.1, 1, 0.1, 0.1};
    size_t unit = LA_RATE / 4, u = i / unit + (size_t)talker * 3;
    double a = pattern[u % 10], b = pattern[(u + 1) % 10];
    double x = (double)(i % unit) / (double)unit;
    double edge = x > 0.9 ? (x - 0.9) / 0.1 : 0.0; /* 25 ms crossfade into the next unit */
    return a + (b - a) * edge;
}

/* Talker's PCM over the ring: tone + shaped noise (+ beeps). The noise is band-limited to
 * the low speech band by two one-pole low-passes, so the beep band stays quiet. */
static void synth(int16_t *pcm, int talker, bool marker)
{
    uint32_t seed = 0x9E3779B9u ^ (uint32_t)(talker * 7919 + 1);
    double lp1 = 0, lp2 = 0, hp = 0, prev = 0;
    const double a = 0.18; /* one-pole coefficient: about 1.5 kHz at 48 kHz */
    double hz = la_talker_hz(talker);
    /* Two passes so the filter state at the start equals the state at the end. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < RING_SAMPLES; i++) {
            double w = (double)(xorshift(&seed) & 0xFFFF) / 32768.0 - 1.0;
            lp1 += a * (w - lp1);
            lp2 += a * (lp1 - lp2);
            hp = 0.995 * (hp + lp2 - prev); /* drop the rumble below ~40 Hz */
            prev = lp2;
            if (pass == 0)
                continue;
            double s = TONE_AMP * sin(2 * M_PI * hz * (double)i / LA_RATE);
            s += NOISE_RMS * 5.0 * hp * envelope(talker, i);
            size_t in_beep = i % ((size_t)LA_BEEP_EVERY * LA_FRAME);
            if (marker && in_beep < BEEP_SAMPLES) {
                double ramp = in_beep < 48 ? (double)in_beep / 48.0 : 1.0;
                s += BEEP_AMP * ramp * sin(2 * M_PI * LA_BEEP_HZ * (double)in_beep / LA_RATE);
            }
            pcm[i] = (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
        }
}

/* RFC 6464 level of a frame: -dBov of its RMS, 0..127. */
static uint8_t frame_level(const int16_t *pcm)
{
    double e = 0;
    for (int i = 0; i < LA_FRAME; i++)
        e += (double)pcm[i] * pcm[i];
    double rms = sqrt(e / LA_FRAME) / 32768.0;
    if (rms < 1e-7)
        return 127;
    double db = -20.0 * log10(rms);
    return (uint8_t)(db < 0 ? 0 : db > 127 ? 127 : lround(db));
}

/* Encodes the ring twice and keeps the second pass: its first frame then follows the last
 * one in the encoder's state, so replaying the ring has no seam. */
static int encode_ring(struct la_ring *r, const int16_t *pcm)
{
    int err;
    OpusEncoder *enc = opus_encoder_create(LA_RATE, 1, OPUS_APPLICATION_AUDIO, &err);
    if (!enc)
        return -1;
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(ENC_BITRATE));
    opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(5));
    opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
    opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(5));
    int rc = 0;
    for (int pass = 0; pass < 2 && !rc; pass++)
        for (int f = 0; f < LA_RING_FRAMES; f++) {
            const int16_t *in = pcm + (size_t)f * LA_FRAME;
            int n = opus_encode(enc, in, LA_FRAME, r->pkt[f], LA_MAX_PKT);
            if (n <= 0) {
                rc = -1;
                break;
            }
            r->len[f] = (uint16_t)n;
            r->level[f] = frame_level(in);
        }
    opus_encoder_destroy(enc);
    return rc;
}

/* Decodes the ring twice (the second time from a warm decoder, as a receiver hears the
 * replay) and notes where the detector finds the beeps. */
static int find_onsets(struct la_ring *r)
{
    int err;
    OpusDecoder *dec = opus_decoder_create(LA_RATE, 1, &err);
    if (!dec)
        return -1;
    struct la_beep_det det;
    la_beep_det_init(&det);
    int16_t pcm[LA_FRAME];
    r->n_onsets = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int f = 0; f < LA_RING_FRAMES; f++) {
            int n = opus_decode(dec, r->pkt[f], r->len[f], pcm, LA_FRAME, 0);
            if (n != LA_FRAME)
                continue;
            int on = la_beep_det_feed(&det, pcm, LA_FRAME);
            if (pass == 1 && on >= 0 && r->n_onsets < LA_MAX_ONSETS) {
                r->onset_frame[r->n_onsets] = f;
                r->onset_offset[r->n_onsets++] = on;
            }
        }
    opus_decoder_destroy(dec);
    return 0;
}

int la_ring_talker(struct la_ring *r, int talker, bool marker)
{
    int16_t *pcm = malloc(sizeof(int16_t) * RING_SAMPLES);
    if (!pcm)
        return -1;
    synth(pcm, talker, marker);
    int rc = encode_ring(r, pcm);
    free(pcm);
    if (rc == 0)
        rc = find_onsets(r);
    return rc;
}

int la_ring_silence(struct la_ring *r)
{
    int16_t *pcm = calloc(RING_SAMPLES, sizeof(int16_t));
    if (!pcm)
        return -1;
    int rc = encode_ring(r, pcm);
    free(pcm);
    r->n_onsets = 0;
    return rc;
}

double la_tone_dbfs(const int16_t *pcm, size_t n, double hz)
{
    if (n == 0)
        return -200.0;
    double w = 2.0 * M_PI * hz / LA_RATE, coef = 2.0 * cos(w);
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = pcm[i] + coef * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double re = s1 - s2 * cos(w), im = s2 * sin(w);
    double amp = 2.0 * sqrt(re * re + im * im) / (double)n;
    return amp < 1e-6 ? -200.0 : 20.0 * log10(amp / 32768.0);
}

void la_beep_det_init(struct la_beep_det *d)
{
    memset(d, 0, sizeof *d);
}

int la_beep_det_feed(struct la_beep_det *d, const int16_t *pcm, size_t n)
{
    int onset = -1;
    for (size_t i = 0; i < n; i++) {
        d->block[d->fill++] = pcm[i];
        if (d->fill < LA_DET_BLOCK)
            continue;
        d->fill = 0;
        bool loud = la_tone_dbfs(d->block, LA_DET_BLOCK, LA_BEEP_HZ) > DET_ON_DBFS;
        if (!loud) {
            d->quiet_blocks++;
            continue;
        }
        if (d->quiet_blocks >= DET_QUIET_BLOCKS && onset < 0) {
            long at = (long)i + 1 - LA_DET_BLOCK; /* the block's first sample */
            onset = at < 0 ? 0 : (int)at;
        }
        d->quiet_blocks = 0;
    }
    return onset;
}
