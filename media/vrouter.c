/* Video selective forwarding. Publishers send VP8 simulcast (one SSRC per layer, told apart
 * by SSRC or rid) or VP9 SVC (one SSRC, spatial layers in the descriptor). Each receiver has
 * up to five tracks: the main view and thumbnails. Every 200 ms the router chooses, per
 * receiver, which publisher and which layer each track shows, from the receiver's bandwidth
 * estimate (media/bwe.c); a track changes source or layer only at a keyframe start of what
 * it switches to, after asking the publisher for one. Packets are rewritten (media/vpx.c) so
 * each track stays one continuous stream, kept for NACKs (media/pkt_hist.c), and sent with a
 * transport-wide sequence number so the receiver's feedback measures the path. */
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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* MCU_VIDEO_DUMP=FILE: the first video packets received (clear RTP, one hex line each) go
 * to FILE, to capture test vectors from real browsers (tests/data/vpx/chromium_*.hex). */
static FILE *dump_file;
static int dump_left = 1500;
static pthread_once_t dump_once = PTHREAD_ONCE_INIT;

static void dump_open(void)
{
    const char *path = getenv("MCU_VIDEO_DUMP");
    if (path && *path)
        dump_file = fopen(path, "a");
}

static void dump_packet(const uint8_t *buf, size_t len)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    if (dump_left > 0) {
        dump_left--;
        for (size_t i = 0; i < len; i++)
            fprintf(dump_file, "%02x", buf[i]);
        fputc('\n', dump_file);
        if (!dump_left)
            fflush(dump_file);
    }
    pthread_mutex_unlock(&mu);
}

struct vrouter *vrouter_new(void)
{
    pthread_once(&dump_once, dump_open);
    return calloc(1, sizeof(struct vrouter));
}

void vrouter_free(struct vrouter *r)
{
    while (r && r->members)
        vrouter_leave(r, r->members->p);
    if (r)
        vrouter_record(r, NULL, false);
    free(r);
}

int vrouter_join(struct vrouter *r, struct peer *p)
{
    const struct session_video *v = &p->p.video;
    if (!v->publish && !v->n_tracks)
        return 0;
    struct vpeer *vp = calloc(1, sizeof *vp);
    if (!vp)
        return -1;
    vp->p = p;
    vp->r = r;
    vp->order = ++r->joins;
    vp->active_mask = (1u << SESSION_MAX_LAYERS) - 1;
    if (v->publish) {
        vp->n_streams = v->n_layers ? v->n_layers : 1;
        for (int i = 0; i < vp->n_streams; i++) {
            vp->st[i].ssrc = v->ssrc[i];
            vp->st[i].rtx_ssrc = v->rtx_ssrc[i];
            vp->st[i].n_sid = 1;
            nack_gen_init(&vp->st[i].ng);
        }
    }
    vp->n_tracks = v->n_tracks;
    for (int i = 0; i < vp->n_tracks; i++) {
        struct vtrack *t = &vp->tr[i];
        t->cfg = &v->track[i];
        vpx_track_init(&t->rw, t->cfg->ssrc);
        t->max_tid = 2;
        t->rtx_seq = (uint16_t)random();
        if ((v->fb & SDP_FB_NACK) &&
            !(t->hist = pkt_hist_create(HIST_SLOTS, sizeof(struct sent_ref) + HIST_PREFIX_MAX)))
            goto fail;
    }
    if (vp->n_tracks && !(vp->bwe = bwe_create(START_BPS, MIN_BPS, MAX_BPS)))
        goto fail;
    vp->twcc_out = (uint16_t)random();
    log_info("vrouter", "session %lu: publishes %d stream(s)%s%s, takes %d track(s), vp8 %d vp9 %d, fb 0x%x, twcc ext %d, rid ext %d, mid ext %d",
             (unsigned long)p->p.id, vp->n_streams, v->n_layers > 1 && v->rid[0][0] ? " by rid " : "",
             v->n_layers > 1 && v->rid[0][0] ? v->rid[0] : "", vp->n_tracks, v->vp8_pt, v->vp9_pt, v->fb, v->ext_twcc, v->ext_rid, v->ext_mid);
    vp->next = r->members;
    r->members = vp;
    p->vr = vp;
    return 0;
fail:
    for (int i = 0; i < vp->n_tracks; i++)
        pkt_hist_free(vp->tr[i].hist);
    bwe_free(vp->bwe);
    free(vp);
    return -1;
}

void vrouter_leave(struct vrouter *r, struct peer *p)
{
    struct vpeer *vp = p->vr;
    if (!vp)
        return;
    for (struct vpeer **pp = &r->members; *pp; pp = &(*pp)->next)
        if (*pp == vp) {
            *pp = vp->next;
            break;
        }
    for (struct vpeer *o = r->members; o; o = o->next) { /* nobody shows it any more */
        if (o->last_main == vp)
            o->last_main = NULL;
        for (int i = 0; i < o->n_tracks; i++) {
            struct vtrack *t = &o->tr[i];
            if (t->src == vp)
                t->src = NULL;
            if (t->want == vp)
                t->want = NULL;
            if (t->reported == vp)
                t->reported = NULL, o->ever_reported = false; /* tell signaling again */
        }
        o->choose_ns = 0;
    }
    if (r->dominant == vp)
        r->dominant = NULL;
    vrec_forget(r, vp);
    for (int i = 0; i < vp->n_tracks; i++)
        pkt_hist_free(vp->tr[i].hist);
    for (int i = 0; i < vp->n_streams; i++)
        pkt_hist_free(vp->st[i].hist);
    bwe_free(vp->bwe);
    free(vp);
    p->vr = NULL;
}

void vrouter_set_view(struct peer *p, uint64_t source)
{
    if (p->vr) {
        p->vr->view = source;
        p->vr->choose_ns = 0; /* choose again at the next tick */
    }
}

void vrouter_dominant(struct vrouter *r, struct peer *p, int64_t now_ns)
{
    if (!r || !p->vr)
        return;
    p->vr->spoke_ns = now_ns;
    if (p->vr->n_streams)
        r->dominant = p->vr;
    for (struct vpeer *o = r->members; o; o = o->next)
        o->choose_ns = 0;
}

void vrouter_add_stats(const struct vrouter *r, struct vrouter_stats *s)
{
    s->forwarded += r->stats.forwarded;
    s->dropped_layer += r->stats.dropped_layer;
    s->keyframe_requests += r->stats.keyframe_requests;
    s->nacks_answered += r->stats.nacks_answered;
    s->rtx_sent += r->stats.rtx_sent;
    s->probes += r->stats.probes;
    s->duplicates += r->stats.duplicates;
}

/* ---- sending RTCP ---- */

uint32_t our_ssrc(const struct peer *p)
{
    return p->p.video.n_tracks ? p->p.video.track[0].ssrc : p->p.audio_ssrc_out;
}

/* Protects and sends one RTCP packet written by build() at out[0..n). */
void send_rtcp(struct engine *e, struct peer *p, uint8_t *out, int n)
{
    if (n <= 0 || !p->srtp)
        return;
    size_t len = (size_t)n;
    if (srtpx_protect_rtcp(p->srtp, out, &len, WORKER_PKT_MAX) < 0)
        return engine_drop(e, DROP_SRTP_OTHER);
    engine_tx_commit(e, p, len);
}

/* Asks the publisher for a keyframe on one stream, at most every PLI_MIN_NS. */
void request_keyframe(struct engine *e, struct vpeer *pub, int s, int64_t now_ns)
{
    struct vstream *st = &pub->st[s];
    if (!st->ssrc || now_ns - st->pli_ns < PLI_MIN_NS)
        return;
    st->pli_ns = now_ns;
    pub->r->stats.keyframe_requests++;
    log_debug("vrouter", "session %lu: keyframe request for stream %d", (unsigned long)pub->p->p.id, s);
    uint8_t *out = engine_tx_reserve(e);
    const struct session_video *v = &pub->p->p.video;
    int n;
    if (!(v->fb & SDP_FB_NACK_PLI) && (v->fb & SDP_FB_CCM_FIR)) {
        rtcp_fir_entry_t fe = {st->ssrc, st->fir_seq++};
        n = rtcp_build_fir(out, WORKER_PKT_MAX - SRTPX_MAX_TRAILER, our_ssrc(pub->p), &fe, 1);
    } else {
        n = rtcp_build_pli(out, WORKER_PKT_MAX - SRTPX_MAX_TRAILER, our_ssrc(pub->p), st->ssrc);
    }
    send_rtcp(e, pub->p, out, n);
}

/* ---- publishers: levels ---- */

uint32_t default_bps(int i)
{
    static const uint32_t d[] = {150000, 450000, 1200000};
    return d[i < 3 ? i : 2];
}

/* The levels a receiver may get of this publisher, lowest first. */
int pub_levels(const struct vpeer *pub, struct level *lv, int64_t now_ns)
{
    int svc = -1;
    for (int s = 0; s < pub->n_streams; s++)
        if (pub->st[s].n_sid > 1 && now_ns - pub->st[s].last_ns < ACTIVE_NS)
            svc = s;
    int n = 0;
    if (svc >= 0) {
        uint32_t sum = 0;
        for (int k = 0; k < pub->st[svc].n_sid && k < MAX_SID; k++) {
            sum += pub->st[svc].bps[k] ? pub->st[svc].bps[k] : default_bps(k) / 2;
            lv[n++] = (struct level){svc, k, sum, true};
        }
        return n;
    }
    for (int s = 0; s < pub->n_streams; s++) {
        const struct vstream *st = &pub->st[s];
        uint32_t b = st->bps[0];
        lv[n++] = (struct level){s, 0, b > 20000 ? b : default_bps(s),
                                 st->ssrc && (st->paused || now_ns - st->last_ns < ACTIVE_NS)};
    }
    return n;
}

/* The stream (and VP9 spatial limit) of a level, from levels already computed. */
int level_of(const struct level *lv, int n, int level, int *max_sid)
{
    if (level >= n)
        level = n - 1;
    if (level < 0)
        return -1;
    *max_sid = lv[level].max_sid;
    return lv[level].stream;
}

int level_stream(const struct vpeer *pub, int level, int64_t now_ns, int *max_sid)
{
    struct level lv[LEVELS_MAX];
    int n = pub_levels(pub, lv, now_ns);
    return level_of(lv, n, level, max_sid);
}

/* ---- forwarding ---- */

/* Writes the packet for one track: our header (its SSRC, the receiver's payload type and
 * extensions), the publisher's payload, then the rewriter makes sequence numbers,
 * timestamps and picture ids continue the track's stream. */
/* Keeps what a NACK needs to rebuild the packet just sent: the bytes this track changed
 * and where the rest lies in the publisher's history. A packet that cannot be rebuilt
 * empties its slot. */
static void remember_sent(struct vtrack *t, const struct vpeer *pub, int s, const rtp_hdr_t *h,
                          const struct vpx_desc *d, const uint8_t *out, size_t off, size_t len, int64_t now_ns)
{
    uint8_t blob[sizeof(struct sent_ref) + HIST_PREFIX_MAX];
    size_t prefix = off + d->hdr_len;
    if (!pub->st[s].hist || prefix > HIST_PREFIX_MAX)
        return pkt_hist_forget(t->hist, be_rd16(out + 2));
    struct sent_ref ref = {.src = pub->p->p.id, .src_seq = h->seq, .len = (uint16_t)len, .stream = (uint8_t)s,
                           .src_off = (uint16_t)(h->payload_off + d->hdr_len), .prefix_len = (uint8_t)prefix};
    memcpy(blob, &ref, sizeof ref);
    memcpy(blob + sizeof ref, out, prefix);
    pkt_hist_put(t->hist, be_rd16(out + 2), blob, sizeof ref + prefix, ms_of(now_ns));
}

static void send_video(struct engine *e, struct vpeer *rv, struct vtrack *t, const struct vpeer *pub, int s,
                       const uint8_t *buf, const rtp_hdr_t *h, const struct vpx_desc *d, bool marker,
                       int64_t now_ns)
{
    const struct session_video *v = &rv->p->p.video;
    int pt = d->codec == VPX_VP9 ? v->vp9_pt : v->vp8_pt;
    if (pt < 0 || !rv->p->srtp)
        return;
    rtp_ext_t ext[2];
    size_t next = 0;
    uint8_t tw[2];
    bool twcc = v->ext_twcc && (v->fb & SDP_FB_TRANSPORT_CC);
    if (twcc) {
        be_wr16(tw, rv->twcc_out);
        ext[next++] = (rtp_ext_t){.id = v->ext_twcc, .len = 2, .data = tw};
    }
    if (v->ext_mid && t->cfg->mid[0])
        ext[next++] = (rtp_ext_t){.id = v->ext_mid, .len = (uint8_t)strlen(t->cfg->mid),
                                  .data = (const uint8_t *)t->cfg->mid};
    rtp_write_t w = {.marker = marker, .pt = (uint8_t)pt, .seq = h->seq, .ts = h->ts,
                     .ssrc = t->cfg->ssrc, .ext = ext, .ext_count = next};
    uint8_t *out = engine_tx_reserve(e);
    int off = rtp_write_header(out, WORKER_PKT_MAX, &w);
    if (off < 0 || (size_t)off + h->payload_len + SRTPX_MAX_TRAILER > WORKER_PKT_MAX)
        return;
    memcpy(out + off, buf + h->payload_off, h->payload_len);
    size_t len = (size_t)off + h->payload_len;
    rtp_hdr_t oh;
    if (rtp_parse(out, len, &oh) < 0 || vpx_track_rewrite(&t->rw, out, len, &oh, d, ms_of(now_ns)) < 0)
        return;
    if (t->hist)
        remember_sent(t, pub, s, h, d, out, (size_t)off, len, now_ns);
    if (twcc)
        bwe_on_sent(rv->bwe, rv->twcc_out++, (uint16_t)(len + 10), now_ns / 1000);
    if (srtpx_protect_rtp(rv->p->srtp, out, &len, WORKER_PKT_MAX) < 0)
        return engine_drop(e, DROP_SRTP_OTHER);
    engine_tx_commit(e, rv->p, len);
    rv->p->rtp_out++;
    rv->r->stats.forwarded++;
}

/* May a track switch to what it wants with this packet (stream s of its wanted source)?
 * same_src: it wants another layer of what it shows; down: a lower one. */
bool switch_point(bool same_src, bool down, int s, int want_stream, const struct vpx_desc *d)
{
    if (s != want_stream || !d->frame_start)
        return false;
    if (same_src && d->codec == VPX_VP9 && down)
        return d->sid == 0; /* down within one SVC stream: at any picture start */
    return d->keyframe;
}

/* Offers one publisher packet to one receiver's tracks. A publisher leaving one track for
 * another may briefly be on both: the old one keeps it until its new source's keyframe. */
static void offer_packet(struct engine *e, struct vpeer *rv, struct vpeer *pub, int s,
                         const struct level *lv, int nlv, const uint8_t *buf, const rtp_hdr_t *h,
                         const struct vpx_desc *d, int64_t now_ns)
{
    for (int i = 0; i < rv->n_tracks; i++) {
        struct vtrack *t = &rv->tr[i];
        if (t->want == pub && (t->src != pub || t->level != t->want_level)) {
            int wsid, ws = level_of(lv, nlv, t->want_level, &wsid);
            int csid = 0, cs = t->src == pub ? level_of(lv, nlv, t->level, &csid) : -1;
            if (switch_point(t->src == t->want, t->want_level < t->level, s, ws, d)) {
                log_debug("vrouter", "session %lu track %d: shows %lu, layer %d", (unsigned long)rv->p->p.id, i,
                          (unsigned long)pub->p->p.id, t->want_level);
                if (t->src != pub || cs != ws)
                    vpx_track_switch(&t->rw);
                t->src = pub;
                t->level = t->want_level;
            }
        }
        if (t->src != pub)
            continue;
        int max_sid, ts = level_of(lv, nlv, t->level, &max_sid);
        if (ts != s)
            continue;
        bool marker = h->marker, keep;
        if (d->codec == VPX_VP9)
            keep = vpx_track_keep_vp9(&t->rw, h, d, max_sid, t->max_tid, &marker);
        else
            keep = vpx_track_keep_tid(&t->rw, h, d, t->max_tid);
        if (!keep) {
            vpx_track_drop(&t->rw, h, d);
            rv->r->stats.dropped_layer++;
            continue;
        }
        send_video(e, rv, t, pub, s, buf, h, d, marker, now_ns);
    }
}

/* Which stream of the publisher a packet belongs to; learns SSRCs from the rid extension. */
static int find_stream(struct vpeer *pub, const uint8_t *buf, const rtp_hdr_t *h, bool rtx)
{
    for (int s = 0; s < pub->n_streams; s++)
        if (h->ssrc == (rtx ? pub->st[s].rtx_ssrc : pub->st[s].ssrc))
            return s;
    const struct session_video *v = &pub->p->p.video;
    uint8_t id = rtx ? v->ext_rrid : v->ext_rid;
    char rid[16];
    if (id && rtp_get_string(buf, h, id, rid, sizeof rid) == 0) {
        for (int s = 0; s < pub->n_streams; s++)
            if (!strcmp(rid, v->rid[s])) {
                if (rtx)
                    pub->st[s].rtx_ssrc = h->ssrc;
                else
                    pub->st[s].ssrc = h->ssrc;
                log_debug("vrouter", "session %lu: rid %s%s is ssrc %u", (unsigned long)pub->p->p.id, rid,
                         rtx ? " (rtx)" : "", h->ssrc);
                return s;
            }
        return -1;
    }
    /* no rid and an unknown SSRC: a single stream takes its first SSRC */
    if (!rtx && pub->n_streams == 1 && !pub->st[0].ssrc && !v->rid[0][0]) {
        pub->st[0].ssrc = h->ssrc;
        return 0;
    }
    return -1;
}

/* Was this sequence number received before? Chromium's bandwidth probes resend old packets
 * over RTX; forwarded, they would cost every receiver the same bytes twice. */
static bool seen_before(struct vstream *st, uint16_t seq)
{
    int16_t ahead = (int16_t)(seq - st->seen_hi);
    if (!st->seen_any || ahead >= 1024 || ahead <= -1024) {
        memset(st->seen, 0, sizeof st->seen);
        st->seen_any = true;
        st->seen_hi = seq;
    } else if (ahead > 0) {
        for (uint16_t s = (uint16_t)(st->seen_hi + 1); s != seq; s++)
            st->seen[(s & 1023) >> 6] &= ~(1ull << (s & 63));
        st->seen_hi = seq;
    } else if (st->seen[(seq & 1023) >> 6] & (1ull << (seq & 63))) {
        return true;
    }
    st->seen[(seq & 1023) >> 6] |= 1ull << (seq & 63);
    return false;
}

/* Turns an RTX packet (RFC 4588) back into the packet it repairs, in place. */
static int unwrap_rtx(uint8_t *buf, size_t *len, rtp_hdr_t *h, uint32_t ssrc, int pt)
{
    if (h->payload_len < 2)
        return -1;
    uint16_t osn = be_rd16(buf + h->payload_off);
    memmove(buf + h->payload_off, buf + h->payload_off + 2, *len - h->payload_off - 2);
    *len -= 2;
    rtp_set_seq(buf, osn);
    rtp_set_ssrc(buf, ssrc);
    rtp_set_pt(buf, (uint8_t)pt);
    return rtp_parse(buf, *len, h);
}

bool vrouter_on_rtp(struct engine *e, struct peer *p, uint8_t *buf, size_t len,
                    const rtp_hdr_t *h0, int64_t now_ns)
{
    struct vpeer *pub = p->vr;
    const struct session_video *v = &p->p.video;
    if (!pub || !pub->n_streams)
        return false;
    uint16_t tw;
    if (v->ext_twcc && rtp_get_twcc_seq(buf, h0, v->ext_twcc, &tw) == 0)
        twcc_record(&pub->rx, tw, now_ns / 1000);
    int pt = h0->pt;
    bool rtx = (pt == v->vp8_rtx_pt && v->vp8_rtx_pt >= 0) || (pt == v->vp9_rtx_pt && v->vp9_rtx_pt >= 0);
    if (!rtx && pt != v->vp8_pt && pt != v->vp9_pt)
        return false; /* audio */
    rtp_hdr_t h = *h0;
    int s = find_stream(pub, buf, &h, rtx);
    if (s < 0) {
        engine_drop(e, DROP_VIDEO_UNKNOWN_STREAM);
        return true;
    }
    if (rtx) {
        if (h.payload_len <= 2)
            return true; /* padding: a bandwidth probe, already counted for feedback */
        if (!pub->st[s].ssrc || unwrap_rtx(buf, &len, &h, pub->st[s].ssrc,
                                           pt == v->vp8_rtx_pt ? v->vp8_pt : v->vp9_pt) < 0) {
            engine_drop(e, DROP_VIDEO_MALFORMED);
            return true;
        }
    }
    if (!h.payload_len)
        return true; /* padding only */
    if (seen_before(&pub->st[s], h.seq)) {
        pub->r->stats.duplicates++;
        return true;
    }
    struct vpx_desc d;
    int rc = h.pt == v->vp9_pt ? vpx_parse_vp9(buf + h.payload_off, h.payload_len, &d)
                               : vpx_parse_vp8(buf + h.payload_off, h.payload_len, &d);
    if (rc < 0) {
        engine_drop(e, DROP_VIDEO_MALFORMED);
        return true;
    }
    if (dump_file)
        dump_packet(buf, len);
    struct vstream *st = &pub->st[s];
    if (!st->last_ns)
        st->needed_ns = now_ns;
    st->codec = d.codec;
    st->last_ns = now_ns;
    if (d.sid + 1 > st->n_sid && d.sid < MAX_SID)
        st->n_sid = d.sid + 1;
    if (d.ss_n_s > 1)
        st->n_sid = d.ss_n_s < MAX_SID ? d.ss_n_s : MAX_SID;
    st->bytes[d.sid < MAX_SID ? d.sid : MAX_SID - 1] += h.payload_len;
    if (d.keyframe && d.frame_start) {
        st->key_ns = now_ns;
        if (d.width)
            st->width = d.width, st->height = d.height;
    }
    if (v->fb & SDP_FB_NACK)
        nack_gen_on_rtp(&st->ng, h.seq, ms_of(now_ns));
    if (st->hist || (st->hist = pkt_hist_create(HIST_SLOTS, HIST_PKT_MAX)))
        pkt_hist_put(st->hist, h.seq, buf, len, ms_of(now_ns));
    struct level lv[LEVELS_MAX];
    int nlv = pub_levels(pub, lv, now_ns);
    for (struct vpeer *rv = pub->r->members; rv; rv = rv->next)
        if (rv != pub && rv->n_tracks && !rv->audio_only)
            offer_packet(e, rv, pub, s, lv, nlv, buf, &h, &d, now_ns);
    if (pub->r->rec)
        vrec_offer(pub->r, pub, s, lv, nlv, buf, &h, &d, now_ns);
    return true;
}

/* ---- receivers' feedback ---- */

static struct vtrack *track_by_ssrc(struct vpeer *rv, uint32_t ssrc)
{
    for (int i = 0; i < rv->n_tracks; i++)
        if (rv->tr[i].cfg->ssrc == ssrc)
            return &rv->tr[i];
    return NULL;
}

/* The publisher a track's packet came from, if it is still here. */
static struct vpeer *member_by_id(struct vpeer *rv, const struct vtrack *t, uint64_t id)
{
    if (t->src && t->src->p->p.id == id)
        return t->src;
    for (struct vpeer *m = rv->r->members; m; m = m->next)
        if (m->p->p.id == id)
            return m;
    return NULL;
}

/* Rebuilds into out the packet a track sent with this seq: its own header and descriptor
 * bytes, then the rest of the publisher's packet from that stream's history. Returns the
 * length, or -1 when either part is gone. */
static int rebuild_sent(struct vpeer *rv, struct vtrack *t, uint16_t seq, int64_t now_ns, uint8_t *out)
{
    const uint8_t *blob, *src;
    size_t blen, slen;
    struct sent_ref ref;
    if (pkt_hist_get(t->hist, seq, ms_of(now_ns), 20, &blob, &blen) < 0 || blen < sizeof ref)
        return -1;
    memcpy(&ref, blob, sizeof ref);
    struct vpeer *pub = member_by_id(rv, t, ref.src);
    if (!pub || ref.stream >= pub->n_streams || !pub->st[ref.stream].hist ||
        pkt_hist_get(pub->st[ref.stream].hist, ref.src_seq, ms_of(now_ns), 0, &src, &slen) < 0 ||
        blen != sizeof ref + ref.prefix_len || ref.len < ref.prefix_len ||
        (size_t)ref.src_off + (ref.len - ref.prefix_len) > slen || ref.len > WORKER_PKT_MAX - SRTPX_MAX_TRAILER)
        return -1;
    memcpy(out, blob + sizeof ref, ref.prefix_len);
    memcpy(out + ref.prefix_len, src + ref.src_off, ref.len - ref.prefix_len);
    return ref.len;
}

/* Resends the packets a receiver lost, as RTX when it negotiated RTX. */
static void answer_nack(struct engine *e, struct vpeer *rv, struct vtrack *t, const rtcp_nack_t *nk, int64_t now_ns)
{
    uint16_t seqs[17 * 16];
    int n = rtcp_nack_expand(nk, seqs, sizeof seqs / sizeof seqs[0]);
    const struct session_video *v = &rv->p->p.video;
    uint8_t pkt[WORKER_PKT_MAX];
    for (int i = 0; i < n && t->hist; i++) {
        int plen = rebuild_sent(rv, t, seqs[i], now_ns, pkt);
        if (plen < 0)
            continue;
        uint8_t *out = engine_tx_reserve(e);
        int rtx_pt = -1;
        rtp_hdr_t oh;
        if (rtp_parse(pkt, (size_t)plen, &oh) < 0)
            continue;
        if (t->cfg->rtx_ssrc)
            rtx_pt = oh.pt == v->vp9_pt ? v->vp9_rtx_pt : v->vp8_rtx_pt;
        int len;
        if (rtx_pt >= 0) {
            len = pkt_hist_build_rtx(pkt, (size_t)plen, out, WORKER_PKT_MAX - SRTPX_MAX_TRAILER,
                                     t->cfg->rtx_ssrc, (uint8_t)rtx_pt, t->rtx_seq++);
            rv->r->stats.rtx_sent++;
        } else {
            len = plen;
            memcpy(out, pkt, (size_t)plen);
        }
        if (len <= 0)
            continue;
        size_t l = (size_t)len;
        if (v->ext_twcc && (v->fb & SDP_FB_TRANSPORT_CC) && rtp_parse(out, l, &oh) == 0 &&
            rtp_set_twcc_seq(out, &oh, v->ext_twcc, rv->twcc_out) == 0)
            bwe_on_sent(rv->bwe, rv->twcc_out++, (uint16_t)(l + 10), now_ns / 1000);
        if (srtpx_protect_rtp(rv->p->srtp, out, &l, WORKER_PKT_MAX) < 0)
            continue;
        engine_tx_commit(e, rv->p, l);
        rv->r->stats.nacks_answered++;
    }
}

struct rtcp_ctx {
    struct engine *e;
    struct vpeer *vp;
    int64_t now_ns;
};

static int on_rtcp_pkt(const rtcp_pkt_t *k, void *arg)
{
    struct rtcp_ctx *c = arg;
    struct vpeer *vp = c->vp;
    struct vtrack *t;
    switch (k->kind) {
    case RTCP_PLI:
    case RTCP_FIR: {
        uint32_t ssrc = k->fb.media_ssrc;
        if (k->kind == RTCP_FIR && k->fir.item_count) {
            rtcp_fir_entry_t fe;
            rtcp_fir_item(&k->fir, 0, &fe);
            ssrc = fe.ssrc;
        }
        if ((t = track_by_ssrc(vp, ssrc)) && t->src) {
            int sid, s = level_stream(t->src, t->level, c->now_ns, &sid);
            if (s >= 0)
                request_keyframe(c->e, t->src, s, c->now_ns);
        }
        break;
    }
    case RTCP_NACK:
        if ((t = track_by_ssrc(vp, k->nack.fb.media_ssrc)))
            answer_nack(c->e, vp, t, &k->nack, c->now_ns);
        break;
    case RTCP_TWCC:
        if (vp->bwe)
            bwe_on_twcc(vp->bwe, &k->twcc, c->now_ns / 1000);
        break;
    case RTCP_REMB:
        if (vp->bwe)
            bwe_on_remb(vp->bwe, k->remb.bitrate > UINT32_MAX ? UINT32_MAX : (uint32_t)k->remb.bitrate,
                        c->now_ns / 1000);
        break;
    default:
        break;
    }
    return 0;
}

void vrouter_on_rtcp(struct engine *e, struct peer *p, const uint8_t *buf, size_t len, int64_t now_ns)
{
    if (!p->vr)
        return;
    struct rtcp_ctx c = {e, p->vr, now_ns};
    if (rtcp_parse_compound(buf, len, on_rtcp_pkt, &c) < 0)
        engine_drop(e, DROP_RTCP_MALFORMED);
}

