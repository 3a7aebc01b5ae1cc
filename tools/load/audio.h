/* What the synthetic sites say, and how a receiver recognises it. Each talker's signal is
 * speech-like noise (speech band, syllable-rate envelope) plus a constant signature tone at
 * its own frequency; the marker talker adds a short beep every 2 s for latency. The signal
 * is periodic over the ring (10 s), so it is Opus-encoded once and replayed seamlessly.
 * Goertzel measures the tones in a decoded mix; a block detector finds the beep onsets. */
#ifndef LOAD_AUDIO_H
#define LOAD_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LA_RATE 48000
#define LA_FRAME 960            /* 20 ms */
#define LA_RING_FRAMES 500      /* 10 s of packets, replayed */
#define LA_BEEP_EVERY 100       /* frames between marker beeps (2 s) */
#define LA_BEEP_HZ 3700.0       /* clear of the signature tones and their low harmonics */
#define LA_MAX_TALKERS 8
#define LA_MAX_PKT 400
#define LA_MAX_ONSETS 8         /* beeps per ring */
#define LA_DET_BLOCK 96         /* 2 ms: the onset detector's resolution */

/* Signature tone of talker i: 500, 650, 800... Hz (no low harmonic of one hits another). */
double la_talker_hz(int i);

/* One pre-encoded stream: LA_RING_FRAMES Opus packets with their RFC 6464 levels. */
struct la_ring {
    uint16_t len[LA_RING_FRAMES];
    uint8_t level[LA_RING_FRAMES];  /* -dBov of the frame, 0..127 */
    uint8_t pkt[LA_RING_FRAMES][LA_MAX_PKT];
    /* Beep onsets as the same detector sees them in this ring decoded: the frame that
     * carries each and the sample offset inside it. Only the marker ring has any. */
    int n_onsets;
    int onset_frame[LA_MAX_ONSETS];
    int onset_offset[LA_MAX_ONSETS];
};

/* Encodes talker i's signal (with the beep when `marker`) into *r. 0 or -1. */
int la_ring_talker(struct la_ring *r, int talker, bool marker);
/* Encodes digital silence; every level is 127. 0 or -1. */
int la_ring_silence(struct la_ring *r);

/* Goertzel: the amplitude of a sine at hz in pcm[0..n), in dBFS (a full-scale sine = 0). */
double la_tone_dbfs(const int16_t *pcm, size_t n, double hz);

/* Streaming beep-onset detector: 2 ms blocks; an onset is the first loud block after at
 * least 500 ms of quiet. */
struct la_beep_det {
    int quiet_blocks;           /* consecutive quiet blocks so far */
    int fill;                   /* samples in block[] */
    int16_t block[LA_DET_BLOCK];
};
void la_beep_det_init(struct la_beep_det *d);
/* Feeds one frame; returns the sample offset (0..n-1) of an onset in it, or -1. */
int la_beep_det_feed(struct la_beep_det *d, const int16_t *pcm, size_t n);

#endif
