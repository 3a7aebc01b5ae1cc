/* Loss repair state (see pkt_hist.h): a ring of sent packets indexed by seq modulo its
 * size, with one resend timestamp per slot for the rate limit, the RFC 4588 RTX builder,
 * and the per-publisher tracker of missing seqs that paces upstream NACKs. */
#include "media/pkt_hist.h"

#include <stdlib.h>
#include <string.h>

#include "media/bytes.h"
#include "media/rtp.h"

#define HIST_MAX_SLOTS 32768u

struct slot {
	int64_t sent_ms;
	int64_t resent_ms;          /* meaningless while resent is false */
	uint16_t seq;
	uint16_t len;
	bool used;
	bool resent;
};

struct pkt_hist {
	unsigned mask;              /* slots - 1 */
	size_t max_pkt;
	int max_age_ms;
	uint8_t *data;              /* slots x max_pkt bytes, after the slot array */
	struct slot slot[];
};

struct pkt_hist *pkt_hist_create(unsigned slots, size_t max_pkt)
{
	if (slots == 0 || slots > HIST_MAX_SLOTS || (slots & (slots - 1)) || max_pkt == 0 ||
	    max_pkt > UINT16_MAX)
		return NULL;
	size_t head = sizeof(struct pkt_hist) + slots * sizeof(struct slot);
	struct pkt_hist *h = calloc(1, head + (size_t)slots * max_pkt);
	if (!h)
		return NULL;
	h->mask = slots - 1;
	h->max_pkt = max_pkt;
	h->max_age_ms = PKT_HIST_MAX_AGE_MS;
	h->data = (uint8_t *)h + head;
	return h;
}

void pkt_hist_free(struct pkt_hist *h)
{
	free(h);
}

void pkt_hist_set_max_age(struct pkt_hist *h, int max_age_ms)
{
	h->max_age_ms = max_age_ms;
}

void pkt_hist_put(struct pkt_hist *h, uint16_t seq, const uint8_t *rtp, size_t len,
		  int64_t now_ms)
{
	unsigned i = seq & h->mask;
	struct slot *s = &h->slot[i];

	if (len > h->max_pkt) {
		s->used = false;
		return;
	}
	memcpy(h->data + (size_t)i * h->max_pkt, rtp, len);
	*s = (struct slot){ .sent_ms = now_ms, .seq = seq, .len = (uint16_t)len, .used = true };
}

void pkt_hist_forget(struct pkt_hist *h, uint16_t seq)
{
	h->slot[seq & h->mask].used = false;
}

int pkt_hist_get(struct pkt_hist *h, uint16_t seq, int64_t now_ms, int min_interval_ms,
		 const uint8_t **rtp, size_t *len)
{
	unsigned i = seq & h->mask;
	struct slot *s = &h->slot[i];

	if (!s->used || s->seq != seq || now_ms - s->sent_ms > h->max_age_ms)
		return -1;
	if (s->resent && min_interval_ms > 0 && now_ms - s->resent_ms < min_interval_ms)
		return -1;
	s->resent = true;
	s->resent_ms = now_ms;
	*rtp = h->data + (size_t)i * h->max_pkt;
	*len = s->len;
	return 0;
}

int pkt_hist_build_rtx(const uint8_t *rtp, size_t len, uint8_t *out, size_t cap,
		       uint32_t rtx_ssrc, uint8_t rtx_pt, uint16_t rtx_seq)
{
	rtp_hdr_t h;
	int rc = rtp_parse(rtp, len, &h);

	if (rc < 0)
		return rc;
	size_t total = h.payload_off + 2 + h.payload_len;
	if (total > cap || total > INT32_MAX)
		return RTP_ERR_NOSPACE;
	memcpy(out, rtp, h.payload_off);
	out[0] &= (uint8_t)~0x20; /* padding dropped: the RTX sender pads on its own if at all */
	rtp_set_pt(out, rtx_pt);
	rtp_set_seq(out, rtx_seq);
	rtp_set_ssrc(out, rtx_ssrc);
	be_wr16(out + h.payload_off, h.seq);
	memcpy(out + h.payload_off + 2, rtp + h.payload_off, h.payload_len);
	return (int)total;
}

/* ---- upstream loss tracker ---- */

void nack_gen_init(struct nack_gen *g)
{
	memset(g, 0, sizeof(*g));
}

static void restart(struct nack_gen *g, uint16_t seq)
{
	g->lost_keyframe = true;
	g->count = 0;
	g->highest = seq;
}

/* Drops entries [i, i + n) keeping the order. */
static void drop(struct nack_gen *g, unsigned i, unsigned n)
{
	memmove(&g->miss[i], &g->miss[i + n], (g->count - i - n) * sizeof(g->miss[0]));
	g->count -= n;
}

static void recovered(struct nack_gen *g, uint16_t seq)
{
	for (unsigned i = 0; i < g->count; i++) {
		if (g->miss[i].seq == seq) {
			drop(g, i, 1);
			return;
		}
	}
}

int nack_gen_on_rtp(struct nack_gen *g, uint16_t seq, int64_t now_ms)
{
	if (!g->started) {
		g->started = true;
		g->highest = seq;
		return 0;
	}
	int d = (int16_t)(uint16_t)(seq - g->highest);
	if (d == 0)
		return 0;
	if (d < 0) {
		if (-d >= NACK_GEN_BACK_RESET)
			restart(g, seq); /* the publisher restarted its numbering */
		else
			recovered(g, seq);
		return 0;
	}
	int gap = d - 1;
	if (gap > NACK_GEN_SLOTS) {
		restart(g, seq); /* too much to repair: a keyframe is cheaper */
		return 0;
	}
	if (g->count + (unsigned)gap > NACK_GEN_SLOTS) {
		/* oldest entries make room: they had the longest chance */
		drop(g, 0, g->count + (unsigned)gap - NACK_GEN_SLOTS);
		g->lost_keyframe = true;
	}
	for (int k = 1; k <= gap; k++)
		g->miss[g->count++] = (struct nack_gen_miss){
			.found_ms = now_ms, .seq = (uint16_t)(g->highest + k) };
	g->highest = seq;
	return gap;
}

int nack_gen_collect(struct nack_gen *g, int64_t now_ms, int rtt_ms, uint16_t *out, int cap,
		     bool *need_keyframe)
{
	int n = 0;
	unsigned keep = 0;

	*need_keyframe = g->lost_keyframe;
	g->lost_keyframe = false;
	if (rtt_ms < 1)
		rtt_ms = 1;
	for (unsigned i = 0; i < g->count; i++) {
		struct nack_gen_miss m = g->miss[i];
		int64_t age = now_ms - m.found_ms;
		if (age > NACK_GEN_MAX_AGE_MS ||
		    (m.tries >= NACK_GEN_MAX_TRIES && now_ms - m.nacked_ms >= rtt_ms)) {
			*need_keyframe = true; /* gone for good: the decoder needs a fresh start */
			continue;
		}
		bool due = m.tries == 0 ? age >= NACK_GEN_REORDER_MS : now_ms - m.nacked_ms >= rtt_ms;
		if (due && m.tries < NACK_GEN_MAX_TRIES && n < cap) {
			out[n++] = m.seq;
			m.tries++;
			m.nacked_ms = now_ms;
		}
		g->miss[keep++] = m;
	}
	g->count = keep;
	return n;
}
