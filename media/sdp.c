/* SDP parser: one pass over the lines of a session description, each a=attribute
 * dispatched from a table to a small handler that fills the bounded sdp_offer_t.
 * Unknown lines and attributes are skipped; known ones must be well formed, because a
 * half-understood offer would produce an answer the browser rejects much later.
 * Also the validation of an offer against what this server needs (BUNDLE, DTLS, Opus). */
#include "media/sdp.h"

#include "media/sdp_span.h"

#include <string.h>
#include <strings.h>

typedef struct {
    sdp_offer_t *o;
    sdp_msection_t *m;   /* current m-section, NULL while at session level */
    bool seen_v;
} pctx_t;

static const char *const ext_uris[SDP_EXT_COUNT] = {
    [SDP_EXT_AUDIO_LEVEL] = "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    [SDP_EXT_MID] = "urn:ietf:params:rtp-hdrext:sdes:mid",
    [SDP_EXT_RID] = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    [SDP_EXT_REPAIRED_RID] = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    [SDP_EXT_ABS_SEND_TIME] = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    [SDP_EXT_TWCC] = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
};

const char *sdp_ext_uri(sdp_ext_t ext)
{
    return (unsigned)ext < SDP_EXT_COUNT ? ext_uris[ext] : NULL;
}

static int parse_dir(span_t s, sdp_dir_t *out)
{
    static const struct {
        const char *name;
        sdp_dir_t dir;
    } dirs[] = {
        { "sendrecv", SDP_DIR_SENDRECV },
        { "sendonly", SDP_DIR_SENDONLY },
        { "recvonly", SDP_DIR_RECVONLY },
        { "inactive", SDP_DIR_INACTIVE },
    };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (span_eq(s, dirs[i].name)) {
            *out = dirs[i].dir;
            return 0;
        }
    }
    return SDP_ERR_SYNTAX;
}

/* ---- lookups ---- */

const sdp_codec_t *sdp_find_codec(const sdp_msection_t *m, int pt)
{
    for (unsigned i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

static sdp_codec_t *find_codec_mut(sdp_msection_t *m, uint32_t pt)
{
    return (sdp_codec_t *)sdp_find_codec(m, (int)pt);
}

int sdp_find_mid(const sdp_offer_t *sdp, const char *mid)
{
    for (unsigned i = 0; i < sdp->n_m; i++)
        if (mid && mid[0] && strcmp(sdp->m[i].mid, mid) == 0)
            return (int)i;
    return -1;
}

const sdp_extmap_t *sdp_find_extmap(const sdp_msection_t *m, const char *uri)
{
    for (unsigned i = 0; i < m->n_extmaps; i++)
        if (strcmp(m->extmaps[i].uri, uri) == 0)
            return &m->extmaps[i];
    return NULL;
}

static sdp_transport_t *cur_tp(pctx_t *c)
{
    return c->m ? &c->m->tp : &c->o->session_tp;
}

/* ---- transport attributes (session or media level) ---- */

static int a_ice_ufrag(pctx_t *c, span_t v)
{
    v = span_trim(v);
    if (!is_ice_chars(v))
        return SDP_ERR_SYNTAX;
    return span_copy(v, cur_tp(c)->ice_ufrag, SDP_UFRAG_SZ);
}

static int a_ice_pwd(pctx_t *c, span_t v)
{
    v = span_trim(v);
    if (!is_ice_chars(v))
        return SDP_ERR_SYNTAX;
    return span_copy(v, cur_tp(c)->ice_pwd, SDP_PWD_SZ);
}

/* Digest length of the hash functions RFC 8122 names; 0 for others. */
static unsigned fp_alg_len(const char *alg)
{
    static const struct {
        const char *name;
        unsigned len;
    } algs[] = { { "sha-1", 20 }, { "sha-224", 28 }, { "sha-256", 32 }, { "sha-384", 48 },
                 { "sha-512", 64 }, { "md5", 16 }, { "md2", 16 } };
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strcmp(alg, algs[i].name) == 0)
            return algs[i].len;
    return 0;
}

/* "AB:CD:..." into bytes; every byte exactly two hex digits. */
static int decode_fp(span_t hex, uint8_t *out, unsigned *len)
{
    unsigned n = 0;
    size_t i = 0;
    while (i < hex.n) {
        if (n == SDP_FP_MAX || i + 2 > hex.n)
            return SDP_ERR_SYNTAX;
        int hi = hexval(hex.p[i]), lo = hexval(hex.p[i + 1]);
        if (hi < 0 || lo < 0)
            return SDP_ERR_SYNTAX;
        out[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
        if (i < hex.n && (hex.p[i] != ':' || ++i == hex.n))
            return SDP_ERR_SYNTAX;
    }
    *len = n;
    return n ? 0 : SDP_ERR_SYNTAX;
}

/* Several fingerprints may be given (RFC 8122); keep the first sha-256, else the first. */
static int a_fingerprint(pctx_t *c, span_t v)
{
    span_t alg = span_token(&v), hex = span_token(&v);
    char name[16];
    uint8_t fp[SDP_FP_MAX];
    unsigned len;
    if (alg.n == 0 || alg.n >= sizeof name || hex.n == 0)
        return SDP_ERR_SYNTAX;
    for (size_t i = 0; i < alg.n; i++) {
        char ch = alg.p[i];
        name[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    name[alg.n] = '\0';
    int rc = decode_fp(hex, fp, &len);
    if (rc < 0)
        return rc;
    unsigned want = fp_alg_len(name);
    if (want && want != len)
        return SDP_ERR_SYNTAX;
    sdp_transport_t *tp = cur_tp(c);
    if (tp->fp_len && (strcmp(tp->fp_alg, "sha-256") == 0 || strcmp(name, "sha-256") != 0))
        return 0;
    if ((rc = span_copy(hex, tp->fp_hex, sizeof tp->fp_hex)) < 0)
        return rc;
    memcpy(tp->fp_alg, name, alg.n + 1);
    memcpy(tp->fp, fp, len);
    tp->fp_len = (uint8_t)len;
    return 0;
}

static int a_setup(pctx_t *c, span_t v)
{
    v = span_trim(v);
    sdp_setup_t *s = &cur_tp(c)->setup;
    if (span_eq(v, "actpass"))
        *s = SDP_SETUP_ACTPASS;
    else if (span_eq(v, "active"))
        *s = SDP_SETUP_ACTIVE;
    else if (span_eq(v, "passive"))
        *s = SDP_SETUP_PASSIVE;
    else
        return SDP_ERR_SYNTAX; /* includes holdconn, which WebRTC never uses */
    return 0;
}

static int a_end_of_candidates(pctx_t *c, span_t v)
{
    (void)v;
    if (c->m)
        c->m->end_of_candidates = true;
    else
        c->o->end_of_candidates = true;
    return 0;
}

/* Directions may also be given at session level, as a default for every m-section. */
static int a_direction(pctx_t *c, sdp_dir_t d)
{
    if (c->m)
        c->m->dir = d;
    else
        c->o->dir = d;
    return 0;
}

static int a_sendrecv(pctx_t *c, span_t v) { (void)v; return a_direction(c, SDP_DIR_SENDRECV); }
static int a_sendonly(pctx_t *c, span_t v) { (void)v; return a_direction(c, SDP_DIR_SENDONLY); }
static int a_recvonly(pctx_t *c, span_t v) { (void)v; return a_direction(c, SDP_DIR_RECVONLY); }
static int a_inactive(pctx_t *c, span_t v) { (void)v; return a_direction(c, SDP_DIR_INACTIVE); }

/* ---- session-only attributes ---- */

/* Only the first BUNDLE group is kept: we run one transport per peer. */
static int a_group(pctx_t *c, span_t v)
{
    sdp_offer_t *o = c->o;
    span_t sem = span_token(&v);
    if (sem.n == 0)
        return SDP_ERR_SYNTAX;
    if (!span_eq(sem, "BUNDLE") || o->bundle_tag != -2)
        return 0;
    o->bundle_tag = -1; /* seen: later BUNDLE groups are ignored */
    for (span_t mid = span_token(&v); mid.n; mid = span_token(&v)) {
        if (o->n_bundle == SDP_MAX_MSECTIONS)
            return SDP_ERR_TOO_MANY;
        int rc = span_copy(mid, o->bundle[o->n_bundle], SDP_MID_SZ);
        if (rc < 0)
            return rc;
        o->n_bundle++;
    }
    return 0;
}

static int a_ice_lite(pctx_t *c, span_t v)
{
    (void)v;
    c->o->ice_lite = true;
    return 0;
}

/* ---- media-only attributes ---- */

static int a_mid(pctx_t *c, span_t v)
{
    v = span_trim(v);
    if (c->m->mid[0])
        return SDP_ERR_SYNTAX;
    for (size_t i = 0; i < v.n; i++)
        if (is_ws(v.p[i]))
            return SDP_ERR_SYNTAX;
    return copy_token(v, c->m->mid, SDP_MID_SZ);
}

static int a_rtcp_mux(pctx_t *c, span_t v) { (void)v; c->m->rtcp_mux = true; return 0; }
static int a_rtcp_rsize(pctx_t *c, span_t v) { (void)v; c->m->rtcp_rsize = true; return 0; }
static int a_bundle_only(pctx_t *c, span_t v) { (void)v; c->m->bundle_only = true; return 0; }

static int a_candidate(pctx_t *c, span_t v)
{
    (void)v; /* ICE-lite: we never check the peer's candidates */
    if (c->m->n_candidates < UINT16_MAX)
        c->m->n_candidates++;
    return 0;
}

/* "stream [track]" (RFC 8830); the track id is optional. */
static int parse_msid(span_t v, char *stream, char *track)
{
    span_t s = span_token(&v), t = span_token(&v);
    int rc = copy_token(s, stream, SDP_MSID_SZ);
    if (rc < 0)
        return rc;
    return span_copy(t, track, SDP_MSID_SZ);
}

static int a_msid(pctx_t *c, span_t v)
{
    return parse_msid(v, c->m->msid_stream, c->m->msid_track);
}

/* "<pt> <name>/<clock>[/<channels>]" */
static int a_rtpmap(pctx_t *c, span_t v)
{
    uint32_t pt, clock, ch = 1;
    span_t pts = span_token(&v), enc = span_token(&v);
    span_t name = span_split(&enc, '/'), clk = span_split(&enc, '/');
    int rc;
    if (span_uint(pts, 127, &pt) < 0 || name.n == 0 || span_uint(clk, UINT32_MAX, &clock) < 0)
        return SDP_ERR_SYNTAX;
    if (enc.n && span_uint(enc, 255, &ch) < 0)
        return SDP_ERR_SYNTAX;
    sdp_codec_t *k = find_codec_mut(c->m, pt);
    if (!k)
        return 0; /* not on the m= line (or dropped): nothing to describe */
    if ((rc = span_copy(name, k->name, SDP_CODEC_NAME_SZ)) < 0)
        return rc;
    k->clock = clock;
    k->channels = (uint8_t)ch;
    k->has_rtpmap = true;
    return 0;
}

/* Parameters we act on: apt (RTX, RFC 4588) and profile-id (VP9). */
static int parse_fmtp_params(span_t params, sdp_codec_t *k)
{
    while (params.n) {
        span_t kv = span_trim(span_split(&params, ';'));
        span_t key = span_trim(span_split(&kv, '='));
        uint32_t val;
        kv = span_trim(kv);
        if (span_eq(key, "apt")) {
            if (span_uint(kv, 127, &val) < 0)
                return SDP_ERR_SYNTAX;
            k->apt = (int16_t)val;
        } else if (span_eq(key, "profile-id")) {
            if (span_uint(kv, 255, &val) < 0)
                return SDP_ERR_SYNTAX;
            k->profile_id = (int16_t)val;
        }
    }
    return 0;
}

static int a_fmtp(pctx_t *c, span_t v)
{
    uint32_t pt;
    span_t pts = span_token(&v);
    if (span_uint(pts, 127, &pt) < 0)
        return SDP_ERR_SYNTAX;
    span_t params = span_trim(v);
    sdp_codec_t *k = find_codec_mut(c->m, pt);
    if (!k)
        return 0;
    size_t n = params.n < SDP_FMTP_SZ - 1 ? params.n : SDP_FMTP_SZ - 1;
    memcpy(k->fmtp, params.p, n);
    k->fmtp[n] = '\0';
    k->fmtp_truncated = n < params.n;
    return parse_fmtp_params(params, k);
}

/* "<pt|*> <type> [<param>]" */
static int a_rtcp_fb(pctx_t *c, span_t v)
{
    span_t pts = span_token(&v), type = span_token(&v), param = span_token(&v);
    uint32_t pt = 0;
    uint8_t bit = 0;
    bool all = span_eq(pts, "*");
    if ((!all && span_uint(pts, 127, &pt) < 0) || type.n == 0)
        return SDP_ERR_SYNTAX;
    if (span_eq(type, "nack"))
        bit = param.n == 0 ? SDP_FB_NACK : span_eq(param, "pli") ? SDP_FB_NACK_PLI : 0;
    else if (span_eq(type, "ccm"))
        bit = span_eq(param, "fir") ? SDP_FB_CCM_FIR : 0;
    else if (span_eq(type, "goog-remb"))
        bit = SDP_FB_GOOG_REMB;
    else if (span_eq(type, "transport-cc"))
        bit = SDP_FB_TRANSPORT_CC;
    if (all) {
        c->m->fb_all |= bit; /* merged into every codec once the section is complete */
        return 0;
    }
    sdp_codec_t *k = find_codec_mut(c->m, pt);
    if (k)
        k->fb |= bit;
    return 0;
}

/* "<id>[/<direction>] <uri> [<attributes>]" (RFC 8285) */
static int a_extmap(pctx_t *c, span_t v)
{
    sdp_msection_t *m = c->m;
    span_t idd = span_token(&v), uri = span_token(&v);
    span_t ids = span_split(&idd, '/');
    uint32_t id;
    sdp_dir_t dir = SDP_DIR_NONE;
    if (span_uint(ids, 255, &id) < 0 || id == 0 || uri.n == 0)
        return SDP_ERR_SYNTAX;
    if (idd.n && parse_dir(idd, &dir) < 0)
        return SDP_ERR_SYNTAX;
    for (unsigned i = 0; i < m->n_extmaps; i++)
        if (m->extmaps[i].id == id)
            return SDP_ERR_SYNTAX;
    /* We only answer with a few short URIs, so losing an exotic one costs nothing. */
    if (m->n_extmaps == SDP_MAX_EXTMAPS || uri.n >= SDP_URI_SZ) {
        if (m->extmaps_dropped < UINT8_MAX)
            m->extmaps_dropped++;
        return 0;
    }
    sdp_extmap_t *e = &m->extmaps[m->n_extmaps++];
    e->id = (uint8_t)id;
    e->dir = dir;
    return span_copy(uri, e->uri, SDP_URI_SZ);
}

static sdp_ssrc_t *ssrc_get(sdp_msection_t *m, uint32_t ssrc)
{
    for (unsigned i = 0; i < m->n_ssrcs; i++)
        if (m->ssrcs[i].ssrc == ssrc)
            return &m->ssrcs[i];
    if (m->n_ssrcs == SDP_MAX_SSRCS)
        return NULL;
    sdp_ssrc_t *s = &m->ssrcs[m->n_ssrcs++];
    s->ssrc = ssrc;
    return s;
}

/* "<ssrc> <attribute>[:<value>]" (RFC 5576); we keep cname and msid. */
static int a_ssrc(pctx_t *c, span_t v)
{
    uint32_t id;
    span_t ids = span_token(&v);
    span_t rest = span_trim(v);
    span_t attr = span_split(&rest, ':');
    if (span_uint(ids, UINT32_MAX, &id) < 0 || attr.n == 0)
        return SDP_ERR_SYNTAX;
    sdp_ssrc_t *s = ssrc_get(c->m, id);
    if (!s)
        return SDP_ERR_TOO_MANY;
    if (span_eq(attr, "cname"))
        return copy_token(span_trim(rest), s->cname, SDP_CNAME_SZ);
    if (span_eq(attr, "msid"))
        return parse_msid(rest, s->msid_stream, s->msid_track);
    return 0;
}

static int a_ssrc_group(pctx_t *c, span_t v)
{
    sdp_msection_t *m = c->m;
    span_t sem = span_token(&v);
    if (sem.n == 0)
        return SDP_ERR_SYNTAX;
    if (!span_eq(sem, "FID") && !span_eq(sem, "SIM"))
        return 0; /* FEC-FR and friends: not used */
    if (m->n_ssrc_groups == SDP_MAX_SSRC_GROUPS)
        return SDP_ERR_TOO_MANY;
    sdp_ssrc_group_t *g = &m->ssrc_groups[m->n_ssrc_groups];
    memset(g, 0, sizeof *g);
    memcpy(g->semantics, sem.p, sem.n);
    for (span_t t = span_token(&v); t.n; t = span_token(&v)) {
        uint32_t id;
        if (span_uint(t, UINT32_MAX, &id) < 0)
            return SDP_ERR_SYNTAX;
        if (g->n == SDP_MAX_SSRCS)
            return SDP_ERR_TOO_MANY;
        g->ssrcs[g->n++] = id;
    }
    if (g->n == 0 || (span_eq(sem, "FID") && g->n != 2))
        return SDP_ERR_SYNTAX;
    m->n_ssrc_groups++;
    return 0;
}

/* "<id> send|recv [<restrictions>]" (RFC 8851); restrictions are not kept. */
static int a_rid(pctx_t *c, span_t v)
{
    sdp_msection_t *m = c->m;
    span_t id = span_token(&v), dir = span_token(&v);
    sdp_dir_t d;
    if (!is_rid_chars(id))
        return SDP_ERR_SYNTAX;
    if (span_eq(dir, "send"))
        d = SDP_DIR_SENDONLY;
    else if (span_eq(dir, "recv"))
        d = SDP_DIR_RECVONLY;
    else
        return SDP_ERR_SYNTAX;
    if (m->n_rids == SDP_MAX_RIDS)
        return SDP_ERR_TOO_MANY;
    sdp_rid_t *r = &m->rids[m->n_rids];
    int rc = span_copy(id, r->id, SDP_RID_SZ);
    if (rc < 0)
        return rc;
    r->dir = d;
    m->n_rids++;
    return 0;
}

/* "q;~h;f" or "1,2;3" into entries; "rid=" is the pre-RFC form old Firefox sent. */
static int parse_sim_list(span_t list, sdp_sim_entry_t *out, uint8_t *n)
{
    if (list.n > 4 && memcmp(list.p, "rid=", 4) == 0) {
        list.p += 4;
        list.n -= 4;
    }
    if (list.n == 0)
        return SDP_ERR_SYNTAX;
    for (uint8_t stream = 0; list.n; stream++) {
        span_t alts = span_split(&list, ';');
        if (alts.n == 0)
            return SDP_ERR_SYNTAX;
        while (alts.n) {
            span_t id = span_split(&alts, ',');
            bool paused = id.n && id.p[0] == '~';
            if (paused) {
                id.p++;
                id.n--;
            }
            if (!is_rid_chars(id))
                return SDP_ERR_SYNTAX;
            if (*n == SDP_MAX_RIDS)
                return SDP_ERR_TOO_MANY;
            sdp_sim_entry_t *e = &out[*n];
            int rc = span_copy(id, e->rid, SDP_RID_SZ);
            if (rc < 0)
                return rc;
            e->paused = paused;
            e->stream = stream;
            (*n)++;
        }
    }
    return 0;
}

/* "send <list> [recv <list>]" or the other way round (RFC 8853). */
static int a_simulcast(pctx_t *c, span_t v)
{
    sdp_msection_t *m = c->m;
    bool seen_send = false, seen_recv = false;
    for (span_t dir = span_token(&v); dir.n; dir = span_token(&v)) {
        span_t list = span_token(&v);
        int rc;
        if (span_eq(dir, "send") && !seen_send) {
            seen_send = true;
            rc = parse_sim_list(list, m->sim_send, &m->n_sim_send);
        } else if (span_eq(dir, "recv") && !seen_recv) {
            seen_recv = true;
            rc = parse_sim_list(list, m->sim_recv, &m->n_sim_recv);
        } else {
            rc = SDP_ERR_SYNTAX;
        }
        if (rc < 0)
            return rc;
    }
    return seen_send || seen_recv ? 0 : SDP_ERR_SYNTAX;
}

/* ---- dispatch ---- */

enum { AT_SESSION = 1, AT_MEDIA = 2, AT_BOTH = 3 };

typedef int (*attr_fn)(pctx_t *c, span_t value);

static const struct {
    const char *name;
    uint8_t where;   /* AT_* levels where the attribute means something to us */
    attr_fn fn;
} attr_table[] = {
    { "ice-ufrag", AT_BOTH, a_ice_ufrag },
    { "ice-pwd", AT_BOTH, a_ice_pwd },
    { "fingerprint", AT_BOTH, a_fingerprint },
    { "setup", AT_BOTH, a_setup },
    { "end-of-candidates", AT_BOTH, a_end_of_candidates },
    { "sendrecv", AT_BOTH, a_sendrecv },
    { "sendonly", AT_BOTH, a_sendonly },
    { "recvonly", AT_BOTH, a_recvonly },
    { "inactive", AT_BOTH, a_inactive },
    { "group", AT_SESSION, a_group },
    { "ice-lite", AT_SESSION, a_ice_lite },
    { "mid", AT_MEDIA, a_mid },
    { "rtcp-mux", AT_MEDIA, a_rtcp_mux },
    { "rtcp-rsize", AT_MEDIA, a_rtcp_rsize },
    { "bundle-only", AT_MEDIA, a_bundle_only },
    { "candidate", AT_MEDIA, a_candidate },
    { "msid", AT_MEDIA, a_msid },
    { "rtpmap", AT_MEDIA, a_rtpmap },
    { "fmtp", AT_MEDIA, a_fmtp },
    { "rtcp-fb", AT_MEDIA, a_rtcp_fb },
    { "extmap", AT_MEDIA, a_extmap },
    { "ssrc", AT_MEDIA, a_ssrc },
    { "ssrc-group", AT_MEDIA, a_ssrc_group },
    { "rid", AT_MEDIA, a_rid },
    { "simulcast", AT_MEDIA, a_simulcast },
};

static int line_a(pctx_t *c, span_t v)
{
    span_t name = span_trim(span_split(&v, ':')); /* "a=rtcp-mux " happens */
    uint8_t level = c->m ? AT_MEDIA : AT_SESSION;
    for (size_t i = 0; i < sizeof attr_table / sizeof attr_table[0]; i++)
        if ((attr_table[i].where & level) && span_eq(name, attr_table[i].name))
            return attr_table[i].fn(c, v);
    return 0;
}

static int line_v(pctx_t *c, span_t v)
{
    if (c->seen_v || !span_eq(v, "0"))
        return SDP_ERR_SYNTAX;
    c->seen_v = true;
    return 0;
}

/* "<user> <sess-id> <sess-version> <nettype> <addrtype> <address>" */
static int line_o(pctx_t *c, span_t v)
{
    span_t t[6];
    for (int i = 0; i < 6; i++)
        t[i] = span_token(&v);
    if (t[5].n == 0 || span_u64(t[1], UINT64_MAX, &c->o->session_id) < 0 ||
        span_u64(t[2], UINT64_MAX, &c->o->session_version) < 0)
        return SDP_ERR_SYNTAX;
    return 0;
}

static void add_fmt_codec(sdp_msection_t *m, uint32_t pt)
{
    if (find_codec_mut(m, pt))
        return;
    if (m->n_codecs == SDP_MAX_CODECS) {
        if (m->codecs_dropped < UINT8_MAX)
            m->codecs_dropped++;
        return;
    }
    sdp_codec_t *k = &m->codecs[m->n_codecs++];
    k->pt = (uint8_t)pt;
    k->apt = -1;
    k->profile_id = -1;
}

/* "<media> <port>[/<n>] <proto> <fmt> ..." */
static int line_m(pctx_t *c, span_t v)
{
    sdp_offer_t *o = c->o;
    if (o->n_m == SDP_MAX_MSECTIONS)
        return SDP_ERR_TOO_MANY;
    sdp_msection_t *m = &o->m[o->n_m++];
    c->m = m;
    span_t media = span_token(&v), portn = span_token(&v), proto = span_token(&v);
    span_t port = span_split(&portn, '/');
    uint32_t val;
    int rc;
    if (media.n == 0 || proto.n == 0 || span_uint(port, 65535, &val) < 0)
        return SDP_ERR_SYNTAX;
    m->port = (uint16_t)val;
    if ((rc = span_copy(media, m->media, sizeof m->media)) < 0 ||
        (rc = span_copy(proto, m->proto, SDP_PROTO_SZ)) < 0)
        return rc;
    m->kind = span_eq(media, "audio") ? SDP_KIND_AUDIO
            : span_eq(media, "video") ? SDP_KIND_VIDEO
            : span_eq(media, "application") ? SDP_KIND_APPLICATION : SDP_KIND_OTHER;
    bool rtp = span_has(proto, "RTP/");
    span_t fmt = span_token(&v);
    if (fmt.n == 0)
        return SDP_ERR_SYNTAX;
    if ((rc = span_copy(fmt, m->fmt0, SDP_FMT_SZ)) < 0)
        return rc;
    for (; rtp && fmt.n; fmt = span_token(&v)) {
        if (span_uint(fmt, 127, &val) < 0)
            return SDP_ERR_SYNTAX;
        add_fmt_codec(m, val);
    }
    return 0;
}

static int parse_line(pctx_t *c, span_t line)
{
    if (line.n < 2 || line.p[1] != '=' || line.p[0] < 'a' || line.p[0] > 'z')
        return SDP_ERR_SYNTAX;
    if (!c->seen_v && line.p[0] != 'v')
        return SDP_ERR_SYNTAX;
    span_t v = { line.p + 2, line.n - 2 };
    switch (line.p[0]) {
    case 'v': return line_v(c, v);
    case 'o': return line_o(c, v);
    case 'm': return line_m(c, v);
    case 'a': return line_a(c, v);
    default: return 0; /* s=, c=, t=, b=...: nothing we need */
    }
}

/* ---- after the last line ---- */

static void pick(char *dst, const char *media, const char *session, size_t sz)
{
    const char *src = media[0] ? media : session;
    size_t n = strnlen(src, sz - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* With BUNDLE the transport is the one the BUNDLE-tag m-section describes (RFC 8843);
 * each attribute written there overrides the session-level one. */
static void resolve_transport(sdp_offer_t *o)
{
    const sdp_transport_t *s = &o->session_tp;
    int tag = o->bundle_tag >= 0 ? o->bundle_tag : (o->n_m ? 0 : -1);
    const sdp_transport_t *mt = tag >= 0 ? &o->m[tag].tp : s;
    const sdp_transport_t *fp = mt->fp_len ? mt : s;
    sdp_transport_t *t = &o->tp;
    pick(t->ice_ufrag, mt->ice_ufrag, s->ice_ufrag, sizeof t->ice_ufrag);
    pick(t->ice_pwd, mt->ice_pwd, s->ice_pwd, sizeof t->ice_pwd);
    t->setup = mt->setup ? mt->setup : s->setup;
    memcpy(t->fp_alg, fp->fp_alg, sizeof t->fp_alg);
    memcpy(t->fp_hex, fp->fp_hex, sizeof t->fp_hex);
    memcpy(t->fp, fp->fp, sizeof t->fp);
    t->fp_len = fp->fp_len;
}

static void finish(sdp_offer_t *o)
{
    if (o->bundle_tag == -2)
        o->bundle_tag = -1;
    for (unsigned i = 0; i < o->n_m; i++) {
        sdp_msection_t *m = &o->m[i];
        for (unsigned k = 0; k < m->n_codecs; k++)
            m->codecs[k].fb |= m->fb_all;
        if (m->dir == SDP_DIR_NONE)
            m->dir = o->dir;
    }
    for (unsigned b = 0; b < o->n_bundle; b++) {
        int i = sdp_find_mid(o, o->bundle[b]);
        if (i < 0)
            continue;
        o->m[i].in_bundle = true;
        if (o->bundle_tag < 0)
            o->bundle_tag = i;
    }
    resolve_transport(o);
}

int sdp_parse(const char *text, size_t len, sdp_offer_t *out)
{
    if (!text || !out)
        return SDP_ERR_PARAM;
    memset(out, 0, sizeof *out);
    out->bundle_tag = -2; /* no BUNDLE group seen yet */
    pctx_t c = { .o = out };
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        span_t line = { text + pos, end - pos };
        pos = nl ? end + 1 : len;
        if (line.n && line.p[line.n - 1] == '\r')
            line.n--;
        if (line.n > SDP_MAX_LINE)
            return SDP_ERR_LINE_TOO_LONG;
        if (memchr(line.p, '\0', line.n) || memchr(line.p, '\r', line.n))
            return SDP_ERR_SYNTAX;
        if (line.n == 0)
            continue; /* tolerate blank lines, e.g. a trailing one */
        int rc = parse_line(&c, line);
        if (rc < 0)
            return rc;
    }
    if (!c.seen_v)
        return SDP_ERR_SYNTAX;
    finish(out);
    return 0;
}

/* ---- validation ---- */

static bool has_opus(const sdp_msection_t *m)
{
    for (unsigned k = 0; k < m->n_codecs; k++) {
        const sdp_codec_t *c = &m->codecs[k];
        if (c->has_rtpmap && strcasecmp(c->name, "opus") == 0 && c->clock == 48000 &&
            c->channels == 2)
            return true;
    }
    return false;
}

static int check_mids(const sdp_offer_t *o)
{
    for (unsigned i = 0; i < o->n_m; i++)
        if (!o->m[i].mid[0] || sdp_find_mid(o, o->m[i].mid) != (int)i)
            return SDP_ERR_NO_MID;
    for (unsigned b = 0; b < o->n_bundle; b++)
        if (sdp_find_mid(o, o->bundle[b]) < 0)
            return SDP_ERR_NO_BUNDLE;
    return o->n_bundle && o->bundle_tag >= 0 ? 0 : SDP_ERR_NO_BUNDLE;
}

static int check_transport(const sdp_transport_t *tp)
{
    if (!tp->ice_ufrag[0] || !tp->ice_pwd[0])
        return SDP_ERR_NO_ICE;
    if (!tp->fp_len)
        return SDP_ERR_NO_FINGERPRINT;
    if (strcmp(tp->fp_alg, "sha-256") != 0)
        return SDP_ERR_FINGERPRINT_ALG;
    return tp->setup == SDP_SETUP_NONE ? SDP_ERR_NO_SETUP : 0;
}

/* Only m-sections we could accept must be usable; the rest get rejected in the answer. */
static int check_media(const sdp_offer_t *o)
{
    bool opus = false;
    for (unsigned i = 0; i < o->n_m; i++) {
        const sdp_msection_t *m = &o->m[i];
        bool rtp = m->kind == SDP_KIND_AUDIO || m->kind == SDP_KIND_VIDEO;
        if (!rtp || !sdp_m_active(m) || !m->in_bundle || !proto_is_dtls_srtp(m->proto))
            continue;
        if (!m->rtcp_mux)
            return SDP_ERR_NO_RTCP_MUX;
        if (m->kind == SDP_KIND_AUDIO && has_opus(m))
            opus = true;
    }
    return opus ? 0 : SDP_ERR_NO_OPUS;
}

int sdp_validate_offer(const sdp_offer_t *o)
{
    int rc;
    if (!o)
        return SDP_ERR_PARAM;
    if ((rc = check_mids(o)) < 0 || (rc = check_transport(&o->tp)) < 0)
        return rc;
    return check_media(o);
}

int sdp_parse_offer(const char *text, size_t len, sdp_offer_t *out)
{
    int rc = sdp_parse(text, len, out);
    return rc < 0 ? rc : sdp_validate_offer(out);
}

const char *sdp_strerror(int err)
{
    switch (err) {
    case 0: return "no error";
    case SDP_ERR_SYNTAX: return "not SDP, or a known line is malformed";
    case SDP_ERR_LINE_TOO_LONG: return "an SDP line is too long";
    case SDP_ERR_TOO_MANY: return "too many m-sections, ssrcs, rids or BUNDLE mids";
    case SDP_ERR_TOO_LONG: return "an identifier (mid, ufrag, cname, rid...) is too long";
    case SDP_ERR_NO_BUNDLE: return "offer has no usable a=group:BUNDLE (BUNDLE is required)";
    case SDP_ERR_NO_MID: return "an m-section lacks a unique a=mid";
    case SDP_ERR_NO_ICE: return "offer lacks a=ice-ufrag or a=ice-pwd";
    case SDP_ERR_NO_FINGERPRINT: return "offer lacks a DTLS a=fingerprint";
    case SDP_ERR_FINGERPRINT_ALG: return "DTLS fingerprint is not sha-256";
    case SDP_ERR_NO_SETUP: return "offer lacks a=setup";
    case SDP_ERR_NO_RTCP_MUX: return "an audio/video m-section lacks a=rtcp-mux (required)";
    case SDP_ERR_NO_OPUS: return "offer has no audio m-section with opus/48000/2";
    case SDP_ERR_PARAM: return "invalid argument or answer parameter";
    case SDP_ERR_SPACE: return "SDP answer does not fit the buffer";
    default: return "unknown SDP error";
    }
}
