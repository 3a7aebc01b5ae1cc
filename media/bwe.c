/* Send-side bandwidth estimation (see bwe.h). Feedback is matched to the packets we
 * recorded as sent; received packets are grouped into 5 ms send bursts, and the change of
 * one-way delay between consecutive groups feeds a trendline whose slope, against an
 * adaptive threshold, says whether the bottleneck queue grows. AIMD follows that signal;
 * losses counted over windows of feedback drive a second, loss-based limit. */
#include "media/bwe.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#define SENT_SLOTS 4096u            /* sent-packet ring: ~4 s at 1000 packets/s */
#define SENT_MAX_AGE_US 10000000    /* feedback about older packets is ignored */
#define ACKED_SLOTS 1024u           /* received packets kept for the rate window */
#define RATE_WINDOW_US 400000       /* receive-rate window (arrival clock) */
#define RATE_MIN_SPAN_US 200000     /* the receive rate counts once it spans this much */

#define GROUP_US 5000               /* packets sent within 5 ms form one group */
#define MAX_DELTA_US 3000000        /* a larger delay variation restarts the detector */
#define MAX_REORDERED 3             /* as do this many reordered groups in a row */
#define TREND_WINDOW 20             /* groups in the regression */
#define TREND_SMOOTHING 0.9         /* of the accumulated delay */
#define TREND_GAIN 4.0
#define TREND_MAX_DELTAS 60         /* the slope is scaled by min(deltas seen, this) */
#define THR_INIT 12.5               /* adaptive threshold, in modified-trend units */
#define THR_MIN 6.0
#define THR_MAX 600.0
#define THR_K_UP 0.0087             /* per ms: the threshold rises slowly... */
#define THR_K_DOWN 0.039            /* ...and falls fast */
#define THR_SPIKE 15.0              /* a trend this far above it does not move it */
#define OVERUSE_US 10000            /* overuse must last this long (send time) */

#define BETA 0.85                   /* decrease to BETA x receive rate */
#define GROWTH 1.08                 /* multiplicative increase per second */
/* Until the first decrease the increase is faster: a stand-in for the probing libwebrtc
 * does at start, so a receiver reaches HD in seconds rather than half a minute. */
#define GROWTH_STARTUP 1.20
#define ADD_MIN_BPS 4000.0          /* additive increase floor, per second */
#define CAP_MUL 1.5                 /* never grow past CAP_MUL x receive rate + CAP_ADD */
#define CAP_ADD 10000.0
#define SIGMA_MIN 0.02              /* relative spread of the rate at past decreases */
#define SIGMA_MAX 0.10

#define LOSS_WINDOW 40              /* statuses per loss measurement... */
#define LOSS_WINDOW_MIN 20          /* ...or this many once LOSS_WINDOW_US passed */
#define LOSS_WINDOW_US 1000000
#define LOSS_HIGH 0.10
#define LOSS_LOW 0.02
#define LOSS_GAP_US 300000          /* + RTT between two loss-based decreases */

#define TWCC_STALE_US 2000000       /* without feedback this long, REMB takes over */
#define REMB_TTL_US 5000000         /* a REMB caps the estimate this long */
#define ARRIVAL_PERIOD_US (((int64_t)1 << 24) * 64000) /* 24-bit reference time wrap */

enum { FB_NONE, FB_LOST, FB_RECV };

struct sent {
	int64_t send_us;
	uint16_t seq;
	uint16_t size;
	uint8_t fb;                 /* FB_*: what feedback said about it so far */
	bool used;
};

struct acked {
	int64_t arrival_us;
	uint32_t size;
};

/* A send burst: packets whose send times lie within GROUP_US of the first. */
struct group {
	int64_t first_send_us;
	int64_t last_send_us;
	int64_t last_arrival_us;    /* the latest arrival among its packets */
	bool valid;
};

struct bwe {
	uint32_t min_bps, max_bps;
	double delay_bps;           /* AIMD estimate */
	double loss_bps;            /* loss-based limit */
	uint32_t remb_bps;
	int64_t remb_us;            /* when the last REMB came */
	bool have_remb;
	int rtt_ms;
	double avg_pkt_bits;        /* of sent packets, for the additive step */

	bool twcc_seen;
	int64_t twcc_us;            /* when the last usable feedback came */
	bool have_arrival;
	int64_t arrival_offset;     /* unwraps the feedback's 24-bit reference time */
	int64_t last_arrival_us;

	/* receive rate: packets acked within the last RATE_WINDOW_US of arrival time */
	struct acked acked[ACKED_SLOTS];
	unsigned ack_head, ack_count;
	uint64_t ack_bytes;
	bool rate_started;
	int64_t rate_first_us, rate_latest_us;
	double acked_bps;
	bool acked_valid;

	/* delay-based detection */
	struct group cur, prev;
	unsigned reordered;
	bool trend_started;
	double first_arr_ms;
	unsigned n_deltas;
	double acc_ms, smooth_ms;
	double tx[TREND_WINDOW], ty[TREND_WINDOW];
	unsigned t_head, t_count;
	double slope;
	double trend;               /* last modified trend */
	double threshold;
	bool thr_started;
	double thr_last_ms;
	int64_t over_us;            /* time spent above the threshold, -1 when below */
	unsigned over_count;
	enum bwe_signal signal;
	bool overuse_seen;          /* during the feedback being processed */

	/* AIMD */
	enum bwe_state state;
	bool startup;               /* no decrease yet */
	bool near_max;              /* close to the rate of past decreases: additive */
	bool avg_valid;
	double avg_max_bps;         /* receive rate at past decreases, averaged */
	double var_max;             /* its relative variance */
	bool rate_updated, decreased;
	int64_t rate_us, decrease_us;

	/* loss-based */
	unsigned win_recv, win_lost;
	float loss;
	bool loss_decreased;
	int64_t loss_us, loss_dec_us;

	uint32_t feedbacks, unknown, duplicate, oversized, resets;

	rtcp_twcc_status_t st[BWE_FB_MAX]; /* decode scratch */
	struct sent sent[SENT_SLOTS];
};

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

struct bwe *bwe_create(uint32_t start_bps, uint32_t min_bps, uint32_t max_bps)
{
	if (min_bps == 0 || min_bps > max_bps)
		return NULL;
	struct bwe *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->min_bps = min_bps;
	b->max_bps = max_bps;
	b->delay_bps = clampd(start_bps, min_bps, max_bps);
	b->loss_bps = max_bps; /* no loss-based limit until loss is seen */
	b->rtt_ms = 100;
	b->avg_pkt_bits = 1200 * 8;
	b->threshold = THR_INIT;
	b->over_us = -1;
	b->signal = BWE_NORMAL;
	b->state = BWE_HOLD;
	b->startup = true;
	return b;
}

void bwe_free(struct bwe *b)
{
	free(b);
}

void bwe_set_rtt(struct bwe *b, int rtt_ms)
{
	b->rtt_ms = rtt_ms < 1 ? 1 : rtt_ms > 10000 ? 10000 : rtt_ms;
}

void bwe_on_sent(struct bwe *b, uint16_t twcc_seq, uint16_t size, int64_t now_us)
{
	struct sent *s = &b->sent[twcc_seq & (SENT_SLOTS - 1)];

	s->send_us = now_us;
	s->seq = twcc_seq;
	s->size = size;
	s->fb = FB_NONE;
	s->used = true;
	b->avg_pkt_bits = 0.95 * b->avg_pkt_bits + 0.05 * size * 8.0;
}

void bwe_on_remb(struct bwe *b, uint32_t bps, int64_t now_us)
{
	b->remb_bps = bps;
	b->remb_us = now_us;
	b->have_remb = true;
}

/* ---- receive rate ---- */

static void rate_reset(struct bwe *b)
{
	b->ack_head = b->ack_count = 0;
	b->ack_bytes = 0;
	b->rate_started = false;
	b->acked_valid = false;
}

static void rate_pop(struct bwe *b)
{
	unsigned tail = (b->ack_head - b->ack_count) & (ACKED_SLOTS - 1);

	b->ack_bytes -= b->acked[tail].size;
	b->ack_count--;
}

static void rate_add(struct bwe *b, int64_t arrival_us, uint16_t size)
{
	if (!b->rate_started) {
		b->rate_started = true;
		b->rate_first_us = b->rate_latest_us = arrival_us;
	}
	if (arrival_us > b->rate_latest_us)
		b->rate_latest_us = arrival_us;
	if (b->ack_count == ACKED_SLOTS)
		rate_pop(b);
	b->acked[b->ack_head] = (struct acked){ arrival_us, size };
	b->ack_head = (b->ack_head + 1) & (ACKED_SLOTS - 1);
	b->ack_count++;
	b->ack_bytes += size;
}

/* Called once per feedback: drops what left the window, then measures. */
static void rate_measure(struct bwe *b)
{
	if (!b->rate_started)
		return;
	int64_t from = b->rate_latest_us - RATE_WINDOW_US;
	while (b->ack_count) {
		unsigned tail = (b->ack_head - b->ack_count) & (ACKED_SLOTS - 1);
		if (b->acked[tail].arrival_us > from)
			break;
		rate_pop(b);
	}
	int64_t span = b->rate_latest_us - b->rate_first_us;
	if (span < RATE_MIN_SPAN_US || !b->ack_count)
		return;
	int64_t w = span < RATE_WINDOW_US ? span : RATE_WINDOW_US;
	if (b->ack_count == ACKED_SLOTS) {
		/* full ring: it covers less than the window */
		unsigned tail = (b->ack_head - b->ack_count) & (ACKED_SLOTS - 1);
		int64_t covered = b->rate_latest_us - b->acked[tail].arrival_us;
		if (covered > 0 && covered < w)
			w = covered;
	}
	b->acked_bps = (double)b->ack_bytes * 8.0 * 1e6 / (double)w;
	b->acked_valid = true;
}

/* ---- delay-based detection ---- */

static void detector_reset(struct bwe *b)
{
	b->reordered = 0;
	b->trend_started = false;
	b->n_deltas = 0;
	b->acc_ms = b->smooth_ms = 0;
	b->t_head = b->t_count = 0;
	b->slope = b->trend = 0;
	b->threshold = THR_INIT;
	b->thr_started = false;
	b->over_us = -1;
	b->over_count = 0;
	b->signal = BWE_NORMAL;
	b->resets++;
	rate_reset(b); /* its window was measured on the clock that just jumped */
}

static void threshold_update(struct bwe *b, double m, double arr_ms)
{
	double am = fabs(m);
	double dt = b->thr_started ? clampd(arr_ms - b->thr_last_ms, 0, 100) : 0;

	b->thr_started = true;
	b->thr_last_ms = arr_ms;
	if (am > b->threshold + THR_SPIKE)
		return;
	double k = am < b->threshold ? THR_K_DOWN : THR_K_UP;
	b->threshold = clampd(b->threshold + k * (am - b->threshold) * dt, THR_MIN, THR_MAX);
}

/* Overuse only when the trend stays above the threshold for OVERUSE_US over at least two
 * groups and is not already falling: one late burst is not a growing queue. */
static void detect(struct bwe *b, double m, int64_t send_d_us, double arr_ms)
{
	if (m > b->threshold) {
		b->over_us = b->over_us < 0 ? send_d_us / 2 : b->over_us + send_d_us;
		b->over_count++;
		if (b->over_us > OVERUSE_US && b->over_count > 1 && m >= b->trend) {
			b->over_us = 0;
			b->over_count = 0;
			b->signal = BWE_OVERUSE;
			b->overuse_seen = true;
		}
	} else {
		b->over_us = -1;
		b->over_count = 0;
		b->signal = m < -b->threshold ? BWE_UNDERUSE : BWE_NORMAL;
	}
	threshold_update(b, m, arr_ms);
	b->trend = m;
}

/* Least-squares slope of the smoothed accumulated delay over arrival time. */
static void trend_regress(struct bwe *b)
{
	double mx = 0, my = 0, num = 0, den = 0;

	for (unsigned i = 0; i < TREND_WINDOW; i++) {
		mx += b->tx[i];
		my += b->ty[i];
	}
	mx /= TREND_WINDOW;
	my /= TREND_WINDOW;
	for (unsigned i = 0; i < TREND_WINDOW; i++) {
		num += (b->tx[i] - mx) * (b->ty[i] - my);
		den += (b->tx[i] - mx) * (b->tx[i] - mx);
	}
	if (den > 0)
		b->slope = num / den;
}

static void trend_update(struct bwe *b, double d_ms, double arr_ms, int64_t send_d_us)
{
	if (!b->trend_started) {
		b->trend_started = true;
		b->first_arr_ms = arr_ms;
	}
	if (b->n_deltas < TREND_MAX_DELTAS)
		b->n_deltas++;
	b->acc_ms += d_ms;
	b->smooth_ms = TREND_SMOOTHING * b->smooth_ms + (1 - TREND_SMOOTHING) * b->acc_ms;
	b->tx[b->t_head] = arr_ms - b->first_arr_ms;
	b->ty[b->t_head] = b->smooth_ms;
	b->t_head = (b->t_head + 1) % TREND_WINDOW;
	if (b->t_count < TREND_WINDOW)
		b->t_count++;
	if (b->t_count == TREND_WINDOW)
		trend_regress(b);
	detect(b, b->slope * b->n_deltas * TREND_GAIN, send_d_us, arr_ms);
}

/* One delay sample per completed group, against the group before it. */
static void group_delta(struct bwe *b)
{
	int64_t send_d = b->cur.last_send_us - b->prev.last_send_us;
	int64_t arr_d = b->cur.last_arrival_us - b->prev.last_arrival_us;
	int64_t d = arr_d - send_d;

	if (d > MAX_DELTA_US || d < -MAX_DELTA_US) {
		detector_reset(b); /* the peer's clock jumped, or a stall we cannot read */
		return;
	}
	if (arr_d < 0) {
		if (++b->reordered >= MAX_REORDERED)
			detector_reset(b);
		return;
	}
	b->reordered = 0;
	trend_update(b, (double)d / 1000.0, (double)b->cur.last_arrival_us / 1000.0, send_d);
}

static void group_add(struct bwe *b, int64_t send_us, int64_t arrival_us)
{
	struct group *g = &b->cur;

	if (g->valid && send_us < g->first_send_us)
		return; /* reported late, after its burst was closed */
	if (g->valid && send_us - g->first_send_us <= GROUP_US) {
		if (send_us > g->last_send_us)
			g->last_send_us = send_us;
		if (arrival_us > g->last_arrival_us)
			g->last_arrival_us = arrival_us;
		return;
	}
	if (g->valid && b->prev.valid)
		group_delta(b);
	b->prev = *g;
	*g = (struct group){ send_us, send_us, arrival_us, true };
}

/* Arrival times keep growing across the feedback's 24-bit reference time wrap. */
static int64_t arrival_unwrap(struct bwe *b, int64_t a)
{
	int64_t x = a + b->arrival_offset;

	if (b->have_arrival) {
		int64_t d = x - b->last_arrival_us;
		if (d > ARRIVAL_PERIOD_US / 2) {
			b->arrival_offset -= ARRIVAL_PERIOD_US;
			x -= ARRIVAL_PERIOD_US;
		} else if (d < -ARRIVAL_PERIOD_US / 2) {
			b->arrival_offset += ARRIVAL_PERIOD_US;
			x += ARRIVAL_PERIOD_US;
		}
	}
	b->have_arrival = true;
	b->last_arrival_us = x;
	return x;
}

/* ---- AIMD rate control ---- */

static double sigma_max(const struct bwe *b)
{
	return b->avg_max_bps * clampd(sqrt(b->var_max), SIGMA_MIN, SIGMA_MAX);
}

static void aimd_increase(struct bwe *b, double dt_s)
{
	double r = b->acked_bps, next;

	if (b->near_max && b->acked_valid && r > b->avg_max_bps + 3 * sigma_max(b))
		b->near_max = false; /* the link got wider: search multiplicatively again */
	if (b->near_max) {
		double per_s = b->avg_pkt_bits / ((b->rtt_ms + 100) / 1000.0);
		next = b->delay_bps + fmax(per_s, ADD_MIN_BPS) * dt_s;
	} else {
		double g = pow(b->startup ? GROWTH_STARTUP : GROWTH, dt_s);
		next = b->delay_bps + fmax(b->delay_bps * (g - 1), 1000 * dt_s);
	}
	/* The receiver got more than the estimate with no queue growing (a probe, or media
	 * above the target): that much fits. */
	if (b->acked_valid && r > next)
		next = r;
	/* Growth past what the receiver gets is unverified; hold rather than cut. */
	if (b->acked_valid && next > CAP_MUL * r + CAP_ADD)
		next = fmax(b->delay_bps, CAP_MUL * r + CAP_ADD);
	b->delay_bps = next;
}

static void aimd_decrease(struct bwe *b, int64_t now_us)
{
	int64_t gap = (int64_t)(b->rtt_ms > 100 ? b->rtt_ms : 100) * 1000;

	if (b->decreased && now_us - b->decrease_us < gap)
		return; /* the last cut has not shown in the feedback yet */
	double r = b->acked_valid ? b->acked_bps : b->delay_bps;
	if (BETA * r < b->delay_bps)
		b->delay_bps = BETA * r;
	if (b->avg_valid && r < b->avg_max_bps - 3 * sigma_max(b))
		b->avg_valid = false; /* the link narrowed a lot: forget the old level */
	if (!b->avg_valid) {
		b->avg_max_bps = r;
		b->var_max = 0;
		b->avg_valid = true;
	} else {
		double dev = (r - b->avg_max_bps) / fmax(b->avg_max_bps, 1);
		b->avg_max_bps = 0.95 * b->avg_max_bps + 0.05 * r;
		b->var_max = 0.95 * b->var_max + 0.05 * dev * dev;
	}
	b->near_max = true;
	b->startup = false;
	b->decreased = true;
	b->decrease_us = now_us;
}

static void aimd_update(struct bwe *b, int64_t now_us)
{
	enum bwe_signal sig = b->overuse_seen ? BWE_OVERUSE : b->signal;
	double dt_s = b->rate_updated ? clampd((double)(now_us - b->rate_us) / 1e6, 0, 1) : 0;

	if (sig == BWE_OVERUSE)
		b->state = BWE_DECREASE;
	else if (sig == BWE_UNDERUSE)
		b->state = BWE_HOLD; /* the queue drains: let it */
	else
		b->state = b->state == BWE_DECREASE ? BWE_HOLD : BWE_INCREASE;

	if (b->state == BWE_INCREASE)
		aimd_increase(b, dt_s);
	else if (b->state == BWE_DECREASE)
		aimd_decrease(b, now_us);
	b->delay_bps = clampd(b->delay_bps, b->min_bps, b->max_bps);
	b->rate_updated = true;
	b->rate_us = now_us;
}

/* ---- loss-based limit ---- */

static void loss_update(struct bwe *b, int64_t now_us)
{
	unsigned n = b->win_recv + b->win_lost;
	int64_t since = now_us - b->loss_us;

	/* Slow streams would wait long for LOSS_WINDOW statuses: settle for fewer. */
	if (n < LOSS_WINDOW && (n < LOSS_WINDOW_MIN || since < LOSS_WINDOW_US))
		return;
	double p = (double)b->win_lost / n;
	double dt_s = clampd((double)since / 1e6, 0, 2);
	int64_t gap = LOSS_GAP_US + (int64_t)b->rtt_ms * 1000;

	b->loss = (float)p;
	b->win_recv = b->win_lost = 0;
	b->loss_us = now_us;
	if (p > LOSS_HIGH) {
		if (b->loss_decreased && now_us - b->loss_dec_us < gap)
			return;
		b->loss_bps = fmin(b->loss_bps, b->delay_bps) * (1 - 0.5 * p);
		b->loss_decreased = true;
		b->loss_dec_us = now_us;
		b->startup = false;
	} else if (p < LOSS_LOW) {
		b->loss_bps += fmax(b->loss_bps * (pow(GROWTH, dt_s) - 1), 1000 * dt_s);
	}
	b->loss_bps = clampd(b->loss_bps, b->min_bps, b->max_bps);
}

/* ---- feedback ---- */

static void on_status(struct bwe *b, const rtcp_twcc_status_t *st, int64_t now_us)
{
	struct sent *s = &b->sent[st->seq & (SENT_SLOTS - 1)];

	if (!s->used || s->seq != st->seq || now_us - s->send_us > SENT_MAX_AGE_US ||
	    now_us < s->send_us) {
		b->unknown++;
		return;
	}
	if (s->fb == FB_RECV || (s->fb == FB_LOST && !st->received)) {
		b->duplicate++;
		return;
	}
	if (!st->received) {
		s->fb = FB_LOST;
		b->win_lost++;
		return;
	}
	if (s->fb == FB_LOST && b->win_lost)
		b->win_lost--; /* reported lost before, arrived late after all */
	s->fb = FB_RECV;
	b->win_recv++;
	int64_t arrival = arrival_unwrap(b, st->arrival_us);
	group_add(b, s->send_us, arrival);
	rate_add(b, arrival, s->size);
}

void bwe_on_twcc(struct bwe *b, const rtcp_twcc_t *fb, int64_t now_us)
{
	int n = rtcp_twcc_decode(fb, b->st, BWE_FB_MAX);

	if (n < 0) {
		if (n == RTCP_ERR_NOSPACE)
			b->oversized++;
		return;
	}
	if (!b->twcc_seen) {
		/* leaving REMB-only mode: continue from where REMB had us */
		b->delay_bps = bwe_target(b, now_us);
		b->twcc_seen = true;
		b->loss_us = now_us; /* the first loss window starts here */
	}
	b->feedbacks++;
	b->twcc_us = now_us;
	b->overuse_seen = false;
	for (int i = 0; i < n; i++)
		on_status(b, &b->st[i], now_us);
	rate_measure(b);
	aimd_update(b, now_us);
	loss_update(b, now_us);
}

uint32_t bwe_target(const struct bwe *b, int64_t now_us)
{
	bool twcc_live = b->twcc_seen && now_us - b->twcc_us <= TWCC_STALE_US;
	bool remb_fresh = b->have_remb && now_us - b->remb_us <= REMB_TTL_US;
	double t;

	if (b->have_remb && (!b->twcc_seen || (!twcc_live && remb_fresh))) {
		t = b->remb_bps;
	} else {
		t = fmin(b->delay_bps, b->loss_bps);
		if (remb_fresh)
			t = fmin(t, b->remb_bps);
	}
	return (uint32_t)clampd(t, b->min_bps, b->max_bps);
}

void bwe_stats(const struct bwe *b, struct bwe_stats *out)
{
	*out = (struct bwe_stats){
		.delay_bps = (uint32_t)b->delay_bps,
		.loss_bps = (uint32_t)b->loss_bps,
		.remb_bps = b->have_remb ? b->remb_bps : 0,
		.acked_bps = b->acked_valid ? (uint32_t)fmin(b->acked_bps, UINT32_MAX) : 0,
		.loss = b->loss,
		.trend = b->trend,
		.threshold = b->threshold,
		.state = b->state,
		.signal = b->signal,
		.feedbacks = b->feedbacks,
		.unknown = b->unknown,
		.duplicate = b->duplicate,
		.oversized = b->oversized,
		.resets = b->resets,
	};
}
