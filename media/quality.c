/* Quality figures on the worker (see media/quality.h). The sender reports carry the wall
 * clock as NTP time, and a receiver report's LSR echoes it back, so the round trip is taken
 * against the same clock. */
#include "media/quality.h"
#include "mcu/worker.h"
#include "media/engine.h"
#include "media/peer.h"
#include "media/qstats.h"
#include "media/rtcp.h"
#include "media/session.h"

#include <time.h>

#define SR_INTERVAL_NS 1000000000LL
#define OPUS_CLOCK 48000

static uint64_t ntp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return rtcp_ntp_from_unix_us((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}

void quality_on_rtp(struct peer *p, const rtp_hdr_t *h)
{
    bool audio = h->pt == p->p.opus_pt;
    if (audio || h->pt == p->p.vp8_pt || h->pt == p->p.vp9_pt) /* not RTX or FEC: their gaps are no loss */
        qstats_rtp(&p->q, h->ssrc, h->seq, h->ts, audio ? OPUS_CLOCK : 0, mono_ns());
}

/* A malformed compound is not counted as a drop here: the conference's own RTCP handling
 * (the video router's feedback) walks the same compound and counts it once. */
void quality_on_rtcp(struct peer *p, const uint8_t *buf, size_t len)
{
    p->rtcp_in++;
    qstats_rtcp(&p->q, buf, len, p->p.audio_ssrc_out, rtcp_ntp_mid32(ntp_now()));
}

void quality_tick(struct engine *e, struct peer *p, int64_t now_ns)
{
    if (!p->srtp || !p->q.audio_pkts_out || now_ns - p->q.last_sr_ns < SR_INTERVAL_NS)
        return;
    p->q.last_sr_ns = now_ns;
    rtcp_sender_info_t si = {.ssrc = p->p.audio_ssrc_out, .ntp = ntp_now(), .rtp_ts = p->out_ts,
                             .packet_count = p->q.audio_pkts_out, .octet_count = p->q.audio_octets_out};
    uint8_t *out = engine_tx_reserve(e);
    int n = rtcp_build_sr(out, WORKER_PKT_MAX - SRTPX_MAX_TRAILER, &si, NULL, 0);
    if (n <= 0)
        return;
    size_t len = (size_t)n;
    if (srtpx_protect_rtcp(p->srtp, out, &len, WORKER_PKT_MAX) < 0)
        return engine_drop(e, DROP_SRTP_OTHER);
    engine_tx_commit(e, p, len);
}

void quality_fill(struct peer *p, struct mix_level *l)
{
    struct qstats_interval qi;
    qstats_interval(&p->q, &qi);
    l->bytes_in = qi.bytes_in;
    l->bytes_out = qi.bytes_out;
    l->pkts_in = (uint32_t)qi.pkts_in;
    l->pkts_out = (uint32_t)qi.pkts_out;
    l->expected = (uint32_t)qi.expected;
    l->lost = (int32_t)qi.lost;
    l->jitter_ms = (float)qi.jitter_ms;
    l->rtt_ms = qi.rtt_ms;
}
