/* An adaptive jitter buffer for one participant's audio: packets go in as they arrive (any
 * order), 20 ms frames come out one per mixer tick, in RTP timestamp order. Pure and
 * time-driven (the caller passes now_ns), so tests and the fuzzer run it without clocks. The
 * target depth follows RFC 3550 interarrival jitter (and grows on late packets), bounded by
 * [min_ms, max_ms]; a missing frame is held for while the target allows, then reported for
 * in-band FEC (the next packet is present) or PLC. It knows nothing of Opus. */
#ifndef MEDIA_JITTER_H
#define MEDIA_JITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JB_MAX_PAYLOAD 512   /* bigger packets are dropped and counted as too_big */
#define JB_MAX_PLC     5     /* consecutive concealed frames before the output goes quiet */

struct jb_cfg {
    int min_ms, max_ms;      /* target bounds, in whole frames: min_ms rounds up (to at least
                              * one frame), max_ms down but not below that; max_ms <= 1000 */
    int frame_ms;            /* playout frame (20) */
    int clock_hz;            /* RTP clock (48000 for Opus, whatever the decode rate) */
};

enum jb_err {
    JB_ERR_LATE = -1,        /* behind the playout point (or already played) */
    JB_ERR_DUPLICATE = -2,   /* that frame is already buffered */
    JB_ERR_TOO_BIG = -3,     /* payload longer than JB_MAX_PAYLOAD */
    JB_ERR_ARG = -4,         /* empty payload */
};

enum jb_kind {
    JB_EMPTY = 0,            /* nothing to play: not started, or quiet for a while */
    JB_FRAME,                /* a packet for this frame */
    JB_FEC,                  /* this frame is lost; data is the NEXT packet, decode its FEC */
    JB_PLC,                  /* this frame is missing: conceal it */
};

/* What jb_get hands out. data points into the buffer: valid until the next put or get. */
struct jb_frame {
    enum jb_kind kind;
    const uint8_t *data;     /* FRAME/FEC: the payload; NULL otherwise */
    size_t len;
    uint16_t seq;            /* FRAME/FEC: the packet's sequence number */
    uint32_t ts;             /* FRAME/FEC: the packet's RTP timestamp */
    int tag;                 /* FRAME/FEC: the caller's tag given to jb_put (e.g. audio level) */
};

struct jb_stats {
    uint64_t put, late, duplicate, too_big;
    uint64_t overflow;       /* buffered packets dropped because a far newer one needed room */
    uint64_t shrunk;         /* buffered packets dropped to bring a deep buffer back to target */
    uint64_t resets;         /* timeline restarts (the sender's timestamps jumped back) */
    uint64_t frames, fec, plc, empty; /* jb_get results */
};

struct jb;

/* A new buffer (the caller owns it; free with jb_free). NULL on a bad cfg or no memory. */
struct jb *jb_new(const struct jb_cfg *cfg);
void jb_free(struct jb *jb);
/* Forget all packets and the timeline (not the jitter estimate or the stats). */
void jb_reset(struct jb *jb);

/* Store one packet (copied; nothing allocated). tag is returned with it. 0 or a jb_err. */
int jb_put(struct jb *jb, uint16_t seq, uint32_t ts, const uint8_t *data, size_t len, int tag,
           int64_t now_ns);
/* Take the next 20 ms frame; call once per tick. Returns out->kind. */
enum jb_kind jb_get(struct jb *jb, int64_t now_ns, struct jb_frame *out);

int jb_target_ms(const struct jb *jb);      /* current target depth */
int jb_depth_ms(const struct jb *jb);       /* buffered span from the playout point */
double jb_jitter_ms(const struct jb *jb);   /* RFC 3550 interarrival jitter estimate */
void jb_get_stats(const struct jb *jb, struct jb_stats *out);
/* The structure's invariants hold (for assert() and the fuzzer). */
bool jb_check(const struct jb *jb);

#endif
