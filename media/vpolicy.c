/* The video router's policy, per tick: which source and layer each receiver's tracks get
 * from its bandwidth estimate, padding probes to learn whether more would fit, pausing the
 * simulcast layers nobody takes, each stream's bitrate, and the feedback publishers need
 * (transport-cc, REMB, NACK) so their browsers adapt. Worker thread only. */
#include "media/vrouter.h"
#include "mcu/log.h"
#include "mcu/msg.h"
#include "mcu/worker.h"
#include "media/bwe.h"
#include "media/bytes.h"
#include "media/engine.h"
#include "media/peer.h"
#include "media/pkt_hist.h"
#include "media/rtcp.h"
#include "media/sdp.h"
#include "media/session.h"
#include "media/srtp.h"
#include "media/vpx.h"
#include "media/vrouter_priv.h"

#include <stdlib.h>
#include <string.h>

/* ---- the uplink: transport-cc feedback, REMB, NACKs ---- */

void twcc_record(struct twcc_rx *rx, uint16_t seq, int64_t now_us)
{
    unsigned k = seq & (TWCC_SLOTS - 1);
    rx->arrival_us[k] = now_us;
    rx->tag[k] = seq;
    if (!rx->started) {
        rx->started = true;
        rx->next = rx->max = seq;
    } else if ((int16_t)(seq - rx->max) > 0) {
        rx->max = seq;
    }
    if ((int16_t)(rx->next - seq) > 0 && (uint16_t)(rx->next - seq) > 1000)
        rx->next = seq; /* a stream restart far behind */
    rx->pending = true;
}

static void send_twcc_feedback(struct engine *e, struct vpeer *pub)
{
    struct twcc_rx *rx = &pub->rx;
    if (!rx->pending)
        return;
    rx->pending = false;
    uint16_t span = (uint16_t)(rx->max - rx->next + 1);
    if (span > 500) { /* report the newest 500; older ones are stale */
        rx->next = (uint16_t)(rx->max - 499);
        span = 500;
    }
    rtcp_twcc_status_t st[500];
    size_t n = 0;
    for (uint16_t i = 0; i < span; i++) {
        uint16_t seq = (uint16_t)(rx->next + i);
        unsigned k = seq & (TWCC_SLOTS - 1);
        bool got = rx->tag[k] == seq && rx->arrival_us[k];
        if (n == 0 && !got)
            continue; /* the base must be a received packet */
        st[n++] = (rtcp_twcc_status_t){.seq = seq, .received = got,
                                       .arrival_us = got ? rx->arrival_us[k] : 0};
    }
    rx->next = (uint16_t)(rx->max + 1);
    while (n && !st[n - 1].received)
        n--;
    if (!n)
        return;
    uint8_t *out = engine_tx_reserve(e);
    int len = rtcp_build_twcc(out, WORKER_PKT_MAX - SRTPX_MAX_TRAILER, our_ssrc(pub->p),
                              pub->st[0].ssrc, rx->count++, st, n);
    send_rtcp(e, pub->p, out, len);
}

static void uplink_feedback(struct engine *e, struct vpeer *pub, int64_t now_ns)
{
    const struct session_video *v = &pub->p->p.video;
    if ((v->fb & SDP_FB_TRANSPORT_CC) && v->ext_twcc && now_ns - pub->fb_ns >= TWCC_FB_NS) {
        pub->fb_ns = now_ns;
        send_twcc_feedback(e, pub);
    }
    if ((v->fb & SDP_FB_GOOG_REMB) && !(v->fb & SDP_FB_TRANSPORT_CC) && now_ns - pub->remb_ns >= REMB_NS) {
        pub->remb_ns = now_ns;
        uint32_t ssrcs[SESSION_MAX_LAYERS];
        unsigned k = 0;
        for (int s = 0; s < pub->n_streams; s++)
            if (pub->st[s].ssrc)
                ssrcs[k++] = pub->st[s].ssrc;
        if (k) {
            uint8_t *out = engine_tx_reserve(e);
            send_rtcp(e, pub->p, out, rtcp_build_remb(out, WORKER_PKT_MAX - SRTPX_MAX_TRAILER,
                                                      our_ssrc(pub->p), REMB_BPS, ssrcs, k));
        }
    }
    if (!(v->fb & SDP_FB_NACK))
        return;
    for (int s = 0; s < pub->n_streams; s++) {
        struct vstream *st = &pub->st[s];
        if (!st->ssrc)
            continue;
        uint16_t lost[64];
        bool need_key = false;
        int n = nack_gen_collect(&st->ng, ms_of(now_ns), 40, lost, 64, &need_key);
        if (n > 0) {
            uint8_t *out = engine_tx_reserve(e);
            send_rtcp(e, pub->p, out, rtcp_build_nack(out, WORKER_PKT_MAX - SRTPX_MAX_TRAILER,
                                                      our_ssrc(pub->p), st->ssrc, lost, (size_t)n));
        }
        if (need_key)
            request_keyframe(e, pub, s, now_ns);
    }
}

/* ---- choosing what each receiver gets ---- */

static struct vpeer *find_member(struct vrouter *r, uint64_t id)
{
    for (struct vpeer *o = r->members; o; o = o->next)
        if (o->p->p.id == id)
            return o;
    return NULL;
}

/* The main view: the requested source, else the dominant speaker, else whoever spoke
 * last, else the first publisher to join; never the receiver itself. */
static struct vpeer *main_source(struct vpeer *rv)
{
    struct vrouter *r = rv->r;
    struct vpeer *m = rv->view ? find_member(r, rv->view) : r->dominant;
    if (m && m->n_streams && m != rv)
        return rv->last_main = m;
    if (m == rv && rv->last_main)
        return rv->last_main;
    return last_speaker(r, rv);
}

/* The publisher (but except) who spoke last, else the first to join; NULL if none. */
struct vpeer *last_speaker(struct vrouter *r, const struct vpeer *except)
{
    struct vpeer *best = NULL;
    for (struct vpeer *o = r->members; o; o = o->next)
        if (o != except && o->n_streams &&
            (!best || o->spoke_ns > best->spoke_ns || (o->spoke_ns == best->spoke_ns && o->order < best->order)))
            best = o;
    return best;
}

/* Does a come before b among the thumbnails? The one who spoke last, then the first to join. */
static bool thumb_before(const struct vpeer *a, const struct vpeer *b)
{
    return a->spoke_ns != b->spoke_ns ? a->spoke_ns > b->spoke_ns : a->order < b->order;
}

/* Thumbnails: the other publishers, those who spoke most recently first, at most cap. */
static int thumb_sources(struct vpeer *rv, struct vpeer *main, struct vpeer **out, int cap)
{
    int n = 0;
    for (struct vpeer *o = rv->r->members; o && cap > 0; o = o->next) {
        if (o == rv || o == main || !o->n_streams)
            continue;
        if (n == cap && !thumb_before(o, out[n - 1]))
            continue; /* the list is full of ones that come before it */
        int i = n < cap ? n++ : n - 1; /* a free slot, or replace the last */
        for (; i > 0 && thumb_before(o, out[i - 1]); i--)
            out[i] = out[i - 1];
        out[i] = o;
    }
    return n;
}

/* The lowest active level of a publisher, its index in *idx; NULL when none. */
static const struct level *lowest_active(const struct level *lv, int n, int *idx)
{
    for (int i = 0; i < n; i++)
        if (lv[i].active) {
            *idx = i;
            return &lv[i];
        }
    return NULL;
}

static void set_want(struct engine *e, struct vtrack *t, struct vpeer *src, int level, int64_t now_ns)
{
    if (!src) {
        t->want = t->src = NULL;
        return;
    }
    t->want = src;
    t->want_level = level;
    if (t->src != src || t->level != level) {
        int sid, s = level_stream(src, level, now_ns, &sid);
        bool down_in_svc = t->src == src && level < t->level && src->st[s].codec == VPX_VP9;
        if (s >= 0 && !down_in_svc)
            request_keyframe(e, src, s, now_ns);
    }
}

static void report_tracks(struct engine *e, struct vpeer *rv)
{
    bool same = rv->ever_reported && rv->reported_audio_only == rv->audio_only;
    for (int i = 0; i < rv->n_tracks && same; i++)
        same = rv->tr[i].reported == rv->tr[i].src;
    if (same)
        return;
    struct video_tracks *vt = calloc(1, sizeof *vt);
    if (!vt)
        return;
    vt->session = rv->p->p.id;
    vt->audio_only = rv->audio_only;
    vt->n = (uint8_t)rv->n_tracks;
    for (int i = 0; i < rv->n_tracks; i++) {
        struct vtrack *t = &rv->tr[i];
        snprintf(vt->t[i].mid, sizeof vt->t[i].mid, "%s", t->cfg->mid);
        vt->t[i].source = t->src ? t->src->p->p.id : 0;
        vt->t[i].layer = (uint8_t)t->level;
    }
    if (!engine_emit_ptr(e, EV_VIDEO_TRACKS, vt)) {
        free(vt);
        return;
    }
    rv->ever_reported = true;
    rv->reported_audio_only = rv->audio_only;
    for (int i = 0; i < rv->n_tracks; i++)
        rv->tr[i].reported = rv->tr[i].src;
}

/* Chooses, from the bandwidth estimate, the source and level of each of a receiver's
 * tracks: the main view first at the best level that fits, with hysteresis upward; the
 * thumbnails at their lowest level while the budget lasts; nothing below the floor. */
static void choose(struct engine *e, struct vpeer *rv, int64_t now_ns)
{
    int64_t budget = (int64_t)bwe_target(rv->bwe, now_ns / 1000) - AUDIO_BPS;
    struct vpeer *main = main_source(rv);
    struct vpeer *th[SESSION_MAX_VTRACKS];
    int nth = main ? thumb_sources(rv, main, th, rv->n_tracks - 1) : 0;
    rv->audio_only = main && budget < FLOOR_BPS;
    if (!main || rv->audio_only) {
        for (int i = 0; i < rv->n_tracks; i++)
            set_want(e, &rv->tr[i], NULL, 0, now_ns);
        rv->want_bps = main ? FLOOR_BPS + AUDIO_BPS : 0;
        return;
    }
    struct level lv[SESSION_MAX_LAYERS > MAX_SID ? SESSION_MAX_LAYERS : MAX_SID];
    int n = pub_levels(main, lv, now_ns), low = 0;
    const struct level *lo = lowest_active(lv, n, &low);
    int64_t thumbs = 0;
    uint32_t tcost[SESSION_MAX_VTRACKS] = {0};
    for (int i = 0; i < nth; i++) {
        struct level tl[SESSION_MAX_LAYERS > MAX_SID ? SESSION_MAX_LAYERS : MAX_SID];
        int tn = pub_levels(th[i], tl, now_ns), k;
        const struct level *l = lowest_active(tl, tn, &k);
        tcost[i] = l ? l->bps : default_bps(0);
        thumbs += tcost[i];
    }
    int64_t for_main = lo && budget - thumbs >= (int64_t)lo->bps ? budget - thumbs : budget;
    struct vtrack *mt = &rv->tr[0];
    int cur = mt->want == main ? mt->want_level : -1, best = lo ? low : 0;
    for (int i = low; i < n; i++) {
        if (!lv[i].active)
            continue;
        double need = lv[i].bps * (i > cur ? UP_FACTOR : 1.0);
        if (need <= for_main)
            best = i;
    }
    if (cur >= 0 && best != cur)
        log_info("vrouter", "session %lu: main view of %lu goes from layer %d to %d (estimate %ld kbit/s)",
                 (unsigned long)rv->p->p.id, (unsigned long)main->p->p.id, cur, best,
                 (long)(budget + AUDIO_BPS) / 1000);
    mt->max_tid = lo && best == low && for_main < (int64_t)(lv[low].bps * 0.8) ? 0 : 2;
    set_want(e, mt, main, best, now_ns);
    int64_t left = budget - (lo ? (int64_t)lv[best].bps : 0);
    rv->want_bps = (uint32_t)(AUDIO_BPS + lv[n > best + 1 ? best + 1 : best].bps * UP_FACTOR + thumbs);
    for (int i = 1; i < rv->n_tracks; i++) {
        struct vtrack *t = &rv->tr[i];
        if (i - 1 < nth && left >= (int64_t)tcost[i - 1]) {
            struct level tl[SESSION_MAX_LAYERS > MAX_SID ? SESSION_MAX_LAYERS : MAX_SID];
            int tn = pub_levels(th[i - 1], tl, now_ns), k = 0;
            lowest_active(tl, tn, &k);
            left -= tcost[i - 1];
            t->max_tid = 2;
            set_want(e, t, th[i - 1], k, now_ns);
        } else {
            set_want(e, t, NULL, 0, now_ns);
        }
    }
}

/* ---- probing: padding on the RTX stream to learn whether more would fit ---- */

static void probe(struct engine *e, struct vpeer *rv, int64_t now_ns)
{
    const struct session_video *v = &rv->p->p.video;
    struct vtrack *t = &rv->tr[0];
    if (!t->cfg->rtx_ssrc || !v->ext_twcc || !(v->fb & SDP_FB_TRANSPORT_CC) || !rv->p->srtp)
        return;
    int rtx_pt = v->vp8_rtx_pt >= 0 ? v->vp8_rtx_pt : v->vp9_rtx_pt;
    if (rtx_pt < 0)
        return;
    uint32_t target = bwe_target(rv->bwe, now_ns / 1000);
    if (now_ns >= rv->probe_end_ns) {
        if (now_ns < rv->probe_next_ns || rv->want_bps <= target || !t->src)
            return;
        rv->probe_next_ns = now_ns + PROBE_EVERY_NS;
        rv->probe_end_ns = now_ns + PROBE_LEN_NS;
        /* what is sent now is app-limited: pad up to a little over what the next layer needs */
        struct bwe_stats bs;
        bwe_stats(rv->bwe, &bs);
        uint32_t goal = rv->want_bps + rv->want_bps / 10;
        rv->probe_bps = goal > bs.acked_bps + 50000 ? goal - bs.acked_bps : 50000;
        if (rv->probe_bps > 2000000)
            rv->probe_bps = 2000000;
        rv->probe_sent_ns = now_ns;
        rv->r->stats.probes++;
    }
    /* padding packets of 255 bytes, paced at probe_bps over the tick */
    int64_t due = (int64_t)rv->probe_bps * (now_ns - rv->probe_sent_ns) / 8 / 1000000000LL;
    int k = (int)(due / 300);
    if (k <= 0)
        return;
    rv->probe_sent_ns = now_ns;
    for (int i = 0; i < k && i < 20; i++) {
        uint8_t tw[2];
        be_wr16(tw, rv->twcc_out);
        rtp_ext_t ext[1] = {{.id = v->ext_twcc, .len = 2, .data = tw}};
        rtp_write_t w = {.pt = (uint8_t)rtx_pt, .seq = t->rtx_seq++, .ts = 0,
                         .ssrc = t->cfg->rtx_ssrc, .ext = ext, .ext_count = 1};
        uint8_t *out = engine_tx_reserve(e);
        int off = rtp_write_header(out, WORKER_PKT_MAX, &w);
        if (off < 0)
            return;
        size_t pad = 255; /* RTP padding: the last byte counts the padding bytes */
        memset(out + off, 0, pad);
        out[0] |= 0x20;
        size_t len = (size_t)off + pad;
        out[len - 1] = (uint8_t)pad;
        bwe_on_sent(rv->bwe, rv->twcc_out++, (uint16_t)(len + 10), now_ns / 1000);
        if (srtpx_protect_rtp(rv->p->srtp, out, &len, WORKER_PKT_MAX) < 0)
            return;
        engine_tx_commit(e, rv->p, len);
    }
}

/* Simulcast layers no receiver has wanted for a while are paused: the router stops
 * receiving what nobody takes, and signaling asks the publisher's browser to stop encoding
 * them (`layers`). The lowest layer always runs; a wanted layer resumes at once. */
static void pause_unused(struct engine *e, struct vpeer *pub, int64_t now_ns)
{
    if (pub->n_streams < 2)
        return;
    unsigned need = 1;
    for (struct vpeer *rv = pub->r->members; rv; rv = rv->next)
        for (int i = 0; i < rv->n_tracks; i++) {
            struct vtrack *t = &rv->tr[i];
            int sid, s;
            if (t->want == pub && (s = level_stream(pub, t->want_level, now_ns, &sid)) >= 0)
                need |= 1u << s;
            if (t->src == pub && (s = level_stream(pub, t->level, now_ns, &sid)) >= 0)
                need |= 1u << s;
        }
    unsigned active = 0;
    for (int s = 0; s < pub->n_streams; s++) {
        struct vstream *st = &pub->st[s];
        if (need & (1u << s)) {
            st->needed_ns = now_ns;
            st->paused = false;
        } else if (st->last_ns && now_ns - st->needed_ns > PAUSE_AFTER_NS) {
            st->paused = true;
        }
        if (!st->paused)
            active |= 1u << s;
    }
    if (active == pub->active_mask)
        return;
    pub->active_mask = active;
    engine_emit(e, EV_VIDEO_LAYERS, pub->p->p.id, (int64_t)active | (int64_t)pub->n_streams << 8);
}

static void update_rates(struct vpeer *pub, int64_t now_ns)
{
    int64_t dt = now_ns - pub->window_ns;
    if (dt < RATE_WINDOW_NS)
        return;
    for (int s = 0; s < pub->n_streams; s++)
        for (int k = 0; k < MAX_SID && !pub->st[s].paused; k++) { /* a paused rate is kept */
            struct vstream *st = &pub->st[s];
            uint32_t inst = (uint32_t)(st->bytes[k] * 8 * 1000000000LL / dt);
            st->bps[k] = st->bps[k] ? (uint32_t)(st->bps[k] * 0.7 + inst * 0.3) : inst;
            st->bytes[k] = 0;
        }
    pub->window_ns = now_ns;
}

void vrouter_tick(struct engine *e, struct vrouter *r, int64_t now_ns)
{
    for (struct vpeer *vp = r->members; vp; vp = vp->next) {
        if (!vp->p->srtp)
            continue;
        if (vp->n_streams) {
            update_rates(vp, now_ns);
            uplink_feedback(e, vp, now_ns);
            if (now_ns - vp->pause_ns >= CHOOSE_NS) {
                vp->pause_ns = now_ns;
                pause_unused(e, vp, now_ns);
            }
        }
        if (!vp->n_tracks)
            continue;
        if (now_ns - vp->choose_ns >= CHOOSE_NS) {
            vp->choose_ns = now_ns;
            choose(e, vp, now_ns);
        }
        report_tracks(e, vp);
        probe(e, vp, now_ns);
    }
    vrec_tick(e, r, now_ns);
}
