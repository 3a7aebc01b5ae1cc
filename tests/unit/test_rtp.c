/* Unit tests for media/rtp: header parsing and its failure modes, both RFC 8285
 * extension forms, typed extension readers, in-place rewriting, the header writer and
 * the RFC 7983 demultiplexer. Packets are written out byte by byte from the RFCs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "media/rtp.h"

/* V=2, X=1, CC=0, M=1 PT=111, seq 0x1234, ts 0xDEADBEEF, ssrc 0x01020304, then a one-byte
 * extension block of 4 words: audio level (id 1), padding, abs-send-time (id 3),
 * twcc (id 5), mid "ab" (id 9), then payload "hi". */
static const uint8_t one_byte_pkt[] = {
	0x90, 0xEF, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x02, 0x03, 0x04,
	0xBE, 0xDE, 0x00, 0x04,
	0x10, 0x85,                   /* id 1 len 1: V=1 level 5 */
	0x00,                         /* padding byte */
	0x32, 0x12, 0x34, 0x56,       /* id 3 len 3 */
	0x51, 0xAB, 0xCD,             /* id 5 len 2 */
	0x91, 'a', 'b',               /* id 9 len 2 */
	0x00, 0x00, 0x00,             /* padding to the word boundary */
	'h', 'i',
};

static void test_parse_fixed_header(void **state)
{
	(void)state;
	static const uint8_t p[] = { 0x80, 0x60, 0xFF, 0xFF, 0, 0, 0, 1, 0xCA, 0xFE, 0xBA, 0xBE,
				     1, 2, 3 };
	rtp_hdr_t h;

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_false(h.marker);
	assert_false(h.padding);
	assert_false(h.has_ext);
	assert_int_equal(h.pt, 96);
	assert_int_equal(h.seq, 0xFFFF);
	assert_int_equal(h.ts, 1);
	assert_int_equal(h.ssrc, 0xCAFEBABE);
	assert_int_equal(h.payload_off, 12);
	assert_int_equal(h.payload_len, 3);
	/* a header with no payload is legal */
	assert_int_equal(rtp_parse(p, 12, &h), 0);
	assert_int_equal(h.payload_len, 0);
}

static void test_parse_csrc(void **state)
{
	(void)state;
	static const uint8_t p[] = { 0x82, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
				     0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22, 0xAA };
	rtp_hdr_t h;

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_int_equal(h.cc, 2);
	assert_int_equal(rtp_csrc(p, &h, 0), 0x11111111);
	assert_int_equal(rtp_csrc(p, &h, 1), 0x22222222);
	assert_int_equal(h.payload_off, 20);
	assert_int_equal(h.payload_len, 1);
}

static void test_one_byte_extensions(void **state)
{
	(void)state;
	rtp_hdr_t h;
	const uint8_t *d;
	size_t n;
	bool voice;
	uint8_t level;
	uint32_t ast;
	uint16_t tseq;
	char mid[8];

	assert_int_equal(rtp_parse(one_byte_pkt, sizeof(one_byte_pkt), &h), 0);
	assert_true(h.marker);
	assert_int_equal(h.pt, 111);
	assert_int_equal(h.ext_profile, RTP_EXT_ONE_BYTE);
	assert_int_equal(h.ext_off, 16);
	assert_int_equal(h.ext_len, 16);
	assert_int_equal(h.payload_off, 32);
	assert_int_equal(h.payload_len, 2);
	assert_memory_equal(one_byte_pkt + h.payload_off, "hi", 2);

	assert_int_equal(rtp_get_audio_level(one_byte_pkt, &h, 1, &voice, &level), 0);
	assert_true(voice);
	assert_int_equal(level, 5);
	assert_int_equal(rtp_get_abs_send_time(one_byte_pkt, &h, 3, &ast), 0);
	assert_int_equal(ast, 0x123456);
	assert_int_equal(rtp_get_twcc_seq(one_byte_pkt, &h, 5, &tseq), 0);
	assert_int_equal(tseq, 0xABCD);
	assert_int_equal(rtp_get_string(one_byte_pkt, &h, 9, mid, sizeof(mid)), 0);
	assert_string_equal(mid, "ab");
	assert_int_equal(rtp_get_string(one_byte_pkt, &h, 9, mid, 2), RTP_ERR_NOSPACE);

	assert_int_equal(rtp_ext_find(one_byte_pkt, &h, 2, &d, &n), RTP_ERR_NOT_FOUND);
	assert_int_equal(rtp_ext_find(one_byte_pkt, &h, 0, &d, &n), RTP_ERR_NOT_FOUND);
	/* asking for a kind with the wrong size */
	assert_int_equal(rtp_get_twcc_seq(one_byte_pkt, &h, 3, &tseq), RTP_ERR_EXT_SIZE);
	assert_int_equal(rtp_get_abs_send_time(one_byte_pkt, &h, 5, &ast), RTP_ERR_EXT_SIZE);

	/* the iterator sees the four elements in order */
	rtp_ext_iter_t it;
	uint8_t id, ids[8];
	int k = 0, rc;
	rtp_ext_iter_init(&it, one_byte_pkt, &h);
	while ((rc = rtp_ext_next(&it, &id, &d, &n)) > 0)
		ids[k++] = id;
	assert_int_equal(rc, 0);
	assert_int_equal(k, 4);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[3], 9);
}

static void test_one_byte_id15_stops(void **state)
{
	(void)state;
	static const uint8_t p[] = {
		0x90, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
		0xBE, 0xDE, 0x00, 0x02,
		0x10, 0x7F,       /* id 1 */
		0xF3,             /* id 15: stop, its length means nothing */
		0x20, 0x01,       /* id 2 after the stop: must not be seen */
		0x00, 0x00, 0x00,
	};
	rtp_hdr_t h;
	bool voice;
	uint8_t level;
	const uint8_t *d;
	size_t n;

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_int_equal(rtp_get_audio_level(p, &h, 1, &voice, &level), 0);
	assert_false(voice);
	assert_int_equal(level, 127);
	assert_int_equal(rtp_ext_find(p, &h, 2, &d, &n), RTP_ERR_NOT_FOUND);
}

static void test_two_byte_extensions(void **state)
{
	(void)state;
	static const uint8_t p[] = {
		0x90, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
		0x10, 0x00, 0x00, 0x03,
		0x01, 0x00,                   /* id 1, empty value */
		0x00,                         /* padding */
		0x20, 0x03, 'r', '0', '1',    /* id 32 "r01": an id the one-byte form lacks */
		0x05, 0x02, 0x00, 0x07,       /* id 5 twcc seq 7 */
		0xEE,
	};
	rtp_hdr_t h;
	const uint8_t *d;
	size_t n;
	uint16_t tseq;
	char rid[8];

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_int_equal(h.ext_profile & 0xFFF0, RTP_EXT_TWO_BYTE);
	assert_int_equal(rtp_ext_find(p, &h, 1, &d, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rtp_get_string(p, &h, 32, rid, sizeof(rid)), 0);
	assert_string_equal(rid, "r01");
	assert_int_equal(rtp_get_twcc_seq(p, &h, 5, &tseq), 0);
	assert_int_equal(tseq, 7);
	assert_int_equal(rtp_get_string(p, &h, 1, rid, sizeof(rid)), RTP_ERR_EXT_SIZE);
	assert_int_equal(h.payload_len, 1);
	assert_int_equal(p[h.payload_off], 0xEE);
}

static void test_unknown_profile_is_opaque(void **state)
{
	(void)state;
	static const uint8_t p[] = { 0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
				     0x12, 0x34, 0x00, 0x01, 0x10, 0x01, 0, 0 };
	rtp_hdr_t h;
	const uint8_t *d;
	size_t n;

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_int_equal(h.payload_len, 0);
	assert_int_equal(rtp_ext_find(p, &h, 1, &d, &n), RTP_ERR_NOT_FOUND);
}

static void test_padding(void **state)
{
	(void)state;
	/* P=1: 4 payload bytes, then 3 bytes of padding whose last holds the count. */
	static const uint8_t p[] = { 0xA0, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
				     1, 2, 3, 4, 0, 0, 3 };
	/* padding only: count equal to everything after the header is fine */
	static const uint8_t all_pad[] = { 0xA0, 0x00, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
					   0, 0, 0, 4 };
	rtp_hdr_t h;

	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	assert_true(h.padding);
	assert_int_equal(h.pad_len, 3);
	assert_int_equal(h.payload_len, 4);
	assert_int_equal(rtp_parse(all_pad, sizeof(all_pad), &h), 0);
	assert_int_equal(h.payload_len, 0);
}

static void test_malformed(void **state)
{
	(void)state;
	uint8_t p[80];
	rtp_hdr_t h;

	memset(p, 0, sizeof(p));
	memcpy(p, one_byte_pkt, sizeof(one_byte_pkt));
	for (size_t len = 0; len < RTP_HDR_MIN; len++)
		assert_int_equal(rtp_parse(p, len, &h), RTP_ERR_TRUNCATED);

	p[0] = 0x50; /* version 1 */
	assert_int_equal(rtp_parse(p, sizeof(one_byte_pkt), &h), RTP_ERR_VERSION);
	p[0] = 0x10; /* version 0 */
	assert_int_equal(rtp_parse(p, sizeof(one_byte_pkt), &h), RTP_ERR_VERSION);

	/* CC=15 needs 60 bytes of CSRC after the fixed header */
	p[0] = 0x8F;
	assert_int_equal(rtp_parse(p, 40, &h), RTP_ERR_CSRC);
	assert_int_equal(rtp_parse(p, 12 + 60, &h), 0);

	/* extension header cut short, then block length past the end */
	memcpy(p, one_byte_pkt, sizeof(one_byte_pkt));
	assert_int_equal(rtp_parse(p, 14, &h), RTP_ERR_EXT_HDR);
	assert_int_equal(rtp_parse(p, 16 + 15, &h), RTP_ERR_EXT_HDR);
	p[15] = 0xFF;
	assert_int_equal(rtp_parse(p, sizeof(one_byte_pkt), &h), RTP_ERR_EXT_HDR);

	/* padding count of zero, and padding bigger than the payload */
	memcpy(p, one_byte_pkt, sizeof(one_byte_pkt));
	p[0] |= 0x20;
	p[sizeof(one_byte_pkt) - 1] = 0;
	assert_int_equal(rtp_parse(p, sizeof(one_byte_pkt), &h), RTP_ERR_PADDING);
	p[sizeof(one_byte_pkt) - 1] = 3; /* payload is 2 bytes */
	assert_int_equal(rtp_parse(p, sizeof(one_byte_pkt), &h), RTP_ERR_PADDING);
	p[sizeof(one_byte_pkt) - 1] = 2;
	assert_int_equal(rtp_parse(p, sizeof(one_byte_pkt), &h), 0);
	assert_int_equal(h.payload_len, 0);
}

static void test_bad_extension_element(void **state)
{
	(void)state;
	/* one-byte element claiming 16 bytes in a 4-byte block */
	static const uint8_t p1[] = { 0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
				      0xBE, 0xDE, 0x00, 0x01, 0x1F, 0, 0, 0 };
	/* two-byte element with its length byte cut off by the block end */
	static const uint8_t p2[] = { 0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
				      0x10, 0x00, 0x00, 0x01, 0x01, 0x01, 0xAA, 0x07 };
	rtp_hdr_t h;
	const uint8_t *d;
	size_t n;

	assert_int_equal(rtp_parse(p1, sizeof(p1), &h), 0);
	assert_int_equal(rtp_ext_find(p1, &h, 2, &d, &n), RTP_ERR_EXT_ELEM);
	assert_int_equal(rtp_parse(p2, sizeof(p2), &h), 0);
	assert_int_equal(rtp_ext_find(p2, &h, 1, &d, &n), 0);
	assert_int_equal(rtp_ext_find(p2, &h, 9, &d, &n), RTP_ERR_EXT_ELEM);
}

static void test_write_one_byte(void **state)
{
	(void)state;
	uint8_t lvl = rtp_audio_level_byte(true, 30);
	uint8_t tw[2] = { 0x01, 0x02 };
	uint8_t payload_mark = 0x5A;
	rtp_ext_t ext[] = { { 1, 1, &lvl }, { 5, 2, tw }, { 10, 3, (const uint8_t *)"mid" } };
	uint32_t csrc[] = { 0xAABBCCDD };
	rtp_write_t w = { .marker = true, .pt = 111, .seq = 65000, .ts = 123456789,
			  .ssrc = 42, .csrc = csrc, .csrc_count = 1, .ext = ext, .ext_count = 3 };
	uint8_t buf[64];
	rtp_hdr_t h;
	bool voice;
	uint8_t level;
	uint16_t tseq;
	char mid[4];

	int len = rtp_write_header(buf, sizeof(buf), &w);
	/* 12 + 4 CSRC + 4 ext header + (2 + 3 + 4 = 9 -> 12) */
	assert_int_equal(len, 32);
	buf[len] = payload_mark;
	assert_int_equal(rtp_parse(buf, (size_t)len + 1, &h), 0);
	assert_int_equal(h.ext_profile, RTP_EXT_ONE_BYTE);
	assert_true(h.marker);
	assert_int_equal(h.pt, 111);
	assert_int_equal(h.seq, 65000);
	assert_int_equal(h.ts, 123456789);
	assert_int_equal(h.ssrc, 42);
	assert_int_equal(rtp_csrc(buf, &h, 0), 0xAABBCCDD);
	assert_int_equal(h.payload_off, (size_t)len);
	assert_int_equal(h.payload_len, 1);
	assert_int_equal(rtp_get_audio_level(buf, &h, 1, &voice, &level), 0);
	assert_true(voice);
	assert_int_equal(level, 30);
	assert_int_equal(rtp_get_twcc_seq(buf, &h, 5, &tseq), 0);
	assert_int_equal(tseq, 0x0102);
	assert_int_equal(rtp_get_string(buf, &h, 10, mid, sizeof(mid)), 0);
	assert_string_equal(mid, "mid");

	/* too small a buffer, bad arguments */
	assert_int_equal(rtp_write_header(buf, 31, &w), RTP_ERR_NOSPACE);
	w.pt = 128;
	assert_int_equal(rtp_write_header(buf, sizeof(buf), &w), RTP_ERR_ARG);
	w.pt = 0;
	w.csrc_count = 16;
	assert_int_equal(rtp_write_header(buf, sizeof(buf), &w), RTP_ERR_ARG);
	w.csrc_count = 0;
	ext[0].id = 0;
	assert_int_equal(rtp_write_header(buf, sizeof(buf), &w), RTP_ERR_ARG);
}

static void test_write_two_byte_and_plain(void **state)
{
	(void)state;
	uint8_t big[20];
	memset(big, 0x33, sizeof(big));
	rtp_ext_t ext[] = { { 1, 1, (const uint8_t *)"\x05" }, { 200, 20, big } };
	rtp_write_t w = { .pt = 96, .seq = 1, .ts = 2, .ssrc = 3, .ext = ext, .ext_count = 2 };
	uint8_t buf[64];
	rtp_hdr_t h;
	const uint8_t *d;
	size_t n;

	int len = rtp_write_header(buf, sizeof(buf), &w);
	/* 12 + 4 + (3 + 22 = 25 -> 28) */
	assert_int_equal(len, 44);
	assert_int_equal(rtp_parse(buf, (size_t)len, &h), 0);
	assert_int_equal(h.ext_profile, RTP_EXT_TWO_BYTE);
	assert_int_equal(rtp_ext_find(buf, &h, 200, &d, &n), 0);
	assert_int_equal(n, 20);
	assert_memory_equal(d, big, 20);
	assert_int_equal(rtp_ext_find(buf, &h, 1, &d, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0], 5);

	rtp_write_t plain = { .pt = 0, .seq = 7, .ssrc = 9 };
	assert_int_equal(rtp_write_header(buf, sizeof(buf), &plain), 12);
	assert_int_equal(buf[0], 0x80);
	assert_int_equal(rtp_parse(buf, 12, &h), 0);
	assert_false(h.has_ext);
}

static void test_in_place_rewrites(void **state)
{
	(void)state;
	uint8_t p[sizeof(one_byte_pkt)];
	rtp_hdr_t h, h2;
	uint16_t tseq;
	uint32_t ast;

	memcpy(p, one_byte_pkt, sizeof(p));
	assert_int_equal(rtp_parse(p, sizeof(p), &h), 0);
	rtp_set_seq(p, 0xBEEF);
	rtp_set_ts(p, 0x01020304);
	rtp_set_ssrc(p, 0x99887766);
	rtp_set_pt(p, 100);
	assert_int_equal(rtp_set_twcc_seq(p, &h, 5, 0x4242), 0);
	assert_int_equal(rtp_set_abs_send_time(p, &h, 3, 0xFEDCBA), 0);
	assert_int_equal(rtp_parse(p, sizeof(p), &h2), 0);
	assert_int_equal(h2.seq, 0xBEEF);
	assert_int_equal(h2.ts, 0x01020304);
	assert_int_equal(h2.ssrc, 0x99887766);
	assert_int_equal(h2.pt, 100);
	assert_true(h2.marker); /* kept by rtp_set_pt */
	assert_int_equal(rtp_get_twcc_seq(p, &h2, 5, &tseq), 0);
	assert_int_equal(tseq, 0x4242);
	assert_int_equal(rtp_get_abs_send_time(p, &h2, 3, &ast), 0);
	assert_int_equal(ast, 0xFEDCBA);
	/* nothing else moved: the payload and mid are intact */
	assert_memory_equal(p + h2.payload_off, "hi", 2);
	assert_memory_equal(p + 27, "ab", 2);
	rtp_set_marker(p, false);
	assert_int_equal(p[1], 100);

	/* the value must keep its length; a missing id is reported */
	assert_int_equal(rtp_ext_rewrite(p, &h2, 5, (const uint8_t *)"abc", 3), RTP_ERR_EXT_SIZE);
	assert_int_equal(rtp_set_twcc_seq(p, &h2, 4, 1), RTP_ERR_NOT_FOUND);
}

static void test_demux(void **state)
{
	(void)state;
	uint8_t b[2] = { 0, 0 };

	assert_int_equal(demux_classify(b, 0), DEMUX_UNKNOWN);
	for (int v = 0; v < 256; v++) {
		b[0] = (uint8_t)v;
		demux_kind_t want = v <= 3 ? DEMUX_STUN
				  : (v >= 20 && v <= 63) ? DEMUX_DTLS
				  : (v >= 128 && v <= 191) ? DEMUX_RTP : DEMUX_UNKNOWN;
		assert_int_equal(demux_classify(b, 1), want);
	}
	b[0] = 0x80;
	for (int v = 0; v < 256; v++) {
		b[1] = (uint8_t)v;
		assert_int_equal(rtp_is_rtcp(b, 2), v >= 192 && v <= 223);
	}
	b[1] = 200;
	assert_false(rtp_is_rtcp(b, 1));
	/* RTP with marker and PT 96..127 is not taken for RTCP */
	b[1] = 0x80 | 96;
	assert_false(rtp_is_rtcp(b, 2));
}

static void test_strerror_and_helpers(void **state)
{
	(void)state;
	for (int e = RTP_ERR_ARG; e <= RTP_ERR_TRUNCATED; e++) {
		const char *s = rtp_strerror(e);
		assert_string_not_equal(s, "unknown_error");
		for (const char *c = s; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
	}
	assert_string_equal(rtp_strerror(RTP_ERR_PADDING), "bad_padding");
	assert_string_equal(rtp_strerror(-99), "unknown_error");

	assert_int_equal(rtp_abs_send_time_from_us(0), 0);
	assert_int_equal(rtp_abs_send_time_from_us(1000000), 1u << 18);
	assert_int_equal(rtp_abs_send_time_from_us(500000), 1u << 17);
	/* wraps at 64 s */
	assert_int_equal(rtp_abs_send_time_from_us(64000000 + 1000000), 1u << 18);
	assert_int_equal(rtp_audio_level_byte(false, 200), 127);
	assert_int_equal(rtp_audio_level_byte(true, 0), 0x80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fixed_header),
		cmocka_unit_test(test_parse_csrc),
		cmocka_unit_test(test_one_byte_extensions),
		cmocka_unit_test(test_one_byte_id15_stops),
		cmocka_unit_test(test_two_byte_extensions),
		cmocka_unit_test(test_unknown_profile_is_opaque),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bad_extension_element),
		cmocka_unit_test(test_write_one_byte),
		cmocka_unit_test(test_write_two_byte_and_plain),
		cmocka_unit_test(test_in_place_rewrites),
		cmocka_unit_test(test_demux),
		cmocka_unit_test(test_strerror_and_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
