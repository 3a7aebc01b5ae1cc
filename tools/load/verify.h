/* A sampled receiver's ear: decodes the Opus mix a site receives, keeps its last seconds of
 * PCM for the signature-tone check, and timestamps the marker beep onsets it hears. */
#ifndef LOAD_VERIFY_H
#define LOAD_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#define LV_MAX_ONSETS 64

struct lv_ear {
    struct OpusDecoder *dec;       /* owned */
    int16_t *pcm;                  /* ring of the last cap samples, owned */
    size_t cap, pos, filled;
    int have_seq;
    uint16_t next_seq;
    uint64_t decoded, concealed, decode_errors;
    struct la_beep_det *det;       /* owned */
    int n_onsets;
    int64_t onset_ns[LV_MAX_ONSETS]; /* CLOCK_REALTIME of each onset heard */
};

/* Keeps `seconds` of audio. 0 or -1. */
int lv_ear_init(struct lv_ear *e, int seconds);
/* One received Opus payload with its RTP seq, arriving at arrival_ns (CLOCK_REALTIME). A
 * gap in seq is concealed (at most 5 frames). An onset's time is the packet's arrival plus
 * the onset's offset in the frame. */
void lv_ear_packet(struct lv_ear *e, uint16_t seq, const uint8_t *payload, size_t len,
                   int64_t arrival_ns);
/* Level in dBFS of a tone at hz over the kept audio; *seconds gets how much was used. */
double lv_ear_tone_dbfs(const struct lv_ear *e, double hz, double *seconds);
/* The same over the newest `window_s` seconds at most (room mode's "heard" lines). */
double lv_ear_tone_dbfs_last(const struct lv_ear *e, double hz, double window_s, double *seconds);
/* A new stream follows (room mode: a new media session): forgets the audio, the sequence
 * and the decoder's state. */
void lv_ear_reset(struct lv_ear *e);
/* Forgets the beeps heard so far (they came before the measurement window). */
void lv_ear_clear_onsets(struct lv_ear *e);
void lv_ear_free(struct lv_ear *e);

#endif
