/* Echo: RTP comes back with our SSRC in place of the sender's; the receiver's keyframe
 * requests (PLI/FIR on our video SSRC) become a PLI to the sender's own video stream. */
#include "media/echo.h"
#include "mcu/worker.h"
#include "media/engine.h"
#include "media/peer.h"
#include "media/rtcp.h"
#include "media/rtp.h"

#include <string.h>

#define PLI_INTERVAL_NS (300LL * 1000000LL) /* at most ~3 keyframe requests a second */

static void request_keyframe(struct engine *e, struct peer *p)
{
    int64_t now = mono_ns();
    if (!p->in_video_ssrc || now - p->last_pli_ns < PLI_INTERVAL_NS)
        return;
    p->last_pli_ns = now;
    uint8_t *out = engine_tx_reserve(e);
    int n = rtcp_build_pli(out, WORKER_PKT_MAX, p->p.video_ssrc_out, p->in_video_ssrc);
    if (n <= 0)
        return;
    size_t len = (size_t)n;
    if (srtpx_protect_rtcp(p->srtp, out, &len, WORKER_PKT_MAX) < 0)
        return engine_drop(e, DROP_SRTP_OTHER);
    engine_tx_commit(e, p, len);
}

void echo_on_rtp(struct engine *e, struct peer *p, const uint8_t *buf, size_t len)
{
    rtp_hdr_t h;
    if (rtp_parse(buf, len, &h) < 0)
        return engine_drop(e, DROP_RTP_MALFORMED);
    p->rtp_in++;
    uint32_t out_ssrc = 0;
    if (h.pt == p->p.opus_pt) {
        p->in_audio_ssrc = h.ssrc;
        out_ssrc = p->p.audio_ssrc_out;
    } else if (h.pt == p->p.vp8_pt || h.pt == p->p.vp9_pt) {
        if (!p->in_video_ssrc) {
            p->in_video_ssrc = h.ssrc;
            request_keyframe(e, p); /* start the echoed stream on a keyframe */
        }
        if (h.ssrc != p->in_video_ssrc)
            return; /* another simulcast layer: the echo returns one */
        out_ssrc = p->p.video_ssrc_out;
    }
    if (!out_ssrc)
        return; /* RTX, FEC or a codec the echo does not return */
    uint8_t *out = engine_tx_reserve(e);
    memcpy(out, buf, len);
    rtp_set_ssrc(out, out_ssrc);
    size_t n = len;
    if (srtpx_protect_rtp(p->srtp, out, &n, WORKER_PKT_MAX) < 0)
        return engine_drop(e, DROP_SRTP_OTHER);
    engine_tx_commit(e, p, n);
    p->rtp_out++;
}

void echo_on_rtcp(struct engine *e, struct peer *p, const uint8_t *buf, size_t len)
{
    rtcp_iter_t it;
    rtcp_pkt_t pkt;
    int rc;
    p->rtcp_in++;
    rtcp_iter_init(&it, buf, len);
    while ((rc = rtcp_iter_next(&it, &pkt)) > 0) {
        if ((pkt.kind == RTCP_PLI && pkt.fb.media_ssrc == p->p.video_ssrc_out) ||
            pkt.kind == RTCP_FIR)
            request_keyframe(e, p);
    }
    if (rc < 0)
        engine_drop(e, DROP_RTCP_MALFORMED);
}
