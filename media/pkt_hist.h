/* Loss repair for forwarded video. Downstream: a history of the RTP packets we sent on one
 * outgoing stream, to answer a receiver's NACKs (as RTX, RFC 4588, when negotiated).
 * Upstream: a tracker of the sequence numbers missing from a publisher's stream, to decide
 * which to NACK and when to give up and ask for a keyframe. Pure state, no I/O. */
#ifndef MEDIA_PKT_HIST_H
#define MEDIA_PKT_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- history of sent packets ---- */

struct pkt_hist; /* per outgoing video stream (receiver track) */

#define PKT_HIST_MAX_AGE_MS 1500 /* default: older packets are not resent */

/* slots: a power of two up to 32768 (e.g. 512); max_pkt: the largest packet kept, up to
 * 65535 (e.g. 1500). Returns NULL on bad arguments or allocation failure; everything is
 * allocated here, once. The caller owns the result and frees it with pkt_hist_free. */
struct pkt_hist *pkt_hist_create(unsigned slots, size_t max_pkt);
void pkt_hist_free(struct pkt_hist *h);

/* Packets older than max_age_ms are not resent (e.g. max(1000, 3 x RTT)). */
void pkt_hist_set_max_age(struct pkt_hist *h, int max_age_ms);

/* Stores a copy of the plain (unencrypted) RTP packet we just sent, keyed by its output seq;
 * it replaces whatever held the slot. A packet longer than max_pkt is not kept (and the
 * slot is emptied). The caller keeps its buffer. */
void pkt_hist_put(struct pkt_hist *h, uint16_t seq, const uint8_t *rtp, size_t len,
		  int64_t now_ms);

/* Empties the slot of seq (a packet sent that cannot be resent). */
void pkt_hist_forget(struct pkt_hist *h, uint16_t seq);

/* Finds the packet for a NACKed seq: 0 with *rtp and *len set (pointing into the history, valid
 * until the next put) or -1 if gone (too old, overwritten, or never sent). Retransmits of
 * the same seq are rate-limited: returns -1 when this seq was resent less than
 * min_interval_ms ago (e.g. RTT-based; <= 0 means no limit). A 0 return counts as a resend. */
int pkt_hist_get(struct pkt_hist *h, uint16_t seq, int64_t now_ms, int min_interval_ms,
		 const uint8_t **rtp, size_t *len);

/* Builds the RTX packet (RFC 4588) for a stored packet into out[0..cap): rtx ssrc, rtx pt,
 * its own rtx seq, the original seq as the first 2 payload bytes; marker, timestamp, CSRCs
 * and header extensions kept (rewrite the transport-cc seq afterwards), padding removed.
 * Returns the length, or a negative rtp_err (RTP_ERR_NOSPACE, or the parse error). */
int pkt_hist_build_rtx(const uint8_t *rtp, size_t len, uint8_t *out, size_t cap,
		       uint32_t rtx_ssrc, uint8_t rtx_pt, uint16_t rtx_seq);

/* ---- upstream loss tracker ---- */

#define NACK_GEN_SLOTS 256        /* missing seqs tracked; a larger gap resets instead */
#define NACK_GEN_MAX_TRIES 10     /* NACKs per seq before giving up */
#define NACK_GEN_MAX_AGE_MS 1500  /* missing longer than this: give up */
#define NACK_GEN_REORDER_MS 10    /* wait this long before the first NACK: it may be late */
#define NACK_GEN_BACK_RESET 1000  /* a seq this far behind the newest restarts the stream */

struct nack_gen_miss {
	int64_t found_ms;         /* when the gap showed it missing */
	int64_t nacked_ms;        /* when last NACKed; meaningless while tries is 0 */
	uint16_t seq;
	uint8_t tries;            /* NACKs sent for it */
};

struct nack_gen { /* per incoming video stream; embed it, no allocation */
	bool started;             /* a first seq was seen */
	bool lost_keyframe;       /* a reset or overflow gave up packets: report at collect */
	uint16_t highest;         /* newest seq received */
	unsigned count;           /* entries in miss[] */
	struct nack_gen_miss miss[NACK_GEN_SLOTS]; /* ascending (wrap-aware) by seq */
};

void nack_gen_init(struct nack_gen *g);

/* Records a received seq (from the publisher, or the original seq of an RTX). Returns how
 * many seqs are newly missing: 0 for an in-order, late, duplicate or resetting packet. A
 * gap over NACK_GEN_SLOTS, or a seq NACK_GEN_BACK_RESET behind the newest, restarts the
 * tracking at this seq and asks for a keyframe instead of NACKing. */
int nack_gen_on_rtp(struct nack_gen *g, uint16_t seq, int64_t now_ms);

/* Seqs to NACK now (missing for NACK_GEN_REORDER_MS, not NACKed within rtt_ms, at most
 * NACK_GEN_MAX_TRIES tries each), oldest first as rtcp_build_nack wants; fills out[cap],
 * returns the count (the rest wait for the next call). Sets *need_keyframe (true or
 * false) to say a missing packet gave up (too many tries or too old) or a reset dropped
 * some since the last call: the router sends PLI. */
int nack_gen_collect(struct nack_gen *g, int64_t now_ms, int rtt_ms, uint16_t *out, int cap,
		     bool *need_keyframe);

#endif
