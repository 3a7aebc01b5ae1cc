/* Unit tests for media/rtcp: build -> parse round trips for every packet type, compound
 * and reduced-size framing, malformed inputs, NACK PID/BLP packing, a transport-cc
 * feedback written out by hand from the draft, a randomized TWCC round trip, NTP helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "media/rtcp.h"

/* Parses a buffer that must hold exactly one valid packet. */
static void parse_one(const uint8_t *buf, size_t len, rtcp_pkt_t *pkt)
{
	rtcp_iter_t it;

	rtcp_iter_init(&it, buf, len);
	assert_int_equal(rtcp_iter_next(&it, pkt), 1);
	rtcp_pkt_t extra;
	assert_int_equal(rtcp_iter_next(&it, &extra), 0);
}

/* First error (or 0) the iterator reports over a buffer. */
static int iter_result(const uint8_t *buf, size_t len)
{
	rtcp_iter_t it;
	rtcp_pkt_t pkt;
	int rc;

	rtcp_iter_init(&it, buf, len);
	while ((rc = rtcp_iter_next(&it, &pkt)) > 0)
		;
	return rc;
}

/* ---- SR / RR / SDES / BYE ---- */

static void test_sr_round_trip(void **state)
{
	(void)state;
	rtcp_sender_info_t si = { 0x11223344, 0xE1234567890ABCDEull, 90000, 1000, 123456 };
	rtcp_rb_t rb[2] = {
		{ 0xAAAA0001, 25, 1234, 0x0001FFFF, 77, 0x12345678, 0x00010000 },
		{ 0xAAAA0002, 255, -3, 0x00020000, 0, 0, 0 },
	};
	uint8_t buf[128];
	rtcp_pkt_t pkt;
	rtcp_rb_t out;

	int len = rtcp_build_sr(buf, sizeof(buf), &si, rb, 2);
	assert_int_equal(len, 4 + 24 + 48);
	assert_int_equal(buf[0], 0x82);
	assert_int_equal(buf[1], 200);
	assert_int_equal(buf[3], len / 4 - 1);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_SR);
	assert_int_equal(pkt.sr.info.ssrc, si.ssrc);
	assert_true(pkt.sr.info.ntp == si.ntp);
	assert_int_equal(pkt.sr.info.rtp_ts, 90000);
	assert_int_equal(pkt.sr.info.packet_count, 1000);
	assert_int_equal(pkt.sr.info.octet_count, 123456);
	assert_int_equal(pkt.sr.block_count, 2);
	rtcp_report_block(pkt.sr.blocks, 0, &out);
	assert_int_equal(out.ssrc, rb[0].ssrc);
	assert_int_equal(out.fraction_lost, rb[0].fraction_lost);
	assert_int_equal(out.cum_lost, rb[0].cum_lost);
	assert_int_equal(out.ext_high_seq, rb[0].ext_high_seq);
	assert_int_equal(out.jitter, rb[0].jitter);
	assert_int_equal(out.lsr, rb[0].lsr);
	assert_int_equal(out.dlsr, rb[0].dlsr);
	rtcp_report_block(pkt.sr.blocks, 1, &out);
	assert_int_equal(out.cum_lost, -3);
	assert_int_equal(out.fraction_lost, 255);

	assert_int_equal(rtcp_build_sr(buf, (size_t)len - 1, &si, rb, 2), RTCP_ERR_NOSPACE);
	assert_int_equal(rtcp_build_sr(buf, sizeof(buf), &si, rb, 32), RTCP_ERR_ARG);
}

static void test_rr_round_trip(void **state)
{
	(void)state;
	rtcp_rb_t rb = { 0x01020304, 0, 0x7FFFFFFF /* clamped */, 5, 6, 7, 8 };
	uint8_t buf[64];
	rtcp_pkt_t pkt;
	rtcp_rb_t out;

	int len = rtcp_build_rr(buf, sizeof(buf), 0xCAFE, NULL, 0);
	assert_int_equal(len, 8);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_RR);
	assert_int_equal(pkt.rr.ssrc, 0xCAFE);
	assert_int_equal(pkt.rr.block_count, 0);

	len = rtcp_build_rr(buf, sizeof(buf), 0xCAFE, &rb, 1);
	assert_int_equal(len, 32);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.rr.block_count, 1);
	rtcp_report_block(pkt.rr.blocks, 0, &out);
	assert_int_equal(out.ssrc, 0x01020304);
	assert_int_equal(out.cum_lost, 0x7FFFFF);
	assert_int_equal(out.dlsr, 8);
}

static void test_sdes_cname(void **state)
{
	(void)state;
	uint8_t buf[300];
	rtcp_pkt_t pkt;
	rtcp_sdes_iter_t it;
	rtcp_sdes_item_t item;

	/* 4 + 4 + 2 + 3 + 1 = 14 -> 16; 4 + 4 + 2 + 6 + 1 = 17 -> 20 */
	assert_int_equal(rtcp_build_sdes_cname(buf, sizeof(buf), 7, "abc", 3), 16);
	int len = rtcp_build_sdes_cname(buf, sizeof(buf), 0xFEEDFACE, "user@h", 6);
	assert_int_equal(len, 20);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_SDES);
	assert_int_equal(pkt.sdes.chunk_count, 1);
	rtcp_sdes_iter_init(&it, &pkt.sdes);
	assert_int_equal(rtcp_sdes_next(&it, &item), 1);
	assert_int_equal(item.ssrc, 0xFEEDFACE);
	assert_int_equal(item.type, RTCP_SDES_CNAME);
	assert_int_equal(item.len, 6);
	assert_memory_equal(item.data, "user@h", 6);
	assert_int_equal(rtcp_sdes_next(&it, &item), 0);

	/* a 255-byte CNAME is the longest an item holds */
	char big[256];
	memset(big, 'x', sizeof(big));
	assert_true(rtcp_build_sdes_cname(buf, sizeof(buf), 1, big, 255) > 0);
	assert_int_equal(rtcp_build_sdes_cname(buf, sizeof(buf), 1, big, 256), RTCP_ERR_ARG);
	assert_int_equal(rtcp_build_sdes_cname(buf, sizeof(buf), 1, big, 0), RTCP_ERR_ARG);
	assert_int_equal(rtcp_build_sdes_cname(buf, 12, 1, big, 3), RTCP_ERR_NOSPACE);
}

static void test_sdes_two_chunks_by_hand(void **state)
{
	(void)state;
	static const uint8_t p[] = {
		0x82, 202, 0x00, 0x06,
		0x00, 0x00, 0x00, 0x01,             /* chunk 1: SSRC 1 */
		0x01, 0x01, 'a', 0x00,              /* CNAME "a", end */
		0x00, 0x00, 0x00, 0x02,             /* chunk 2: SSRC 2 */
		0x02, 0x02, 'n', 'm',               /* NAME "nm" */
		0x01, 0x02, 'c', 'd',               /* CNAME "cd" */
		0x00, 0x00, 0x00, 0x00,             /* end + padding */
	};
	rtcp_pkt_t pkt;
	rtcp_sdes_iter_t it;
	rtcp_sdes_item_t item;

	parse_one(p, sizeof(p), &pkt);
	rtcp_sdes_iter_init(&it, &pkt.sdes);
	assert_int_equal(rtcp_sdes_next(&it, &item), 1);
	assert_int_equal(item.ssrc, 1);
	assert_int_equal(item.data[0], 'a');
	assert_int_equal(rtcp_sdes_next(&it, &item), 1);
	assert_int_equal(item.ssrc, 2);
	assert_int_equal(item.type, 2);
	assert_int_equal(rtcp_sdes_next(&it, &item), 1);
	assert_int_equal(item.type, RTCP_SDES_CNAME);
	assert_memory_equal(item.data, "cd", 2);
	assert_int_equal(rtcp_sdes_next(&it, &item), 0);

	uint8_t bad[sizeof(p)];
	memcpy(bad, p, sizeof(p));
	bad[21] = 9; /* CNAME "cd" claims 9 bytes */
	assert_int_equal(iter_result(bad, sizeof(bad)), RTCP_ERR_SDES);
	memcpy(bad, p, sizeof(p));
	bad[0] = 0x83; /* a third chunk that is not there */
	assert_int_equal(iter_result(bad, sizeof(bad)), RTCP_ERR_SDES);
	memcpy(bad, p, sizeof(p));
	memset(bad + 24, 'z', 4); /* no terminating null octet */
	assert_int_equal(iter_result(bad, sizeof(bad)), RTCP_ERR_SDES);
}

static void test_bye(void **state)
{
	(void)state;
	uint32_t ssrcs[] = { 10, 20, 30 };
	uint8_t buf[64];
	rtcp_pkt_t pkt;

	/* 4 + 12 + 1 + 5 = 22 -> 24 */
	int len = rtcp_build_bye(buf, sizeof(buf), ssrcs, 3, "leave", 5);
	assert_int_equal(len, 24);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_BYE);
	assert_int_equal(pkt.bye.count, 3);
	assert_int_equal(rtcp_ssrc_at(pkt.bye.ssrcs, 2), 30);
	assert_int_equal(pkt.bye.reason_len, 5);
	assert_memory_equal(pkt.bye.reason, "leave", 5);

	len = rtcp_build_bye(buf, sizeof(buf), ssrcs, 1, NULL, 0);
	assert_int_equal(len, 8);
	parse_one(buf, (size_t)len, &pkt);
	assert_null(pkt.bye.reason);

	/* reason length pointing past the packet */
	len = rtcp_build_bye(buf, sizeof(buf), ssrcs, 1, "ab", 2);
	buf[8] = 200;
	assert_int_equal(iter_result(buf, (size_t)len), RTCP_ERR_BYE);
	/* SC larger than the body */
	len = rtcp_build_bye(buf, sizeof(buf), ssrcs, 1, NULL, 0);
	buf[0] = 0x82;
	assert_int_equal(iter_result(buf, (size_t)len), RTCP_ERR_SHORT);
}

/* ---- feedback ---- */

static void test_nack_blp_packing(void **state)
{
	(void)state;
	/* 100 takes 101, 105, 116 (bits 0, 4, 15); 117 is 17 away and starts a new item;
	 * 65535 takes 0 and 3 across the wrap; the repeated 3 is dropped. */
	const uint16_t lost[] = { 100, 101, 105, 116, 117, 200, 65535, 0, 3, 3 };
	const uint16_t want[] = { 100, 101, 105, 116, 117, 200, 65535, 0, 3 };
	uint8_t buf[64];
	rtcp_pkt_t pkt;
	uint16_t pid, blp, out[68];

	int len = rtcp_build_nack(buf, sizeof(buf), 0x5E5E, 0x3E3E, lost, 10);
	assert_int_equal(len, 12 + 4 * 4);
	assert_int_equal(buf[0], 0x81);
	assert_int_equal(buf[1], 205);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_NACK);
	assert_int_equal(pkt.nack.fb.sender_ssrc, 0x5E5E);
	assert_int_equal(pkt.nack.fb.media_ssrc, 0x3E3E);
	assert_int_equal(pkt.nack.item_count, 4);
	rtcp_nack_item(&pkt.nack, 0, &pid, &blp);
	assert_int_equal(pid, 100);
	assert_int_equal(blp, 0x8011);
	rtcp_nack_item(&pkt.nack, 1, &pid, &blp);
	assert_int_equal(pid, 117);
	assert_int_equal(blp, 0);
	rtcp_nack_item(&pkt.nack, 3, &pid, &blp);
	assert_int_equal(pid, 65535);
	assert_int_equal(blp, 0x0009);

	assert_int_equal(rtcp_nack_expand(&pkt.nack, out, 68), 9);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(rtcp_nack_expand(&pkt.nack, out, 8), RTCP_ERR_NOSPACE);

	/* a full BLP: 17 consecutive losses in one item */
	uint16_t run[17];
	for (int i = 0; i < 17; i++)
		run[i] = (uint16_t)(65530 + i);
	len = rtcp_build_nack(buf, sizeof(buf), 1, 2, run, 17);
	assert_int_equal(len, 16);
	parse_one(buf, (size_t)len, &pkt);
	rtcp_nack_item(&pkt.nack, 0, &pid, &blp);
	assert_int_equal(blp, 0xFFFF);
	assert_int_equal(rtcp_nack_expand(&pkt.nack, out, 68), 17);
	assert_memory_equal(out, run, sizeof(run));

	assert_int_equal(rtcp_build_nack(buf, 15, 1, 2, run, 17), RTCP_ERR_NOSPACE);
	assert_int_equal(rtcp_build_nack(buf, sizeof(buf), 1, 2, run, 0), RTCP_ERR_ARG);
	/* FCI not a whole number of items, or empty */
	len = rtcp_build_nack(buf, sizeof(buf), 1, 2, run, 17);
	assert_int_equal(iter_result(buf, 12), RTCP_ERR_LENGTH);
	buf[3] = 2;
	assert_int_equal(iter_result(buf, 12), RTCP_ERR_FCI);
}

static void test_pli_fir(void **state)
{
	(void)state;
	rtcp_fir_entry_t fe[2] = { { 0xABCD0001, 7 }, { 0xABCD0002, 255 } }, got;
	uint8_t buf[64];
	rtcp_pkt_t pkt;

	int len = rtcp_build_pli(buf, sizeof(buf), 0x10, 0x20);
	assert_int_equal(len, 12);
	assert_int_equal(buf[0], 0x81);
	assert_int_equal(buf[1], 206);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_PLI);
	assert_int_equal(pkt.fb.sender_ssrc, 0x10);
	assert_int_equal(pkt.fb.media_ssrc, 0x20);
	assert_int_equal(rtcp_build_pli(buf, 11, 1, 2), RTCP_ERR_NOSPACE);

	len = rtcp_build_fir(buf, sizeof(buf), 0x10, fe, 2);
	assert_int_equal(len, 28);
	assert_int_equal(buf[0], 0x84);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_FIR);
	assert_int_equal(pkt.fir.fb.media_ssrc, 0);
	assert_int_equal(pkt.fir.item_count, 2);
	rtcp_fir_item(&pkt.fir, 1, &got);
	assert_int_equal(got.ssrc, 0xABCD0002);
	assert_int_equal(got.seq, 255);
	/* one FCI entry cut in half */
	buf[3] = 3;
	assert_int_equal(iter_result(buf, 16), RTCP_ERR_FCI);
	/* a feedback packet too short for its two SSRCs */
	buf[3] = 1;
	assert_int_equal(iter_result(buf, 8), RTCP_ERR_SHORT);
}

static void test_remb(void **state)
{
	(void)state;
	uint32_t ssrcs[] = { 0x1111, 0x2222 };
	uint8_t buf[64];
	rtcp_pkt_t pkt;

	int len = rtcp_build_remb(buf, sizeof(buf), 0x77, 1500000, ssrcs, 2);
	assert_int_equal(len, 12 + 8 + 8);
	assert_int_equal(buf[0], 0x8F);
	assert_memory_equal(buf + 12, "REMB", 4);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_REMB);
	assert_int_equal(pkt.remb.fb.sender_ssrc, 0x77);
	assert_true(pkt.remb.bitrate == 1500000);
	assert_int_equal(pkt.remb.ssrc_count, 2);
	assert_int_equal(rtcp_ssrc_at(pkt.remb.ssrcs, 1), 0x2222);

	/* rounding down to an 18-bit mantissa loses under 2^-17 */
	uint64_t br = 123456789012ull;
	len = rtcp_build_remb(buf, sizeof(buf), 0x77, br, NULL, 0);
	parse_one(buf, (size_t)len, &pkt);
	assert_true(pkt.remb.bitrate <= br);
	assert_true(br - pkt.remb.bitrate < (br >> 17));
	assert_int_equal(pkt.remb.ssrc_count, 0);

	/* exponent 63 with a full mantissa saturates */
	buf[17] = 0xFF;
	buf[18] = 0xFF;
	buf[19] = 0xFF;
	parse_one(buf, (size_t)len, &pkt);
	assert_true(pkt.remb.bitrate == UINT64_MAX);

	/* SSRC count disagreeing with the length */
	len = rtcp_build_remb(buf, sizeof(buf), 0x77, 1000, ssrcs, 2);
	buf[16] = 3;
	assert_int_equal(iter_result(buf, (size_t)len), RTCP_ERR_REMB);
	/* other application feedback is passed through undecoded */
	len = rtcp_build_remb(buf, sizeof(buf), 0x77, 1000, ssrcs, 2);
	memcpy(buf + 12, "ABCD", 4);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_OTHER_FB);
	assert_int_equal(pkt.fb.fci_len, 16);
}

/* ---- transport-cc ---- */

/* Feedback written from the draft's section 3.1 figures, byte by byte:
 * base seq 100, 27 statuses, reference time 16 (1.024 s), feedback count 7.
 *  0x2005 run-length chunk: T=0 S=01 (small delta) x5      -> 100..104 received
 *  0x0003 run-length chunk: T=0 S=00 (not received) x3     -> 105..107 lost
 *  0xA601 one-bit vector:   T=1 S=0 10011000000001          -> 108,111,112,121 received
 *  0xE490 two-bit vector:   T=1 S=1 10 01 00 10 01 00 00    -> 122 large, 123 small,
 *         124 lost, 125 large (negative), 126 small; the last two slots are past
 *         the status count and ignored.
 * Receive deltas (250 us ticks): 4 0 8 255 1 | 2 3 0 40 | +1000 (2 bytes) 4 -20 (2) 10,
 * 15 bytes, then one byte of zero padding. */
static const uint8_t twcc_hand[] = {
	0x8F, 205, 0x00, 0x0A,
	0x00, 0x00, 0x00, 0x01,       /* sender SSRC */
	0x12, 0x34, 0x56, 0x78,       /* media SSRC */
	0x00, 0x64, 0x00, 0x1B,       /* base seq 100, status count 27 */
	0x00, 0x00, 0x10, 0x07,       /* reference time 16, fb pkt count 7 */
	0x20, 0x05, 0x00, 0x03, 0xA6, 0x01, 0xE4, 0x90,
	0x04, 0x00, 0x08, 0xFF, 0x01,
	0x02, 0x03, 0x00, 0x28,
	0x03, 0xE8, 0x04, 0xFF, 0xEC, 0x0A,
	0x00,
};

static const struct { uint16_t seq; int32_t delta_us; int64_t arrival_us; } twcc_hand_recv[] = {
	{ 100, 1000, 1025000 }, { 101, 0, 1025000 }, { 102, 2000, 1027000 },
	{ 103, 63750, 1090750 }, { 104, 250, 1091000 }, { 108, 500, 1091500 },
	{ 111, 750, 1092250 }, { 112, 0, 1092250 }, { 121, 10000, 1102250 },
	{ 122, 250000, 1352250 }, { 123, 1000, 1353250 }, { 125, -5000, 1348250 },
	{ 126, 2500, 1350750 },
};

static void check_twcc_hand(const rtcp_pkt_t *pkt)
{
	rtcp_twcc_status_t st[32];
	size_t r = 0;

	assert_int_equal(pkt->kind, RTCP_TWCC);
	assert_int_equal(pkt->twcc.fb.sender_ssrc, 1);
	assert_int_equal(pkt->twcc.fb.media_ssrc, 0x12345678);
	assert_int_equal(pkt->twcc.base_seq, 100);
	assert_int_equal(pkt->twcc.status_count, 27);
	assert_int_equal(pkt->twcc.ref_time, 16);
	assert_int_equal(pkt->twcc.fb_count, 7);
	assert_int_equal(rtcp_twcc_decode(&pkt->twcc, st, 26), RTCP_ERR_NOSPACE);
	assert_int_equal(rtcp_twcc_decode(&pkt->twcc, st, 32), 27);
	for (int i = 0; i < 27; i++) {
		assert_int_equal(st[i].seq, 100 + i);
		if (r < 13 && twcc_hand_recv[r].seq == st[i].seq) {
			assert_true(st[i].received);
			assert_int_equal(st[i].delta_us, twcc_hand_recv[r].delta_us);
			assert_true(st[i].arrival_us == twcc_hand_recv[r].arrival_us);
			r++;
		} else {
			assert_false(st[i].received);
		}
	}
	assert_int_equal(r, 13);
}

static void test_twcc_hand_vector(void **state)
{
	(void)state;
	rtcp_pkt_t pkt;
	uint8_t p[sizeof(twcc_hand)];

	parse_one(twcc_hand, sizeof(twcc_hand), &pkt);
	check_twcc_hand(&pkt);

	/* the same with RTCP padding (P bit, count 1) instead of bare zero padding */
	memcpy(p, twcc_hand, sizeof(p));
	p[0] |= 0x20;
	p[sizeof(p) - 1] = 1;
	parse_one(p, sizeof(p), &pkt);
	check_twcc_hand(&pkt);
}

static void test_twcc_malformed(void **state)
{
	(void)state;
	uint8_t p[sizeof(twcc_hand) + 8];

	/* deltas cut short: drop the last word */
	memcpy(p, twcc_hand, sizeof(twcc_hand));
	p[3] = 0x09;
	assert_int_equal(iter_result(p, 40), RTCP_ERR_TWCC);
	/* reserved symbol 11 in a run-length chunk */
	memcpy(p, twcc_hand, sizeof(twcc_hand));
	p[20] = 0x60;
	assert_int_equal(iter_result(p, sizeof(twcc_hand)), RTCP_ERR_TWCC_SYMBOL);
	/* ... and in a two-bit vector */
	memcpy(p, twcc_hand, sizeof(twcc_hand));
	p[27] = 0x93; /* 0xE493: 7th slot 11, but past the status count: fine */
	assert_int_equal(iter_result(p, sizeof(twcc_hand)), 0);
	p[26] = 0xF4; /* 0xF493: 1st slot 11 */
	assert_int_equal(iter_result(p, sizeof(twcc_hand)), RTCP_ERR_TWCC_SYMBOL);
	/* a status count the chunks cannot cover */
	memcpy(p, twcc_hand, sizeof(twcc_hand));
	p[14] = 0x10;
	assert_int_equal(iter_result(p, sizeof(twcc_hand)), RTCP_ERR_TWCC);
	/* more than 3 bytes after the deltas */
	memcpy(p, twcc_hand, sizeof(twcc_hand));
	memset(p + sizeof(twcc_hand), 0, 4);
	p[3] = 0x0B;
	assert_int_equal(iter_result(p, sizeof(twcc_hand) + 4), RTCP_ERR_TWCC);
	/* FCI shorter than the fixed fields */
	memcpy(p, twcc_hand, sizeof(twcc_hand));
	p[3] = 0x03;
	assert_int_equal(iter_result(p, 16), RTCP_ERR_TWCC);
}

static void assert_twcc_round_trip(const rtcp_twcc_status_t *in, size_t n, uint8_t *buf,
				   size_t cap)
{
	rtcp_pkt_t pkt;
	static rtcp_twcc_status_t out[70000];

	int len = rtcp_build_twcc(buf, cap, 0xA, 0xB, 3, in, n);
	assert_true(len > 0);
	assert_int_equal(len % 4, 0);
	parse_one(buf, (size_t)len, &pkt);
	assert_int_equal(pkt.kind, RTCP_TWCC);
	assert_int_equal(pkt.twcc.base_seq, in[0].seq);
	assert_int_equal(pkt.twcc.fb_count, 3);
	int cnt = rtcp_twcc_decode(&pkt.twcc, out, 70000);
	assert_int_equal(cnt, (uint16_t)(in[n - 1].seq - in[0].seq) + 1);
	size_t j = 0;
	for (int k = 0; k < cnt; k++) {
		assert_int_equal(out[k].seq, (uint16_t)(in[0].seq + k));
		bool listed = j < n && in[j].seq == out[k].seq;
		bool recv = listed && in[j].received;
		assert_int_equal(out[k].received, recv);
		if (recv)
			assert_true(out[k].arrival_us == in[j].arrival_us);
		if (listed)
			j++;
	}
	assert_int_equal(j, n);
}

static void test_twcc_build_round_trip(void **state)
{
	(void)state;
	static uint8_t buf[300000];
	/* gaps, a lost entry, a wrap of the seq, a large and a negative delta */
	rtcp_twcc_status_t st[] = {
		{ 65533, true, 0, 5000000 }, { 65534, true, 0, 5000250 },
		{ 65535, false, 0, 0 },      { 1, true, 0, 5100000 },
		{ 2, true, 0, 5090000 },     { 9, true, 0, 5090000 },
		{ 10, true, 0, 9000000 },
	};
	assert_twcc_round_trip(st, 7, buf, sizeof(buf));

	/* the builder's own output decodes back to the hand vector's statuses */
	rtcp_pkt_t pkt;
	rtcp_twcc_status_t hand[27];
	parse_one(twcc_hand, sizeof(twcc_hand), &pkt);
	assert_int_equal(rtcp_twcc_decode(&pkt.twcc, hand, 27), 27);
	assert_twcc_round_trip(hand, 27, buf, sizeof(buf));

	/* a long run of received packets and one of losses compress to run-length chunks */
	static rtcp_twcc_status_t many[3000];
	for (int i = 0; i < 3000; i++)
		many[i] = (rtcp_twcc_status_t){ (uint16_t)(1000 + 2 * i), true, 0,
						 1000000 + 1000 * (int64_t)i };
	assert_twcc_round_trip(many, 3000, buf, sizeof(buf));
	for (int i = 0; i < 3000; i++)
		many[i].seq = (uint16_t)(1000 + i);
	int len = rtcp_build_twcc(buf, sizeof(buf), 1, 2, 0, many, 3000);
	/* 20 header bytes, one run chunk, 3000 one-byte deltas */
	assert_int_equal(len, (20 + 2 + 3000 + 3) & ~3);

	/* a gap over 8 s between arrivals does not fit a 16-bit delta */
	st[6].arrival_us = 5090000 + 8200000;
	assert_int_equal(rtcp_build_twcc(buf, sizeof(buf), 1, 2, 0, st, 7), RTCP_ERR_RANGE);
	/* out-of-order or repeated sequence numbers */
	st[6].arrival_us = 9000000;
	st[5].seq = 2;
	assert_int_equal(rtcp_build_twcc(buf, sizeof(buf), 1, 2, 0, st, 7), RTCP_ERR_ARG);
	st[5].seq = 9;
	assert_int_equal(rtcp_build_twcc(buf, 30, 1, 2, 0, st, 7), RTCP_ERR_NOSPACE);
	assert_int_equal(rtcp_build_twcc(buf, 21, 1, 2, 0, st, 7), RTCP_ERR_NOSPACE);
	/* only losses: reference time 0, no deltas */
	rtcp_twcc_status_t lost[2] = { { 5, false, 0, 0 }, { 8, false, 0, 0 } };
	assert_twcc_round_trip(lost, 2, buf, sizeof(buf));
}

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

/* Random mixes of every symbol kind exercise each chunk-packing decision. */
static void test_twcc_random_round_trip(void **state)
{
	(void)state;
	static uint8_t buf[300000];
	static rtcp_twcc_status_t st[2000];
	uint32_t seed = 12345;

	for (int round = 0; round < 300; round++) {
		size_t n = 1 + lcg(&seed) % 2000;
		uint16_t seq = (uint16_t)lcg(&seed);
		int64_t t = 250 * (int64_t)(lcg(&seed) % 4000000);
		unsigned mode = lcg(&seed) % 4; /* bias towards runs in some rounds */
		for (size_t i = 0; i < n; i++) {
			uint32_t r = lcg(&seed);
			st[i].seq = seq;
			seq = (uint16_t)(seq + 1 + (r % 16 == 0 ? r % 5 : 0));
			st[i].received = mode == 0 ? (r % 7 != 0) : (r % 3 != 0);
			if (mode == 3 && (i / 50) % 2)
				st[i].received = false;
			if (!st[i].received)
				continue;
			switch (r % 6) {
			case 0: t += 250 * (int64_t)(256 + r % 20000); break; /* large */
			case 1: t -= 250 * (int64_t)(1 + r % 300); break;    /* negative */
			default: t += 250 * (int64_t)(r % 200); break;       /* small */
			}
			st[i].arrival_us = t;
		}
		assert_twcc_round_trip(st, n, buf, sizeof(buf));
	}
}

/* ---- compounds ---- */

struct seen {
	rtcp_kind_t kinds[8];
	int n;
};

static int collect(const rtcp_pkt_t *pkt, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8)
		s->kinds[s->n++] = pkt->kind;
	return 0;
}

static int stop_at_second(const rtcp_pkt_t *pkt, void *ctx)
{
	(void)pkt;
	return ++*(int *)ctx == 2 ? -100 : 0;
}

static void test_compound(void **state)
{
	(void)state;
	rtcp_sender_info_t si = { 1, 2, 3, 4, 5 };
	uint16_t lost[] = { 7 };
	uint8_t buf[512];
	size_t len = 0;
	struct seen s = { .n = 0 };

	len += (size_t)rtcp_build_sr(buf + len, sizeof(buf) - len, &si, NULL, 0);
	len += (size_t)rtcp_build_sdes_cname(buf + len, sizeof(buf) - len, 1, "cname", 5);
	len += (size_t)rtcp_build_nack(buf + len, sizeof(buf) - len, 1, 2, lost, 1);
	len += (size_t)rtcp_build_pli(buf + len, sizeof(buf) - len, 1, 2);
	memcpy(buf + len, twcc_hand, sizeof(twcc_hand));
	len += sizeof(twcc_hand);
	len += (size_t)rtcp_build_bye(buf + len, sizeof(buf) - len, &si.ssrc, 1, NULL, 0);

	assert_int_equal(rtcp_parse_compound(buf, len, collect, &s), 6);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.kinds[0], RTCP_SR);
	assert_int_equal(s.kinds[1], RTCP_SDES);
	assert_int_equal(s.kinds[2], RTCP_NACK);
	assert_int_equal(s.kinds[3], RTCP_PLI);
	assert_int_equal(s.kinds[4], RTCP_TWCC);
	assert_int_equal(s.kinds[5], RTCP_BYE);
	assert_int_equal(rtcp_parse_compound(buf, len, NULL, NULL), 6);

	/* the callback's error stops the walk and comes back */
	int calls = 0;
	assert_int_equal(rtcp_parse_compound(buf, len, stop_at_second, &calls), -100);
	assert_int_equal(calls, 2);

	/* a malformed last packet voids the whole compound before any callback */
	buf[len - 8] = 0x40;
	s.n = 0;
	assert_int_equal(rtcp_parse_compound(buf, len, collect, &s), RTCP_ERR_VERSION);
	assert_int_equal(s.n, 0);
	buf[len - 8] = 0x81;

	/* stray bytes after the last packet */
	assert_int_equal(rtcp_parse_compound(buf, len + 2, NULL, NULL), RTCP_ERR_TRUNCATED);
	assert_int_equal(rtcp_parse_compound(buf, 0, NULL, NULL), RTCP_ERR_TRUNCATED);
}

static void test_reduced_size(void **state)
{
	(void)state;
	uint8_t buf[64];
	uint16_t lost[] = { 1, 2 };
	struct seen s = { .n = 0 };

	/* rtcp-rsize: feedback alone, with no SR/RR in front */
	int len = rtcp_build_pli(buf, sizeof(buf), 1, 2);
	assert_int_equal(rtcp_parse_compound(buf, (size_t)len, collect, &s), 1);
	len += rtcp_build_nack(buf + len, sizeof(buf) - (size_t)len, 1, 2, lost, 2);
	s.n = 0;
	assert_int_equal(rtcp_parse_compound(buf, (size_t)len, collect, &s), 2);
	assert_int_equal(s.kinds[0], RTCP_PLI);
	assert_int_equal(s.kinds[1], RTCP_NACK);
}

static void test_malformed_framing(void **state)
{
	(void)state;
	uint8_t buf[64];
	rtcp_sender_info_t si = { 1, 2, 3, 4, 5 };
	rtcp_rb_t rb = { 0 };

	int len = rtcp_build_sr(buf, sizeof(buf), &si, &rb, 1);
	for (int cut = 1; cut < 4; cut++)
		assert_int_equal(iter_result(buf, (size_t)cut), RTCP_ERR_TRUNCATED);
	/* length field past the buffer */
	assert_int_equal(iter_result(buf, (size_t)len - 4), RTCP_ERR_LENGTH);
	/* RC larger than the blocks present */
	buf[0] = 0x82;
	assert_int_equal(iter_result(buf, (size_t)len), RTCP_ERR_SHORT);
	buf[0] = 0x81;
	/* version 3 */
	buf[0] = 0xC1;
	assert_int_equal(iter_result(buf, (size_t)len), RTCP_ERR_VERSION);
	buf[0] = 0x81;
	/* padding: count 0, count beyond the body, then a padding that eats a block */
	buf[0] = 0xA1;
	buf[len - 1] = 0;
	assert_int_equal(iter_result(buf, (size_t)len), RTCP_ERR_PADDING);
	buf[len - 1] = (uint8_t)(len - 3);
	assert_int_equal(iter_result(buf, (size_t)len), RTCP_ERR_PADDING);
	buf[len - 1] = 4;
	assert_int_equal(iter_result(buf, (size_t)len), RTCP_ERR_SHORT);
	/* RR without its SSRC */
	static const uint8_t rr0[] = { 0x80, 201, 0, 0 };
	assert_int_equal(iter_result(rr0, sizeof(rr0)), RTCP_ERR_SHORT);
	/* a valid padded RR: padding may fill the rest of the body */
	static const uint8_t rr_pad[] = { 0xA0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4 };
	rtcp_pkt_t pkt;
	parse_one(rr_pad, sizeof(rr_pad), &pkt);
	assert_int_equal(pkt.rr.ssrc, 9);
	assert_int_equal(pkt.body_len, 4);
}

static void test_other_types(void **state)
{
	(void)state;
	static const uint8_t p[] = {
		0x80, 204, 0, 2, 0, 0, 0, 1, 'n', 'a', 'm', 'e',  /* APP */
		0x80, 207, 0, 1, 0, 0, 0, 1,                      /* XR, body opaque */
		0x80, 210, 0, 0,                                  /* unassigned type */
		0x83, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2,          /* RTPFB FMT 3 */
	};
	rtcp_iter_t it;
	rtcp_pkt_t pkt;

	rtcp_iter_init(&it, p, sizeof(p));
	assert_int_equal(rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.kind, RTCP_OTHER);
	assert_int_equal(pkt.pt, 204);
	assert_int_equal(pkt.body_len, 8);
	assert_int_equal(rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.pt, 207);
	assert_int_equal(rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.kind, RTCP_OTHER);
	assert_int_equal(pkt.body_len, 0);
	assert_int_equal(rtcp_iter_next(&it, &pkt), 1);
	assert_int_equal(pkt.kind, RTCP_OTHER_FB);
	assert_int_equal(pkt.count, 3);
	assert_int_equal(pkt.fb.media_ssrc, 2);
	assert_int_equal(rtcp_iter_next(&it, &pkt), 0);
	assert_int_equal(rtcp_iter_next(&it, &pkt), 0);
}

/* ---- misc ---- */

static void test_ntp(void **state)
{
	(void)state;
	uint64_t us = 1700000000123456ull;
	uint64_t ntp = rtcp_ntp_from_unix_us(us);

	assert_true(ntp >> 32 == 1700000000ull + 2208988800ull);
	assert_true(rtcp_ntp_to_unix_us(ntp) == us);
	assert_true(rtcp_ntp_from_unix_us(500000) == ((2208988800ull << 32) | 0x80000000u));
	assert_int_equal(rtcp_ntp_mid32(0x0001234567890000ull), 0x23456789);
	assert_int_equal(rtcp_dlsr_from_us(1000000), 65536);
	assert_int_equal(rtcp_dlsr_from_us(500000), 32768);
	assert_int_equal(rtcp_dlsr_from_us(UINT64_MAX / 2), UINT32_MAX);

	/* SR sent at t, echoed after 100 ms hold, back at t + 180 ms: RTT 80 ms */
	uint64_t t = 1700000000000000ull;
	uint32_t lsr = rtcp_ntp_mid32(rtcp_ntp_from_unix_us(t));
	uint32_t now = rtcp_ntp_mid32(rtcp_ntp_from_unix_us(t + 180000));
	int64_t rtt = rtcp_rtt_us(now, lsr, rtcp_dlsr_from_us(100000));
	assert_true(rtt > 79900 && rtt < 80100);
	assert_true(rtcp_rtt_us(now, 0, 0) == -1);
	assert_true(rtcp_rtt_us(lsr, now, 0) == -1);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = RTCP_ERR_RANGE; e <= RTCP_ERR_TRUNCATED; e++) {
		const char *s = rtcp_strerror(e);
		assert_string_not_equal(s, "unknown_error");
		for (int f = e + 1; f <= RTCP_ERR_TRUNCATED; f++)
			assert_string_not_equal(s, rtcp_strerror(f));
		for (const char *c = s; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
	}
	assert_string_equal(rtcp_strerror(RTCP_ERR_TWCC), "bad_twcc");
	assert_string_equal(rtcp_strerror(1), "unknown_error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sr_round_trip),
		cmocka_unit_test(test_rr_round_trip),
		cmocka_unit_test(test_sdes_cname),
		cmocka_unit_test(test_sdes_two_chunks_by_hand),
		cmocka_unit_test(test_bye),
		cmocka_unit_test(test_nack_blp_packing),
		cmocka_unit_test(test_pli_fir),
		cmocka_unit_test(test_remb),
		cmocka_unit_test(test_twcc_hand_vector),
		cmocka_unit_test(test_twcc_malformed),
		cmocka_unit_test(test_twcc_build_round_trip),
		cmocka_unit_test(test_twcc_random_round_trip),
		cmocka_unit_test(test_compound),
		cmocka_unit_test(test_reduced_size),
		cmocka_unit_test(test_malformed_framing),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_ntp),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
