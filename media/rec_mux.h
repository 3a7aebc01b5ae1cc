/* The recorder thread's work, without the thread: one clock for audio and video, the Opus
 * encoder, the video depacketizer, the header policy and the outputs (see rec.h for the
 * policies). Single-threaded: media/rec.c calls it from its thread only. */
#ifndef MEDIA_REC_MUX_H
#define MEDIA_REC_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/rec.h"

struct rec_mux;

/* Copies what it needs from o (strings included). NULL with a message in err on failure. */
struct rec_mux *rec_mux_new(const struct rec_opts *o, char *err, size_t errlen);

/* 48 kHz mono samples pcm[0..n) whose first sample arrived at t_ms. */
void rec_mux_audio(struct rec_mux *m, const int16_t *pcm, int n, int64_t t_ms);

/* One RTP packet of the forwarded video stream. */
void rec_mux_video(struct rec_mux *m, enum vpx_codec codec, const uint8_t *rtp, size_t len,
                   int64_t t_ms);

/* Gives up on missing packets, encodes the last partial audio frame, writes the trailers
 * and closes the outputs. Nothing is written after it. */
void rec_mux_finish(struct rec_mux *m);

/* True once a write failed: the outputs are closed and input is ignored. */
bool rec_mux_failed(const struct rec_mux *m);

/* True (once) when a video keyframe should be requested from the source. */
bool rec_mux_take_key_request(struct rec_mux *m);

/* Fills every field of st but dropped and cpu_ms. */
void rec_mux_status(const struct rec_mux *m, struct rec_status *st);

void rec_mux_free(struct rec_mux *m);

#endif
