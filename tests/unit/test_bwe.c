/* Unit tests for media/bwe: behaviour over simulated time. A sender paces 1200-byte packets
 * at the estimator's target into a bottleneck link (capacity, FIFO queue, random loss,
 * propagation delay); the receiver end builds real transport-cc feedback with rtcp's
 * builder every 50-100 ms, which travels back and is parsed before the estimator sees it,
 * so the wire format is in the loop. Set BWE_TRACE=1 to print the run. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "media/bwe.h"
#include "media/rtcp.h"

#define SEC 1000000LL
#define MS 1000LL
#define PKT 1200
#define FLY_MAX 16384   /* packets in flight (power of two) */
#define PEND_MAX 4096   /* statuses waiting for the next feedback */
#define BACK_MAX 64     /* feedback packets on the way back */

struct flight {
	uint16_t seq;
	bool lost;
	int64_t arrival;    /* sender clock */
};

struct back {
	int64_t at;
	int len;
	uint8_t buf[1200];
};

struct sim {
	struct bwe *b;
	int64_t now;
	/* link */
	double cap_bps;
	double loss;
	int64_t prop_us;
	int64_t max_queue_us;
	unsigned jitter_us;         /* extra random delay per packet, FIFO kept */
	bool frames;                /* send 30 bursts a second, like a video forwarder */
	double send_bps;            /* send at this rate whatever the target, when not 0 */
	double busy_until;          /* bottleneck serializing until then */
	int64_t last_arrival;
	/* sender */
	uint16_t seq;
	double next_send;
	uint64_t sent_bytes;
	struct flight fly[FLY_MAX];
	unsigned fly_head, fly_count;
	/* receiver */
	int64_t rx_clock_offset;    /* receiver clock = sender clock + this */
	bool rx_started;
	uint16_t rx_expect;
	rtcp_twcc_status_t pend[PEND_MAX];
	size_t n_pend;
	int64_t next_fb;
	uint8_t fb_count;
	bool dup_feedback;          /* deliver every feedback twice */
	struct back back[BACK_MAX];
	unsigned back_head, back_count;
	uint64_t rng;
	bool trace;
};

static uint32_t rnd(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (uint32_t)(s->rng >> 11);
}

static double rnd01(struct sim *s)
{
	return (rnd(s) & 0xFFFFFF) / (double)0x1000000;
}

static void sim_init(struct sim *s, uint32_t start, double cap_bps)
{
	memset(s, 0, sizeof(*s));
	s->b = bwe_create(start, 50000, 10000000);
	assert_non_null(s->b);
	s->cap_bps = cap_bps;
	s->prop_us = 25 * MS;
	s->max_queue_us = 5 * SEC;
	s->jitter_us = 500;
	s->rng = 0x9E3779B97F4A7C15ull;
	s->next_fb = 50 * MS;
	s->trace = getenv("BWE_TRACE") != NULL;
}

static void sim_free(struct sim *s)
{
	bwe_free(s->b);
}

static void send_one(struct sim *s, int64_t t)
{
	uint16_t seq = s->seq++;
	bwe_on_sent(s->b, seq, PKT, t);
	s->sent_bytes += PKT;
	assert_true(s->fly_count < FLY_MAX);
	struct flight *f = &s->fly[(s->fly_head + s->fly_count++) & (FLY_MAX - 1)];
	f->seq = seq;
	f->lost = rnd01(s) < s->loss;
	if (f->lost)
		return;
	double start = s->busy_until > t ? s->busy_until : (double)t;
	if (start - t > s->max_queue_us) {
		f->lost = true; /* tail drop */
		return;
	}
	s->busy_until = start + PKT * 8 * 1e6 / s->cap_bps;
	int64_t arr = (int64_t)s->busy_until + s->prop_us + rnd(s) % (s->jitter_us + 1);
	if (arr < s->last_arrival)
		arr = s->last_arrival; /* FIFO: no reordering */
	s->last_arrival = arr;
	f->arrival = arr;
}

/* Moves arrived (or dropped) packets to the receiver's pending statuses. Drops are only
 * known by the gap a later arrival leaves, as on a real receiver. */
static void receive(struct sim *s)
{
	while (s->fly_count) {
		struct flight *f = &s->fly[s->fly_head];
		if (f->lost) {
			s->fly_head = (s->fly_head + 1) & (FLY_MAX - 1);
			s->fly_count--;
			continue;
		}
		if (f->arrival > s->now)
			break;
		if (!s->rx_started) {
			s->rx_started = true;
			s->rx_expect = f->seq;
		}
		for (; s->rx_expect != f->seq; s->rx_expect++) {
			assert_true(s->n_pend < PEND_MAX);
			s->pend[s->n_pend++] = (rtcp_twcc_status_t){ .seq = s->rx_expect };
		}
		assert_true(s->n_pend < PEND_MAX);
		s->pend[s->n_pend++] = (rtcp_twcc_status_t){
			.seq = f->seq, .received = true, .arrival_us = f->arrival + s->rx_clock_offset };
		s->rx_expect++;
		s->fly_head = (s->fly_head + 1) & (FLY_MAX - 1);
		s->fly_count--;
	}
}

static void queue_back(struct sim *s, const uint8_t *buf, int len, int64_t at)
{
	assert_true(s->back_count < BACK_MAX);
	struct back *k = &s->back[(s->back_head + s->back_count++) % BACK_MAX];
	k->at = at;
	k->len = len;
	memcpy(k->buf, buf, (size_t)len);
}

static void send_feedback(struct sim *s)
{
	s->next_fb = s->now + 50 * MS + rnd(s) % (50 * MS);
	if (!s->n_pend)
		return;
	uint8_t buf[1200];
	int len = rtcp_build_twcc(buf, sizeof(buf), 1, 2, s->fb_count++, s->pend, s->n_pend);
	assert_true(len > 0);
	s->n_pend = 0;
	queue_back(s, buf, len, s->now + s->prop_us);
	if (s->dup_feedback)
		queue_back(s, buf, len, s->now + s->prop_us + 5 * MS);
}

/* Parses a feedback like the router would and hands the transport-cc part over. */
static void deliver(struct bwe *b, const uint8_t *buf, size_t len, int64_t now)
{
	rtcp_iter_t it;
	rtcp_pkt_t pkt;
	int n = 0;

	rtcp_iter_init(&it, buf, len);
	while (rtcp_iter_next(&it, &pkt) == 1) {
		assert_int_equal(pkt.kind, RTCP_TWCC);
		bwe_on_twcc(b, &pkt.twcc, now);
		n++;
	}
	assert_int_equal(n, 1);
}

static void deliver_due(struct sim *s)
{
	while (s->back_count && s->back[s->back_head].at <= s->now) {
		struct back *k = &s->back[s->back_head];
		deliver(s->b, k->buf, (size_t)k->len, s->now);
		s->back_head = (s->back_head + 1) % BACK_MAX;
		s->back_count--;
	}
}

static void trace(struct sim *s)
{
	struct bwe_stats st;

	bwe_stats(s->b, &st);
	printf("t=%6.2f target=%7u delay=%7u loss_bps=%8u acked=%7u loss=%.2f trend=%7.2f "
	       "thr=%6.2f state=%d queue=%4.0fms\n",
	       (double)s->now / SEC, bwe_target(s->b, s->now), st.delay_bps, st.loss_bps,
	       st.acked_bps, st.loss, st.trend, st.threshold, st.state,
	       s->busy_until > s->now ? (s->busy_until - (double)s->now) / MS : 0.0);
}

/* Runs until `until`, one millisecond per step. */
static void sim_run(struct sim *s, int64_t until)
{
	for (; s->now < until; s->now += MS) {
		deliver_due(s);
		receive(s);
		if (s->now >= s->next_fb)
			send_feedback(s);
		double target = s->send_bps ? s->send_bps : bwe_target(s->b, s->now);
		if (s->next_send < (double)s->now - 10 * MS)
			s->next_send = (double)s->now; /* no catching up after idling */
		if (s->frames && s->now % (33 * MS) == 0) {
			/* a frame's packets leave back to back, 0.1 ms apart */
			int n = (int)(target / 30.0 / (PKT * 8) + 0.5);
			for (int i = 0; i < (n ? n : 1); i++)
				send_one(s, s->now + i * 100);
		}
		while (!s->frames && s->next_send <= (double)s->now) {
			send_one(s, (int64_t)s->next_send);
			s->next_send += PKT * 8 * 1e6 / target;
		}
		if (s->trace && s->now % (500 * MS) == 0)
			trace(s);
	}
}

static uint32_t target(struct sim *s)
{
	return bwe_target(s->b, s->now);
}

/* Lowest and highest target over [from, until), sampled every 100 ms. */
static void sim_run_range(struct sim *s, int64_t until, uint32_t *lo, uint32_t *hi)
{
	*lo = UINT32_MAX;
	*hi = 0;
	while (s->now < until) {
		sim_run(s, s->now + 100 * MS);
		uint32_t t = target(s);
		*lo = t < *lo ? t : *lo;
		*hi = t > *hi ? t : *hi;
	}
}

/* (a) 2 Mbps link, start at 300 kbps: near capacity within ~20 s and stays there. */
static void test_converges(void **state)
{
	(void)state;
	struct sim s;
	uint32_t lo, hi;

	sim_init(&s, 300000, 2e6);
	sim_run(&s, 20 * SEC);
	assert_in_range(target(&s), 1500000, 2100000);
	sim_run_range(&s, 40 * SEC, &lo, &hi);
	assert_in_range(lo, 1400000, 2100000);
	assert_in_range(hi, 1500000, 2200000);
	sim_free(&s);
}

/* The same link fed like a forwarder feeds it: each frame's packets leave in one burst,
 * 30 times a second, and every packet picks up to 5 ms of random extra delay. */
static void test_converges_bursty_jittery(void **state)
{
	(void)state;
	struct sim s;
	uint32_t lo, hi;

	sim_init(&s, 300000, 2e6);
	s.frames = true;
	s.jitter_us = 5000;
	sim_run(&s, 25 * SEC);
	sim_run_range(&s, 45 * SEC, &lo, &hi);
	assert_in_range(lo, 1200000, 2100000);
	assert_in_range(hi, 1500000, 2300000);
	sim_free(&s);
}

/* (b) the capacity drops from 2 Mbps to 500 kbps at 20 s: the queue grows (a delay ramp)
 * and the target falls below 600 kbps within 3 s; (d) restored at 40 s: it recovers. */
static void test_delay_ramp_and_recovery(void **state)
{
	(void)state;
	struct sim s;
	struct bwe_stats st;

	sim_init(&s, 300000, 2e6);
	s.max_queue_us = 60 * SEC; /* a pure delay ramp: the queue never drops */
	sim_run(&s, 20 * SEC);
	assert_true(target(&s) > 1400000);
	s.cap_bps = 500e3;
	sim_run(&s, 20 * SEC + 500 * MS);
	bwe_stats(s.b, &st);
	assert_true(st.trend > st.threshold); /* the queue is growing */
	sim_run(&s, 22 * SEC + 500 * MS);
	assert_true(target(&s) < 600000);
	bwe_stats(s.b, &st);
	assert_true(st.delay_bps < 600000);    /* the delay-based part did it... */
	assert_int_equal(st.loss_bps, 10000000); /* ...not the loss-based one */
	sim_run(&s, 40 * SEC);
	assert_in_range(target(&s), 300000, 600000); /* settled near the new capacity */

	s.cap_bps = 2e6;
	sim_run(&s, 60 * SEC);
	assert_true(target(&s) > 1400000);
	sim_free(&s);
}

/* (c) 20% random loss without any queue growth: the target goes down. */
static void test_heavy_loss_decreases(void **state)
{
	(void)state;
	struct sim s;
	struct bwe_stats st;

	sim_init(&s, 1000000, 10e6);
	s.loss = 0.20;
	sim_run(&s, 10 * SEC);
	bwe_stats(s.b, &st);
	assert_true(st.loss > 0.10);
	assert_true(target(&s) < 600000);
	sim_free(&s);
}

/* (c) 1% random loss: no decrease, the target keeps climbing. */
static void test_light_loss_keeps_rate(void **state)
{
	(void)state;
	struct sim s;
	uint32_t lo, hi;

	sim_init(&s, 1000000, 10e6);
	s.loss = 0.01;
	sim_run_range(&s, 10 * SEC, &lo, &hi);
	assert_true(lo >= 1000000);
	assert_true(target(&s) > 2000000);
	sim_free(&s);
}

/* (c)+(d) loss stops: the loss-based limit lets the target climb again. */
static void test_loss_recovery(void **state)
{
	(void)state;
	struct sim s;

	sim_init(&s, 1000000, 3e6);
	s.loss = 0.25;
	sim_run(&s, 10 * SEC);
	uint32_t low = target(&s);
	assert_true(low < 600000);
	s.loss = 0;
	sim_run(&s, 30 * SEC);
	assert_true(target(&s) > 2 * low);
	sim_free(&s);
}

/* An application-limited sender (media at 300 kbps on a 3 Mbps link) does not see its
 * estimate grow past what it sends; a 600 ms probe at 1 Mbps lifts it at once. Probing
 * past the capacity of a narrower link does not. */
static void test_app_limited_and_probe(void **state)
{
	(void)state;
	struct sim s;

	sim_init(&s, 300000, 3e6);
	s.send_bps = 300e3;
	sim_run(&s, 10 * SEC);
	assert_in_range(target(&s), 300000, 500000); /* 1.5 x the receive rate + 10k */
	s.send_bps = 1e6;
	sim_run(&s, 10 * SEC + 600 * MS);
	s.send_bps = 300e3;
	sim_run(&s, 11 * SEC);
	assert_true(target(&s) > 900000);
	sim_free(&s);

	sim_init(&s, 300000, 600e3);
	s.send_bps = 300e3;
	sim_run(&s, 10 * SEC);
	s.send_bps = 1.2e6;
	sim_run(&s, 10 * SEC + 600 * MS);
	s.send_bps = 300e3;
	sim_run(&s, 12 * SEC);
	assert_true(target(&s) < 650000);
	sim_free(&s);
}

/* twcc sequence numbers wrap at 65535 and the feedback's 24-bit reference time wraps
 * during the run; every feedback also arrives twice: none of it disturbs convergence. */
static void test_wraps_and_duplicates(void **state)
{
	(void)state;
	struct sim s;
	struct bwe_stats st;

	sim_init(&s, 300000, 2e6);
	s.seq = 65000;
	s.rx_clock_offset = ((int64_t)1 << 23) * 64000 - 3 * SEC; /* wraps at 3 s */
	s.dup_feedback = true;
	sim_run(&s, 25 * SEC);
	bwe_stats(s.b, &st);
	assert_in_range(target(&s), 1500000, 2100000);
	assert_true(st.duplicate > 1000);
	assert_int_equal(st.unknown, 0);
	assert_int_equal(st.resets, 0);
	sim_free(&s);
}

/* (e) the peer sends only REMB: the target follows it, within [min, max]. */
static void test_remb_only(void **state)
{
	(void)state;
	struct bwe *b = bwe_create(300000, 50000, 5000000);
	assert_non_null(b);

	assert_int_equal(bwe_target(b, 0), 300000);
	bwe_on_remb(b, 800000, 1 * SEC);
	assert_int_equal(bwe_target(b, 1 * SEC), 800000);
	bwe_on_remb(b, 400000, 2 * SEC);
	assert_int_equal(bwe_target(b, 2 * SEC), 400000);
	bwe_on_remb(b, 1500000, 3 * SEC);
	assert_int_equal(bwe_target(b, 30 * SEC), 1500000); /* no twcc: even an old REMB */
	bwe_on_remb(b, 10000, 31 * SEC);
	assert_int_equal(bwe_target(b, 31 * SEC), 50000);
	bwe_on_remb(b, 90000000, 32 * SEC);
	assert_int_equal(bwe_target(b, 32 * SEC), 5000000);
	bwe_free(b);
}

/* With transport-cc running, a REMB caps the estimate while fresh; when the feedback
 * stops, a fresh REMB is the estimate. */
static void test_remb_cap_and_fallback(void **state)
{
	(void)state;
	struct sim s;

	sim_init(&s, 1000000, 10e6);
	sim_run(&s, 5 * SEC);
	assert_true(target(&s) > 1000000);
	bwe_on_remb(s.b, 700000, s.now);
	assert_int_equal(target(&s), 700000);
	sim_run(&s, 8 * SEC);
	assert_true(target(&s) <= 700000);
	int64_t t = s.now;
	bwe_on_remb(s.b, 900000, t);
	/* no more feedback from here on */
	assert_int_equal(bwe_target(s.b, t + 3 * SEC), 900000);
	/* REMB old as well: the last transport-cc estimate stands */
	assert_true(bwe_target(s.b, t + 10 * SEC) > 900000);
	sim_free(&s);
}

/* Feedback that names packets never sent changes nothing. */
static void test_unknown_packets(void **state)
{
	(void)state;
	struct bwe *b = bwe_create(500000, 50000, 5000000);
	rtcp_twcc_status_t st[100];
	uint8_t buf[1200];

	assert_non_null(b);
	for (int i = 0; i < 100; i++)
		bwe_on_sent(b, (uint16_t)i, PKT, i * MS);
	for (int i = 0; i < 100; i++)
		st[i] = (rtcp_twcc_status_t){ .seq = (uint16_t)(30000 + i), .received = i % 3 != 0,
					      .arrival_us = i % 3 ? 1 * SEC + i * 10 * MS : 0 };
	int len = rtcp_build_twcc(buf, sizeof(buf), 1, 2, 0, st, 100);
	assert_true(len > 0);
	deliver(b, buf, (size_t)len, 1 * SEC);
	struct bwe_stats s;
	bwe_stats(b, &s);
	assert_int_equal(s.unknown, 100);
	assert_int_equal(s.loss, 0);
	assert_int_equal(s.delay_bps, 500000);
	assert_int_equal(bwe_target(b, 1 * SEC), 500000);
	bwe_free(b);
}

/* Sends n packets paced 5 ms apart from seq, then feeds back arrivals at base + i*step. */
static void feed(struct bwe *b, uint16_t seq, int n, int64_t t0, int64_t arr0, int64_t step)
{
	rtcp_twcc_status_t st[64];
	uint8_t buf[1200];

	assert_true(n <= 64);
	for (int i = 0; i < n; i++) {
		bwe_on_sent(b, (uint16_t)(seq + i), PKT, t0 + i * 5 * MS);
		st[i] = (rtcp_twcc_status_t){ .seq = (uint16_t)(seq + i), .received = true,
					      .arrival_us = arr0 + i * step };
	}
	int len = rtcp_build_twcc(buf, sizeof(buf), 1, 2, 0, st, (size_t)n);
	assert_true(len > 0);
	deliver(b, buf, (size_t)len, t0 + n * 5 * MS + 50 * MS);
}

/* A jump of the peer's arrival clock (forward or back) restarts the delay detector
 * instead of reading as a huge queue; the estimate does not collapse. */
static void test_absurd_deltas(void **state)
{
	(void)state;
	struct bwe *b = bwe_create(1000000, 50000, 5000000);
	struct bwe_stats st;

	assert_non_null(b);
	feed(b, 0, 40, 0, 10 * SEC, 5 * MS);
	feed(b, 40, 40, 200 * MS, 1000 * SEC, 5 * MS); /* +990 s */
	bwe_stats(b, &st);
	assert_true(st.resets >= 1);
	unsigned r = st.resets;
	feed(b, 80, 40, 400 * MS, 20 * SEC, 5 * MS);   /* back by 980 s */
	bwe_stats(b, &st);
	assert_true(st.resets > r);
	assert_true(st.signal != BWE_OVERUSE);
	assert_true(bwe_target(b, 700 * MS) >= 900000);
	bwe_free(b);
}

/* A feedback with more statuses than the estimator decodes is counted and ignored. */
static void test_oversized_feedback(void **state)
{
	(void)state;
	struct bwe *b = bwe_create(500000, 50000, 5000000);
	rtcp_twcc_status_t st[2] = {
		{ .seq = 0, .received = true, .arrival_us = 1 * SEC },
		{ .seq = 3000, .received = true, .arrival_us = 1 * SEC + 5 * MS },
	};
	uint8_t buf[1200];
	struct bwe_stats s;

	assert_non_null(b);
	int len = rtcp_build_twcc(buf, sizeof(buf), 1, 2, 0, st, 2);
	assert_true(len > 0);
	deliver(b, buf, (size_t)len, 2 * SEC);
	bwe_stats(b, &s);
	assert_int_equal(s.oversized, 1);
	assert_int_equal(s.feedbacks, 0);
	bwe_free(b);
}

static void test_create_args(void **state)
{
	(void)state;
	assert_null(bwe_create(100, 0, 1000));
	assert_null(bwe_create(100, 2000, 1000));
	struct bwe *b = bwe_create(10, 1000, 5000);
	assert_non_null(b);
	assert_int_equal(bwe_target(b, 0), 1000);
	bwe_free(b);
	b = bwe_create(10000, 1000, 5000);
	assert_non_null(b);
	assert_int_equal(bwe_target(b, 0), 5000);
	bwe_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converges),
		cmocka_unit_test(test_converges_bursty_jittery),
		cmocka_unit_test(test_delay_ramp_and_recovery),
		cmocka_unit_test(test_heavy_loss_decreases),
		cmocka_unit_test(test_light_loss_keeps_rate),
		cmocka_unit_test(test_loss_recovery),
		cmocka_unit_test(test_app_limited_and_probe),
		cmocka_unit_test(test_wraps_and_duplicates),
		cmocka_unit_test(test_remb_only),
		cmocka_unit_test(test_remb_cap_and_fallback),
		cmocka_unit_test(test_unknown_packets),
		cmocka_unit_test(test_absurd_deltas),
		cmocka_unit_test(test_oversized_feedback),
		cmocka_unit_test(test_create_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
