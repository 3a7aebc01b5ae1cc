/* libFuzzer target for media/rtcp: validates the input as a compound, walks every
 * sub-packet's variable part (report blocks, SDES items, BYE list, NACK expansion, FIR
 * entries, REMB SSRCs, transport-cc statuses), and rebuilds each transport-cc feedback
 * with the builder to check it decodes back to the same statuses. */
#include <stdlib.h>
#include <string.h>

#include "media/rtcp.h"

static rtcp_twcc_status_t st1[65536], st2[65536];
static uint8_t twcc_buf[300000];

static void twcc_rebuild(const rtcp_twcc_t *t)
{
	int n = rtcp_twcc_decode(t, st1, 65536);
	rtcp_pkt_t pkt;
	rtcp_iter_t it;

	if (n != t->status_count)
		abort();
	if (n == 0)
		return;
	int len = rtcp_build_twcc(twcc_buf, sizeof(twcc_buf), t->fb.sender_ssrc,
				  t->fb.media_ssrc, t->fb_count, st1, (size_t)n);
	if (len < 0)
		abort();
	rtcp_iter_init(&it, twcc_buf, (size_t)len);
	if (rtcp_iter_next(&it, &pkt) != 1 || pkt.kind != RTCP_TWCC ||
	    rtcp_twcc_decode(&pkt.twcc, st2, 65536) != n)
		abort();
	/* Absolute times may shift by a whole 24-bit reference-time wrap; gaps may not. */
	int64_t base1 = 0, base2 = 0;
	bool first = true;
	for (int i = 0; i < n; i++) {
		if (st1[i].seq != st2[i].seq || st1[i].received != st2[i].received)
			abort();
		if (!st1[i].received)
			continue;
		if (first) {
			base1 = st1[i].arrival_us;
			base2 = st2[i].arrival_us;
			first = false;
		}
		if (st1[i].arrival_us - base1 != st2[i].arrival_us - base2)
			abort();
	}
}

static int walk(const rtcp_pkt_t *pkt, void *ctx)
{
	static uint16_t seqs[17 * 16384];
	volatile uint32_t sink = 0;
	rtcp_rb_t rb;
	(void)ctx;

	switch (pkt->kind) {
	case RTCP_SR:
		for (unsigned i = 0; i < pkt->sr.block_count; i++) {
			rtcp_report_block(pkt->sr.blocks, i, &rb);
			sink += rb.ssrc;
		}
		break;
	case RTCP_RR:
		for (unsigned i = 0; i < pkt->rr.block_count; i++) {
			rtcp_report_block(pkt->rr.blocks, i, &rb);
			sink += rb.ssrc;
		}
		break;
	case RTCP_SDES: {
		rtcp_sdes_iter_t it;
		rtcp_sdes_item_t item;
		int rc;
		rtcp_sdes_iter_init(&it, &pkt->sdes);
		while ((rc = rtcp_sdes_next(&it, &item)) > 0)
			sink += item.len ? item.data[item.len - 1] : 0;
		if (rc < 0)
			abort(); /* validated by the iterator already */
		break;
	}
	case RTCP_BYE:
		for (unsigned i = 0; i < pkt->bye.count; i++)
			sink += rtcp_ssrc_at(pkt->bye.ssrcs, i);
		if (pkt->bye.reason_len)
			sink += pkt->bye.reason[pkt->bye.reason_len - 1];
		break;
	case RTCP_NACK: {
		int n = rtcp_nack_expand(&pkt->nack, seqs, sizeof(seqs) / sizeof(seqs[0]));
		if (n < (int)pkt->nack.item_count)
			abort();
		break;
	}
	case RTCP_FIR:
		for (unsigned i = 0; i < pkt->fir.item_count; i++) {
			rtcp_fir_entry_t e;
			rtcp_fir_item(&pkt->fir, i, &e);
			sink += e.ssrc;
		}
		break;
	case RTCP_REMB:
		for (unsigned i = 0; i < pkt->remb.ssrc_count; i++)
			sink += rtcp_ssrc_at(pkt->remb.ssrcs, i);
		break;
	case RTCP_TWCC:
		twcc_rebuild(&pkt->twcc);
		break;
	default:
		if (pkt->body_len)
			sink += pkt->body[pkt->body_len - 1];
		break;
	}
	(void)sink;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rtcp_iter_t it;
	rtcp_pkt_t pkt;
	int n = 0, rc;

	(void)rtcp_parse_compound(data, size, walk, NULL);
	/* the bare iterator agrees with the compound walk */
	rtcp_iter_init(&it, data, size);
	while ((rc = rtcp_iter_next(&it, &pkt)) > 0)
		n++;
	int whole = rtcp_parse_compound(data, size, NULL, NULL);
	if (size && ((rc < 0) != (whole < 0) || (whole >= 0 && whole != n)))
		abort();
	return 0;
}
