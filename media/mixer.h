/* The mixer's arithmetic as pure functions: RFC 6464 levels and their smoothing, talker
 * selection (K loudest with hysteresis and a hold time), dominant-speaker detection, int32
 * mixing with mix-minus, and a soft limiter down to int16. No allocation, no clock, no
 * Opus: media/amix.c drives these once per tick and tests call them directly. */
#ifndef MEDIA_MIXER_H
#define MEDIA_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIXER_MAX_K 8          /* most talkers mixer_select will keep */

/* Levels. Power is linear, 1.0 = 0 dBov; RFC 6464 levels are -dBov, 127 = silence. */
float mixer_level_power(int level);          /* -1 (no extension) and 127 give 0 */
int mixer_power_level(double power);         /* back to 0..127 */
int mixer_pcm_level(const int16_t *pcm, size_t n); /* RMS of PCM as an RFC 6464 level */
float mixer_db_ratio(float db);              /* 10^(db/10): a dB margin as a power ratio */
/* Per-step coefficient of an exponential smoother with time constant tau_ms. */
float mixer_smooth_coef(int step_ms, int tau_ms);
/* One step: rises with attack, falls with release (coefficients from mixer_smooth_coef). */
static inline void mixer_smooth(float *p, float x, float attack, float release)
{
    *p += (x > *p ? attack : release) * (x - *p);
}

/* One participant as talker selection sees it; amix keeps an array indexed by slot. */
struct mixer_part {
    float power;               /* smoothed level, linear */
    bool present;              /* the slot is in use */
    bool muted;                /* server-side mute: never a talker */
    bool talker;               /* selected (written by mixer_select) */
    int64_t since_ns;          /* when it last became a talker */
};

struct mixer_sel_cfg {
    int k;                     /* talkers at most, 1..MIXER_MAX_K */
    int64_t hold_ns;           /* a talker is not replaced (nor dropped for quiet) before this */
    float hyst_ratio;          /* a challenger must be this many times more powerful */
    float floor_power;         /* at or below this a participant is silent */
};

/* Update p[i].talker for all n participants: muted or absent talkers leave at once, quiet
 * ones after their hold; free places go to the loudest active non-talkers; a held-out
 * talker yields to a challenger louder by the hysteresis. Writes the talkers' indices to
 * talkers[] (room for cfg->k) and returns how many. O(n * k). */
int mixer_select(const struct mixer_sel_cfg *cfg, struct mixer_part *p, int n, int64_t now_ns,
                 int *talkers);

/* Dominant speaker: the loudest active participant, replaced only when another has been the
 * loudest for switch_ns without interruption. */
struct mixer_dom {
    int current;               /* index, -1 none */
    int cand;                  /* who is leading now, -1 none */
    int64_t cand_since_ns;     /* since when */
};
void mixer_dom_init(struct mixer_dom *d);
/* Returns true when current changed. A current that left (not present) is dropped at once. */
bool mixer_dom_update(struct mixer_dom *d, const struct mixer_part *p, int n, float floor_power,
                      int64_t switch_ns, int64_t now_ns);

/* Mixing in int32. Gains are Q12 (4096 = 0 dB), clamped to -60..+20 dB. */
int32_t mixer_gain_q12(float db);
/* own[i] = pcm[i] * gain; mix[i] += own[i]. */
void mixer_add(int32_t *mix, int32_t *own, const int16_t *pcm, int32_t gain_q12, size_t n);
/* out[i] = mix[i] - own[i]: the mix without one talker, taken before limiting. */
void mixer_minus(int32_t *out, const int32_t *mix, const int32_t *own, size_t n);

/* Soft limiter: a gain envelope that drops within 1 ms ahead of a peak (the whole frame is
 * known, so that lookahead costs no latency) and recovers over ~100 ms, so the output never
 * passes the ceiling (-1 dBFS, headroom for codec overshoot) and a sample never
 * changes sign. One per output stream. */
struct mixer_limiter {
    float gain;                /* at the end of the last frame, (0, 1] */
    float release;             /* per-block recovery coefficient */
    float ceiling;             /* largest output magnitude */
    int block;                 /* samples per envelope step (1 ms) */
};
void mixer_limiter_init(struct mixer_limiter *l, int sample_rate);
/* in (n samples) to out; returns how many samples were attenuated. n <= 48 * 120. */
size_t mixer_limit(struct mixer_limiter *l, const int32_t *in, int16_t *out, size_t n);

#endif
