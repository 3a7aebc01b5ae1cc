/* The recorder's video depacketizer: one continuous RTP stream of VP8 (RFC 7741) or VP9
 * (RFC 9628) packets in, whole frames out, in order. Packets are held in a window until the
 * missing ones arrive or are declared lost (wait_ms after later packets came, or the window
 * is full); a frame that lost a packet is dropped and so is everything after it until the
 * next keyframe. Packets missing between two frames whose picture ids follow each other
 * (padding the sender left out) lose nothing. The spatial layer frames of a VP9 picture
 * become one superframe (Annex B) whose lower layers are marked "not shown". Pure: no I/O,
 * no clock (the caller passes t_ms), no allocation; the caller owns the (large) struct. */
#ifndef MEDIA_REC_DEPACK_H
#define MEDIA_REC_DEPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/rec_vp9.h"
#include "media/vpx.h"

#define REC_DP_SLOTS   512    /* packets in the window: ~2 s at 2 Mbit/s, a big keyframe */
#define REC_DP_PAYLOAD 1400   /* largest VP8/VP9 payload kept per packet */
#define REC_DP_LAYERS  8      /* VP9 frames in one superframe */
#define REC_DP_RESYNC  64     /* this many too-old packets in a row: the stream restarted */

enum rec_dp_err {
    REC_DP_ERR_PARSE = -1,    /* not RTP, or no valid VP8/VP9 descriptor */
    REC_DP_ERR_LATE = -2,     /* older than what was already emitted or given up */
    REC_DP_ERR_DUP = -3,      /* already held */
    REC_DP_ERR_SIZE = -4,     /* payload larger than REC_DP_PAYLOAD */
};

/* One frame (VP9: one picture) ready to decode. data points into the depacketizer and stays
 * valid until the next rec_depack_* call. */
struct rec_dp_frame {
    const uint8_t *data;
    size_t len;
    uint8_t codec;            /* enum vpx_codec */
    bool keyframe;
    uint8_t layers;           /* VP9 spatial layer frames in it (1 without SVC) */
    uint32_t rtp_ts;
    int64_t t_ms;             /* arrival of its first packet */
    uint16_t width, height;   /* keyframes: size of the shown (top) layer when known, else 0 */
};

struct rec_dp_stats {
    uint64_t packets;         /* accepted into the window */
    uint64_t frames;          /* emitted */
    uint64_t lost_packets;    /* declared lost */
    uint64_t dropped_frames;  /* complete frames dropped while waiting for a keyframe, and
                               * frames broken by a loss or malformed */
    uint64_t rejected;        /* packets refused by rec_depack_push */
};

/* ---- private below: the caller only allocates it ---- */

struct rec_dp_slot {
    bool used;
    bool start, end, marker;  /* frame start (VP9: B), VP9 E bit, RTP marker */
    bool key;                 /* keyframe start packet */
    uint8_t sid;              /* VP9 spatial layer */
    bool pid15;               /* the picture id has 15 bits, else 7 */
    int16_t pid;              /* picture id, -1 if absent */
    uint16_t len;             /* payload bytes, descriptor stripped */
    uint8_t ss_n;             /* VP9 SS with sizes: layer count, else 0 */
    uint16_t ss_w[REC_DP_LAYERS], ss_h[REC_DP_LAYERS];
    uint16_t key_w, key_h;    /* size in a keyframe header in this packet */
    uint32_t ts;
    int64_t seq;              /* extended sequence number */
    int64_t t_ms;
    uint8_t data[REC_DP_PAYLOAD];
};

struct rec_depack {
    uint8_t codec;            /* of the packets held; 0 before the first */
    int wait_ms;              /* how long a missing packet is waited for */
    bool have_seq;            /* next and hi hold values */
    bool need_key;            /* after a start or a loss: drop until a keyframe */
    bool gap;                 /* packets between frames were given up: unless the next
                               * frame's picture id follows last_pid, a frame was lost */
    int16_t last_pid;         /* picture id of the newest frame emitted, -1 if none */
    int64_t next;             /* extended seq of the first packet not yet emitted/given up */
    int64_t hi;               /* newest extended seq received */
    int64_t now_ms;           /* newest t_ms seen */
    unsigned late_run;        /* consecutive late packets */
    struct rec_vp9_refs refs; /* VP9 reference slot sizes after the frames emitted */
    struct rec_dp_stats st;
    struct rec_dp_slot slot[REC_DP_SLOTS];
    uint8_t out[REC_DP_SLOTS * REC_DP_PAYLOAD + REC_DP_LAYERS + 2 + 4 * REC_DP_LAYERS];
};

/* Resets d (whose memory the caller owns) to wait for a keyframe; wait_ms is how long a
 * missing packet is waited for once later ones arrived (retransmissions, reordering). */
void rec_depack_init(struct rec_depack *d, int wait_ms);

/* Takes one RTP packet pkt[0..len) (SRTP already removed) that arrived at t_ms; it is copied.
 * A codec other than the packets held so far restarts the depacketizer. Returns 0, or a
 * negative rec_dp_err (the packet is ignored). */
int rec_depack_push(struct rec_depack *d, enum vpx_codec codec, const uint8_t *pkt, size_t len,
                    int64_t t_ms);

/* Emits the next complete frame: 1 with *f filled, 0 when none is ready. now_ms is the
 * caller's clock (the t_ms of packets); flush gives up on every missing packet (at the end).
 * Call it until it returns 0 after each push. */
int rec_depack_pop(struct rec_depack *d, int64_t now_ms, bool flush, struct rec_dp_frame *f);

/* Copy of the counters. */
static inline struct rec_dp_stats rec_depack_stats(const struct rec_depack *d)
{
    return d->st;
}

#endif
