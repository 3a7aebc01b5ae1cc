/* Per-peer link quality (see media/qstats.h). Loss follows RFC 3550 appendix A.3: expected
 * packets are the span of extended sequence numbers, so a loss at the end of an interval is
 * only seen when a later packet arrives. */
#include "media/qstats.h"
#include "media/rtcp.h"

#include <math.h>
#include <string.h>

#define MAX_DROPOUT 3000  /* a forward jump up to this is ordinary loss */
#define MAX_MISORDER 100  /* a backward step up to this is a late packet */

static void stream_restart(struct qstats_stream *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->cycles = 0;
    s->bad_seq = (uint32_t)seq + 65537; /* out of the 16-bit range: none pending */
    s->received = 0;
    s->expected_prior = 0;
    s->received_prior = 0;
}

static struct qstats_stream *stream_of(struct qstats *q, uint32_t ssrc)
{
    for (int i = 0; i < QSTATS_STREAMS; i++)
        if (q->s[i].used && q->s[i].ssrc == ssrc)
            return &q->s[i];
    return NULL;
}

/* Counts seq; false when the packet belongs to no sequence yet (the first half of a jump). */
static bool stream_seq(struct qstats_stream *s, uint16_t seq)
{
    uint16_t delta = (uint16_t)(seq - s->max_seq);
    if (delta < MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles += 65536;
        s->max_seq = seq;
    } else if (delta <= 65536 - MAX_MISORDER) {
        /* A jump too large for loss: the sender restarted, or this is a stray. Two in a row
         * that follow each other confirm the restart. */
        if (seq != s->bad_seq) {
            s->bad_seq = (uint16_t)(seq + 1);
            return false;
        }
        stream_restart(s, seq);
    } /* else: late or duplicate, counted as received */
    s->received++;
    return true;
}

static void stream_jitter(struct qstats_stream *s, uint32_t ts, int64_t arrival_ns)
{
    double arrival = (double)arrival_ns * s->clock_hz / 1e9;
    if (s->have_prev) {
        double d = (arrival - s->arrival_prev) - (double)(int32_t)(ts - s->ts_prev);
        s->jitter += (fabs(d) - s->jitter) / 16.0;
    }
    s->have_prev = true;
    s->ts_prev = ts;
    s->arrival_prev = arrival;
}

void qstats_rtp(struct qstats *q, uint32_t ssrc, uint16_t seq, uint32_t ts, uint32_t clock_hz,
                int64_t arrival_ns)
{
    struct qstats_stream *s = stream_of(q, ssrc);
    if (!s) {
        for (int i = 0; i < QSTATS_STREAMS && !s; i++)
            if (!q->s[i].used)
                s = &q->s[i];
        if (!s)
            return;
        memset(s, 0, sizeof *s);
        s->used = true;
        s->ssrc = ssrc;
        stream_restart(s, seq);
        s->received = 1;
    } else if (!stream_seq(s, seq)) {
        return;
    }
    s->clock_hz = clock_hz;
    if (clock_hz)
        stream_jitter(s, ts, arrival_ns);
}

int qstats_rtcp(struct qstats *q, const uint8_t *buf, size_t len, uint32_t our_ssrc, uint32_t now_mid32)
{
    rtcp_iter_t it;
    rtcp_pkt_t pkt;
    int rc;
    rtcp_iter_init(&it, buf, len);
    while ((rc = rtcp_iter_next(&it, &pkt)) > 0) {
        const uint8_t *blocks = pkt.kind == RTCP_SR ? pkt.sr.blocks : pkt.kind == RTCP_RR ? pkt.rr.blocks : NULL;
        unsigned n = pkt.kind == RTCP_SR ? pkt.sr.block_count : pkt.kind == RTCP_RR ? pkt.rr.block_count : 0;
        for (unsigned i = 0; blocks && i < n; i++) {
            rtcp_rb_t rb;
            rtcp_report_block(blocks, i, &rb);
            int64_t rtt = rb.ssrc == our_ssrc ? rtcp_rtt_us(now_mid32, rb.lsr, rb.dlsr) : -1;
            if (rtt >= 0) {
                q->rtt_us = rtt;
                q->have_rtt = true;
            }
        }
    }
    return rc;
}

void qstats_interval(struct qstats *q, struct qstats_interval *out)
{
    memset(out, 0, sizeof *out);
    out->bytes_in = q->bytes_in - q->bytes_in_prior;
    out->bytes_out = q->bytes_out - q->bytes_out_prior;
    out->pkts_in = q->pkts_in - q->pkts_in_prior;
    out->pkts_out = q->pkts_out - q->pkts_out_prior;
    q->bytes_in_prior = q->bytes_in;
    q->bytes_out_prior = q->bytes_out;
    q->pkts_in_prior = q->pkts_in;
    q->pkts_out_prior = q->pkts_out;
    out->jitter_ms = -1;
    for (int i = 0; i < QSTATS_STREAMS; i++) {
        struct qstats_stream *s = &q->s[i];
        if (!s->used)
            continue;
        uint64_t expected = (uint64_t)s->cycles + s->max_seq - s->base_seq + 1;
        uint64_t exp_int = expected - s->expected_prior, rec_int = s->received - s->received_prior;
        s->expected_prior = expected;
        s->received_prior = s->received;
        out->expected += exp_int;
        out->lost += (int64_t)exp_int - (int64_t)rec_int;
        if (s->clock_hz && out->jitter_ms < 0)
            out->jitter_ms = s->jitter * 1000.0 / s->clock_hz;
    }
    out->rtt_ms = q->have_rtt ? (int32_t)((q->rtt_us + 500) / 1000) : -1;
}
