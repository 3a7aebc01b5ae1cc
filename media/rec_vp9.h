/* The VP9 uncompressed frame header (VP9 bitstream spec 6.2), as far as the recorder needs it:
 * frame size, show_frame and where the header ends, so the lower spatial layers of an SVC
 * picture can be marked "not shown" in the recorded superframe (FFmpeg would otherwise output
 * every layer as a frame of its own). Pure functions over byte buffers; the caller owns all. */
#ifndef MEDIA_REC_VP9_H
#define MEDIA_REC_VP9_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sizes of the 8 reference slots, needed to parse inter frames that take their size from a
 * reference (frame_size_with_refs). 0 = unknown; a key frame fills every slot. */
struct rec_vp9_refs {
    uint16_t w[8], h[8];
};

struct rec_vp9_hdr {
    uint8_t profile;
    bool show_existing;       /* shows an earlier frame; nothing else is parsed */
    bool key;                 /* frame_type == KEY_FRAME */
    bool show;                /* show_frame */
    bool err_res;             /* error_resilient_mode */
    bool intra_only;
    uint8_t refresh;          /* refresh_frame_flags (0xFF on key frames) */
    uint16_t w, h;            /* frame size */
    uint16_t show_bit;        /* bit position of show_frame */
    uint16_t end_bits;        /* bits of the uncompressed header, trailing bits excluded */
};

/* Parses the uncompressed header of one frame f[0..n) (no superframe index) against the
 * reference sizes refs. Returns 0, or -1 if it is malformed, truncated or refers to a
 * reference slot of unknown size. */
int rec_vp9_parse(const uint8_t *f, size_t n, const struct rec_vp9_refs *refs,
                  struct rec_vp9_hdr *h);

/* Records the size of a decoded frame in the slots it refreshes. */
void rec_vp9_refresh(struct rec_vp9_refs *refs, const struct rec_vp9_hdr *h);

/* Rewrites the frame f[0..n) in place so it is decoded but not shown (show_frame = 0). An
 * inter frame then carries an intra_only bit, so its header may grow by one byte: f must hold
 * cap >= n + 1 bytes. h is rec_vp9_parse's result on f, for a shown frame that does not show
 * an existing one. Returns the new length or -1. */
long rec_vp9_hide(uint8_t *f, size_t n, size_t cap, const struct rec_vp9_hdr *h);

#endif
