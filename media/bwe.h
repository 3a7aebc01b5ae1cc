/* Send-side bandwidth estimator for one receiving peer, GCC-like
 * (draft-ietf-rmcat-gcc-02): a delay-based part fed by transport-cc feedback (5 ms send
 * bursts, trendline of the inter-group delay variation, overuse detector with an adaptive
 * threshold, AIMD rate control), a loss-based part fed by the same feedback, and REMB as a
 * fallback and cap. Pure state driven by the caller's clock: no I/O, one allocation. */
#ifndef MEDIA_BWE_H
#define MEDIA_BWE_H

#include <stdint.h>

#include "media/rtcp.h"

struct bwe; /* one per receiver (peer) */

enum bwe_state { BWE_HOLD, BWE_INCREASE, BWE_DECREASE }; /* delay-based rate control */
enum bwe_signal { BWE_NORMAL, BWE_OVERUSE, BWE_UNDERUSE }; /* overuse detector output */

struct bwe_stats {
	uint32_t delay_bps;      /* delay-based (AIMD) estimate */
	uint32_t loss_bps;       /* loss-based estimate; max_bps until the first lossy window */
	uint32_t remb_bps;       /* last REMB, 0 if none came */
	uint32_t acked_bps;      /* receive rate measured from feedback, 0 until known */
	float loss;              /* fraction lost in the last completed loss window, 0..1 */
	double trend;            /* modified trend of the queuing delay (compare to threshold) */
	double threshold;        /* adaptive overuse threshold */
	enum bwe_state state;
	enum bwe_signal signal;
	uint32_t feedbacks;      /* transport-cc feedbacks used */
	uint32_t unknown;        /* statuses of packets never recorded or already forgotten */
	uint32_t duplicate;      /* statuses already reported by an earlier feedback */
	uint32_t oversized;      /* feedbacks with more statuses than BWE_FB_MAX, ignored */
	uint32_t resets;         /* delay detector restarts after absurd or reordered deltas */
};

#define BWE_FB_MAX 2048u /* statuses one feedback may carry to be used */

/* Creates an estimator starting at start_bps, kept within [min_bps, max_bps] (start is
 * clamped into that range). Returns NULL if min_bps is 0 or above max_bps, or on
 * allocation failure. The caller owns the result and frees it with bwe_free. */
struct bwe *bwe_create(uint32_t start_bps, uint32_t min_bps, uint32_t max_bps);
void bwe_free(struct bwe *b);

/* Every packet we send that carries our transport-wide sequence number (we put the
 * transport-cc header extension on every RTP packet to this peer). size: bytes on the
 * wire as counted for the rate (RTP header and payload at least). Times are the caller's
 * monotonic clock in microseconds, the same clock for every call. */
void bwe_on_sent(struct bwe *b, uint16_t twcc_seq, uint16_t size, int64_t now_us);

/* A transport-cc feedback from the peer (the view rtcp_iter_next yielded; only read during
 * the call). Statuses of packets never recorded, forgotten or already reported are skipped. */
void bwe_on_twcc(struct bwe *b, const rtcp_twcc_t *fb, int64_t now_us);

/* REMB from the peer: the estimate while no transport-cc feedback arrives (none yet, or
 * none for 2 s), and a cap on the transport-cc estimate for 5 s after each REMB. */
void bwe_on_remb(struct bwe *b, uint32_t bps, int64_t now_us);

/* Optional: the round-trip time to the peer (from RTCP RR), paces additive increase and
 * loss-based decreases. 100 ms is assumed until set. */
void bwe_set_rtt(struct bwe *b, int rtt_ms);

/* Current target send rate, bits per second, within [min_bps, max_bps]. */
uint32_t bwe_target(const struct bwe *b, int64_t now_us);

/* For stats and logs. */
void bwe_stats(const struct bwe *b, struct bwe_stats *out);

#endif
