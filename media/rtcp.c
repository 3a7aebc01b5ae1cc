/* RTCP compound framing and the RFC 3550 packet types: the iterator that checks every
 * common header and dispatches bodies to per-type parsers, SR/RR/SDES/BYE parsing and
 * building, and NTP time helpers. Feedback types live in rtcp_fb.c and rtcp_twcc.c. */
#include "media/rtcp.h"
#include "media/rtcp_priv.h"

#include <string.h>

#define RB_LEN 24          /* one report block */
#define SENDER_INFO_LEN 24 /* SSRC + NTP + RTP ts + counts */
#define NTP_UNIX_OFFSET 2208988800u /* seconds from 1900 to 1970 */

const char *rtcp_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case RTCP_ERR_TRUNCATED: return "truncated";
	case RTCP_ERR_VERSION: return "bad_version";
	case RTCP_ERR_LENGTH: return "bad_length";
	case RTCP_ERR_PADDING: return "bad_padding";
	case RTCP_ERR_SHORT: return "packet_too_short";
	case RTCP_ERR_SDES: return "bad_sdes";
	case RTCP_ERR_BYE: return "bad_bye";
	case RTCP_ERR_FCI: return "bad_fci_length";
	case RTCP_ERR_REMB: return "bad_remb";
	case RTCP_ERR_TWCC: return "bad_twcc";
	case RTCP_ERR_TWCC_SYMBOL: return "bad_twcc_symbol";
	case RTCP_ERR_NOSPACE: return "no_space";
	case RTCP_ERR_ARG: return "bad_argument";
	case RTCP_ERR_RANGE: return "twcc_delta_out_of_range";
	default: return "unknown_error";
	}
}

/* ---- per-type body parsers ---- */

static int parse_sr(rtcp_pkt_t *pkt)
{
	const uint8_t *b = pkt->body;

	if (pkt->body_len < SENDER_INFO_LEN + (size_t)RB_LEN * pkt->count)
		return RTCP_ERR_SHORT;
	pkt->kind = RTCP_SR;
	pkt->sr.info.ssrc = be_rd32(b);
	pkt->sr.info.ntp = (uint64_t)be_rd32(b + 4) << 32 | be_rd32(b + 8);
	pkt->sr.info.rtp_ts = be_rd32(b + 12);
	pkt->sr.info.packet_count = be_rd32(b + 16);
	pkt->sr.info.octet_count = be_rd32(b + 20);
	pkt->sr.blocks = b + SENDER_INFO_LEN;
	pkt->sr.block_count = pkt->count;
	/* Anything after the blocks is a profile-specific extension: ignored. */
	return 0;
}

static int parse_rr(rtcp_pkt_t *pkt)
{
	if (pkt->body_len < 4 + (size_t)RB_LEN * pkt->count)
		return RTCP_ERR_SHORT;
	pkt->kind = RTCP_RR;
	pkt->rr.ssrc = be_rd32(pkt->body);
	pkt->rr.blocks = pkt->body + 4;
	pkt->rr.block_count = pkt->count;
	return 0;
}

static int parse_sdes(rtcp_pkt_t *pkt)
{
	rtcp_sdes_iter_t it;
	rtcp_sdes_item_t item;
	int rc;

	pkt->kind = RTCP_SDES;
	pkt->sdes.chunks = pkt->body;
	pkt->sdes.len = pkt->body_len;
	pkt->sdes.chunk_count = pkt->count;
	/* Walk it once now so later walks by the caller cannot fail. */
	rtcp_sdes_iter_init(&it, &pkt->sdes);
	while ((rc = rtcp_sdes_next(&it, &item)) > 0)
		;
	return rc;
}

static int parse_bye(rtcp_pkt_t *pkt)
{
	size_t list = 4u * pkt->count;

	if (pkt->body_len < list)
		return RTCP_ERR_SHORT;
	pkt->kind = RTCP_BYE;
	pkt->bye.ssrcs = pkt->body;
	pkt->bye.count = pkt->count;
	pkt->bye.reason = NULL;
	pkt->bye.reason_len = 0;
	if (pkt->body_len > list) {
		size_t rlen = pkt->body[list];
		if (pkt->body_len - list - 1 < rlen)
			return RTCP_ERR_BYE;
		pkt->bye.reason = pkt->body + list + 1;
		pkt->bye.reason_len = rlen;
	}
	return 0;
}

/* RTPFB and PSFB: the two SSRCs, then the FMT-specific parser if there is one. */
static int parse_fb(rtcp_pkt_t *pkt)
{
	static const struct {
		uint8_t pt, fmt;
		int (*parse)(rtcp_pkt_t *);
	} fb_types[] = {
		{ RTCP_PT_RTPFB, RTCP_FMT_NACK, rtcp__parse_nack },
		{ RTCP_PT_RTPFB, RTCP_FMT_TWCC, rtcp__parse_twcc },
		{ RTCP_PT_PSFB, RTCP_FMT_PLI, rtcp__parse_pli },
		{ RTCP_PT_PSFB, RTCP_FMT_FIR, rtcp__parse_fir },
		{ RTCP_PT_PSFB, RTCP_FMT_AFB, rtcp__parse_afb },
	};

	if (pkt->body_len < RTCP_FB_HDR_LEN - RTCP_HDR_LEN)
		return RTCP_ERR_SHORT;
	pkt->kind = RTCP_OTHER_FB;
	pkt->fb.sender_ssrc = be_rd32(pkt->body);
	pkt->fb.media_ssrc = be_rd32(pkt->body + 4);
	pkt->fb.fci = pkt->body + 8;
	pkt->fb.fci_len = pkt->body_len - 8;
	for (size_t i = 0; i < sizeof(fb_types) / sizeof(fb_types[0]); i++)
		if (fb_types[i].pt == pkt->pt && fb_types[i].fmt == pkt->count)
			return fb_types[i].parse(pkt);
	return 0;
}

static int parse_other(rtcp_pkt_t *pkt)
{
	pkt->kind = RTCP_OTHER;
	return 0;
}

static int parse_body(rtcp_pkt_t *pkt)
{
	static int (*const parsers[])(rtcp_pkt_t *) = {
		[RTCP_PT_SR - RTCP_PT_SR] = parse_sr,
		[RTCP_PT_RR - RTCP_PT_SR] = parse_rr,
		[RTCP_PT_SDES - RTCP_PT_SR] = parse_sdes,
		[RTCP_PT_BYE - RTCP_PT_SR] = parse_bye,
		[RTCP_PT_APP - RTCP_PT_SR] = parse_other,
		[RTCP_PT_RTPFB - RTCP_PT_SR] = parse_fb,
		[RTCP_PT_PSFB - RTCP_PT_SR] = parse_fb,
		[RTCP_PT_XR - RTCP_PT_SR] = parse_other,
	};

	if (pkt->pt < RTCP_PT_SR || pkt->pt > RTCP_PT_XR)
		return parse_other(pkt);
	return parsers[pkt->pt - RTCP_PT_SR](pkt);
}

/* ---- compound ---- */

void rtcp_iter_init(rtcp_iter_t *it, const uint8_t *buf, size_t len)
{
	it->p = buf;
	it->end = buf + len;
}

/* Frames one packet at it->p: checks version, length and padding. */
static int frame(const rtcp_iter_t *it, rtcp_pkt_t *pkt, size_t *total)
{
	size_t left = (size_t)(it->end - it->p);
	const uint8_t *p = it->p;

	if (left < RTCP_HDR_LEN)
		return RTCP_ERR_TRUNCATED;
	if (p[0] >> 6 != 2)
		return RTCP_ERR_VERSION;
	*total = 4 * ((size_t)be_rd16(p + 2) + 1);
	if (*total > left)
		return RTCP_ERR_LENGTH;
	memset(pkt, 0, sizeof(*pkt));
	pkt->pt = p[1];
	pkt->count = p[0] & 0x1F;
	pkt->body = p + RTCP_HDR_LEN;
	pkt->body_len = *total - RTCP_HDR_LEN;
	if (p[0] & 0x20) {
		uint8_t pad = p[*total - 1];
		if (pad == 0 || pad > pkt->body_len)
			return RTCP_ERR_PADDING;
		pkt->body_len -= pad;
	}
	return 0;
}

int rtcp_iter_next(rtcp_iter_t *it, rtcp_pkt_t *pkt)
{
	size_t total;
	int rc;

	if (it->p == it->end)
		return 0;
	rc = frame(it, pkt, &total);
	if (rc == 0)
		rc = parse_body(pkt);
	if (rc < 0) {
		it->p = it->end;
		return rc;
	}
	it->p += total;
	return 1;
}

int rtcp_parse_compound(const uint8_t *buf, size_t len, rtcp_cb_t cb, void *ctx)
{
	rtcp_iter_t it;
	rtcp_pkt_t pkt;
	int n = 0, rc;

	if (len == 0)
		return RTCP_ERR_TRUNCATED;
	rtcp_iter_init(&it, buf, len);
	while ((rc = rtcp_iter_next(&it, &pkt)) > 0)
		n++;
	if (rc < 0 || !cb)
		return rc < 0 ? rc : n;
	rtcp_iter_init(&it, buf, len);
	while (rtcp_iter_next(&it, &pkt) > 0) {
		rc = cb(&pkt, ctx);
		if (rc < 0)
			return rc;
	}
	return n;
}

/* ---- variable parts ---- */

void rtcp_report_block(const uint8_t *blocks, unsigned i, rtcp_rb_t *rb)
{
	const uint8_t *b = blocks + (size_t)RB_LEN * i;
	uint32_t lost = be_rd32(b + 4) & 0xFFFFFF;

	rb->ssrc = be_rd32(b);
	rb->fraction_lost = b[4];
	rb->cum_lost = (lost & 0x800000) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
	rb->ext_high_seq = be_rd32(b + 8);
	rb->jitter = be_rd32(b + 12);
	rb->lsr = be_rd32(b + 16);
	rb->dlsr = be_rd32(b + 20);
}

uint32_t rtcp_ssrc_at(const uint8_t *list, unsigned i)
{
	return be_rd32(list + 4u * i);
}

void rtcp_sdes_iter_init(rtcp_sdes_iter_t *it, const rtcp_sdes_t *s)
{
	it->start = s->chunks;
	it->p = s->chunks;
	it->end = s->chunks + s->len;
	it->chunks_left = s->chunk_count;
	it->in_chunk = false;
	it->ssrc = 0;
}

/* A chunk is an SSRC, items, a zero type byte, then zeros up to a 32-bit boundary. */
int rtcp_sdes_next(rtcp_sdes_iter_t *it, rtcp_sdes_item_t *item)
{
	for (;;) {
		size_t left = (size_t)(it->end - it->p);
		if (!it->in_chunk) {
			if (it->chunks_left == 0)
				return 0;
			if (left < 4)
				goto bad;
			it->ssrc = be_rd32(it->p);
			it->p += 4;
			it->in_chunk = true;
			it->chunks_left--;
			continue;
		}
		if (left < 1)
			goto bad;
		if (it->p[0] == 0) {
			size_t used = (size_t)(it->p - it->start) + 1;
			size_t aligned = (used + 3) & ~(size_t)3;
			if (aligned > (size_t)(it->end - it->start))
				goto bad;
			it->p = it->start + aligned;
			it->in_chunk = false;
			continue;
		}
		if (left < 2 || left - 2 < it->p[1])
			goto bad;
		item->ssrc = it->ssrc;
		item->type = it->p[0];
		item->len = it->p[1];
		item->data = it->p + 2;
		it->p += 2 + (size_t)it->p[1];
		return 1;
	}
bad:
	it->p = it->end;
	it->chunks_left = 0;
	it->in_chunk = false;
	return RTCP_ERR_SDES;
}

/* ---- builders ---- */

static void write_rb(uint8_t *b, const rtcp_rb_t *rb)
{
	int32_t lost = rb->cum_lost;

	if (lost > 0x7FFFFF)
		lost = 0x7FFFFF;
	if (lost < -0x800000)
		lost = -0x800000;
	be_wr32(b, rb->ssrc);
	be_wr32(b + 4, (uint32_t)rb->fraction_lost << 24 | ((uint32_t)lost & 0xFFFFFF));
	be_wr32(b + 8, rb->ext_high_seq);
	be_wr32(b + 12, rb->jitter);
	be_wr32(b + 16, rb->lsr);
	be_wr32(b + 20, rb->dlsr);
}

int rtcp_build_sr(uint8_t *buf, size_t cap, const rtcp_sender_info_t *si,
		  const rtcp_rb_t *rb, unsigned n_rb)
{
	size_t total = RTCP_HDR_LEN + SENDER_INFO_LEN + (size_t)RB_LEN * n_rb;

	if (n_rb > 31 || (n_rb && !rb))
		return RTCP_ERR_ARG;
	if (total > cap)
		return RTCP_ERR_NOSPACE;
	rtcp__wr_hdr(buf, (uint8_t)n_rb, RTCP_PT_SR, total);
	be_wr32(buf + 4, si->ssrc);
	be_wr32(buf + 8, (uint32_t)(si->ntp >> 32));
	be_wr32(buf + 12, (uint32_t)si->ntp);
	be_wr32(buf + 16, si->rtp_ts);
	be_wr32(buf + 20, si->packet_count);
	be_wr32(buf + 24, si->octet_count);
	for (unsigned i = 0; i < n_rb; i++)
		write_rb(buf + RTCP_HDR_LEN + SENDER_INFO_LEN + (size_t)RB_LEN * i, &rb[i]);
	return (int)total;
}

int rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t ssrc, const rtcp_rb_t *rb, unsigned n_rb)
{
	size_t total = RTCP_HDR_LEN + 4 + (size_t)RB_LEN * n_rb;

	if (n_rb > 31 || (n_rb && !rb))
		return RTCP_ERR_ARG;
	if (total > cap)
		return RTCP_ERR_NOSPACE;
	rtcp__wr_hdr(buf, (uint8_t)n_rb, RTCP_PT_RR, total);
	be_wr32(buf + 4, ssrc);
	for (unsigned i = 0; i < n_rb; i++)
		write_rb(buf + 8 + (size_t)RB_LEN * i, &rb[i]);
	return (int)total;
}

int rtcp_build_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname,
			  size_t len)
{
	/* header, SSRC, type + length + text, then at least one zero byte, padded to 4 */
	size_t total = (RTCP_HDR_LEN + 4 + 2 + len + 1 + 3) & ~(size_t)3;

	if (!cname || len == 0 || len > 255)
		return RTCP_ERR_ARG;
	if (total > cap)
		return RTCP_ERR_NOSPACE;
	memset(buf, 0, total);
	rtcp__wr_hdr(buf, 1, RTCP_PT_SDES, total);
	be_wr32(buf + 4, ssrc);
	buf[8] = RTCP_SDES_CNAME;
	buf[9] = (uint8_t)len;
	memcpy(buf + 10, cname, len);
	return (int)total;
}

int rtcp_build_bye(uint8_t *buf, size_t cap, const uint32_t *ssrcs, unsigned n,
		   const char *reason, size_t reason_len)
{
	size_t total = RTCP_HDR_LEN + 4u * n;

	if (n > 31 || (n && !ssrcs) || reason_len > 255 || (reason_len && !reason))
		return RTCP_ERR_ARG;
	if (reason_len)
		total = (total + 1 + reason_len + 3) & ~(size_t)3;
	if (total > cap)
		return RTCP_ERR_NOSPACE;
	memset(buf, 0, total);
	rtcp__wr_hdr(buf, (uint8_t)n, RTCP_PT_BYE, total);
	for (unsigned i = 0; i < n; i++)
		be_wr32(buf + 4 + 4 * i, ssrcs[i]);
	if (reason_len) {
		buf[4 + 4 * n] = (uint8_t)reason_len;
		memcpy(buf + 5 + 4 * n, reason, reason_len);
	}
	return (int)total;
}

/* ---- NTP ---- */

uint64_t rtcp_ntp_from_unix_us(uint64_t unix_us)
{
	uint64_t sec = unix_us / 1000000u + NTP_UNIX_OFFSET;
	uint64_t frac = ((unix_us % 1000000u) << 32) / 1000000u;

	return sec << 32 | frac;
}

uint64_t rtcp_ntp_to_unix_us(uint64_t ntp)
{
	uint64_t sec = ntp >> 32;
	uint64_t frac = ntp & 0xFFFFFFFFu;

	if (sec < NTP_UNIX_OFFSET)
		return 0;
	/* Round the fraction so from/to round-trips exactly. */
	return (sec - NTP_UNIX_OFFSET) * 1000000u + ((frac * 1000000u + (1u << 31)) >> 32);
}

uint32_t rtcp_dlsr_from_us(uint64_t us)
{
	if (us > ((uint64_t)UINT32_MAX * 1000000u) >> 16)
		return UINT32_MAX;
	return (uint32_t)((us << 16) / 1000000u);
}

int64_t rtcp_rtt_us(uint32_t arrival_mid32, uint32_t lsr, uint32_t dlsr)
{
	if (lsr == 0)
		return -1;
	/* Wrapping subtraction: the compact clock wraps every 18 hours. */
	int32_t rtt = (int32_t)(arrival_mid32 - lsr - dlsr);
	if (rtt < 0)
		return -1;
	return ((int64_t)rtt * 1000000) >> 16;
}
