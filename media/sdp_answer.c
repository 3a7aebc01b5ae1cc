/* Offer/answer for a BUNDLE-only ICE-lite server: decide per m-section what we accept
 * (Opus, VP8, VP9 with their RTX, our header extensions, simulcast by rid) and write the
 * answer. The choices come out as sdp_choice_t too, so the media engine uses exactly the
 * payload types and extension ids the browser was told. */
#include "media/sdp.h"
#include "media/sdp_span.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define OUR_FB \
    (SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | SDP_FB_GOOG_REMB | SDP_FB_TRANSPORT_CC)
#define MAX_CANDIDATES 16

/* One remote stream per simulcast rid must fit the ssrc arrays of sdp_mchoice_t. */
_Static_assert(SDP_MAX_RIDS <= SDP_MAX_SSRCS, "rid layers exceed remote ssrc slots");

/* Order follows what browsers write, which keeps answers easy to compare by eye. */
static const struct {
    uint8_t bit;
    const char *text;
} fb_names[] = {
    { SDP_FB_GOOG_REMB, "goog-remb" }, { SDP_FB_TRANSPORT_CC, "transport-cc" },
    { SDP_FB_CCM_FIR, "ccm fir" },     { SDP_FB_NACK, "nack" },
    { SDP_FB_NACK_PLI, "nack pli" },
};

/* ---- negotiation ---- */

static bool codec_is(const sdp_codec_t *k, const char *name, uint32_t clock)
{
    return k->has_rtpmap && strcasecmp(k->name, name) == 0 && k->clock == clock;
}

static int find_named(const sdp_msection_t *m, const char *name, uint32_t clock)
{
    for (unsigned i = 0; i < m->n_codecs; i++)
        if (codec_is(&m->codecs[i], name, clock))
            return m->codecs[i].pt;
    return -1;
}

static int find_rtx(const sdp_msection_t *m, int apt)
{
    for (unsigned i = 0; i < m->n_codecs; i++)
        if (codec_is(&m->codecs[i], "rtx", 90000) && m->codecs[i].apt == apt)
            return m->codecs[i].pt;
    return -1;
}

static uint8_t fb_of(const sdp_msection_t *m, int pt)
{
    const sdp_codec_t *k = pt >= 0 ? sdp_find_codec(m, pt) : NULL;
    return k ? (uint8_t)(k->fb & OUR_FB) : 0;
}

/* VP9 profile 0 is what every receiver decodes (absent profile-id means 0); another
 * profile only when nothing else is offered. */
static void choose_vp9(const sdp_msection_t *m, sdp_mchoice_t *mc)
{
    for (unsigned i = 0; i < m->n_codecs; i++) {
        const sdp_codec_t *k = &m->codecs[i];
        if (!codec_is(k, "VP9", 90000))
            continue;
        int profile = k->profile_id < 0 ? 0 : k->profile_id;
        if (mc->vp9_pt < 0 || (profile == 0 && mc->vp9_profile != 0)) {
            mc->vp9_pt = k->pt;
            mc->vp9_profile = profile;
        }
    }
}

static bool choose_codecs(const sdp_msection_t *m, unsigned mask, sdp_mchoice_t *mc)
{
    if (m->kind == SDP_KIND_AUDIO) {
        for (unsigned i = 0; i < m->n_codecs && (mask & SDP_CODEC_OPUS); i++) {
            if (codec_is(&m->codecs[i], "opus", 48000) && m->codecs[i].channels == 2) {
                mc->opus_pt = m->codecs[i].pt;
                break;
            }
        }
        mc->fb_audio = fb_of(m, mc->opus_pt);
        return mc->opus_pt >= 0;
    }
    if (mask & SDP_CODEC_VP8)
        mc->vp8_pt = find_named(m, "VP8", 90000);
    if (mask & SDP_CODEC_VP9)
        choose_vp9(m, mc);
    if (mc->vp8_pt >= 0)
        mc->vp8_rtx_pt = find_rtx(m, mc->vp8_pt);
    if (mc->vp9_pt >= 0)
        mc->vp9_rtx_pt = find_rtx(m, mc->vp9_pt);
    mc->fb_vp8 = fb_of(m, mc->vp8_pt);
    mc->fb_vp9 = fb_of(m, mc->vp9_pt);
    return mc->vp8_pt >= 0 || mc->vp9_pt >= 0;
}

static void choose_exts(const sdp_msection_t *m, sdp_mchoice_t *mc)
{
    for (int e = 0; e < SDP_EXT_COUNT; e++) {
        const sdp_extmap_t *x = sdp_find_extmap(m, sdp_ext_uri((sdp_ext_t)e));
        if (x && x->dir != SDP_DIR_INACTIVE)
            mc->ext_id[e] = x->id;
    }
}

/* Our direction given theirs (RFC 3264 section 6.1). */
static sdp_dir_t answer_dir(sdp_dir_t offer, bool we_send)
{
    switch (offer) {
    case SDP_DIR_SENDONLY: return SDP_DIR_RECVONLY;
    case SDP_DIR_RECVONLY: return we_send ? SDP_DIR_SENDONLY : SDP_DIR_INACTIVE;
    case SDP_DIR_INACTIVE: return SDP_DIR_INACTIVE;
    default: return we_send ? SDP_DIR_SENDRECV : SDP_DIR_RECVONLY;
    }
}

static bool has_send_rid(const sdp_msection_t *m, const char *id)
{
    for (unsigned i = 0; i < m->n_rids; i++)
        if (m->rids[i].dir == SDP_DIR_SENDONLY && strcmp(m->rids[i].id, id) == 0)
            return true;
    return false;
}

static uint32_t fid_rtx(const sdp_msection_t *m, uint32_t ssrc)
{
    for (unsigned g = 0; g < m->n_ssrc_groups; g++) {
        const sdp_ssrc_group_t *grp = &m->ssrc_groups[g];
        if (strcmp(grp->semantics, "FID") == 0 && grp->ssrcs[0] == ssrc)
            return grp->ssrcs[1];
    }
    return 0;
}

static bool is_fid_repair(const sdp_msection_t *m, uint32_t ssrc)
{
    for (unsigned g = 0; g < m->n_ssrc_groups; g++) {
        const sdp_ssrc_group_t *grp = &m->ssrc_groups[g];
        if (strcmp(grp->semantics, "FID") == 0 && grp->ssrcs[1] == ssrc)
            return true;
    }
    return false;
}

static const sdp_ssrc_group_t *sim_group(const sdp_msection_t *m)
{
    for (unsigned g = 0; g < m->n_ssrc_groups; g++)
        if (strcmp(m->ssrc_groups[g].semantics, "SIM") == 0)
            return &m->ssrc_groups[g];
    return NULL;
}

/* Simulcast by rid needs the rid header extension, else layers cannot be told apart. */
static void choose_rids(const sdp_msection_t *m, sdp_mchoice_t *mc)
{
    if (m->kind != SDP_KIND_VIDEO || !mc->ext_id[SDP_EXT_RID])
        return;
    for (unsigned i = 0; i < m->n_sim_send; i++)
        if (has_send_rid(m, m->sim_send[i].rid))
            mc->rids[mc->n_rids++] = m->sim_send[i];
}

/* The streams the remote sends: one per simulcast layer, else its primary ssrcs. With
 * rid simulcast the ssrc of a layer is known only from a SIM group in the same order;
 * otherwise the media engine learns it from the rid header extension. */
static void choose_remote(const sdp_msection_t *m, sdp_mchoice_t *mc)
{
    const sdp_ssrc_group_t *sim = sim_group(m);
    if (mc->n_rids) {
        uint8_t streams = (uint8_t)(mc->rids[mc->n_rids - 1].stream + 1);
        mc->n_remote = streams;
        for (unsigned i = 0; sim && sim->n == streams && i < streams; i++)
            mc->remote_ssrc[i] = sim->ssrcs[i];
    } else if (sim) {
        mc->n_remote = sim->n;
        memcpy(mc->remote_ssrc, sim->ssrcs, sim->n * sizeof sim->ssrcs[0]);
    } else {
        for (unsigned i = 0; i < m->n_ssrcs; i++)
            if (!is_fid_repair(m, m->ssrcs[i].ssrc))
                mc->remote_ssrc[mc->n_remote++] = m->ssrcs[i].ssrc;
    }
    for (unsigned i = 0; i < mc->n_remote; i++)
        mc->remote_rtx_ssrc[i] = mc->remote_ssrc[i] ? fid_rtx(m, mc->remote_ssrc[i]) : 0;
}

static void negotiate_m(const sdp_msection_t *m, unsigned mask, bool we_send, sdp_mchoice_t *mc)
{
    memset(mc, 0, sizeof *mc);
    mc->kind = m->kind;
    memcpy(mc->mid, m->mid, sizeof mc->mid);
    mc->dir = SDP_DIR_INACTIVE;
    mc->opus_pt = mc->vp8_pt = mc->vp8_rtx_pt = mc->vp9_pt = mc->vp9_rtx_pt = -1;
    mc->vp9_profile = -1;
    bool rtp = m->kind == SDP_KIND_AUDIO || m->kind == SDP_KIND_VIDEO;
    if (!rtp || !sdp_m_active(m) || !m->in_bundle || !proto_is_dtls_srtp(m->proto) ||
        !choose_codecs(m, mask, mc))
        return;
    mc->accepted = true;
    mc->dir = answer_dir(m->dir, we_send);
    choose_exts(m, mc);
    if (mc->dir == SDP_DIR_SENDRECV || mc->dir == SDP_DIR_RECVONLY) {
        choose_rids(m, mc);
        choose_remote(m, mc);
    }
}

static void summarize(sdp_choice_t *c)
{
    c->opus_pt = c->vp8_pt = c->vp8_rtx_pt = c->vp9_pt = c->vp9_rtx_pt = c->vp9_profile = -1;
    for (unsigned i = 0; i < c->n_m; i++) {
        const sdp_mchoice_t *mc = &c->m[i];
        if (!mc->accepted)
            continue;
        c->n_bundle++;
        if (c->opus_pt < 0)
            c->opus_pt = mc->opus_pt;
        if (c->vp8_pt < 0) {
            c->vp8_pt = mc->vp8_pt;
            c->vp8_rtx_pt = mc->vp8_rtx_pt;
        }
        if (c->vp9_pt < 0) {
            c->vp9_pt = mc->vp9_pt;
            c->vp9_rtx_pt = mc->vp9_rtx_pt;
            c->vp9_profile = mc->vp9_profile;
        }
        for (int e = 0; e < SDP_EXT_COUNT; e++)
            if (!c->ext_id[e])
                c->ext_id[e] = mc->ext_id[e];
    }
}

static sdp_setup_t our_setup(sdp_setup_t theirs, sdp_setup_t pref)
{
    if (theirs == SDP_SETUP_ACTIVE)
        return SDP_SETUP_PASSIVE;
    if (theirs == SDP_SETUP_PASSIVE)
        return SDP_SETUP_ACTIVE;
    return pref == SDP_SETUP_ACTIVE ? SDP_SETUP_ACTIVE : SDP_SETUP_PASSIVE;
}

int sdp_negotiate(const sdp_offer_t *offer, const sdp_answer_params_t *p, sdp_choice_t *out)
{
    if (!offer || !out)
        return SDP_ERR_PARAM;
    unsigned mask = p ? p->codecs : (SDP_CODEC_OPUS | SDP_CODEC_VP8 | SDP_CODEC_VP9);
    memset(out, 0, sizeof *out);
    out->n_m = offer->n_m;
    out->our_setup = our_setup(offer->tp.setup, p ? p->setup : SDP_SETUP_PASSIVE);
    for (unsigned i = 0; i < offer->n_m; i++) {
        bool we_send = p && p->send[i].ssrc != 0;
        negotiate_m(&offer->m[i], mask, we_send, &out->m[i]);
    }
    summarize(out);
    return out->opus_pt >= 0 ? 0 : SDP_ERR_NO_OPUS; /* an audio conference needs audio */
}

/* ---- answer parameters ---- */

/* Printable, no spaces: safe to place in an SDP line without breaking its syntax. */
static bool is_token(const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max + 1) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

static bool is_ice_token(const char *s, size_t min, size_t max)
{
    if (!is_token(s, max) || strlen(s) < min)
        return false;
    for (const char *q = s; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '+' || *q == '/'))
            return false;
    return true;
}

/* "AB:CD:..." of exactly 32 bytes. */
static bool is_sha256_fp(const char *s)
{
    if (!s || strnlen(s, 96) != 95)
        return false;
    for (int i = 0; i < 95; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
        if (i % 3 == 2 ? c != ':' : !hex)
            return false;
    }
    return true;
}

/* Canonical text form and family of a candidate address; 4, 6 or 0 if invalid. */
static int canon_addr(const char *in, char out[SDP_ADDR_SZ])
{
    unsigned char bin[16];
    if (strnlen(in, SDP_ADDR_SZ) == SDP_ADDR_SZ)
        return 0;
    if (inet_pton(AF_INET, in, bin) == 1)
        return inet_ntop(AF_INET, bin, out, SDP_ADDR_SZ) ? 4 : 0;
    if (inet_pton(AF_INET6, in, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, SDP_ADDR_SZ) ? 6 : 0;
    return 0;
}

static int check_send(const sdp_answer_params_t *p, const sdp_offer_t *offer)
{
    for (unsigned i = 0; i < offer->n_m; i++) {
        const sdp_send_t *s = &p->send[i];
        if (!s->ssrc)
            continue;
        if (!is_token(p->cname, SDP_CNAME_SZ - 1))
            return SDP_ERR_PARAM;
        if (!s->stream_id != !s->track_id)
            return SDP_ERR_PARAM;
        if (s->stream_id && (!is_token(s->stream_id, SDP_MSID_SZ - 1) ||
                             !is_token(s->track_id, SDP_MSID_SZ - 1)))
            return SDP_ERR_PARAM;
        if (s->rtx_ssrc == s->ssrc)
            return SDP_ERR_PARAM;
    }
    return 0;
}

static int check_params(const sdp_answer_params_t *p, const sdp_offer_t *offer)
{
    char addr[SDP_ADDR_SZ];
    if (!is_ice_token(p->ice_ufrag, 4, SDP_UFRAG_SZ - 1) ||
        !is_ice_token(p->ice_pwd, 22, SDP_PWD_SZ - 1) || !is_sha256_fp(p->fingerprint) ||
        p->session_id >= (UINT64_C(1) << 63) ||
        p->n_candidates > MAX_CANDIDATES || (p->n_candidates && !p->candidates))
        return SDP_ERR_PARAM;
    for (size_t i = 0; i < p->n_candidates; i++)
        if (!canon_addr(p->candidates[i].address, addr) || p->candidates[i].port == 0)
            return SDP_ERR_PARAM;
    return check_send(p, offer);
}

/* ---- writing ---- */

typedef struct {
    char *buf;
    size_t cap, len;
    bool full;
} wbuf_t;

static void __attribute__((format(printf, 2, 3))) w(wbuf_t *b, const char *fmt, ...)
{
    if (b->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= b->cap - b->len) {
        b->full = true;
        b->buf[b->len] = '\0';
        return;
    }
    b->len += (size_t)n;
}

static const char *dir_name(sdp_dir_t d)
{
    static const char *const names[] = {
        "sendrecv", "sendrecv", "sendonly", "recvonly", "inactive",
    };
    return names[d <= SDP_DIR_INACTIVE ? d : 0];
}

static const char *setup_name(sdp_setup_t s)
{
    return s == SDP_SETUP_ACTIVE ? "active" : s == SDP_SETUP_PASSIVE ? "passive" : "actpass";
}

/* RFC 8445 5.1.1.3: same type, base address and protocol share a foundation. */
static uint32_t foundation(const char *addr)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *q = "host/udp/"; *q; q++)
        h = (h ^ (uint8_t)*q) * 16777619u;
    for (; *addr; addr++)
        h = (h ^ (uint8_t)*addr) * 16777619u;
    return h;
}

/* RFC 8445 5.1.2.1 with the host type preference 126, local preference falling with the
 * caller's order, component 1. */
static uint32_t host_priority(size_t index)
{
    return (126u << 24) | ((uint32_t)(65535 - index) << 8) | 255u;
}

static void w_fb(wbuf_t *b, int pt, uint8_t fb)
{
    for (size_t i = 0; i < sizeof fb_names / sizeof fb_names[0]; i++)
        if (fb & fb_names[i].bit)
            w(b, "a=rtcp-fb:%d %s\r\n", pt, fb_names[i].text);
}

static void w_rtx(wbuf_t *b, int rtx_pt, int apt)
{
    if (rtx_pt < 0)
        return;
    w(b, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", rtx_pt, rtx_pt, apt);
}

/* Payload types in the order we prefer them: the first is what the browser sends. */
static int video_order(const sdp_mchoice_t *mc, bool prefer_vp9, int out[4])
{
    int n = 0;
    int vp8[2] = { mc->vp8_pt, mc->vp8_rtx_pt }, vp9[2] = { mc->vp9_pt, mc->vp9_rtx_pt };
    const int *a = prefer_vp9 ? vp9 : vp8, *z = prefer_vp9 ? vp8 : vp9;
    int all[4] = { a[0], a[1], z[0], z[1] };
    for (int i = 0; i < 4; i++)
        if (all[i] >= 0)
            out[n++] = all[i];
    return n;
}

static void w_codecs(wbuf_t *b, const sdp_mchoice_t *mc, bool prefer_vp9)
{
    if (mc->kind == SDP_KIND_AUDIO) {
        w(b, "a=rtpmap:%d opus/48000/2\r\n", mc->opus_pt);
        w_fb(b, mc->opus_pt, mc->fb_audio);
        w(b, "a=fmtp:%d minptime=10;useinbandfec=1\r\n", mc->opus_pt);
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        bool vp9 = (pass == 0) == prefer_vp9;
        if (vp9 && mc->vp9_pt >= 0) {
            w(b, "a=rtpmap:%d VP9/90000\r\n", mc->vp9_pt);
            w_fb(b, mc->vp9_pt, mc->fb_vp9);
            w(b, "a=fmtp:%d profile-id=%d\r\n", mc->vp9_pt, mc->vp9_profile);
            w_rtx(b, mc->vp9_rtx_pt, mc->vp9_pt);
        } else if (!vp9 && mc->vp8_pt >= 0) {
            w(b, "a=rtpmap:%d VP8/90000\r\n", mc->vp8_pt);
            w_fb(b, mc->vp8_pt, mc->fb_vp8);
            w_rtx(b, mc->vp8_rtx_pt, mc->vp8_pt);
        }
    }
}

/* The extmap direction mirrors the offer's (RFC 8285 section 7). */
static void w_extmaps(wbuf_t *b, const sdp_msection_t *m, const sdp_mchoice_t *mc)
{
    for (unsigned i = 0; i < m->n_extmaps; i++) {
        const sdp_extmap_t *x = &m->extmaps[i];
        for (int e = 0; e < SDP_EXT_COUNT; e++) {
            if (mc->ext_id[e] != x->id || strcmp(x->uri, sdp_ext_uri((sdp_ext_t)e)) != 0)
                continue;
            const char *d = x->dir == SDP_DIR_SENDONLY ? "/recvonly"
                          : x->dir == SDP_DIR_RECVONLY ? "/sendonly" : "";
            w(b, "a=extmap:%u%s %s\r\n", x->id, d, x->uri);
        }
    }
}

static void w_simulcast(wbuf_t *b, const sdp_mchoice_t *mc)
{
    if (!mc->n_rids)
        return;
    for (unsigned i = 0; i < mc->n_rids; i++)
        w(b, "a=rid:%s recv\r\n", mc->rids[i].rid);
    w(b, "a=simulcast:recv ");
    for (unsigned i = 0; i < mc->n_rids; i++) {
        const char *sep = i == 0 ? "" : mc->rids[i].stream == mc->rids[i - 1].stream ? "," : ";";
        w(b, "%s%s%s", sep, mc->rids[i].paused ? "~" : "", mc->rids[i].rid);
    }
    w(b, "\r\n");
}

static void w_ssrc(wbuf_t *b, const sdp_answer_params_t *p, const sdp_send_t *s, uint32_t ssrc)
{
    w(b, "a=ssrc:%u cname:%s\r\n", ssrc, p->cname);
    if (s->stream_id)
        w(b, "a=ssrc:%u msid:%s %s\r\n", ssrc, s->stream_id, s->track_id);
}

static void w_send(wbuf_t *b, const sdp_answer_params_t *p, const sdp_send_t *s,
                   const sdp_mchoice_t *mc)
{
    if (mc->dir != SDP_DIR_SENDRECV && mc->dir != SDP_DIR_SENDONLY)
        return;
    bool rtx = mc->kind == SDP_KIND_VIDEO && s->rtx_ssrc &&
               (mc->vp8_rtx_pt >= 0 || mc->vp9_rtx_pt >= 0);
    if (rtx)
        w(b, "a=ssrc-group:FID %u %u\r\n", s->ssrc, s->rtx_ssrc);
    w_ssrc(b, p, s, s->ssrc);
    if (rtx)
        w_ssrc(b, p, s, s->rtx_ssrc);
}

static void w_candidates(wbuf_t *b, const sdp_answer_params_t *p)
{
    char addr[SDP_ADDR_SZ];
    for (size_t i = 0; i < p->n_candidates; i++) {
        canon_addr(p->candidates[i].address, addr);
        w(b, "a=candidate:%u 1 udp %u %s %u typ host\r\n", foundation(addr), host_priority(i),
          addr, p->candidates[i].port);
    }
    w(b, "a=end-of-candidates\r\n");
}

static void w_rejected(wbuf_t *b, const sdp_msection_t *m)
{
    w(b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", m->media, m->proto, m->fmt0);
    if (m->mid[0])
        w(b, "a=mid:%s\r\n", m->mid);
}

static void w_accepted(wbuf_t *b, const sdp_offer_t *o, unsigned i, const sdp_answer_params_t *p,
                       const sdp_choice_t *c)
{
    const sdp_msection_t *m = &o->m[i];
    const sdp_mchoice_t *mc = &c->m[i];
    const sdp_send_t *s = &p->send[i];
    char addr[SDP_ADDR_SZ] = "0.0.0.0";
    int fam = p->n_candidates ? canon_addr(p->candidates[0].address, addr) : 4;
    unsigned port = p->n_candidates ? p->candidates[0].port : 9;
    int pts[4] = { mc->opus_pt };
    int n = mc->kind == SDP_KIND_AUDIO ? 1 : video_order(mc, p->prefer_vp9, pts);
    w(b, "m=%s %u %s", m->media, port, m->proto);
    for (int k = 0; k < n; k++)
        w(b, " %d", pts[k]);
    w(b, "\r\nc=IN IP%d %s\r\n", fam, addr);
    w(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", p->ice_ufrag, p->ice_pwd);
    w(b, "a=fingerprint:sha-256 %s\r\na=setup:%s\r\n", p->fingerprint, setup_name(c->our_setup));
    w(b, "a=mid:%s\r\n", m->mid);
    w_extmaps(b, m, mc);
    w(b, "a=%s\r\n", dir_name(mc->dir));
    if (s->ssrc && s->stream_id && (mc->dir == SDP_DIR_SENDRECV || mc->dir == SDP_DIR_SENDONLY))
        w(b, "a=msid:%s %s\r\n", s->stream_id, s->track_id);
    w(b, "a=rtcp-mux\r\n");
    if (m->rtcp_rsize)
        w(b, "a=rtcp-rsize\r\n");
    w_codecs(b, mc, p->prefer_vp9);
    w_simulcast(b, mc);
    w_send(b, p, s, mc);
    w_candidates(b, p);
}

static void w_session(wbuf_t *b, const sdp_answer_params_t *p, const sdp_choice_t *c)
{
    w(b, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
      (unsigned long long)p->session_id, (unsigned long long)p->session_version);
    w(b, "a=ice-lite\r\na=group:BUNDLE");
    for (unsigned i = 0; i < c->n_m; i++)
        if (c->m[i].accepted)
            w(b, " %s", c->m[i].mid);
    w(b, "\r\na=msid-semantic: WMS *\r\n");
}

int sdp_build_answer_ex(const sdp_offer_t *offer, const sdp_answer_params_t *p,
                        char *out, size_t cap, sdp_choice_t *choice)
{
    sdp_choice_t local;
    sdp_choice_t *c = choice ? choice : &local;
    int rc;
    if (!offer || !p || !out || cap == 0)
        return SDP_ERR_PARAM;
    if ((rc = sdp_validate_offer(offer)) < 0 || (rc = check_params(p, offer)) < 0 ||
        (rc = sdp_negotiate(offer, p, c)) < 0)
        return rc;
    wbuf_t b = { out, cap > INT32_MAX ? INT32_MAX : cap, 0, false };
    out[0] = '\0';
    w_session(&b, p, c);
    for (unsigned i = 0; i < offer->n_m; i++) {
        if (c->m[i].accepted)
            w_accepted(&b, offer, i, p, c);
        else
            w_rejected(&b, &offer->m[i]);
    }
    return b.full ? SDP_ERR_SPACE : (int)b.len;
}

int sdp_build_answer(const sdp_offer_t *offer, const sdp_answer_params_t *p, char *out, size_t cap)
{
    return sdp_build_answer_ex(offer, p, out, cap, NULL);
}
