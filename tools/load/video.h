/* VP8 simulcast for the load generator (--video): a moving test pattern encoded once with
 * libvpx into three layers, replayed by every site on its own SSRCs and packetised per
 * RFC 7741 with the rid (RFC 8852) and mid header extensions, as a browser sends it. */
#ifndef LOAD_VIDEO_H
#define LOAD_VIDEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LVID_LAYERS 3
#define LVID_FPS 25                  /* a frame every other 20 ms audio slot */
#define LVID_FRAMES (LVID_FPS * 4)   /* 4 s ring; a keyframe starts it */
#define LVID_TS_STEP (90000 / LVID_FPS)
#define LVID_MTU 1200                /* RTP payload bytes per packet, at most */

struct lvid_set;

/* What one site's video stream needs per layer. */
struct lvid_stream {
    uint32_t ssrc;
    uint16_t seq;
    uint16_t picture_id;             /* 15-bit VP8 PictureID */
};

/* Encodes the rings (a second or two of CPU at start). NULL on failure, with a message
 * in err. */
struct lvid_set *lvid_new(char *err, size_t errlen);
void lvid_free(struct lvid_set *v);
/* Total bytes of one layer's ring, for the report. */
size_t lvid_layer_bytes(const struct lvid_set *v, int layer);
const char *lvid_rid(int layer);     /* "q", "h", "f" */
/* The layer a frame width belongs to, or -1. */
int lvid_layer_of_width(int width);

/* Writes the RTP packets (headers included, unprotected) of frame `frame` of `layer` for one
 * stream, calling emit for each; each packet leaves SRTPX-trailer room in a 1500-byte buffer.
 * Returns the packets written or -1. */
typedef int (*lvid_emit)(void *arg, uint8_t *pkt, size_t len);
int lvid_packetize(const struct lvid_set *v, int layer, int frame, struct lvid_stream *st,
                   uint8_t pt, uint32_t ts, uint8_t ext_mid, const char *mid,
                   uint8_t ext_rid, lvid_emit emit, void *arg);

#endif
