/* Internals shared by rtcp.c, rtcp_fb.c and rtcp_twcc.c: the common
 * header writer and the per-type body parsers the compound iterator dispatches to.
 * Not part of the RTCP API; include media/rtcp.h instead. */
#ifndef MEDIA_RTCP_PRIV_H
#define MEDIA_RTCP_PRIV_H

#include "media/bytes.h"
#include "media/rtcp.h"

#define RTCP_HDR_LEN 4
#define RTCP_FB_HDR_LEN 12 /* common header + sender SSRC + media SSRC */

/* Writes a common header for a packet of total_len bytes (a multiple of 4, no padding). */
static inline void rtcp__wr_hdr(uint8_t *buf, uint8_t count, uint8_t pt, size_t total_len)
{
	buf[0] = (uint8_t)(0x80 | (count & 0x1F));
	buf[1] = pt;
	be_wr16(buf + 2, (uint16_t)(total_len / 4 - 1));
}

/* Writes the common header and the two SSRCs of a feedback packet. */
static inline void rtcp__wr_fb_hdr(uint8_t *buf, uint8_t fmt, uint8_t pt, size_t total_len,
				   uint32_t sender_ssrc, uint32_t media_ssrc)
{
	rtcp__wr_hdr(buf, fmt, pt, total_len);
	be_wr32(buf + 4, sender_ssrc);
	be_wr32(buf + 8, media_ssrc);
}

/* Body parsers: pkt->pt, count, body and body_len are set, and for feedback packets
 * pkt->fb holds the two SSRCs and the FCI. Each fills its view and sets pkt->kind,
 * or returns a negative rtcp_err. */
int rtcp__parse_nack(rtcp_pkt_t *pkt);
int rtcp__parse_pli(rtcp_pkt_t *pkt);
int rtcp__parse_fir(rtcp_pkt_t *pkt);
int rtcp__parse_afb(rtcp_pkt_t *pkt);
int rtcp__parse_twcc(rtcp_pkt_t *pkt);

#endif
