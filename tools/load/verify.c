/* A sampled receiver's decoder, PCM history and beep timing (see verify.h). */
#include "tools/load/verify.h"
#include "tools/load/audio.h"

#include <opus.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONCEAL 5

int lv_ear_init(struct lv_ear *e, int seconds)
{
    int err;
    memset(e, 0, sizeof *e);
    e->cap = (size_t)seconds * LA_RATE;
    e->dec = opus_decoder_create(LA_RATE, 1, &err);
    e->pcm = calloc(e->cap, sizeof(int16_t));
    e->det = calloc(1, sizeof *e->det);
    if (!e->dec || !e->pcm || !e->det) {
        lv_ear_free(e);
        return -1;
    }
    la_beep_det_init(e->det);
    return 0;
}

static void keep(struct lv_ear *e, const int16_t *pcm, int n, int64_t arrival_ns)
{
    for (int i = 0; i < n; i++) {
        e->pcm[e->pos] = pcm[i];
        e->pos = (e->pos + 1) % e->cap;
    }
    e->filled = e->filled + (size_t)n > e->cap ? e->cap : e->filled + (size_t)n;
    int on = la_beep_det_feed(e->det, pcm, (size_t)n);
    if (on >= 0 && e->n_onsets < LV_MAX_ONSETS)
        e->onset_ns[e->n_onsets++] = arrival_ns + (int64_t)on * 1000000000 / LA_RATE;
}

void lv_ear_packet(struct lv_ear *e, uint16_t seq, const uint8_t *payload, size_t len,
                   int64_t arrival_ns)
{
    int16_t pcm[LA_FRAME * 6]; /* Opus frames up to 120 ms */
    if (e->have_seq) {
        uint16_t gap = (uint16_t)(seq - e->next_seq);
        if (gap >= 0x8000)
            return; /* late or duplicate: the stream moved on */
        for (int k = gap > MAX_CONCEAL ? MAX_CONCEAL : gap; k > 0; k--) {
            int n = opus_decode(e->dec, NULL, 0, pcm, LA_FRAME, 0);
            if (n > 0) {
                e->concealed++;
                keep(e, pcm, n, arrival_ns - (int64_t)k * 20000000);
            }
        }
    }
    e->have_seq = 1;
    e->next_seq = (uint16_t)(seq + 1);
    int n = opus_decode(e->dec, payload, (opus_int32)len, pcm, LA_FRAME * 6, 0);
    if (n <= 0) {
        e->decode_errors++;
        return;
    }
    e->decoded++;
    keep(e, pcm, n, arrival_ns);
}

double lv_ear_tone_dbfs(const struct lv_ear *e, double hz, double *seconds)
{
    return lv_ear_tone_dbfs_last(e, hz, (double)e->cap / LA_RATE, seconds);
}

double lv_ear_tone_dbfs_last(const struct lv_ear *e, double hz, double window_s, double *seconds)
{
    /* The ring holds the newest `filled` samples ending at pos; unwrap into one span. */
    size_t n = e->filled, want = window_s > 0 ? (size_t)(window_s * LA_RATE) : 0;
    if (n > want)
        n = want;
    *seconds = (double)n / LA_RATE;
    if (n == 0)
        return -200.0;
    int16_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return -200.0;
    size_t start = (e->pos + e->cap - n) % e->cap;
    for (size_t i = 0; i < n; i++)
        tmp[i] = e->pcm[(start + i) % e->cap];
    double db = la_tone_dbfs(tmp, n, hz);
    free(tmp);
    return db;
}

void lv_ear_reset(struct lv_ear *e)
{
    e->pos = e->filled = 0;
    e->have_seq = 0;
    if (e->dec)
        opus_decoder_ctl(e->dec, OPUS_RESET_STATE);
    la_beep_det_init(e->det);
}

void lv_ear_clear_onsets(struct lv_ear *e)
{
    e->n_onsets = 0;
}

void lv_ear_free(struct lv_ear *e)
{
    if (e->dec)
        opus_decoder_destroy(e->dec);
    free(e->pcm);
    free(e->det);
    e->dec = NULL;
    e->pcm = NULL;
    e->det = NULL;
}
