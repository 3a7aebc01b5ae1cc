/* Mixer arithmetic (see mixer.h): levels, talker selection, dominant speaker, mix-minus and
 * the soft limiter. Levels are smoothed as linear power, not in dB, so one lost or silent
 * packet moves a talker's level by a fraction of a dB instead of tens. */
#include "media/mixer.h"

#include <math.h>
#include <string.h>

#define LIMIT_CEILING   (0.891f * 32767.0f) /* -1 dBFS: room for codec overshoot */
#define LIMIT_RELEASE_MS 100
#define LIMIT_MAX_BLOCKS 240

/* 10^(-L/10) as a power of ten for the tens times one for the units: no pow per packet. */
static const float tens[13] = { 1e0f, 1e-1f, 1e-2f, 1e-3f, 1e-4f, 1e-5f, 1e-6f,
                                1e-7f, 1e-8f, 1e-9f, 1e-10f, 1e-11f, 1e-12f };
static const float units[10] = { 1.0f, 0.7943282f, 0.6309573f, 0.5011872f, 0.3981072f,
                                 0.3162278f, 0.2511886f, 0.1995262f, 0.1584893f, 0.1258925f };

float mixer_level_power(int level)
{
    if (level < 0 || level >= 127)
        return 0.0f;
    return tens[level / 10] * units[level % 10];
}

int mixer_power_level(double power)
{
    if (!(power > 0.0))
        return 127;
    double l = -10.0 * log10(power);
    if (l < 0.0)
        return 0;
    if (l > 127.0)
        return 127;
    return (int)lrint(l);
}

int mixer_pcm_level(const int16_t *pcm, size_t n)
{
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (int32_t)pcm[i] * pcm[i];
    if (n == 0 || sum == 0)
        return 127;
    return mixer_power_level((double)sum / (double)n / (32768.0 * 32768.0));
}

float mixer_db_ratio(float db)
{
    return powf(10.0f, db / 10.0f);
}

float mixer_smooth_coef(int step_ms, int tau_ms)
{
    if (tau_ms <= 0)
        return 1.0f;
    return 1.0f - expf(-(float)step_ms / (float)tau_ms);
}

/* Keep cand[] (at most k indices) sorted by descending power; ties keep the lower index. */
static void top_insert(const struct mixer_part *p, int *cand, int *nc, int k, int i)
{
    int pos = *nc;
    while (pos > 0 && p[cand[pos - 1]].power < p[i].power)
        pos--;
    if (pos >= k)
        return;
    int last = *nc < k ? *nc : k - 1;
    memmove(&cand[pos + 1], &cand[pos], (size_t)(last - pos) * sizeof(int));
    cand[pos] = i;
    if (*nc < k)
        (*nc)++;
}

/* The weakest talker whose hold is over, as a position in talkers[], or -1. */
static int weakest_unheld(const struct mixer_sel_cfg *cfg, const struct mixer_part *p,
                          const int *talkers, int nt, int64_t now_ns)
{
    int w = -1;
    for (int j = 0; j < nt; j++) {
        const struct mixer_part *q = &p[talkers[j]];
        if (now_ns - q->since_ns < cfg->hold_ns)
            continue;
        if (w < 0 || q->power < p[talkers[w]].power)
            w = j;
    }
    return w;
}

int mixer_select(const struct mixer_sel_cfg *cfg, struct mixer_part *p, int n, int64_t now_ns,
                 int *talkers)
{
    int k = cfg->k < 1 ? 1 : cfg->k > MIXER_MAX_K ? MIXER_MAX_K : cfg->k;
    int cand[MIXER_MAX_K];
    int nt = 0, nc = 0;

    for (int i = 0; i < n; i++) {
        struct mixer_part *q = &p[i];
        bool active = q->present && !q->muted && q->power > cfg->floor_power;
        if (q->talker) {
            bool held = now_ns - q->since_ns < cfg->hold_ns;
            if (q->present && !q->muted && (active || held) && nt < k) {
                talkers[nt++] = i;
                continue;
            }
            q->talker = false;
        }
        if (active)
            top_insert(p, cand, &nc, k, i);
    }
    for (int c = 0; c < nc; c++) {
        struct mixer_part *q = &p[cand[c]];
        if (nt < k) {
            talkers[nt++] = cand[c];
        } else {
            int w = weakest_unheld(cfg, p, talkers, nt, now_ns);
            if (w < 0 || !(q->power > p[talkers[w]].power * cfg->hyst_ratio))
                break; /* quieter challengers cannot win either */
            p[talkers[w]].talker = false;
            talkers[w] = cand[c];
        }
        q->talker = true;
        q->since_ns = now_ns;
    }
    return nt;
}

void mixer_dom_init(struct mixer_dom *d)
{
    d->current = -1;
    d->cand = -1;
    d->cand_since_ns = 0;
}

bool mixer_dom_update(struct mixer_dom *d, const struct mixer_part *p, int n, float floor_power,
                      int64_t switch_ns, int64_t now_ns)
{
    int loud = -1;
    float best = floor_power;
    bool changed = false;

    for (int i = 0; i < n; i++) {
        if (p[i].present && !p[i].muted && p[i].power > best) {
            best = p[i].power;
            loud = i;
        }
    }
    if (d->current >= 0 && (d->current >= n || !p[d->current].present)) {
        d->current = -1;
        changed = true;
    }
    if (loud < 0 || loud == d->current) {
        d->cand = -1;
        return changed;
    }
    if (d->current < 0) { /* nobody held the floor: no reason to wait */
        d->current = loud;
        d->cand = -1;
        return true;
    }
    if (d->cand != loud) {
        d->cand = loud;
        d->cand_since_ns = now_ns;
    }
    if (now_ns - d->cand_since_ns >= switch_ns) {
        d->current = loud;
        d->cand = -1;
        changed = true;
    }
    return changed;
}

int32_t mixer_gain_q12(float db)
{
    if (!(db > -60.0f))
        db = -60.0f;
    if (db > 20.0f)
        db = 20.0f;
    return (int32_t)lrintf(4096.0f * powf(10.0f, db / 20.0f));
}

void mixer_add(int32_t *mix, int32_t *own, const int16_t *pcm, int32_t gain_q12, size_t n)
{
    if (gain_q12 == 4096) {
        for (size_t i = 0; i < n; i++) {
            own[i] = pcm[i];
            mix[i] += pcm[i];
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        own[i] = (pcm[i] * gain_q12 + 2048) >> 12; /* |pcm * gain| < 2^31 for gain <= +20 dB */
        mix[i] += own[i];
    }
}

void mixer_minus(int32_t *out, const int32_t *mix, const int32_t *own, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = mix[i] - own[i];
}

void mixer_limiter_init(struct mixer_limiter *l, int sample_rate)
{
    l->gain = 1.0f;
    l->block = sample_rate / 1000 > 0 ? sample_rate / 1000 : 1;
    l->release = mixer_smooth_coef(1, LIMIT_RELEASE_MS);
    l->ceiling = LIMIT_CEILING;
}

static int16_t to_int16(float v)
{
    long r = lrintf(v); /* |v| <= ceiling by construction; the bounds are a last guard */
    return (int16_t)(r > 32767 ? 32767 : r < -32767 ? -32767 : r);
}

/* Block j's samples get a gain ramping linearly between two values that are both <= need[j]
 * (the end of block j-1 already looked one block ahead), so no sample passes the ceiling. */
static size_t limit_chunk(struct mixer_limiter *l, const int32_t *in, int16_t *out, size_t n)
{
    float need[LIMIT_MAX_BLOCKS];
    size_t b = (size_t)l->block, nb = (n + b - 1) / b;
    bool quiet = l->gain >= 1.0f;

    if (n == 0)
        return 0;
    need[0] = 1.0f; /* nb >= 1; this only tells the compiler so */
    for (size_t j = 0; j < nb; j++) {
        int64_t peak = 0;
        size_t end = (j + 1) * b < n ? (j + 1) * b : n;
        for (size_t i = j * b; i < end; i++) {
            int64_t a = in[i] < 0 ? -(int64_t)in[i] : in[i];
            if (a > peak)
                peak = a;
        }
        need[j] = (float)peak > l->ceiling ? l->ceiling / (float)peak : 1.0f;
        quiet = quiet && need[j] >= 1.0f;
    }
    if (quiet) { /* the common case: untouched, bit for bit */
        for (size_t i = 0; i < n; i++)
            out[i] = (int16_t)in[i];
        return 0;
    }
    size_t reduced = 0;
    float g = l->gain < need[0] ? l->gain : need[0];
    for (size_t j = 0; j < nb; j++) {
        float t = g + (1.0f - g) * l->release;
        if (t > 0.9999f)
            t = 1.0f;
        if (t > need[j])
            t = need[j];
        if (j + 1 < nb && t > need[j + 1])
            t = need[j + 1];
        size_t start = j * b, len = start + b < n ? b : n - start;
        float step = (t - g) / (float)len;
        for (size_t i = 0; i < len; i++) {
            float gi = i + 1 == len ? t : g + step * (float)(i + 1);
            out[start + i] = to_int16((float)in[start + i] * gi);
            reduced += gi < 1.0f;
        }
        g = t;
    }
    l->gain = g;
    return reduced;
}

size_t mixer_limit(struct mixer_limiter *l, const int32_t *in, int16_t *out, size_t n)
{
    size_t chunk = (size_t)LIMIT_MAX_BLOCKS * (size_t)l->block, reduced = 0;
    while (n > chunk) {
        reduced += limit_chunk(l, in, out, chunk);
        in += chunk;
        out += chunk;
        n -= chunk;
    }
    return n ? reduced + limit_chunk(l, in, out, n) : reduced;
}
