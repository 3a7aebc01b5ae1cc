/* The video part of a conference join: which m-sections of the offer carry the tracks we
 * send (the main view on the first video m-section, thumbnails on the ones offered
 * recvonly), what the endpoint publishes, and the `tracks` message that tells it whose
 * video each track shows. Signaling thread. */
#include "signaling/internal.h"
#include "media/sdp.h"
#include "media/session.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static uint32_t video_ssrc(void)
{
    uint32_t v = 0;
    while (!v)
        if (RAND_bytes((uint8_t *)&v, sizeof v) != 1)
            v = (uint32_t)random();
    return v;
}

/* Is the first codec of the m-section VP9? Then the endpoint wants to publish VP9. */
static bool offers_vp9_first(const sdp_msection_t *m)
{
    return m->n_codecs && !strcasecmp(m->codecs[0].name, "VP9");
}

void video_plan(const sdp_offer_t *o, sdp_answer_params_t *ap, struct session_params *sp,
                const char *stream)
{
    static const char *const ids[SESSION_MAX_VTRACKS] = {"video-main", "video-thumb1", "video-thumb2",
                                                         "video-thumb3", "video-thumb4"};
    struct session_video *v = &sp->video;
    bool first = true;
    for (int i = 0; i < o->n_m && v->n_tracks < SESSION_MAX_VTRACKS; i++) {
        const sdp_msection_t *m = &o->m[i];
        if (m->kind != SDP_KIND_VIDEO || m->dir == SDP_DIR_INACTIVE || m->dir == SDP_DIR_SENDONLY) {
            if (m->kind == SDP_KIND_VIDEO && first) /* a send-only first video: it only publishes */
                first = false, ap->prefer_vp9 = offers_vp9_first(m);
            continue;
        }
        if (!first && m->dir != SDP_DIR_RECVONLY)
            continue; /* a second camera: not taken */
        if (first)
            ap->prefer_vp9 = offers_vp9_first(m);
        first = false;
        struct session_vtrack *t = &v->track[v->n_tracks];
        snprintf(t->mid, sizeof t->mid, "%s", m->mid);
        t->ssrc = video_ssrc();
        t->rtx_ssrc = video_ssrc();
        ap->send[i] = (sdp_send_t){t->ssrc, t->rtx_ssrc, stream, ids[v->n_tracks]};
        v->n_tracks++;
    }
}

void video_params(const sdp_offer_t *o, const sdp_choice_t *ch, struct session_params *sp)
{
    struct session_video *v = &sp->video;
    v->vp8_pt = v->vp8_rtx_pt = v->vp9_pt = v->vp9_rtx_pt = -1;
    int pubm = -1;
    for (int i = 0; i < ch->n_m; i++) {
        const sdp_mchoice_t *mc = &ch->m[i];
        if (mc->kind != SDP_KIND_VIDEO || !mc->accepted)
            continue;
        if (v->vp8_pt < 0 && v->vp9_pt < 0) { /* the first video m-section sets the codecs */
            v->vp8_pt = mc->vp8_pt, v->vp8_rtx_pt = mc->vp8_rtx_pt;
            v->vp9_pt = mc->vp9_pt, v->vp9_rtx_pt = mc->vp9_rtx_pt;
            v->fb = (uint8_t)(mc->vp8_pt >= 0 ? mc->fb_vp8 : mc->fb_vp9);
            v->ext_rid = mc->ext_id[SDP_EXT_RID];
            v->ext_rrid = mc->ext_id[SDP_EXT_REPAIRED_RID];
            v->ext_twcc = mc->ext_id[SDP_EXT_TWCC];
            v->ext_mid = mc->ext_id[SDP_EXT_MID];
            v->ext_abs = mc->ext_id[SDP_EXT_ABS_SEND_TIME];
        }
        if (pubm < 0 && (o->m[i].dir == SDP_DIR_SENDRECV || o->m[i].dir == SDP_DIR_SENDONLY ||
                         o->m[i].dir == SDP_DIR_NONE))
            pubm = i;
    }
    /* tracks on m-sections the answer rejected go */
    int k = 0;
    for (int t = 0; t < v->n_tracks; t++) {
        bool ok = false;
        for (int i = 0; i < ch->n_m; i++)
            if (ch->m[i].accepted && !strcmp(ch->m[i].mid, v->track[t].mid) &&
                (ch->m[i].dir == SDP_DIR_SENDRECV || ch->m[i].dir == SDP_DIR_SENDONLY))
                ok = true;
        if (ok)
            v->track[k++] = v->track[t];
    }
    v->n_tracks = (uint8_t)k;
    if (pubm < 0)
        return;
    const sdp_mchoice_t *mc = &ch->m[pubm];
    v->publish = true;
    if (mc->n_rids) {
        int last = -1;
        for (int r = 0; r < mc->n_rids && v->n_layers < SESSION_MAX_LAYERS; r++) {
            if (mc->rids[r].stream == last)
                continue; /* an alternative of the same stream */
            last = mc->rids[r].stream;
            snprintf(v->rid[v->n_layers], sizeof v->rid[0], "%s", mc->rids[r].rid);
            v->ssrc[v->n_layers] = mc->remote_ssrc[v->n_layers];
            v->rtx_ssrc[v->n_layers] = mc->remote_rtx_ssrc[v->n_layers];
            v->n_layers++;
        }
    } else {
        v->n_layers = mc->n_remote ? (uint8_t)(mc->n_remote < SESSION_MAX_LAYERS ? mc->n_remote : SESSION_MAX_LAYERS) : 1;
        for (int l = 0; l < v->n_layers; l++) {
            v->ssrc[l] = mc->remote_ssrc[l];
            v->rtx_ssrc[l] = mc->remote_rtx_ssrc[l];
        }
    }
}

static struct conn *conn_of_session(struct signaling *sig, uint64_t session)
{
    for (struct conn *c = sig->endpoints; c; c = c->ws_next)
        if (c->session_id == session)
            return c;
    return NULL;
}

/* `tracks`: whose video each of the receiver's tracks shows (by mid). Sites are named by
 * site id; endpoints of test conferences by session id. */
void video_on_tracks(struct signaling *sig, const struct video_tracks *vt)
{
    struct conn *c = conn_of_session(sig, vt->session);
    if (!c)
        return;
    json_t *thumbs = json_array(), *main = json_null();
    for (int i = 0; i < vt->n; i++) {
        struct conn *src = vt->t[i].source ? conn_of_session(sig, vt->t[i].source) : NULL;
        json_t *o = json_pack("{s:s,s:i}", "mid", vt->t[i].mid, "layer", vt->t[i].layer);
        char sid[24];
        if (src && src->site_id) {
            json_object_set_new(o, "site", json_integer(src->site_id));
        } else if (vt->t[i].source) {
            snprintf(sid, sizeof sid, "%llu", (unsigned long long)vt->t[i].source);
            json_object_set_new(o, "session", json_string(sid));
        } else {
            json_object_set_new(o, "site", json_null());
        }
        if (i == 0) {
            json_decref(main);
            main = o;
        } else {
            json_array_append_new(thumbs, o);
        }
    }
    char conf[sizeof c->conference];
    if (c->room_conf)
        snprintf(conf, sizeof conf, "%lld", (long long)c->room_conf);
    else
        snprintf(conf, sizeof conf, "%s", c->conference);
    ws_send_json(c, json_pack("{s:s,s:s,s:o,s:o,s:b}", "type", "tracks", "conference", conf, "main", main,
                              "thumbs", thumbs, "audio_only", vt->audio_only));
}

/* `layers`: which of its simulcast layers a publisher should send (lowest first); the ones
 * nobody receives are paused, so its browser stops encoding them. */
void video_on_layers(struct signaling *sig, uint64_t session, int64_t arg)
{
    struct conn *c = conn_of_session(sig, session);
    if (!c)
        return;
    int n = (int)((arg >> 8) & 0xFF);
    json_t *active = json_array();
    for (int i = 0; i < n && i < SESSION_MAX_LAYERS; i++)
        json_array_append_new(active, json_boolean(arg & (1 << i)));
    char conf[sizeof c->conference];
    if (c->room_conf)
        snprintf(conf, sizeof conf, "%lld", (long long)c->room_conf);
    else
        snprintf(conf, sizeof conf, "%s", c->conference);
    ws_send_json(c, json_pack("{s:s,s:s,s:o}", "type", "layers", "conference", conf, "active", active));
}
