/* Unit tests for media/pkt_hist: the sent-packet history (seq wrap at 65535, overwritten
 * slots, age limit, the per-seq resend rate limit), the RTX builder (RFC 4588 layout with
 * CSRCs and header extensions kept, padding removed), and the upstream NACK tracker
 * (reordering, retries paced by RTT, giving up into a keyframe request, resets on jumps). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "media/pkt_hist.h"
#include "media/rtp.h"

/* A small RTP packet whose payload names its seq. */
static size_t make_pkt(uint8_t *buf, size_t cap, uint16_t seq)
{
	rtp_write_t w = { .pt = 96, .seq = seq, .ts = 1000u * seq, .ssrc = 0x11223344 };
	int n = rtp_write_header(buf, cap, &w);
	assert_true(n > 0);
	buf[n] = (uint8_t)(seq >> 8);
	buf[n + 1] = (uint8_t)seq;
	memset(buf + n + 2, 0xAB, 20);
	return (size_t)n + 22;
}

static uint16_t pkt_seq(const uint8_t *p, size_t len)
{
	rtp_hdr_t h;
	assert_int_equal(rtp_parse(p, len, &h), 0);
	return h.seq;
}

static void test_create_args(void **state)
{
	(void)state;
	assert_null(pkt_hist_create(0, 1500));
	assert_null(pkt_hist_create(500, 1500));
	assert_null(pkt_hist_create(65536, 1500));
	assert_null(pkt_hist_create(512, 0));
	assert_null(pkt_hist_create(512, 70000));
	struct pkt_hist *h = pkt_hist_create(512, 1500);
	assert_non_null(h);
	pkt_hist_free(h);
}

static void test_put_get_wrap(void **state)
{
	(void)state;
	struct pkt_hist *h = pkt_hist_create(64, 1500);
	uint8_t buf[100];
	const uint8_t *p;
	size_t len;

	assert_non_null(h);
	for (uint16_t s = 65500, i = 0; i < 60; s++, i++)
		pkt_hist_put(h, s, buf, make_pkt(buf, sizeof(buf), s), 1000);
	/* 65500..65535 and 0..23 are all there, across the wrap */
	for (uint16_t s = 65500, i = 0; i < 60; s++, i++) {
		assert_int_equal(pkt_hist_get(h, s, 1010, 0, &p, &len), 0);
		assert_int_equal(len, 34);
		assert_int_equal(pkt_seq(p, len), s);
	}
	assert_int_equal(pkt_hist_get(h, 24, 1010, 0, &p, &len), -1);    /* never sent */
	assert_int_equal(pkt_hist_get(h, 65499, 1010, 0, &p, &len), -1); /* never sent */
	pkt_hist_free(h);
}

static void test_overwritten(void **state)
{
	(void)state;
	struct pkt_hist *h = pkt_hist_create(16, 1500);
	uint8_t buf[100];
	const uint8_t *p;
	size_t len;

	assert_non_null(h);
	for (uint16_t s = 0; s < 20; s++)
		pkt_hist_put(h, s, buf, make_pkt(buf, sizeof(buf), s), 0);
	for (uint16_t s = 0; s < 4; s++)
		assert_int_equal(pkt_hist_get(h, s, 0, 0, &p, &len), -1); /* slot now holds s+16 */
	for (uint16_t s = 4; s < 20; s++) {
		assert_int_equal(pkt_hist_get(h, s, 0, 0, &p, &len), 0);
		assert_int_equal(pkt_seq(p, len), s);
	}
	/* a packet too big for a slot empties it rather than leaving the old one */
	uint8_t big[1600] = { 0x80 };
	pkt_hist_put(h, 20, big, sizeof(big), 0);
	assert_int_equal(pkt_hist_get(h, 4, 0, 0, &p, &len), -1);
	assert_int_equal(pkt_hist_get(h, 20, 0, 0, &p, &len), -1);
	pkt_hist_free(h);
}

static void test_age_limit(void **state)
{
	(void)state;
	struct pkt_hist *h = pkt_hist_create(16, 1500);
	uint8_t buf[100];
	const uint8_t *p;
	size_t len;

	assert_non_null(h);
	pkt_hist_put(h, 7, buf, make_pkt(buf, sizeof(buf), 7), 10000);
	assert_int_equal(pkt_hist_get(h, 7, 10000 + PKT_HIST_MAX_AGE_MS, 0, &p, &len), 0);
	assert_int_equal(pkt_hist_get(h, 7, 10001 + PKT_HIST_MAX_AGE_MS, 0, &p, &len), -1);
	pkt_hist_set_max_age(h, 5000);
	assert_int_equal(pkt_hist_get(h, 7, 14000, 0, &p, &len), 0);
	pkt_hist_free(h);
}

static void test_rate_limit(void **state)
{
	(void)state;
	struct pkt_hist *h = pkt_hist_create(16, 1500);
	uint8_t buf[100];
	const uint8_t *p;
	size_t len;

	assert_non_null(h);
	pkt_hist_put(h, 3, buf, make_pkt(buf, sizeof(buf), 3), 0);
	pkt_hist_put(h, 4, buf, make_pkt(buf, sizeof(buf), 4), 0);
	assert_int_equal(pkt_hist_get(h, 3, 10, 100, &p, &len), 0);
	assert_int_equal(pkt_hist_get(h, 3, 60, 100, &p, &len), -1);  /* resent 50 ms ago */
	assert_int_equal(pkt_hist_get(h, 4, 60, 100, &p, &len), 0);   /* per seq */
	assert_int_equal(pkt_hist_get(h, 3, 109, 100, &p, &len), -1);
	assert_int_equal(pkt_hist_get(h, 3, 110, 100, &p, &len), 0);
	assert_int_equal(pkt_hist_get(h, 3, 111, 0, &p, &len), 0);    /* no limit asked */
	/* a new packet in the slot starts with a clean resend record */
	pkt_hist_put(h, 19, buf, make_pkt(buf, sizeof(buf), 19), 120);
	assert_int_equal(pkt_hist_get(h, 19, 121, 100, &p, &len), 0);
	pkt_hist_free(h);
}

static void test_rtx_format(void **state)
{
	(void)state;
	uint8_t a = 0x42, mid[2] = { '0', '1' }, tw[2] = { 0x12, 0x34 };
	rtp_ext_t ext[3] = { { 1, 1, &a }, { 3, 2, tw }, { 4, 2, mid } };
	uint32_t csrc[2] = { 0xA1A2A3A4, 0xB1B2B3B4 };
	rtp_write_t w = { .marker = true, .pt = 100, .seq = 65535, .ts = 0xDEADBEEF,
			  .ssrc = 0x01020304, .csrc = csrc, .csrc_count = 2, .ext = ext,
			  .ext_count = 3 };
	uint8_t pkt[200], out[200];
	int n = rtp_write_header(pkt, sizeof(pkt), &w);
	assert_true(n > 0);
	size_t hdr = (size_t)n;
	for (int i = 0; i < 30; i++)
		pkt[hdr + i] = (uint8_t)i;
	/* 4 bytes of padding, count in the last byte, P bit set */
	memset(pkt + hdr + 30, 0, 3);
	pkt[hdr + 33] = 4;
	pkt[0] |= 0x20;
	size_t len = hdr + 34;

	int r = pkt_hist_build_rtx(pkt, len, out, sizeof(out), 0x55667788, 101, 777);
	assert_int_equal(r, (int)(hdr + 2 + 30));
	rtp_hdr_t h;
	assert_int_equal(rtp_parse(out, (size_t)r, &h), 0);
	assert_false(h.padding);
	assert_true(h.marker);
	assert_int_equal(h.pt, 101);
	assert_int_equal(h.seq, 777);
	assert_int_equal(h.ssrc, 0x55667788);
	assert_int_equal(h.ts, 0xDEADBEEF);
	assert_int_equal(h.cc, 2);
	assert_int_equal(rtp_csrc(out, &h, 1), 0xB1B2B3B4);
	assert_int_equal(h.payload_off, hdr);
	assert_memory_equal(out + 12, pkt + 12, hdr - 12); /* CSRCs and extensions verbatim */
	uint16_t seq;
	assert_int_equal(rtp_get_twcc_seq(out, &h, 3, &seq), 0);
	assert_int_equal(seq, 0x1234);
	char s[8];
	assert_int_equal(rtp_get_string(out, &h, 4, s, sizeof(s)), 0);
	assert_string_equal(s, "01");
	assert_int_equal(h.payload_len, 32);
	assert_int_equal(out[hdr], 0xFF); /* original seq 65535 */
	assert_int_equal(out[hdr + 1], 0xFF);
	assert_memory_equal(out + hdr + 2, pkt + hdr, 30);

	/* too small a buffer, a malformed input */
	assert_int_equal(pkt_hist_build_rtx(pkt, len, out, hdr + 31, 1, 101, 1), RTP_ERR_NOSPACE);
	assert_true(pkt_hist_build_rtx(pkt, 8, out, sizeof(out), 1, 101, 1) < 0);
	/* a padding-only packet becomes an RTX with just the original seq */
	uint8_t pad[16];
	rtp_write_t wp = { .pt = 100, .seq = 9, .ssrc = 1 };
	assert_int_equal(rtp_write_header(pad, sizeof(pad), &wp), 12);
	pad[0] |= 0x20;
	memset(pad + 12, 0, 4);
	pad[15] = 4;
	assert_int_equal(pkt_hist_build_rtx(pad, 16, out, sizeof(out), 2, 101, 5), 14);
	assert_int_equal(out[12], 0);
	assert_int_equal(out[13], 9);
}

/* ---- nack_gen ---- */

static int collect(struct nack_gen *g, int64_t now, int rtt, uint16_t *out, bool *kf)
{
	return nack_gen_collect(g, now, rtt, out, 64, kf);
}

static void test_nack_gap_and_reorder(void **state)
{
	(void)state;
	struct nack_gen g;
	uint16_t out[64];
	bool kf;

	nack_gen_init(&g);
	assert_int_equal(nack_gen_on_rtp(&g, 65533, 0), 0);
	assert_int_equal(nack_gen_on_rtp(&g, 65534, 1), 0);
	assert_int_equal(nack_gen_on_rtp(&g, 2, 2), 3);       /* 65535, 0, 1 missing */
	assert_int_equal(collect(&g, 3, 100, out, &kf), 0);   /* may still be reordered */
	assert_false(kf);
	assert_int_equal(nack_gen_on_rtp(&g, 0, 5), 0);       /* 0 was late: not NACKed */
	assert_int_equal(collect(&g, 2 + NACK_GEN_REORDER_MS, 100, out, &kf), 2);
	assert_int_equal(out[0], 65535); /* oldest first, across the wrap */
	assert_int_equal(out[1], 1);
	assert_false(kf);
	assert_int_equal(nack_gen_on_rtp(&g, 2, 20), 0);      /* duplicate */
	assert_int_equal(nack_gen_on_rtp(&g, 3, 20), 0);      /* in order */
	/* not again within an RTT */
	assert_int_equal(collect(&g, 50, 100, out, &kf), 0);
	assert_int_equal(nack_gen_on_rtp(&g, 65535, 60), 0);  /* the RTX came */
	assert_int_equal(collect(&g, 120, 100, out, &kf), 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(nack_gen_on_rtp(&g, 1, 130), 0);
	assert_int_equal(collect(&g, 500, 100, out, &kf), 0);
	assert_int_equal(g.count, 0);
	assert_false(kf);
}

static void test_nack_gives_up(void **state)
{
	(void)state;
	struct nack_gen g;
	uint16_t out[64];
	bool kf = false;
	int64_t t = 0;
	int nacks = 0;

	nack_gen_init(&g);
	nack_gen_on_rtp(&g, 100, 0);
	nack_gen_on_rtp(&g, 102, 0);
	for (t = 10; t < 1400 && !kf; t += 10)
		nacks += collect(&g, t, 50, out, &kf);
	assert_true(kf);
	assert_int_equal(nacks, NACK_GEN_MAX_TRIES);
	assert_int_equal(g.count, 0);
	assert_int_equal(collect(&g, t + 10, 50, out, &kf), 0);
	assert_false(kf); /* reported once */

	/* with a long RTT the age limit ends it first */
	nack_gen_init(&g);
	nack_gen_on_rtp(&g, 100, 0);
	nack_gen_on_rtp(&g, 102, 0);
	nacks = 0;
	kf = false;
	for (t = 10; !kf; t += 10)
		nacks += collect(&g, t, 400, out, &kf);
	assert_int_equal(t - 10, NACK_GEN_MAX_AGE_MS + 10);
	assert_int_equal(nacks, 4); /* at 10, 410, 810, 1210 */
}

static void test_nack_cap(void **state)
{
	(void)state;
	struct nack_gen g;
	uint16_t out[4];
	bool kf;

	nack_gen_init(&g);
	nack_gen_on_rtp(&g, 0, 0);
	assert_int_equal(nack_gen_on_rtp(&g, 11, 0), 10);
	assert_int_equal(nack_gen_collect(&g, 20, 100, out, 4, &kf), 4);
	assert_int_equal(out[3], 4);
	assert_int_equal(nack_gen_collect(&g, 21, 100, out, 4, &kf), 4); /* the next ones */
	assert_int_equal(out[0], 5);
	assert_int_equal(nack_gen_collect(&g, 22, 100, out, 4, &kf), 2);
	assert_int_equal(out[1], 10);
}

static void test_nack_huge_jump_resets(void **state)
{
	(void)state;
	struct nack_gen g;
	uint16_t out[64];
	bool kf;

	nack_gen_init(&g);
	nack_gen_on_rtp(&g, 1000, 0);
	nack_gen_on_rtp(&g, 1002, 0);                          /* 1001 missing */
	assert_int_equal(nack_gen_on_rtp(&g, 9000, 1), 0);     /* not 7997 NACKs */
	assert_int_equal(g.count, 0);
	assert_int_equal(collect(&g, 100, 100, out, &kf), 0);
	assert_true(kf);
	assert_int_equal(nack_gen_on_rtp(&g, 9001, 101), 0);   /* continues from the new seq */
	assert_int_equal(nack_gen_on_rtp(&g, 9003, 102), 1);
	assert_int_equal(collect(&g, 200, 100, out, &kf), 1);
	assert_false(kf);
	assert_int_equal(out[0], 9002);

	/* a gap just within the limit is NACKed in full */
	nack_gen_init(&g);
	nack_gen_on_rtp(&g, 0, 0);
	assert_int_equal(nack_gen_on_rtp(&g, NACK_GEN_SLOTS + 1, 0), NACK_GEN_SLOTS);
	/* the next gap overflows the list: the oldest are given up */
	assert_int_equal(nack_gen_on_rtp(&g, NACK_GEN_SLOTS + 3, 0), 1);
	assert_int_equal(g.count, NACK_GEN_SLOTS);
	assert_int_equal(g.miss[0].seq, 2);
	assert_int_equal(nack_gen_collect(&g, 50, 100, out, 1, &kf), 1);
	assert_true(kf);
	assert_int_equal(out[0], 2);

	/* the publisher restarts numbering far behind */
	nack_gen_init(&g);
	nack_gen_on_rtp(&g, 30000, 0);
	nack_gen_on_rtp(&g, 30002, 0);
	assert_int_equal(nack_gen_on_rtp(&g, 5, 1), 0);
	assert_int_equal(nack_gen_on_rtp(&g, 7, 2), 1);
	assert_int_equal(collect(&g, 100, 100, out, &kf), 1);
	assert_true(kf);
	assert_int_equal(out[0], 6);
	/* a late packet a little behind is only a late packet */
	assert_int_equal(nack_gen_on_rtp(&g, 65530, 3), 0);
	assert_int_equal(g.highest, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_put_get_wrap),
		cmocka_unit_test(test_overwritten),
		cmocka_unit_test(test_age_limit),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_rtx_format),
		cmocka_unit_test(test_nack_gap_and_reorder),
		cmocka_unit_test(test_nack_gives_up),
		cmocka_unit_test(test_nack_cap),
		cmocka_unit_test(test_nack_huge_jump_resets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
