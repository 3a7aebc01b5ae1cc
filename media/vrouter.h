/* Video selective forwarding for one conference on a worker: takes every publisher's VP8
 * simulcast or VP9 SVC packets and gives each receiver a main track and thumbnails, each one
 * continuous stream, at the layers its measured bandwidth allows. Worker thread only. */
#ifndef MEDIA_VROUTER_H
#define MEDIA_VROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/rtp.h"

struct engine;
struct peer;
struct vrouter;
struct rec;

struct vrouter *vrouter_new(void);
void vrouter_free(struct vrouter *r);

/* Adds a member (its params say what it publishes and which tracks it takes). Allocates
 * p->vr; a member with no video gets none and the router ignores it. 0 or -1. */
int vrouter_join(struct vrouter *r, struct peer *p);
void vrouter_leave(struct vrouter *r, struct peer *p);

/* Every decrypted RTP packet of a member (audio too: it feeds the uplink's transport-cc
 * feedback). Returns true when the packet was video and is consumed here. */
bool vrouter_on_rtp(struct engine *e, struct peer *p, uint8_t *buf, size_t len,
                    const rtp_hdr_t *h, int64_t now_ns);
/* A decrypted RTCP compound from a member: keyframe requests, NACKs, bandwidth feedback. */
void vrouter_on_rtcp(struct engine *e, struct peer *p, const uint8_t *buf, size_t len, int64_t now_ns);

/* The source the receiver sees as main: a publisher's session id, or 0 to follow the
 * conference's dominant speaker. */
void vrouter_set_view(struct peer *p, uint64_t source);
/* The mixer's dominant speaker changed to this member. */
void vrouter_dominant(struct vrouter *r, struct peer *p, int64_t now_ns);

/* Every 20 ms: feedback to publishers, layer and source choices, probing. */
void vrouter_tick(struct engine *e, struct vrouter *r, int64_t now_ns);

/* Attaches a recorder (media/rec.h: a recording, a live stream; two at most) to the
 * conference's recorder view, one more receiver of the main view at the best layer; or
 * detaches it (rec NULL: all). The caller keeps owning rec. 0 or -1. */
int vrouter_record(struct vrouter *r, struct rec *rec, bool attach);
/* What the recorder shows: a publisher's session id, or 0 for the dominant speaker. */
void vrouter_record_view(struct vrouter *r, uint64_t source);

/* Totals for /metrics and the bench. */
struct vrouter_stats {
    uint64_t forwarded, dropped_layer, keyframe_requests, nacks_answered, rtx_sent, probes;
    uint64_t duplicates;         /* packets received twice (RTX probes), not forwarded */
};
void vrouter_add_stats(const struct vrouter *r, struct vrouter_stats *s);

#endif
