/* The conference recorder as one more video receiver of the router: it shows what the
 * participants see as main (the site signaling names, else the dominant speaker) at the
 * publisher's best layer, switches at keyframes like any track, and hands each rewritten
 * clear packet to the recorder (media/rec.c), which muxes on its own thread. */
#include "media/vrouter.h"
#include "media/rec.h"
#include "media/peer.h"
#include "media/vrouter_priv.h"
#include "mcu/log.h"
#include "mcu/worker.h"

#include <stdlib.h>
#include <string.h>

#define REC_SSRC 0x5245430a /* any constant: the file has one track */
#define REC_PT 96

#define SINKS 2 /* a recording and a live stream */

struct vrec {
    struct rec *sink[SINKS];
    struct vpx_track rw;
    struct vpeer *src, *want;
    int level, want_level;
    uint64_t view;               /* the source signaling names, 0 = the dominant speaker */
    int64_t choose_ns;
    uint8_t buf[WORKER_PKT_MAX];
};

int vrouter_record(struct vrouter *r, struct rec *rec, bool attach)
{
    struct vrec *v = r->rec;
    if (!attach) {
        int left = 0;
        for (int i = 0; v && i < SINKS; i++) {
            if (v->sink[i] == rec || !rec)
                v->sink[i] = NULL;
            left += v->sink[i] != NULL;
        }
        if (v && !left) {
            free(v);
            r->rec = NULL;
        }
        return 0;
    }
    if (!v) {
        if (!(v = calloc(1, sizeof *v)))
            return -1;
        vpx_track_init(&v->rw, REC_SSRC);
        r->rec = v;
    }
    for (int i = 0; i < SINKS; i++)
        if (!v->sink[i]) {
            v->sink[i] = rec;
            v->src = NULL; /* the new sink starts with a keyframe: switch again */
            v->choose_ns = 0;
            return 0;
        }
    return -1;
}

void vrouter_record_view(struct vrouter *r, uint64_t source)
{
    if (r->rec) {
        r->rec->view = source;
        r->rec->choose_ns = 0;
    }
}

void vrec_forget(struct vrouter *r, struct vpeer *gone)
{
    struct vrec *v = r->rec;
    if (!v)
        return;
    if (v->src == gone)
        v->src = NULL;
    if (v->want == gone)
        v->want = NULL;
    v->choose_ns = 0;
}

/* The main view, as vpolicy's main_source picks it for a receiver that publishes nothing. */
static struct vpeer *rec_source(struct vrouter *r, uint64_t view)
{
    if (view)
        for (struct vpeer *o = r->members; o; o = o->next)
            if (o->p->p.id == view && o->n_streams)
                return o;
    if (r->dominant && r->dominant->n_streams)
        return r->dominant;
    return last_speaker(r, NULL);
}

/* Every 20 ms: the best active level of the main source; a keyframe request when the
 * recorder waits to switch to it. */
void vrec_tick(struct engine *e, struct vrouter *r, int64_t now_ns)
{
    struct vrec *v = r->rec;
    if (!v || now_ns - v->choose_ns < CHOOSE_NS)
        return;
    v->choose_ns = now_ns;
    struct vpeer *src = rec_source(r, v->view);
    v->want = src;
    if (!src)
        return;
    struct level lv[LEVELS_MAX];
    int n = pub_levels(src, lv, now_ns), best = 0;
    for (int i = 0; i < n; i++)
        if (lv[i].active)
            best = i;
    v->want_level = best;
    int sid, s = level_of(lv, n, best, &sid);
    if (s < 0)
        return;
    src->st[s].needed_ns = now_ns; /* keeps the layer from being paused */
    bool want_key = v->src != src || v->level != best;
    for (int i = 0; i < SINKS; i++) /* each call consumes a request: ask every sink */
        if (v->sink[i] && rec_keyframe_wanted(v->sink[i]))
            want_key = true;
    if (want_key)
        request_keyframe(e, src, s, now_ns);
}

/* One publisher packet offered to the recorder. */
void vrec_offer(struct vrouter *r, struct vpeer *pub, int s, const struct level *lv, int nlv, const uint8_t *buf,
                const rtp_hdr_t *h, const struct vpx_desc *d, int64_t now_ns)
{
    struct vrec *v = r->rec;
    int sid;
    if (v->want == pub && (v->src != pub || v->level != v->want_level)) {
        int ws = level_of(lv, nlv, v->want_level, &sid);
        int csid = 0, cs = v->src == pub ? level_of(lv, nlv, v->level, &csid) : -1;
        if (switch_point(v->src == v->want, v->want_level < v->level, s, ws, d)) {
            if (v->src != pub || cs != ws)
                vpx_track_switch(&v->rw);
            v->src = pub;
            v->level = v->want_level;
        }
    }
    if (v->src != pub || level_of(lv, nlv, v->level, &sid) != s)
        return;
    bool marker = h->marker;
    bool keep = d->codec == VPX_VP9 ? vpx_track_keep_vp9(&v->rw, h, d, sid, 2, &marker)
                                    : vpx_track_keep_tid(&v->rw, h, d, 2);
    if (!keep) {
        vpx_track_drop(&v->rw, h, d);
        return;
    }
    rtp_write_t w = {.marker = marker, .pt = REC_PT, .seq = h->seq, .ts = h->ts, .ssrc = REC_SSRC};
    int off = rtp_write_header(v->buf, sizeof v->buf, &w);
    if (off < 0 || (size_t)off + h->payload_len > sizeof v->buf)
        return;
    memcpy(v->buf + off, buf + h->payload_off, h->payload_len);
    size_t len = (size_t)off + h->payload_len;
    rtp_hdr_t oh;
    if (rtp_parse(v->buf, len, &oh) < 0 || vpx_track_rewrite(&v->rw, v->buf, len, &oh, d, ms_of(now_ns)) < 0)
        return;
    for (int i = 0; i < SINKS; i++)
        if (v->sink[i])
            rec_push_video(v->sink[i], (enum vpx_codec)d->codec, v->buf, len, ms_of(now_ns));
}
