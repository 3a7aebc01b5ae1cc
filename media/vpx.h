/* The codec-level core of the video router: VP8 (RFC 7741) and VP9 (RFC 9628) RTP payload
 * descriptors parsed into offsets, and a per-receiver-track rewriter that turns packets from
 * changing sources (publishers, simulcast layers, dropped temporal or spatial layers) into one
 * continuous stream: SSRC, sequence number, timestamp, picture id and TL0PICIDX. Pure: no
 * I/O, no clocks (the caller passes now_ms), no allocation; the caller owns every struct. */
#ifndef MEDIA_VPX_H
#define MEDIA_VPX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/rtp.h"

#define VPX_MAX_SPATIAL 8    /* VP9 SS counts spatial layers in 3 bits (N_S + 1) */
#define VPX_DROP_RUNS   32   /* remembered runs of dropped packets (one per dropped frame) */
#define VPX_PICTURES    8    /* remembered per-picture forwarding decisions */

enum vpx_codec { VPX_VP8 = 1, VPX_VP9 = 2 };

enum vpx_err {
    VPX_ERR_TRUNCATED = -1,     /* the descriptor runs past the payload, or no payload follows */
    VPX_ERR_MALFORMED = -2,     /* VP9: flexible mode without picture id, a fourth P_DIFF */
    VPX_ERR_ARG = -3,           /* descriptor and packet do not fit together */
    VPX_ERR_NEED_KEYFRAME = -4, /* the track starts (or switched) and this is no keyframe start */
    VPX_ERR_SOURCE = -5,        /* another SSRC than the track's current source, no switch */
    VPX_ERR_OLD = -6,           /* older than the switch point, or than the track remembers */
    VPX_ERR_DROPPED = -7,       /* the track dropped this packet or its frame before */
    VPX_ERR_PID_WIDTH = -8,     /* 7-bit picture id where the track sends 15 bits, or back */
};

/* One packet's payload descriptor. Offsets index into the payload (rtp_hdr_t.payload_off). */
struct vpx_desc {
    uint8_t codec;            /* enum vpx_codec */
    bool frame_start;         /* first packet of a frame (VP8: S=1 and PartID=0; VP9: B) */
    bool frame_end;           /* VP9: E bit. VP8: not in the descriptor (use the RTP marker) */
    bool keyframe;            /* first packet of a frame decodable without any earlier one:
                               * VP8: frame_start with P=0 in the VP8 payload header;
                               * VP9: B=1, P=0 and D=0 (the base spatial layer of a key picture);
                               * only the start packet carries it */
    int picture_id;           /* -1 when absent */
    bool pid_15;              /* the picture id is 15 bits (M bit), else 7 */
    int tl0picidx;            /* -1 when absent (VP9: only in non-flexible mode) */
    int tid;                  /* temporal layer id, 0 when absent */
    bool layer_sync;          /* VP8 Y bit; VP9 U bit (switching up point) */
    int sid;                  /* VP9 spatial layer id, 0 when absent */
    bool inter_pic;           /* VP9 P bit: predicted from an earlier picture */
    bool inter_layer;         /* VP9 D bit: predicted from the layer below in this picture */
    bool flexible;            /* VP9 F bit */
    bool not_ref;             /* VP8 N bit (no other frame references this one); VP9: false */
    uint8_t n_pdiff;          /* VP9 flexible mode: reference count, 0..3 */
    uint8_t pdiff[3];         /* VP9 flexible mode: P_DIFF of each reference */
    uint16_t hdr_len;         /* bytes of the payload descriptor (VP9: SS included) */
    uint16_t pid_off, tl0_off;/* in-place rewriting offsets in the payload, 0 = absent */
    uint8_t ss_n_s;           /* VP9 SS (V bit): spatial layer count, 0 when no SS */
    uint16_t ss_width[VPX_MAX_SPATIAL], ss_height[VPX_MAX_SPATIAL]; /* 0 without the Y bit */
    uint16_t width, height;   /* keyframe size from the VP8/VP9 frame header, else 0 */
};

/* Parse the descriptor at the start of an RTP payload (payload[0..len), padding excluded).
 * At least one byte must follow the descriptor. Returns 0 with *d filled, or a negative
 * vpx_err (*d undefined). */
int vpx_parse_vp8(const uint8_t *payload, size_t len, struct vpx_desc *d);
int vpx_parse_vp9(const uint8_t *payload, size_t len, struct vpx_desc *d);

/* Static snake_case name of a vpx_err code. */
const char *vpx_strerror(int err);

/* ---- per receiver-track rewriting; the fields below are private to media/vpx.c ---- */

/* A wrapping counter mapped to a gap-free output one: out = in + off (mod 2^bits), where off
 * steps down after each run of dropped inputs. Inputs are "extended" (unwrapped) against
 * the newest one seen so reordered ones find the offset that was in force at their place. */
struct vpx_map {
    bool live;                /* set up for the current source */
    bool have_out;            /* out_hi holds a value (something was written on the track) */
    uint8_t bits;             /* 16 (sequence), 15 or 7 (picture id), 8 (TL0PICIDX) */
    uint32_t out_hi;          /* newest output value written */
    int64_t hi;               /* newest input seen (kept or dropped), extended */
    int64_t floor_last;       /* inputs <= this are unknown: before the switch, or forgotten */
    int64_t floor_off;        /* offset after floor_last until the first run */
    uint8_t n_runs, head;     /* runs[] is a ring: head = oldest */
    struct vpx_run {
        int64_t first, last;  /* dropped inputs, extended, consecutive */
        int64_t off;          /* offset of inputs after last */
    } runs[VPX_DROP_RUNS];
};

/* One picture's forwarding decision, so all its packets get the same one when reordered. */
struct vpx_pic {
    bool used;
    bool keep_t;              /* its temporal layer is forwarded */
    bool marked;              /* a forwarded packet of it got the marker */
    int8_t sid_limit;         /* highest spatial layer forwarded in it */
    uint32_t ts;              /* RTP timestamp (identifies the picture) */
};

struct vpx_track {
    uint32_t ssrc_out;        /* SSRC written on every packet */
    bool need_key;            /* after init or a switch: waiting for a keyframe start */
    bool started;             /* something was written: ts_out_hi and last_ms hold values */
    uint32_t src_ssrc;        /* the current source */
    uint32_t ts_off;          /* out_ts = in_ts + ts_off */
    uint32_t ts_out_hi;       /* newest output timestamp */
    int64_t last_ms;          /* when the newest packet was written */
    struct vpx_map seq, pid, tl0;
    /* layer selection (vpx_track_keep_*), reset by every keyframe */
    bool sel_live;            /* a keyframe of sel_ssrc was seen */
    uint32_t sel_ssrc;
    int cur_tid, cur_sid;     /* highest layers forwarded consistently right now */
    uint8_t pic_next;         /* next slot of pics[] to reuse */
    struct vpx_pic pics[VPX_PICTURES];
};

/* Sets up a track that will send with ssrc_out; it waits for a keyframe start. */
void vpx_track_init(struct vpx_track *t, uint32_t ssrc_out);

/* The next packet given to vpx_track_rewrite comes from a new source or simulcast layer:
 * call it right before rewriting that source's keyframe start packet. Until a keyframe start
 * arrives the track rejects everything (VPX_ERR_NEED_KEYFRAME), so call it only once the
 * keyframe is in hand and keep forwarding the old source until then. */
void vpx_track_switch(struct vpx_track *t);

/* Rewrites in place one RTP packet buf[0..len) (header h from rtp_parse on buf, descriptor d
 * from the payload) that the router forwards on this track: SSRC, sequence number, timestamp,
 * picture id and TL0PICIDX (the marker bit is the caller's: see vpx_track_keep_vp9).
 * buf may be a copy with a rebuilt header, as long as it keeps the publisher's sequence number
 * and timestamp. The first packet after init or a switch must be a keyframe start; its
 * sequence number and picture id follow the last ones written, its timestamp the last one
 * plus the wall-clock gap (now_ms, 90 kHz, at least 1 tick). Later packets of that source
 * are mapped by offsets, so reordered and retransmitted ones get the numbers of their place;
 * one with another SSRC in h than the keyframe start had is refused (VPX_ERR_SOURCE).
 * Returns 0, or a negative vpx_err and leaves buf and the track unchanged: the packet must
 * not be forwarded. */
int vpx_track_rewrite(struct vpx_track *t, uint8_t *buf, size_t len, const rtp_hdr_t *h,
                      const struct vpx_desc *d, int64_t now_ms);

/* The router drops this packet of the current source: later packets shift down so the
 * output sequence numbers stay gap-free, and for VP8 so do picture ids (libwebrtc receivers
 * stall on VP8 picture-id gaps; VP9 keeps its ids since P_DIFF and the SS group refer to
 * them). Only h->seq and d are used (h as received will do); ignored while the track waits
 * for a keyframe. A drop older than the newest packet seen cannot shift what was written and
 * leaves a gap (the receiver NACKs it). Drop whole frames: a kept packet of a dropped VP8
 * frame is refused. */
void vpx_track_drop(struct vpx_track *t, const rtp_hdr_t *h, const struct vpx_desc *d);

/* Decides whether to forward a packet of the track's current source under a temporal layer
 * limit: frames above max_tid are dropped; going up waits for a keyframe or a switching point
 * (VP8 Y / VP9 U on the next layer; VP9 flexible mode U on a forwarded picture) so the
 * receiver never gets a frame whose references it lacks. The decision is made once per
 * picture (RTP timestamp), so reordered packets of a frame all get the same one. Each
 * keyframe start resets the state to that packet's source. */
bool vpx_track_keep_tid(struct vpx_track *t, const rtp_hdr_t *h, const struct vpx_desc *d,
                        int max_tid);

/* The same for VP9 SVC (all spatial layers on one SSRC), adding a spatial limit: layers above
 * max_sid are dropped; going down happens at the next picture, going up at a keyframe (the
 * only up-switch point of L3T3_KEY and full SVC pictures). *marker is what the forwarded
 * packet's RTP marker must be: set on the last packet of the highest forwarded layer. */
bool vpx_track_keep_vp9(struct vpx_track *t, const rtp_hdr_t *h, const struct vpx_desc *d,
                        int max_sid, int max_tid, bool *marker);

#endif
