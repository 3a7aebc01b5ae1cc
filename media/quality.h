/* The worker's side of the per-site quality figures: feeds a peer's counters (media/qstats.h,
 * the block at the end of struct peer) from what it sends us, sends it a sender report on
 * our audio stream every second so that its receiver reports carry a round trip, and copies
 * the counters into the level report. Worker thread only. */
#ifndef MEDIA_QUALITY_H
#define MEDIA_QUALITY_H

#include <stddef.h>
#include <stdint.h>

#include "media/rtp.h"

struct engine;
struct peer;
struct mix_level;

/* A decrypted RTP packet from the peer (header already parsed). */
void quality_on_rtp(struct peer *p, const rtp_hdr_t *h);
/* A decrypted RTCP compound from a conference member: its receiver reports' round trip. */
void quality_on_rtcp(struct peer *p, const uint8_t *buf, size_t len);
/* Once per tick after the peer's audio went out: a sender report when one is due. */
void quality_tick(struct engine *e, struct peer *p, int64_t now_ns);
/* The interval's figures into the peer's entry of a level report; starts a new interval. */
void quality_fill(struct peer *p, struct mix_level *l);

#endif
