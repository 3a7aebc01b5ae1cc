/* Transport-wide congestion control feedback (RTPFB FMT 15,
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1): validating parser,
 * decoder into per-packet statuses, and the builder the server uses to send feedback on
 * what it receives. Packet status chunks are run-length (T=0) or status vectors (T=1)
 * of 14 one-bit or 7 two-bit symbols; receive deltas are 1 byte unsigned or 2 bytes
 * signed, in 250 us ticks, chained from the reference time (64 ms units). */
#include "media/rtcp.h"
#include "media/rtcp_priv.h"

#include <string.h>

#define TWCC_FIXED_LEN 8          /* base seq, status count, reference time, fb count */
#define TWCC_TICK_US 250
#define TWCC_REF_US 64000
#define TWCC_TICKS_PER_REF (TWCC_REF_US / TWCC_TICK_US)
#define TWCC_RUN_MAX 0x1FFF       /* 13-bit run length */
#define TWCC_VEC1 14              /* symbols in a one-bit status vector */
#define TWCC_VEC2 7               /* symbols in a two-bit status vector */

enum { SYM_LOST = 0, SYM_SMALL = 1, SYM_LARGE = 2, SYM_RESERVED = 3 };

/* ---- decoding ---- */

static unsigned chunk_len(uint16_t c)
{
	if (!(c & 0x8000))
		return c & TWCC_RUN_MAX;
	return (c & 0x4000) ? TWCC_VEC2 : TWCC_VEC1;
}

static unsigned chunk_symbol(uint16_t c, unsigned k)
{
	if (!(c & 0x8000))
		return (c >> 13) & 3;
	if (c & 0x4000)
		return (c >> (12 - 2 * k)) & 3;
	return (c >> (13 - k)) & 1;
}

/* Decodes one receive delta of a SYM_SMALL/SYM_LARGE symbol at *off, in ticks. */
static int read_delta(const rtcp_twcc_t *t, size_t *off, unsigned sym, int32_t *ticks)
{
	size_t need = sym == SYM_SMALL ? 1 : 2;

	if (t->chunks_len - *off < need)
		return RTCP_ERR_TWCC;
	const uint8_t *d = t->chunks + *off;
	*ticks = sym == SYM_SMALL ? d[0] : (int16_t)be_rd16(d);
	*off += need;
	return 0;
}

/* Walks chunks and deltas; fills out[] when non-NULL (caller checked its size).
 * Returns status_count or a negative rtcp_err. */
static int twcc_walk(const rtcp_twcc_t *t, rtcp_twcc_status_t *out)
{
	size_t chunks_end = 0, off;
	unsigned covered = 0, k = 0;
	int64_t ticks = (int64_t)t->ref_time * TWCC_TICKS_PER_REF;

	/* The chunk list ends where it covers status_count; the deltas follow it. */
	while (covered < t->status_count) {
		if (t->chunks_len - chunks_end < 2)
			return RTCP_ERR_TWCC;
		covered += chunk_len(be_rd16(t->chunks + chunks_end));
		chunks_end += 2;
	}
	off = chunks_end;
	for (size_t co = 0; co < chunks_end; co += 2) {
		uint16_t c = be_rd16(t->chunks + co);
		unsigned n = chunk_len(c);
		for (unsigned j = 0; j < n && k < t->status_count; j++, k++) {
			unsigned sym = chunk_symbol(c, j);
			int32_t delta = 0;
			if (sym == SYM_RESERVED)
				return RTCP_ERR_TWCC_SYMBOL;
			if (sym != SYM_LOST) {
				int rc = read_delta(t, &off, sym, &delta);
				if (rc < 0)
					return rc;
				ticks += delta;
			}
			if (out) {
				out[k].seq = (uint16_t)(t->base_seq + k);
				out[k].received = sym != SYM_LOST;
				out[k].delta_us = delta * TWCC_TICK_US;
				out[k].arrival_us = sym != SYM_LOST ? ticks * TWCC_TICK_US : 0;
			}
		}
	}
	/* Only zero padding to a 32-bit boundary may follow. */
	if (t->chunks_len - off > 3)
		return RTCP_ERR_TWCC;
	return (int)t->status_count;
}

int rtcp__parse_twcc(rtcp_pkt_t *pkt)
{
	rtcp_fb_t fb = pkt->fb;
	const uint8_t *f = fb.fci;
	rtcp_twcc_t *t = &pkt->twcc;

	if (fb.fci_len < TWCC_FIXED_LEN)
		return RTCP_ERR_TWCC;
	uint32_t ref = (uint32_t)f[4] << 16 | (uint32_t)f[5] << 8 | f[6];
	pkt->kind = RTCP_TWCC;
	t->fb = fb;
	t->base_seq = be_rd16(f);
	t->status_count = be_rd16(f + 2);
	t->ref_time = (ref & 0x800000) ? (int32_t)ref - 0x1000000 : (int32_t)ref;
	t->fb_count = f[7];
	t->chunks = f + TWCC_FIXED_LEN;
	t->chunks_len = fb.fci_len - TWCC_FIXED_LEN;
	int rc = twcc_walk(t, NULL);
	return rc < 0 ? rc : 0;
}

int rtcp_twcc_decode(const rtcp_twcc_t *t, rtcp_twcc_status_t *out, size_t cap)
{
	if (cap < t->status_count)
		return RTCP_ERR_NOSPACE;
	return twcc_walk(t, out);
}

/* ---- building ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Produces the status symbol (and delta) of each seq from base on, filling gaps. */
typedef struct sym_src {
	const rtcp_twcc_status_t *st;
	size_t n, i;        /* entries, next entry */
	uint16_t seq;       /* seq of the next symbol */
	int64_t prev_ticks; /* arrival of the last received packet, ref time at first */
} sym_src_t;

static void src_init(sym_src_t *s, const rtcp_twcc_status_t *st, size_t n, int64_t ref)
{
	s->st = st;
	s->n = n;
	s->i = 0;
	s->seq = st[0].seq;
	s->prev_ticks = ref * TWCC_TICKS_PER_REF;
}

static int src_next(sym_src_t *s, unsigned *sym, int32_t *delta)
{
	const rtcp_twcc_status_t *e = s->i < s->n ? &s->st[s->i] : NULL;

	*sym = SYM_LOST;
	*delta = 0;
	if (e && e->seq == s->seq) {
		s->i++;
		if (e->received) {
			int64_t ticks = floor_div(e->arrival_us, TWCC_TICK_US);
			int64_t d = ticks - s->prev_ticks;
			if (d < INT16_MIN || d > INT16_MAX)
				return RTCP_ERR_RANGE;
			s->prev_ticks = ticks;
			*delta = (int32_t)d;
			*sym = (d >= 0 && d <= 255) ? SYM_SMALL : SYM_LARGE;
		}
	}
	s->seq++;
	return 0;
}

/* Greedy chunk packer. Pending symbols are held until the next one no longer fits any
 * chunk form they could share; then the oldest are emitted as a run, a one-bit vector
 * (no large deltas among 14) or a two-bit vector (the first 7). */
typedef struct chunk_enc {
	uint8_t sym[TWCC_VEC1]; /* pending symbols; only sym[0] is kept past 14 (a run) */
	size_t n;               /* pending count */
	bool same;              /* all pending symbols equal */
	bool large;             /* a SYM_LARGE is pending */
	uint8_t *out;
	size_t cap, len;        /* chunk bytes available / written */
} chunk_enc_t;

static int emit(chunk_enc_t *e, uint16_t chunk)
{
	if (e->cap - e->len < 2)
		return RTCP_ERR_NOSPACE;
	be_wr16(e->out + e->len, chunk);
	e->len += 2;
	return 0;
}

static void rescan(chunk_enc_t *e)
{
	e->same = true;
	e->large = false;
	for (size_t i = 0; i < e->n; i++) {
		e->same = e->same && e->sym[i] == e->sym[0];
		e->large = e->large || e->sym[i] == SYM_LARGE;
	}
}

/* Emits the oldest pending symbols as one chunk. Mid-stream a vector must be full, or
 * the receiver would count its unused slots as statuses; only the final chunk may be
 * partial (the status count tells the receiver where to stop). */
static int flush_one(chunk_enc_t *e, bool final)
{
	uint16_t c;
	size_t take;

	if (e->same) {
		c = (uint16_t)(e->sym[0] << 13 | e->n);
		take = e->n;
	} else if (!e->large && (e->n == TWCC_VEC1 || final)) {
		c = 0x8000;
		take = e->n; /* <= 14: a mixed pending list never outgrows a vector */
		for (size_t k = 0; k < take; k++)
			c |= (uint16_t)(e->sym[k] << (13 - k));
	} else {
		/* push() flushes a mixed list only once it holds at least 7 */
		c = 0xC000;
		take = e->n < TWCC_VEC2 ? e->n : TWCC_VEC2;
		for (size_t k = 0; k < take; k++)
			c |= (uint16_t)(e->sym[k] << (12 - 2 * k));
	}
	int rc = emit(e, c);
	if (rc < 0)
		return rc;
	e->n -= take;
	if (e->n)
		memmove(e->sym, e->sym + take, e->n);
	rescan(e);
	return 0;
}

static int push(chunk_enc_t *e, unsigned s)
{
	for (;;) {
		bool same = e->n == 0 || (e->same && e->sym[0] == s);
		bool large = e->large || s == SYM_LARGE;
		size_t m = e->n + 1;
		bool fits = same ? m <= TWCC_RUN_MAX
				 : (m <= TWCC_VEC2 || (m <= TWCC_VEC1 && !large));
		if (fits) {
			if (e->n < TWCC_VEC1)
				e->sym[e->n] = (uint8_t)s;
			e->n = m;
			e->same = same;
			e->large = large;
			return 0;
		}
		int rc = flush_one(e, false);
		if (rc < 0)
			return rc;
	}
}

/* Checks order and returns the number of statuses spanned, or RTCP_ERR_ARG. */
static long twcc_span(const rtcp_twcc_status_t *st, size_t n)
{
	long span = 1;

	for (size_t i = 1; i < n; i++) {
		uint16_t d = (uint16_t)(st[i].seq - st[i - 1].seq);
		if (d == 0 || d >= 0x8000)
			return RTCP_ERR_ARG;
		span += d;
		if (span > UINT16_MAX)
			return RTCP_ERR_ARG;
	}
	return span;
}

/* Writes the chunks at e->out, returns the delta bytes that will follow, or an error. */
static long write_chunks(chunk_enc_t *e, const rtcp_twcc_status_t *st, size_t n, int64_t ref,
			 long span)
{
	sym_src_t src;
	long delta_bytes = 0;
	int rc;

	src_init(&src, st, n, ref);
	for (long k = 0; k < span; k++) {
		unsigned sym;
		int32_t delta;
		if ((rc = src_next(&src, &sym, &delta)) < 0 || (rc = push(e, sym)) < 0)
			return rc;
		delta_bytes += sym == SYM_LOST ? 0 : sym == SYM_SMALL ? 1 : 2;
	}
	while (e->n)
		if ((rc = flush_one(e, true)) < 0)
			return rc;
	return delta_bytes;
}

static void write_deltas(uint8_t *p, const rtcp_twcc_status_t *st, size_t n, int64_t ref,
			 long span)
{
	sym_src_t src;

	src_init(&src, st, n, ref);
	for (long k = 0; k < span; k++) {
		unsigned sym;
		int32_t delta;
		src_next(&src, &sym, &delta); /* cannot fail: write_chunks ran the same walk */
		if (sym == SYM_SMALL) {
			*p++ = (uint8_t)delta;
		} else if (sym == SYM_LARGE) {
			be_wr16(p, (uint16_t)(int16_t)delta);
			p += 2;
		}
	}
}

int rtcp_build_twcc(uint8_t *buf, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
		    uint8_t fb_count, const rtcp_twcc_status_t *st, size_t n)
{
	const size_t head = RTCP_FB_HDR_LEN + TWCC_FIXED_LEN;
	int64_t ref = 0;

	if (n == 0 || !st)
		return RTCP_ERR_ARG;
	long span = twcc_span(st, n);
	if (span < 0)
		return (int)span;
	for (size_t i = 0; i < n; i++) {
		if (st[i].received) {
			ref = floor_div(st[i].arrival_us, TWCC_REF_US);
			break;
		}
	}
	if (cap < head)
		return RTCP_ERR_NOSPACE;

	chunk_enc_t e = { .out = buf + head, .cap = cap - head };
	long delta_bytes = write_chunks(&e, st, n, ref, span);
	if (delta_bytes < 0)
		return (int)delta_bytes;
	size_t body = head + e.len + (size_t)delta_bytes;
	size_t total = (body + 3) & ~(size_t)3;
	if (total > cap)
		return RTCP_ERR_NOSPACE;
	write_deltas(buf + head + e.len, st, n, ref, span);
	memset(buf + body, 0, total - body);

	rtcp__wr_fb_hdr(buf, RTCP_FMT_TWCC, RTCP_PT_RTPFB, total, sender_ssrc, media_ssrc);
	uint8_t *f = buf + RTCP_FB_HDR_LEN;
	be_wr16(f, st[0].seq);
	be_wr16(f + 2, (uint16_t)span);
	f[4] = (uint8_t)((uint64_t)ref >> 16); /* 24-bit two's complement, wrapping */
	f[5] = (uint8_t)((uint64_t)ref >> 8);
	f[6] = (uint8_t)ref;
	f[7] = fb_count;
	return (int)total;
}
