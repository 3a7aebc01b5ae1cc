/* One audio conference's mixing core, as pure code driven by a 20 ms tick: no sockets, no
 * clock of its own, no locks. The worker's engine feeds it each participant's Opus packets
 * and takes back, per participant, the Opus packet to send. Cost grows with talkers, not
 * participants: only the K loudest (by RFC 6464 level, smoothed, with hysteresis and a hold
 * time) are decoded; one encode of the mix is shared by every non-talker; each talker gets
 * its own mix-minus encode. */
#ifndef MEDIA_AMIX_H
#define MEDIA_AMIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AMIX_MAX_PACKET 1275 /* the largest Opus packet */
#define AMIX_MAX_PARTICIPANTS 1024

/* amix_push's negative returns. */
enum amix_err {
    AMIX_ERR_LATE = -1,       /* behind the playout point: counted in late */
    AMIX_ERR_DUPLICATE = -2,  /* already buffered: counted in duplicate */
    AMIX_ERR_TOO_BIG = -3,    /* larger than the jitter buffer keeps: counted in too_big */
    AMIX_ERR_ARG = -4,        /* no such slot, empty or malformed Opus packet */
    AMIX_ERR_DURATION = -5,   /* not a 20 ms packet (the mixer plays 20 ms frames only) */
};

struct amix_cfg {
    int sample_rate;          /* 48000 (default) or 16000: the mixing rate */
    int talkers;              /* K, the loudest mixed at once (default 3) */
    int hold_ms;              /* a talker stays selected at least this long (default 600) */
    float hysteresis_db;      /* a challenger must be this much louder to replace one (default 6) */
    int dominant_switch_ms;   /* a new dominant speaker must lead this long (default 1500) */
    int bitrate;              /* Opus encoder bits/s (default 32000) */
    int complexity;           /* Opus encoder complexity 0..10 (default 5) */
    bool dtx;                 /* Opus DTX (default false) */
    int jb_min_ms, jb_max_ms; /* jitter buffer target bounds (default 20, 200) */
};

struct amix_stats {
    uint64_t decodes;         /* Opus frames decoded (talkers only) */
    uint64_t fec_decodes;     /* frames recovered from the next packet's in-band FEC */
    uint64_t plc_frames;      /* frames concealed */
    uint64_t skipped_frames;  /* non-talker frames consumed without decoding */
    uint64_t encodes;         /* Opus encodes (shared + mix-minus) */
    uint64_t late, duplicate, too_big, overflow; /* jitter-buffer drops */
    uint64_t limited_samples; /* samples the limiter reduced */
};

struct amix;

void amix_cfg_defaults(struct amix_cfg *cfg);
/* NULL on a bad configuration or no memory. */
struct amix *amix_new(const struct amix_cfg *cfg);
void amix_free(struct amix *m);

/* A participant joins: returns its slot (>= 0) or -1 when full / out of memory. */
int amix_add(struct amix *m);
void amix_remove(struct amix *m, int slot);
void amix_set_muted(struct amix *m, int slot, bool muted); /* a muted one never enters the mix */
void amix_set_gain(struct amix *m, int slot, float gain_db);
/* Automatic gain control and/or noise suppression (speexdsp) on this participant's voice,
 * for sites with poor microphones; both off by default. 0 or AMIX_ERR_ARG. */
int amix_set_cleanup(struct amix *m, int slot, bool agc, bool denoise);

/* One received Opus packet (after SRTP). level: RFC 6464 level 0..127 (-dBov), or -1 when the
 * packet had no audio-level extension. Returns 0 or a negative code (late, duplicate, too big). */
int amix_push(struct amix *m, int slot, uint16_t seq, uint32_t ts, int level,
              const uint8_t *payload, size_t len, int64_t now_ns);

/* One 20 ms tick: pick talkers, decode them (FEC/PLC for losses), mix, limit, encode. */
void amix_tick(struct amix *m, int64_t now_ns);

/* After a tick: the packet for this participant (the shared mix, or its own mix-minus when it
 * is a talker), its RFC 6464 level, and whether it is the participant's own mix-minus.
 * NULL when there is nothing to send this tick (DTX). Valid until the next tick. */
const uint8_t *amix_output(const struct amix *m, int slot, size_t *len, uint8_t *level, bool *own);

bool amix_is_talker(const struct amix *m, int slot);
/* The participant's smoothed level as an RFC 6464 level (0 loudest .. 127 silence). */
int amix_level(const struct amix *m, int slot);
/* The dominant speaker's slot, -1 if none; *changed is set when it changed on the last tick. */
int amix_dominant(const struct amix *m, bool *changed);
void amix_get_stats(const struct amix *m, struct amix_stats *out);

/* The whole mix of the last tick (everyone who talks, nobody subtracted), limited, at the
 * mixer's rate: *n samples, 0 before the first tick. For the recorder. */
const int16_t *amix_mix_pcm(const struct amix *m, size_t *n);

/* For tests: the PCM (after the limiter) encoded into the packet amix_output gives this
 * participant, *n samples at the mixing rate; NULL before the first tick. */
const int16_t *amix_debug_last_mix(const struct amix *m, int slot, size_t *n);

#endif
