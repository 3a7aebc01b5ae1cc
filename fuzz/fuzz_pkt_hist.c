/* libFuzzer target for media/pkt_hist: the input is a script of history puts and gets,
 * RTX builds over arbitrary bytes, and NACK tracker steps. Checked: a get returns the
 * packet last put under that seq; an RTX parses and carries the original seq and payload;
 * the tracker's list stays ascending, behind the newest seq and within its size, and a
 * collect only returns seqs it was tracking. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "media/pkt_hist.h"
#include "media/rtp.h"

#define SLOTS 16u
#define MAX_PKT 64u

struct script {
	const uint8_t *p;
	size_t left;
};

static uint8_t next(struct script *s)
{
	if (!s->left)
		return 0;
	s->left--;
	return *s->p++;
}

static void check_rtx(const uint8_t *in, size_t len)
{
	uint8_t out[300];
	rtp_hdr_t h, r;
	int n = pkt_hist_build_rtx(in, len, out, sizeof(out), 7, 97, 3);

	if (n < 0)
		return;
	if (rtp_parse(in, len, &h) != 0 || rtp_parse(out, (size_t)n, &r) != 0)
		abort();
	if (r.padding || r.ssrc != 7 || r.pt != 97 || r.seq != 3 ||
	    r.payload_len != h.payload_len + 2 || r.payload_off != h.payload_off)
		abort();
	if ((uint16_t)(out[r.payload_off] << 8 | out[r.payload_off + 1]) != h.seq ||
	    memcmp(out + r.payload_off + 2, in + h.payload_off, h.payload_len))
		abort();
}

static void check_nack(const struct nack_gen *g)
{
	if (g->count > NACK_GEN_SLOTS)
		abort();
	for (unsigned i = 0; i < g->count; i++) {
		if ((int16_t)(uint16_t)(g->miss[i].seq - g->highest) >= 0)
			abort();
		if (i && (int16_t)(uint16_t)(g->miss[i].seq - g->miss[i - 1].seq) <= 0)
			abort();
	}
}

static bool tracked(const struct nack_gen *g, uint16_t seq)
{
	for (unsigned i = 0; i < g->count; i++)
		if (g->miss[i].seq == seq)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script s = { data, size };
	struct pkt_hist *h = pkt_hist_create(SLOTS, MAX_PKT);
	struct nack_gen g;
	uint8_t shadow[SLOTS][MAX_PKT + 1]; /* [0] = length, valid when seqs[] matches */
	int32_t seqs[SLOTS];
	int64_t now = 0;
	uint16_t seq = 0, rseq = 0;

	if (!h)
		abort();
	nack_gen_init(&g);
	for (unsigned i = 0; i < SLOTS; i++)
		seqs[i] = -1;
	while (s.left) {
		uint8_t op = next(&s);
		switch (op % 6) {
		case 0: { /* put a packet whose bytes come from the script */
			seq = (uint16_t)(seq + 1 + (next(&s) & 3));
			size_t len = 12 + next(&s) % (MAX_PKT - 11);
			uint8_t pkt[MAX_PKT];
			for (size_t i = 0; i < len; i++)
				pkt[i] = next(&s);
			pkt_hist_put(h, seq, pkt, len, now);
			seqs[seq % SLOTS] = seq;
			shadow[seq % SLOTS][0] = (uint8_t)len;
			memcpy(&shadow[seq % SLOTS][1], pkt, len);
			break;
		}
		case 1: { /* get a recent seq */
			uint16_t q = (uint16_t)(seq - next(&s) % 24);
			const uint8_t *p;
			size_t len;
			if (pkt_hist_get(h, q, now, next(&s), &p, &len) == 0) {
				if (seqs[q % SLOTS] != q || len != shadow[q % SLOTS][0] ||
				    memcmp(p, &shadow[q % SLOTS][1], len))
					abort();
				check_rtx(p, len);
			}
			break;
		}
		case 2: { /* RTX of arbitrary bytes */
			size_t len = next(&s);
			if (len > s.left)
				len = s.left;
			check_rtx(s.p, len);
			s.p += len;
			s.left -= len;
			break;
		}
		case 3: { /* a publisher packet: mostly small steps, some reordering, rare jumps */
			uint8_t f = next(&s);
			int step = (f & 0x80) ? (int)((uint16_t)(next(&s) << 8 | next(&s)))
					      : (int)(f & 0x0F) - 4;
			rseq = (uint16_t)(rseq + step);
			if (nack_gen_on_rtp(&g, rseq, now) < 0)
				abort();
			check_nack(&g);
			break;
		}
		case 4: { /* collect */
			uint16_t out[32];
			bool kf;
			struct nack_gen before = g;
			int cap = next(&s) % 33;
			int n = nack_gen_collect(&g, now, next(&s), out, cap, &kf);
			if (n < 0 || n > cap)
				abort();
			for (int i = 0; i < n; i++)
				if (!tracked(&before, out[i]) || !tracked(&g, out[i]))
					abort();
			check_nack(&g);
			break;
		}
		default:
			now += next(&s);
			break;
		}
	}
	pkt_hist_free(h);
	return 0;
}
