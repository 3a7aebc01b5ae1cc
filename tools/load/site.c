/* One synthetic site: sign-in, ICE/DTLS, media out, statistics of media in (see site.h).
 * Nothing here blocks: every step runs from an epoll event or the 5 ms timer of main. */
#include "tools/load/site.h"
#include "tools/load/impair.h"
#include "media/bytes.h"
#include "media/rtcp.h"
#include "media/vpx.h"
#include "media/rtp.h"
#include "media/srtp.h"
#include "tools/load/video.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define OFFER_MAX 8192
#define RX_BATCH 16
#define CONSENT_MS 5000        /* RFC 7675: checks well inside the server's 30 s */
#define OFFER_EXT_LEVEL 1      /* our extmap ids; the answer repeats them */
#define OFFER_EXT_MID 4
#define OFFER_EXT_RID 10

static const char *const stage_names[] = {
    [SITE_WAITING] = "waiting", [SITE_TCP] = "tcp_connect", [SITE_UPGRADE] = "websocket_upgrade",
    [SITE_ANSWER] = "waiting_for_answer", [SITE_CONNECTING] = "ice_dtls",
    [SITE_FIRST_MEDIA] = "waiting_for_first_media", [SITE_MEDIA] = "media", [SITE_FAILED] = "failed",
    [SITE_SIGNIN] = "signin", [SITE_IDLE] = "idle", [SITE_BACKOFF] = "backoff",
};

const char *site_stage_name(enum site_stage st)
{
    return st <= SITE_BACKOFF ? stage_names[st] : "?";
}

static int64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool in_flight(enum site_stage st)
{
    return st >= SITE_TCP && st <= SITE_CONNECTING;
}

static void set_stage(struct site *s, struct load_env *env, enum site_stage st)
{
    env->in_flight += (int)in_flight(st) - (int)in_flight(s->stage);
    s->stage = st;
}

void site_set_stage(struct site *s, struct load_env *env, enum site_stage st)
{
    set_stage(s, env, st);
}

/* Records the first failure; the sockets are closed later by site_reap. */
void site_fail(struct site *s, struct load_env *env, const char *fmt, ...)
{
    if (s->stage == SITE_FAILED)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
    s->failed_at = s->stage;
    set_stage(s, env, SITE_FAILED);
    env->failed++;
}

static uint32_t rand32(void)
{
    return (uint32_t)random() << 16 ^ (uint32_t)random();
}

void site_init(struct site *s, int index, int room, int talker, bool muted, bool marker,
               const char *name, const char *conference, struct load_env *env)
{
    memset(s, 0, sizeof *s);
    s->index = index;
    s->room = room;
    s->talker = talker;
    s->muted = muted;
    s->marker = marker;
    s->tcp_fd = -1;
    s->wc.fd = -1;
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->conference, sizeof s->conference, "%s", conference);
    s->ssrc = rand32();
    s->seq = (uint16_t)rand32();
    s->ts = rand32();
    s->send_audio = true;
    s->vpub = env->video; /* every site, unless the run gives video roles */
    s->vactive = (1u << LVID_LAYERS) - 1;
    for (int l = 0; l < 3; l++) {
        s->vssrc[l] = rand32();
        s->vseq[l] = (uint16_t)rand32();
    }
    if (talker < 0 || muted)
        s->ring = env->silence;
    else
        s->ring = marker ? env->marker_ring : env->talker_ring[talker];
}

static int ep_add(struct load_env *env, int fd, uint64_t tag, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    return epoll_ctl(env->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void ep_mod(struct load_env *env, int fd, uint64_t tag, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u64 = tag};
    epoll_ctl(env->epfd, EPOLL_CTL_MOD, fd, &ev);
}

static uint64_t tag(const struct site *s, int kind)
{
    return (uint64_t)s->index << 2 | (uint64_t)kind;
}

int site_udp_open(struct site *s, struct load_env *env)
{
    if (wclient_init(&s->wc, env->identity, env->bind_addr) < 0) {
        site_fail(s, env, "cannot create its UDP socket on %s: %s", env->bind_addr, strerror(errno));
        return -1;
    }
    s->wc.srtp_flags = env->own_gcm ? 0 : SRTPX_LIBSRTP_ONLY;
    s->wc_open = true;
    int one = 1;
    setsockopt(s->wc.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    if (ep_add(env, s->wc.fd, tag(s, TAG_UDP), EPOLLIN) < 0) {
        site_fail(s, env, "epoll: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void site_udp_close(struct site *s, struct load_env *env)
{
    if (!s->wc_open)
        return;
    epoll_ctl(env->epfd, EPOLL_CTL_DEL, s->wc.fd, NULL);
    wclient_free(&s->wc);
    s->wc_open = false;
}

int site_ws_connect(struct site *s, struct load_env *env, char *why, size_t cap)
{
    int one = 1;
    s->tcp_fd = socket(env->ws_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->tcp_fd < 0) {
        snprintf(why, cap, "cannot create a TCP socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(s->tcp_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s->tcp_fd, (struct sockaddr *)&env->ws_addr, env->ws_addr_len) < 0 && errno != EINPROGRESS)
        snprintf(why, cap, "cannot connect to %s: %s", env->host_port, strerror(errno));
    else if (ws_conn_start(&s->ws, s->tcp_fd, env->host_port, env->ws_path, env->janus ? LJANUS_PROTOCOL : NULL) < 0)
        snprintf(why, cap, "out of memory");
    else if (ep_add(env, s->tcp_fd, tag(s, TAG_TCP), EPOLLIN | EPOLLOUT) < 0)
        snprintf(why, cap, "epoll: %s", strerror(errno));
    else
        return 0;
    site_ws_close(s, env);
    return -1;
}

void site_ws_close(struct site *s, struct load_env *env)
{
    if (s->tcp_fd >= 0) {
        epoll_ctl(env->epfd, EPOLL_CTL_DEL, s->tcp_fd, NULL);
        close(s->tcp_fd);
        s->tcp_fd = -1;
    }
    ws_conn_free(&s->ws);
}

void site_ws_rearm(struct site *s, struct load_env *env)
{
    if (s->tcp_fd >= 0)
        ep_mod(env, s->tcp_fd, tag(s, TAG_TCP), EPOLLIN | (ws_conn_want_write(&s->ws) ? EPOLLOUT : 0));
}

void site_open(struct site *s, struct load_env *env, int64_t now_ms)
{
    char why[200];
    s->t_open_ms = now_ms;
    set_stage(s, env, SITE_TCP);
    if (site_udp_open(s, env) < 0)
        return;
    if (site_ws_connect(s, env, why, sizeof why) < 0)
        return site_fail(s, env, "%s", why);
}

/* ---- the offer and the answer ---- */

static int offer_transport(char *o, size_t cap, const struct site *s, const struct load_env *env,
                           const char *mid)
{
    return snprintf(o, cap,
                    "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                    "a=ice-options:trickle\r\na=fingerprint:sha-256 %s\r\na=setup:actpass\r\n"
                    "a=mid:%s\r\na=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
                    s->wc.local_ufrag, s->wc.local_pwd, dtls_identity_fingerprint(env->identity), mid,
                    OFFER_EXT_MID);
}

/* The address and port of the site's UDP socket, for its candidate. */
void site_local_addr(const struct site *s, char ip[INET6_ADDRSTRLEN], int *port)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    snprintf(ip, INET6_ADDRSTRLEN, "127.0.0.1");
    *port = 9;
    if (getsockname(s->wc.fd, (struct sockaddr *)&ss, &sl) < 0)
        return;
    if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, INET6_ADDRSTRLEN);
        *port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, INET6_ADDRSTRLEN);
        *port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
}

#define PUT(...) do { int k_ = snprintf(o + n, cap - n, __VA_ARGS__); if (k_ < 0 || (size_t)k_ >= cap - n) return -1; n += (size_t)k_; } while (0)

/* A video m-section with mid `mid`: the camera (sendrecv, rid simulcast) of a publisher, or
 * a track to receive (recvonly) for the others and for each thumbnail. */
static int offer_video(char *o, size_t cap, const struct site *s, const struct load_env *env, int mid,
                       bool camera)
{
    size_t n = 0;
    char m[12];
    snprintf(m, sizeof m, "%d", mid);
    PUT("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    n += (size_t)offer_transport(o + n, cap - n, s, env, m);
    if (camera)
        PUT("a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\na=sendrecv\r\n"
            "a=msid:site%d cam%d\r\n", OFFER_EXT_RID, s->index, s->index);
    else
        PUT("a=recvonly\r\n");
    PUT("a=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:96 VP8/90000\r\n"
        "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\n");
    if (camera)
        PUT("a=rid:%s send\r\na=rid:%s send\r\na=rid:%s send\r\na=simulcast:send %s;%s;%s\r\n",
            lvid_rid(0), lvid_rid(1), lvid_rid(2), lvid_rid(0), lvid_rid(1), lvid_rid(2));
    return (int)n;
}

/* Our offer, as a browser with one microphone (and one simulcast camera) would make it: with
 * --video, a site that publishes offers its camera sendrecv, the others one video track
 * recvonly; each then asks for s->vthumbs more video tracks, recvonly (mids 2, 3...). */
static int build_offer(char *o, size_t cap, const struct site *s, const struct load_env *env)
{
    char ip[INET6_ADDRSTRLEN];
    int port, videos = env->video ? 1 + s->vthumbs : 0;
    site_local_addr(s, ip, &port);
    size_t n = 0;
    PUT("v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0", rand32() & 0x7FFFFFFF);
    for (int v = 0; v < videos; v++)
        PUT(" %d", 1 + v);
    PUT("\r\na=msid-semantic: WMS site%d\r\n", s->index);
    PUT("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
    n += (size_t)offer_transport(o + n, cap - n, s, env, "0");
    PUT("a=extmap:%d urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=sendrecv\r\n"
        "a=msid:site%d mic%d\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
        "a=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
        "a=ssrc:%u cname:site%d\r\na=candidate:1 1 udp 2122260223 %s %d typ host\r\n"
        "a=end-of-candidates\r\n",
        OFFER_EXT_LEVEL, s->index, s->index, s->ssrc, s->index, ip, port);
    for (int v = 0; v < videos; v++) {
        int k = offer_video(o + n, cap - n, s, env, 1 + v, v == 0 && s->vpub);
        if (k < 0)
            return -1;
        n += (size_t)k;
    }
    return (int)n;
}
#undef PUT

/* The first UDP host candidate of the wanted family: "a=candidate:F C udp P ADDR PORT typ ..." */
static int pick_candidate(const char *sdp, int family, char *addr, size_t acap, int *port)
{
    for (const char *p = strstr(sdp, "a=candidate:"); p; p = strstr(p + 1, "a=candidate:")) {
        char fnd[64], tr[16], a[64], typ[16];
        unsigned comp, prio;
        int pt;
        if (sscanf(p, "a=candidate:%63s %u %15s %u %63s %d typ %15s", fnd, &comp, tr, &prio, a, &pt, typ) != 7)
            continue;
        if (strcasecmp(tr, "udp") || comp != 1 || (strchr(a, ':') != NULL) != (family == AF_INET6))
            continue;
        snprintf(addr, acap, "%s", a);
        *port = pt;
        return 0;
    }
    return -1;
}

static uint8_t ext_id(const sdp_msection_t *m, sdp_ext_t e)
{
    const sdp_extmap_t *x = sdp_find_extmap(m, sdp_ext_uri(e));
    return x && x->id <= 14 ? x->id : 0;
}

/* The codecs and extensions of the remote SDP: Opus and its extensions from the first
 * audio m-section; VP8, the rid extension and the mid from the first video m-section (the
 * one we send on); every VP8 payload type of every video m-section, to count what arrives. */
static void take_codecs(struct site *s, const sdp_offer_t *a)
{
    s->opus_pt = s->vp8_pt = -1;
    memset(s->vp8_pts, 0, sizeof s->vp8_pts);
    for (int i = 0; i < a->n_m; i++) {
        const sdp_msection_t *m = &a->m[i];
        if (!m->port && !m->bundle_only)
            continue;
        for (int k = 0; k < m->n_codecs; k++) {
            if (m->kind == SDP_KIND_AUDIO && s->opus_pt < 0 && !strcasecmp(m->codecs[k].name, "opus")) {
                s->opus_pt = m->codecs[k].pt;
                s->ext_level = ext_id(m, SDP_EXT_AUDIO_LEVEL);
                s->ext_mid = ext_id(m, SDP_EXT_MID);
                snprintf(s->mid_audio, sizeof s->mid_audio, "%s", m->mid);
            }
            if (m->kind != SDP_KIND_VIDEO || strcasecmp(m->codecs[k].name, "VP8"))
                continue;
            s->vp8_pts[m->codecs[k].pt >> 3] |= (uint8_t)(1u << (m->codecs[k].pt & 7));
            if (s->vp8_pt < 0) {
                s->vp8_pt = m->codecs[k].pt;
                s->ext_rid = ext_id(m, SDP_EXT_RID);
                if (!s->ext_mid) /* BUNDLE: one id per extension; video must carry the mid */
                    s->ext_mid = ext_id(m, SDP_EXT_MID);
                snprintf(s->mid_video, sizeof s->mid_video, "%s", m->mid);
            }
        }
    }
}

void site_apply_remote(struct site *s, struct load_env *env, const char *sdp)
{
    const char *what = s->jan.role == LJANUS_VR_SUBSCRIBER ? "offer" : "answer";
    sdp_offer_t *a = env->scratch;
    int rc = sdp_parse(sdp, strlen(sdp), a);
    if (rc < 0)
        return site_fail(s, env, "cannot parse the %s: %s", what, sdp_strerror(rc));
    take_codecs(s, a);
    if (s->opus_pt < 0 && !env->janus_video)
        return site_fail(s, env, "the %s accepts no Opus", what);
    if (!s->ext_level && !env->janus) /* Janus selects no talkers: we do not offer it there */
        return site_fail(s, env, "the %s did not negotiate ssrc-audio-level", what);
    char addr[64];
    int port;
    if (pick_candidate(sdp, env->family, addr, sizeof addr, &port) < 0)
        return site_fail(s, env, "the %s has no %s UDP candidate", what, env->family == AF_INET6 ? "IPv6" : "IPv4");
    if (!a->tp.ice_ufrag[0] || !a->tp.ice_pwd[0] || !a->tp.fp_hex[0])
        return site_fail(s, env, "the %s lacks ICE credentials or a fingerprint", what);
    if (wclient_set_remote(&s->wc, addr, port, a->tp.ice_ufrag, a->tp.ice_pwd, a->tp.fp_hex) < 0)
        return site_fail(s, env, "bad remote transport %s:%d", addr, port);
    set_stage(s, env, SITE_CONNECTING);
}

void site_take_answer(struct site *s, struct load_env *env, const char *session, const char *sdp)
{
    if (!sdp || !session)
        return site_fail(s, env, "answer without sdp/session");
    snprintf(s->session, sizeof s->session, "%s", session);
    site_apply_remote(s, env, sdp);
}

static void on_answer(struct site *s, struct load_env *env, json_t *msg)
{
    site_take_answer(s, env, json_string_value(json_object_get(msg, "session")),
                     json_string_value(json_object_get(msg, "sdp")));
}

static void on_message(void *arg, char *text, size_t len)
{
    struct site *s = ((void **)arg)[0];
    struct load_env *env = ((void **)arg)[1];
    if (env->janus)
        return site_janus_on_message(s, env, text, len);
    json_error_t jerr;
    json_t *msg = json_loadb(text, len, 0, &jerr);
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type) {
        site_fail(s, env, "unreadable server message: %.80s", text);
    } else if (!strcmp(type, "answer") && s->stage == SITE_ANSWER) {
        on_answer(s, env, msg);
    } else if (!strcmp(type, "error")) {
        site_fail(s, env, "server error %s: %s", json_string_value(json_object_get(msg, "code")),
             json_string_value(json_object_get(msg, "message")));
    } else if (!strcmp(type, "closed")) {
        site_fail(s, env, "the server closed its session: %s", json_string_value(json_object_get(msg, "reason")));
    } else if (!strcmp(type, "state") && !strcmp(json_string_value(json_object_get(msg, "state")) ?: "", "failed")) {
        site_fail(s, env, "the server reports its session failed");
    } else if (!strcmp(type, "speaker")) {
        s->speaker_events++;
    } else if (!strcmp(type, "layers")) {
        site_on_layers(s, env, msg);
    }
    json_decref(msg);
}

void site_on_layers(struct site *s, struct load_env *env, json_t *msg)
{
    json_t *active = json_object_get(msg, "active");
    uint8_t mask = 1; /* the lowest always runs */
    for (size_t l = 1; l < LVID_LAYERS && l < json_array_size(active); l++)
        if (json_is_true(json_array_get(active, l)))
            mask |= (uint8_t)(1u << l);
    for (size_t l = json_array_size(active); l < LVID_LAYERS; l++)
        mask |= (uint8_t)(1u << l); /* not mentioned: unchanged meaning, keep sending */
    if (mask != s->vactive)
        env->layers_msgs++;
    s->vactive = mask;
}

void site_send_join(struct site *s, struct load_env *env)
{
    char *offer = malloc(OFFER_MAX);
    if (!offer || build_offer(offer, OFFER_MAX, s, env) < 0) {
        free(offer);
        return site_fail(s, env, "cannot build the offer");
    }
    json_t *j = json_pack("{s:s,s:i,s:s,s:s}", "type", "join", "id", 1, "conference", s->conference, "sdp", offer);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    free(offer);
    if (!text || ws_conn_send_text(&s->ws, text, strlen(text)) < 0)
        site_fail(s, env, "cannot send the join");
    free(text);
    if (s->stage != SITE_FAILED)
        set_stage(s, env, SITE_ANSWER);
}

void site_on_tcp(struct site *s, struct load_env *env, uint32_t events, int64_t now_ms)
{
    if (s->stage == SITE_FAILED)
        return;
    if (s->stage == SITE_TCP) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(s->tcp_fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err)
            return site_fail(s, env, "TCP connect to %s: %s", env->host_port, strerror(err));
        if (!(events & (EPOLLOUT | EPOLLIN)))
            return;
        set_stage(s, env, SITE_UPGRADE);
    }
    if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN))
        return site_fail(s, env, env->stopping ? "closing" : "the WebSocket connection dropped");
    if (ws_conn_flush(&s->ws) < 0)
        return site_fail(s, env, "cannot write to the WebSocket");
    if (events & EPOLLIN) {
        void *arg[2] = {s, env};
        bool was_open = s->ws.open;
        int rc = ws_conn_on_readable(&s->ws, on_message, arg);
        if (rc < 0 && s->stage != SITE_FAILED && !env->stopping)
            site_fail(s, env, "%s", !was_open ? "the WebSocket upgrade was refused or cut"
                               : rc == WS_ERR_IO ? "the server closed the WebSocket"
                               : rc == WS_ERR_PROTO ? "the server broke the WebSocket framing"
                               : "the WebSocket failed (message too big or no memory)");
        if (s->stage == SITE_FAILED)
            return;
        if (!was_open && s->ws.open && env->janus)
            site_janus_start(s, env, now_ms);
        else if (!was_open && s->ws.open)
            site_send_join(s, env);
    }
    if (s->stage != SITE_FAILED)
        ep_mod(env, s->tcp_fd, tag(s, TAG_TCP), EPOLLIN | (ws_conn_want_write(&s->ws) ? EPOLLOUT : 0));
}

/* ---- media in ---- */

/* RFC 3550 A.1 (sequence) and A.8 (jitter), with arrival time in RTP units. */
static void rx_update(struct site_rx *rx, uint16_t seq, uint32_t ts, int64_t arrival_ns)
{
    if (!rx->started) {
        rx->started = true;
        rx->max_seq = seq;
        rx->base_seq = seq;
        rx->cycles = 0;
    } else {
        uint16_t delta = (uint16_t)(seq - rx->max_seq);
        if (delta < 0x8000) {
            if (seq < rx->max_seq)
                rx->cycles += 1u << 16;
            rx->max_seq = seq;
        }
    }
    rx->received++;
    int64_t arrival = arrival_ns / 1000 * 48 / 1000; /* 48 kHz units; ns * 48 would overflow */
    int64_t transit = arrival - (int64_t)ts;
    if (rx->have_transit) {
        int64_t d = transit - rx->last_transit;
        d = (int64_t)(int32_t)(uint32_t)d; /* ts wraps at 2^32 */
        if (d < 0)
            d = -d;
        rx->jitter += ((double)d - rx->jitter) / 16.0;
    }
    rx->last_transit = transit;
    rx->have_transit = true;
}

void site_rx_loss(const struct site_rx *rx, uint64_t *expected, uint64_t *lost)
{
    if (!rx->started) {
        *expected = *lost = 0;
        return;
    }
    uint64_t ext_max = (uint64_t)rx->cycles + rx->max_seq;
    *expected = ext_max - rx->base_seq + 1;
    *lost = *expected > rx->received ? *expected - rx->received : 0;
}

/* The first media of the session: the site has joined. */
static void first_media(struct site *s, struct load_env *env, int64_t now_ms)
{
    if (s->stage != SITE_FIRST_MEDIA)
        return;
    s->t_first_ms = now_ms;
    set_stage(s, env, SITE_MEDIA);
    env->joined++;
}

static bool is_vp8(const struct site *s, uint8_t pt)
{
    return s->vp8_pts[pt >> 3] >> (pt & 7) & 1;
}

/* One video packet received (RTP header fields, `wire` bytes as it arrived). */
static void count_video(struct site *s, struct load_env *env, uint32_t ssrc, bool marker, size_t wire,
                        const struct vpx_desc *key, int64_t now_ms)
{
    size_t tag = s->wc.srtp_profile == SRTPX_AEAD_AES_128_GCM ? 16 : 10;
    first_media(s, env, now_ms);
    s->video_pkts_in++;
    s->video_bytes_in += wire;
    s->video_frames_in += marker;
    env->video_in++;
    env->video_bytes_in += wire;
    env->video_rtp_bytes_in += wire > tag ? wire - tag : 0;
    env->video_frames_in += marker;
    int i = 0;
    while (i < s->n_vstreams && s->vstreams[i].ssrc != ssrc)
        i++;
    if (i == s->n_vstreams && i < SITE_MAX_VSTREAMS) /* more streams are counted, not kept apart */
        s->vstreams[s->n_vstreams++].ssrc = ssrc;
    if (i < s->n_vstreams) {
        s->vstreams[i].packets++;
        s->vstreams[i].frames += marker;
        s->vstreams[i].bytes += wire;
        if (key) {
            s->vstreams[i].keyframes++;
            s->vstreams[i].width = key->width;
            s->vstreams[i].height = key->height;
        }
    }
}

/* --video-check N: a video packet that need not be decrypted is counted from its header,
 * which SRTP leaves in the clear (RFC 3711 3.1). True when it was. */
static bool video_in_clear(struct site *s, struct load_env *env, const uint8_t *buf, size_t len,
                           int64_t now_ms)
{
    if (s->nack) /* it must see what it drops and what comes back */
        return false;
    if (env->video_check_every <= 1 || !s->wc.srtp || len < 12 || buf[0] >> 6 != 2 || !is_vp8(s, buf[1] & 0x7F))
        return false;
    if (s->video_seen++ % (uint32_t)env->video_check_every == 0)
        return false; /* this one is decrypted: a wrong key or tag shows as unprotect_errors */
    env->pkts_in++;
    env->bytes_in += len;
    count_video(s, env, be_rd32(buf + 8), buf[1] >> 7, len, NULL, now_ms);
    return true;
}

/* --video-nack: one video packet in N is treated as lost before it is decrypted (as if the
 * network had dropped it; decrypting it would make the resend a replay), kept as it came,
 * and NACKed. The resend must be that very packet: the same clear header fields and the
 * same encrypted payload, which under the same SSRC and seq means the same plain payload
 * (header extensions may differ: the transport-wide seq is new on a resend). True when
 * the packet is consumed. */
static bool nack_check(struct site *s, struct load_env *env, const uint8_t *buf, size_t len, int64_t now_ms)
{
    struct site_nack *n = s->nack;
    size_t tag = s->wc.srtp_profile == SRTPX_AEAD_AES_128_GCM ? 16 : 10;
    rtp_hdr_t h, o;
    if (!s->wc.srtp || len < 12 || buf[0] >> 6 != 2 || !is_vp8(s, buf[1] & 0x7F) || rtp_parse(buf, len, &h) < 0 ||
        h.padding || h.payload_len <= tag)
        return false;
    if (n->pending && h.ssrc == n->ssrc && h.seq == n->seq) {
        n->pending = false;
        bool same = rtp_parse(n->pkt, n->len, &o) == 0 && o.pt == h.pt && o.marker == h.marker && o.ts == h.ts &&
                    o.payload_len == h.payload_len &&
                    !memcmp(n->pkt + o.payload_off, buf + h.payload_off, h.payload_len - tag);
        if (same)
            env->nack_repaired++;
        else
            env->nack_mismatched++;
        return false; /* decrypted and counted now, as it would have been */
    }
    if (n->pending && now_ms - n->sent_ms > 1000) {
        n->pending = false;
        env->nack_unanswered++;
    }
    if (n->pending || len > sizeof n->pkt || s->video_seen++ % (uint32_t)env->video_nack_every)
        return false;
    uint8_t fb[64];
    int fl = rtcp_build_nack(fb, sizeof fb - SRTPX_MAX_TRAILER, s->ssrc, h.ssrc, &h.seq, 1);
    if (fl < 0 || wclient_send_srtp(&s->wc, fb, (size_t)fl, sizeof fb, true) < 0)
        return false;
    *n = (struct site_nack){.pending = true, .seq = h.seq, .ssrc = h.ssrc, .sent_ms = now_ms, .len = len};
    memcpy(n->pkt, buf, len);
    env->nacks_sent++;
    return true;
}

static void on_rtp(struct site *s, struct load_env *env, const uint8_t *buf, size_t len, size_t wire,
                   int64_t arrival_ns, int64_t now_ms)
{
    rtp_hdr_t h;
    if (rtp_parse(buf, len, &h) < 0)
        return;
    if (is_vp8(s, h.pt)) {
        env->video_decrypted++;
        struct vpx_desc d; /* a keyframe's start tells its size, hence the layer */
        bool key = vpx_parse_vp8(buf + h.payload_off, h.payload_len, &d) == 0 && d.keyframe && d.width;
        return count_video(s, env, h.ssrc, h.marker, wire, key ? &d : NULL, now_ms);
    }
    if (h.pt != s->opus_pt)
        return;
    first_media(s, env, now_ms);
    env->audio_in++;
    env->audio_rtp_bytes_in += len;
    s->t_last_audio_ms = now_ms;
    rx_update(&s->rx, h.seq, h.ts, arrival_ns);
    if (s->ear)
        lv_ear_packet(s->ear, h.seq, buf + h.payload_off, h.payload_len, arrival_ns);
}


/* A PLI for one of our video streams restarts the ring at its keyframe, as a real
 * encoder would send one (at most once a second: the ring is pre-encoded). */
static void on_keyframe_request(struct site *s, const uint8_t *buf, size_t len, int64_t now_ms)
{
    rtcp_iter_t it;
    rtcp_pkt_t k;
    rtcp_iter_init(&it, buf, len);
    while (rtcp_iter_next(&it, &k) > 0) {
        bool ours = false;
        for (int l = 0; l < LVID_LAYERS; l++)
            ours |= k.kind == RTCP_PLI && k.fb.media_ssrc == s->vssrc[l];
        if (ours && s->vpub && now_ms - s->vkey_ms >= 1000) {
            s->vkey_ms = now_ms;
            s->vkey_base = (s->frames + 1) / 2; /* the next video slot */
            return;
        }
    }
}

void site_on_udp(struct site *s, struct load_env *env, int64_t now_ms)
{
    static uint8_t bufs[RX_BATCH][1600];
    static char ctl[RX_BATCH][CMSG_SPACE(sizeof(struct timespec))];
    struct mmsghdr mm[RX_BATCH];
    struct iovec iov[RX_BATCH];
    if (s->stage == SITE_FAILED || !s->wc_open)
        return;
    for (int i = 0; i < RX_BATCH; i++) {
        iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
        mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1,
                                        .msg_control = ctl[i], .msg_controllen = sizeof ctl[i]};
    }
    int n = recvmmsg(s->wc.fd, mm, RX_BATCH, MSG_DONTWAIT, NULL);
    int64_t fallback = n > 0 ? realtime_ns() : 0;
    for (int i = 0; i < n; i++) {
        int64_t at = fallback;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mm[i].msg_hdr); c; c = CMSG_NXTHDR(&mm[i].msg_hdr, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            }
        bool rtcp = false;
        int len;
        size_t m = mm[i].msg_len;
        if (s->nack && nack_check(s, env, bufs[i], m, now_ms))
            continue;
        if (video_in_clear(s, env, bufs[i], m, now_ms))
            continue;
        len = wclient_input(&s->wc, bufs[i], m, &rtcp);
        if (len < 0) {
            if (s->wc.srtp)
                env->unprotect_errors++;
            continue;
        }
        if (len == 0)
            continue;
        env->pkts_in++;
        env->bytes_in += mm[i].msg_len;
        if (rtcp) {
            s->received_rtcp++;
            env->rtcp_in++;
            on_keyframe_request(s, bufs[i], (size_t)len, now_ms);
        } else {
            on_rtp(s, env, bufs[i], (size_t)len, m, at, now_ms);
        }
    }
    if (s->stage == SITE_CONNECTING) /* a DTLS flight may have completed the handshake */
        site_tick(s, env, now_ms, 0);
}

/* ---- timers and media out ---- */

void site_tick(struct site *s, struct load_env *env, int64_t now_ms, int64_t join_timeout_ms)
{
    if (s->stage == SITE_FAILED || s->stage == SITE_WAITING)
        return;
    if (join_timeout_ms > 0 && s->stage != SITE_MEDIA && now_ms - s->t_open_ms > join_timeout_ms)
        return site_fail(s, env, "still at stage %s after %lld ms", site_stage_name(s->stage),
                    (long long)(now_ms - s->t_open_ms));
    if (s->stage == SITE_CONNECTING) {
        int rc = wclient_advance(&s->wc, now_ms);
        if (rc < 0)
            return site_fail(s, env, "DTLS failed: %s", dtls_conn_reason(s->wc.dtls));
        if (rc == 1) {
            s->t_keys_ms = now_ms;
            s->next_consent_ms = now_ms + CONSENT_MS + s->index % CONSENT_MS;
            set_stage(s, env, SITE_FIRST_MEDIA);
            if (env->janus && s->jan.role == LJANUS_VR_PUBLISHER)
                first_media(s, env, now_ms); /* it only sends: Janus sends it no RTP */
        }
        return;
    }
    if ((s->stage == SITE_FIRST_MEDIA || s->stage == SITE_MEDIA) && now_ms >= s->next_consent_ms) {
        wclient_send_check(&s->wc, true);
        s->next_consent_ms = now_ms + CONSENT_MS;
    }
    if (env->janus)
        site_janus_tick(s, env, now_ms);
}

/* What one site sends in one 20 ms slot (its Opus packet and its video packets), sent with
 * one sendmmsg: the sites are told apart by address, so each has its own socket and a
 * batch cannot span sites. The run has one thread. */
#define TX_BATCH 64
static struct {
    struct mmsghdr m[TX_BATCH];
    struct iovec iov[TX_BATCH];
    uint8_t buf[TX_BATCH][1500];
    int n;
} tx;

static void tx_flush(struct site *s, struct load_env *env)
{
    int i = 0;
    while (i < tx.n) {
        int sent = sendmmsg(s->wc.fd, &tx.m[i], (unsigned)(tx.n - i), 0);
        if (sent <= 0) {
            env->send_errors++; /* this one; the rest are tried */
            i++;
            continue;
        }
        for (int k = i; k < i + sent; k++) {
            env->pkts_out++;
            env->bytes_out += tx.m[k].msg_len;
        }
        i += sent;
    }
    tx.n = 0;
}

static int send_protected(struct site *s, struct load_env *env, uint8_t *pkt, size_t len)
{
    const struct sockaddr *to = (struct sockaddr *)&s->wc.server;
    if (env->impair) { /* packets go out one by one, each at its own time */
        if (srtpx_protect_rtp(s->wc.srtp, pkt, &len, 1500) < 0 ||
            impair_send(env->impair, s->wc.fd, pkt, len, to, s->wc.server_len) < 0) {
            env->send_errors++;
            return -1;
        }
        env->pkts_out++;
        env->bytes_out += len;
        return 0;
    }
    if (tx.n == TX_BATCH)
        tx_flush(s, env);
    uint8_t *b = tx.buf[tx.n];
    if (len > sizeof tx.buf[0] - SRTPX_MAX_TRAILER)
        return env->send_errors++, -1;
    memcpy(b, pkt, len);
    if (srtpx_protect_rtp(s->wc.srtp, b, &len, sizeof tx.buf[0]) < 0)
        return env->send_errors++, -1;
    tx.iov[tx.n] = (struct iovec){b, len};
    tx.m[tx.n].msg_hdr = (struct msghdr){.msg_name = (void *)to, .msg_namelen = s->wc.server_len,
                                         .msg_iov = &tx.iov[tx.n], .msg_iovlen = 1};
    tx.n++;
    return 0;
}

static int emit_video(void *arg, uint8_t *pkt, size_t len)
{
    struct site *s = ((void **)arg)[0];
    struct load_env *env = ((void **)arg)[1];
    env->video_pkts_out++;
    return send_protected(s, env, pkt, len);
}

static void send_video(struct site *s, struct load_env *env)
{
    uint32_t vframe = s->frames / 2;
    uint32_t ts = s->ts + vframe * LVID_TS_STEP; /* any start value will do: its own clock */
    void *arg[2] = {s, env};
    for (int l = 0; l < LVID_LAYERS; l++) {
        if (!(s->vactive & (1u << l)))
            continue;
        struct lvid_stream st = {.ssrc = s->vssrc[l], .seq = s->vseq[l], .picture_id = (uint16_t)(vframe & 0x7FFF)};
        lvid_packetize(env->vid, l, (int)((vframe - s->vkey_base) % LVID_FRAMES), &st, (uint8_t)s->vp8_pt, ts,
                       s->ext_mid, s->mid_video, s->ext_rid, emit_video, arg);
        s->vseq[l] = st.seq;
    }
}

/* This 20 ms slot's Opus packet. */
static void send_audio(struct site *s, struct load_env *env)
{
    int f = (int)(s->frames % LA_RING_FRAMES);
    uint8_t level = rtp_audio_level_byte(s->ring->level[f] < 127, s->ring->level[f]);
    rtp_ext_t ext[2];
    size_t next = 0;
    if (s->ext_level) /* not with Janus, which mixes everyone */
        ext[next++] = (rtp_ext_t){.id = s->ext_level, .len = 1, .data = &level};
    if (s->ext_mid)
        ext[next++] = (rtp_ext_t){.id = s->ext_mid, .len = (uint8_t)strlen(s->mid_audio),
                                  .data = (const uint8_t *)s->mid_audio};
    rtp_write_t w = {.marker = s->frames == 0, .pt = (uint8_t)s->opus_pt, .seq = s->seq,
                     .ts = s->ts + s->frames * LA_FRAME, .ssrc = s->ssrc, .ext = ext, .ext_count = next};
    uint8_t pkt[1500];
    int off = rtp_write_header(pkt, sizeof pkt, &w);
    if (off < 0)
        return;
    memcpy(pkt + off, s->ring->pkt[f], s->ring->len[f]);
    if (s->marker) {
        struct load_room *r = &env->rooms[s->room];
        for (int k = 0; k < s->ring->n_onsets; k++)
            if (s->ring->onset_frame[k] == f && r->n_beep < r->cap_beep)
                r->beep_tx_ns[r->n_beep++] = realtime_ns() + (int64_t)s->ring->onset_offset[k] * 1000000000 / LA_RATE;
    }
    if (send_protected(s, env, pkt, (size_t)off + s->ring->len[f]) == 0)
        s->sent++;
    s->seq++;
}

void site_send(struct site *s, struct load_env *env)
{
    if (s->stage != SITE_FIRST_MEDIA && s->stage != SITE_MEDIA)
        return;
    if (s->send_audio && s->opus_pt >= 0)
        send_audio(s, env);
    if (env->vid && s->vpub && s->vp8_pt >= 0 && s->frames % 2 == 0)
        send_video(s, env);
    tx_flush(s, env);
    s->frames++;
}

/* ---- the end ---- */

void site_reap(struct site *s, struct load_env *env)
{
    if (s->reaped)
        return;
    s->reaped = true;
    site_ws_close(s, env);
    site_udp_close(s, env);
}

void site_close(struct site *s, struct load_env *env)
{
    if (s->tcp_fd >= 0 && s->ws.open)
        ws_conn_send_close(&s->ws, 1000);
    site_reap(s, env);
    if (s->ear) {
        lv_ear_free(s->ear);
        free(s->ear);
        s->ear = NULL;
    }
    free(s->nack);
    s->nack = NULL;
}
