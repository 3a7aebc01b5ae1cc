/* libFuzzer target for media/bwe: the input is a script of sends, transport-cc feedback
 * built from script-chosen statuses (plausible or absurd arrival times, duplicates,
 * packets never sent), raw RTCP (TWCC and REMB taken from whatever parses), and clock
 * steps. The target must always stay within [min, max]; the sanitizers catch the rest. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "media/bwe.h"
#include "media/rtcp.h"

#define MIN_BPS 30000u
#define MAX_BPS 20000000u

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

static uint16_t next16(struct script *s)
{
	return (uint16_t)(next(s) << 8 | next(s));
}

static void check(const struct bwe *b, int64_t now)
{
	uint32_t t = bwe_target(b, now);
	struct bwe_stats st;

	if (t < MIN_BPS || t > MAX_BPS)
		abort();
	bwe_stats(b, &st);
	if (st.loss < 0 || st.loss > 1)
		abort();
}

static void feed_rtcp(struct bwe *b, const uint8_t *buf, size_t len, int64_t now)
{
	rtcp_iter_t it;
	rtcp_pkt_t pkt;

	rtcp_iter_init(&it, buf, len);
	while (rtcp_iter_next(&it, &pkt) == 1) {
		if (pkt.kind == RTCP_TWCC)
			bwe_on_twcc(b, &pkt.twcc, now);
		else if (pkt.kind == RTCP_REMB)
			bwe_on_remb(b, pkt.remb.bitrate > UINT32_MAX ? UINT32_MAX
								   : (uint32_t)pkt.remb.bitrate, now);
	}
}

/* Statuses for count seqs from seq - back on; arrivals step by script-chosen deltas, now
 * and then by a huge jump either way. */
static void feedback(struct script *s, struct bwe *b, uint16_t seq, int64_t *arrival,
		     int64_t now)
{
	rtcp_twcc_status_t st[64];
	uint8_t buf[1500];
	uint16_t base = (uint16_t)(seq - next(s));
	size_t n = 1 + next(s) % 64;

	for (size_t i = 0; i < n; i++) {
		uint8_t f = next(s);
		int64_t step = (int64_t)(f & 0x3F) * 500;
		if ((f & 0xC0) == 0xC0)
			step = (f & 1) ? 7000000 : -7000000;
		*arrival += step;
		st[i] = (rtcp_twcc_status_t){ .seq = (uint16_t)(base + i), .received = f & 0x40,
					      .arrival_us = (f & 0x40) ? *arrival : 0 };
	}
	int len = rtcp_build_twcc(buf, sizeof(buf), 1, 2, 0, st, n);
	if (len > 0)
		feed_rtcp(b, buf, (size_t)len, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct script s = { data, size };
	struct bwe *b = bwe_create((uint32_t)next16(&s) * 1000, MIN_BPS, MAX_BPS);
	uint16_t seq = next16(&s);
	int64_t now = 1000000, arrival = (int64_t)next16(&s) * 64000;

	if (!b)
		abort();
	while (s.left) {
		switch (next(&s) % 5) {
		case 0:
			for (int k = next(&s) % 32; k > 0; k--) {
				bwe_on_sent(b, seq++, (uint16_t)(60 + next(&s) * 5), now);
				now += next(&s) * 50;
			}
			break;
		case 1:
			feedback(&s, b, seq, &arrival, now);
			break;
		case 2: {
			size_t len = next(&s);
			if (len > s.left)
				len = s.left;
			feed_rtcp(b, s.p, len, now);
			s.p += len;
			s.left -= len;
			break;
		}
		case 3:
			bwe_set_rtt(b, (int)next16(&s) - 100);
			break;
		default:
			now += (int64_t)next(&s) * 10000;
			break;
		}
		check(b, now);
	}
	bwe_free(b);
	return 0;
}
