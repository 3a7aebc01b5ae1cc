/* RTCP feedback messages other than transport-cc: generic NACK (RFC 4585 6.2.1), PLI
 * (RFC 4585 6.3.1), FIR (RFC 5104 4.3.1) and REMB (draft-alvestrand-rmcat-remb-03):
 * body parsers for the compound iterator, FCI decoders and builders. */
#include "media/rtcp.h"
#include "media/rtcp_priv.h"

#include <string.h>

#define NACK_ITEM_LEN 4
#define FIR_ITEM_LEN 8
#define REMB_FIXED_LEN 8   /* "REMB", SSRC count, exponent and mantissa */
#define REMB_MANTISSA_MAX 0x3FFFFu

/* ---- parsers ---- */

int rtcp__parse_nack(rtcp_pkt_t *pkt)
{
	rtcp_fb_t fb = pkt->fb;

	if (fb.fci_len == 0 || fb.fci_len % NACK_ITEM_LEN)
		return RTCP_ERR_FCI;
	pkt->kind = RTCP_NACK;
	pkt->nack.fb = fb;
	pkt->nack.item_count = (unsigned)(fb.fci_len / NACK_ITEM_LEN);
	return 0;
}

/* PLI carries no FCI; trailing bytes are tolerated, as other stacks do. */
int rtcp__parse_pli(rtcp_pkt_t *pkt)
{
	pkt->kind = RTCP_PLI;
	return 0;
}

int rtcp__parse_fir(rtcp_pkt_t *pkt)
{
	rtcp_fb_t fb = pkt->fb;

	if (fb.fci_len == 0 || fb.fci_len % FIR_ITEM_LEN)
		return RTCP_ERR_FCI;
	pkt->kind = RTCP_FIR;
	pkt->fir.fb = fb;
	pkt->fir.item_count = (unsigned)(fb.fci_len / FIR_ITEM_LEN);
	return 0;
}

/* Application layer feedback: REMB if it says so, else left as RTCP_OTHER_FB. */
int rtcp__parse_afb(rtcp_pkt_t *pkt)
{
	rtcp_fb_t fb = pkt->fb;
	const uint8_t *f = fb.fci;

	if (fb.fci_len < 4 || memcmp(f, "REMB", 4) != 0)
		return 0;
	if (fb.fci_len < REMB_FIXED_LEN)
		return RTCP_ERR_REMB;
	unsigned n = f[4];
	if (fb.fci_len != REMB_FIXED_LEN + 4u * n)
		return RTCP_ERR_REMB;
	unsigned exp = f[5] >> 2;
	uint64_t mantissa = (uint64_t)(f[5] & 3) << 16 | (uint64_t)f[6] << 8 | f[7];

	pkt->kind = RTCP_REMB;
	pkt->remb.fb = fb;
	/* A 6-bit exponent can push an 18-bit mantissa past 64 bits: saturate. */
	if (mantissa && exp > 0 && mantissa > (UINT64_MAX >> exp))
		pkt->remb.bitrate = UINT64_MAX;
	else
		pkt->remb.bitrate = mantissa << exp;
	pkt->remb.ssrcs = f + REMB_FIXED_LEN;
	pkt->remb.ssrc_count = n;
	return 0;
}

/* ---- FCI decoders ---- */

void rtcp_nack_item(const rtcp_nack_t *n, unsigned i, uint16_t *pid, uint16_t *blp)
{
	const uint8_t *p = n->fb.fci + (size_t)NACK_ITEM_LEN * i;

	*pid = be_rd16(p);
	*blp = be_rd16(p + 2);
}

int rtcp_nack_expand(const rtcp_nack_t *n, uint16_t *out, size_t cap)
{
	size_t k = 0;

	for (unsigned i = 0; i < n->item_count; i++) {
		uint16_t pid, blp;
		rtcp_nack_item(n, i, &pid, &blp);
		if (k == cap)
			return RTCP_ERR_NOSPACE;
		out[k++] = pid;
		for (unsigned bit = 0; bit < 16; bit++) {
			if (!(blp & (1u << bit)))
				continue;
			if (k == cap)
				return RTCP_ERR_NOSPACE;
			out[k++] = (uint16_t)(pid + bit + 1);
		}
	}
	return (int)k;
}

void rtcp_fir_item(const rtcp_fir_t *f, unsigned i, rtcp_fir_entry_t *e)
{
	const uint8_t *p = f->fb.fci + (size_t)FIR_ITEM_LEN * i;

	e->ssrc = be_rd32(p);
	e->seq = p[4];
}

/* ---- builders ---- */

/* Walks lost[] grouping it into PID/BLP items; writes them to fci when non-NULL.
 * Returns the number of items. */
static size_t nack_pack(const uint16_t *lost, size_t n, uint8_t *fci)
{
	size_t items = 0;
	size_t i = 0;

	while (i < n) {
		uint16_t pid = lost[i++];
		uint16_t blp = 0;
		/* Take following seqs within 1..16 after pid; a repeat of pid is dropped. */
		while (i < n) {
			uint16_t d = (uint16_t)(lost[i] - pid);
			if (d > 16)
				break;
			if (d > 0)
				blp |= (uint16_t)(1u << (d - 1));
			i++;
		}
		if (fci) {
			be_wr16(fci + NACK_ITEM_LEN * items, pid);
			be_wr16(fci + NACK_ITEM_LEN * items + 2, blp);
		}
		items++;
	}
	return items;
}

int rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		    const uint16_t *lost, size_t n)
{
	if (n == 0 || !lost)
		return RTCP_ERR_ARG;
	size_t items = nack_pack(lost, n, NULL);
	size_t total = RTCP_FB_HDR_LEN + NACK_ITEM_LEN * items;
	if (total / 4 - 1 > UINT16_MAX)
		return RTCP_ERR_ARG;
	if (total > cap)
		return RTCP_ERR_NOSPACE;
	rtcp__wr_fb_hdr(buf, RTCP_FMT_NACK, RTCP_PT_RTPFB, total, sender_ssrc, media_ssrc);
	nack_pack(lost, n, buf + RTCP_FB_HDR_LEN);
	return (int)total;
}

int rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
	if (cap < RTCP_FB_HDR_LEN)
		return RTCP_ERR_NOSPACE;
	rtcp__wr_fb_hdr(buf, RTCP_FMT_PLI, RTCP_PT_PSFB, RTCP_FB_HDR_LEN, sender_ssrc,
			media_ssrc);
	return RTCP_FB_HDR_LEN;
}

int rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender_ssrc,
		   const rtcp_fir_entry_t *e, size_t n)
{
	if (n == 0 || !e || n > (UINT16_MAX - 2) / 2)
		return RTCP_ERR_ARG;
	size_t total = RTCP_FB_HDR_LEN + FIR_ITEM_LEN * n;
	if (total > cap)
		return RTCP_ERR_NOSPACE;
	/* RFC 5104 4.3.1.2: the media source SSRC field is unused and zero. */
	rtcp__wr_fb_hdr(buf, RTCP_FMT_FIR, RTCP_PT_PSFB, total, sender_ssrc, 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = buf + RTCP_FB_HDR_LEN + FIR_ITEM_LEN * i;
		be_wr32(p, e[i].ssrc);
		be_wr32(p + 4, (uint32_t)e[i].seq << 24);
	}
	return (int)total;
}

int rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint64_t bitrate,
		    const uint32_t *ssrcs, unsigned n_ssrcs)
{
	unsigned exp = 0;

	if (n_ssrcs > 255 || (n_ssrcs && !ssrcs))
		return RTCP_ERR_ARG;
	size_t total = RTCP_FB_HDR_LEN + REMB_FIXED_LEN + 4u * n_ssrcs;
	if (total > cap)
		return RTCP_ERR_NOSPACE;
	while ((bitrate >> exp) > REMB_MANTISSA_MAX)
		exp++;
	uint32_t mantissa = (uint32_t)(bitrate >> exp);

	rtcp__wr_fb_hdr(buf, RTCP_FMT_AFB, RTCP_PT_PSFB, total, sender_ssrc, 0);
	uint8_t *f = buf + RTCP_FB_HDR_LEN;
	memcpy(f, "REMB", 4);
	f[4] = (uint8_t)n_ssrcs;
	f[5] = (uint8_t)(exp << 2 | mantissa >> 16);
	f[6] = (uint8_t)(mantissa >> 8);
	f[7] = (uint8_t)mantissa;
	for (unsigned i = 0; i < n_ssrcs; i++)
		be_wr32(f + REMB_FIXED_LEN + 4 * i, ssrcs[i]);
	return (int)total;
}
