/* VP8 to VP9 transcoding for the recorder's HLS output: FFmpeg 5.1 cannot put VP8 in MP4
 * (HLS fMP4 segments), and MPEG-TS segments carry neither VP8 nor VP9. libvpx decodes each
 * VP8 frame, a box filter halves the picture until it fits max_w x max_h, and libvpx encodes
 * VP9 in real-time mode with a keyframe every key_ms, so segments can be cut that often.
 * Used by the recorder thread only. */
#ifndef MEDIA_REC_TC_H
#define MEDIA_REC_TC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rec_tc;

/* Receives each VP9 packet (data valid during the call); pts in 1/90000 s. Returns 0 or a
 * negative error, which rec_tc_frame passes back. */
typedef int (*rec_tc_out)(void *arg, const uint8_t *data, size_t len, int64_t pts90, bool key);

/* A transcoder; NULL if out of memory. kbps: VP9 target bit rate. */
struct rec_tc *rec_tc_new(int max_w, int max_h, int kbps, int key_ms);

/* Decodes one whole VP8 frame (the first one a keyframe) with its pts (strictly increasing)
 * and encodes it. Frames that do not decode are skipped until the next keyframe. Returns 0,
 * or a negative error from out or from the encoder. */
int rec_tc_frame(struct rec_tc *t, const uint8_t *vp8, size_t len, int64_t pts90,
                 rec_tc_out out, void *arg);

/* Output size for a w x h input: halved until it fits max_w x max_h. */
void rec_tc_size(int w, int h, int max_w, int max_h, int *ow, int *oh);

/* Frames skipped because they did not decode. */
uint64_t rec_tc_skipped(const struct rec_tc *t);

void rec_tc_free(struct rec_tc *t);

#endif
