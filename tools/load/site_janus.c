/* Janus mode of a synthetic site (--janus): the same site signs in to Janus's AudioBridge,
 * or to its VideoRoom as a publisher or a subscriber, through the requests of
 * tools/load/janus.h; from the SRTP keys on, its media path is the one it has against our
 * server (tools/load/site.c). */
#include "tools/load/site.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OFFER_MAX 8192
#define SUBSCRIBE_RETRY_MS 500  /* a feed not published yet: ask again this much later */
#define MAX_SUB_STREAMS 8       /* main audio + main video + up to 6 thumbnails */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* MCU_LOAD_JANUS_TRACE=N: every message to and from Janus of sites 0..N-1 on stderr, to
 * see the exchange as it happens (bench/janus/README.md was checked this way). */
static void trace(const struct site *s, const char *dir, const char *text, size_t len)
{
    static int sites = -1;
    if (sites < 0)
        sites = getenv("MCU_LOAD_JANUS_TRACE") ? atoi(getenv("MCU_LOAD_JANUS_TRACE")) : 0;
    if (s->index < sites)
        fprintf(stderr, "janus %s site %d: %.*s\n", dir, s->index, (int)len, text);
}

/* Sends a request ljanus made (and frees it); NULL means it could not be made. */
static void janus_send(struct site *s, struct load_env *env, char *text, const char *what)
{
    if (text)
        trace(s, "->", text, strlen(text));
    if (!text || ws_conn_send_text(&s->ws, text, strlen(text)) < 0)
        site_fail(s, env, "cannot send the Janus %s request", what);
    free(text);
}

/* Our transport for the SDP we write (offer or answer). */
static void our_transport(struct site *s, struct load_env *env, struct ljanus_offer *o, char ip[46], char cname[32])
{
    int port;
    site_local_addr(s, ip, &port);
    snprintf(cname, 32, "site%d", s->index);
    *o = (struct ljanus_offer){.ip = ip, .port = port, .ufrag = s->wc.local_ufrag, .pwd = s->wc.local_pwd,
                               .fingerprint = dtls_identity_fingerprint(env->identity), .ssrc = s->ssrc,
                               .cname = cname, .sess_id = (uint32_t)random() & 0x7FFFFFFF};
}

/* AudioBridge "join", or VideoRoom "joinandconfigure" as publisher: with our offer. */
static void send_offer_join(struct site *s, struct load_env *env)
{
    char ip[46], cname[32], *offer = malloc(OFFER_MAX);
    struct ljanus_offer o;
    static const char *const rids[] = {"q", "h", "f"}; /* lowest first: Janus's substreams 0..2 */
    our_transport(s, env, &o, ip, cname);
    bool vr = s->jan.role == LJANUS_VR_PUBLISHER;
    int n = !offer ? -1 : vr ? ljanus_build_av_offer(offer, OFFER_MAX, &o, rids, 3)
                             : ljanus_build_offer(offer, OFFER_MAX, &o);
    if (n < 0) {
        free(offer);
        return site_fail(s, env, "cannot build the offer");
    }
    long long room = env->janus_room + s->room;
    if (vr)
        janus_send(s, env, ljanus_vr_publish(&s->jan, room, s->index + 1, s->name, offer), "joinandconfigure");
    else
        janus_send(s, env, ljanus_join(&s->jan, room, s->name, offer), "join");
    free(offer);
}

/* Publisher p's feed id: p + 1 (ids must be positive). */
static long long feed_of(int p)
{
    return p + 1;
}

/* The streams subscriber k (site P + k, standing for site k of our server) receives: the
 * main feed's audio and video (top substream) and the video of vthumbs more feeds (lowest
 * substream). The main feed is publisher 0, or 1 for k = 0, so that no one watches itself;
 * the thumbnails are the publishers after k, skipping the main one and k itself. */
static int sub_streams(const struct site *s, const struct load_env *env, struct ljanus_sub_stream *st)
{
    int P = env->video_publishers, k = s->index - P, main = k == 0 && P > 1 ? 1 : 0, n = 0;
    st[n++] = (struct ljanus_sub_stream){feed_of(main), "0", -1};
    st[n++] = (struct ljanus_sub_stream){feed_of(main), "1", 2};
    for (int t = 1; t < P && n < 2 + s->vthumbs && n < MAX_SUB_STREAMS; t++) {
        int p = (k + t) % P;
        if (p != main && p != k)
            st[n++] = (struct ljanus_sub_stream){feed_of(p), "1", 0};
    }
    return n;
}

static void send_subscribe(struct site *s, struct load_env *env)
{
    struct ljanus_sub_stream st[MAX_SUB_STREAMS];
    int n = sub_streams(s, env, st);
    janus_send(s, env, ljanus_vr_subscribe(&s->jan, env->janus_room + s->room, st, n), "subscribe");
}

static void send_join(struct site *s, struct load_env *env)
{
    if (s->jan.role == LJANUS_VR_SUBSCRIBER)
        send_subscribe(s, env);
    else
        send_offer_join(s, env);
}

/* Subscriber: Janus offered; answer it and "start". Janus made the offer, so its ICE agent
 * starts as the controlling one, like ours (media/wclient is always controlling): with
 * the highest tie-breaker we win the role conflict (RFC 8445 7.3.1.1) and Janus turns
 * controlled, as it is towards a browser's offer. */
static void on_offer(struct site *s, struct load_env *env, const char *offer)
{
    site_apply_remote(s, env, offer);
    if (s->stage == SITE_FAILED)
        return;
    s->wc.tiebreaker = UINT64_MAX;
    char ip[46], cname[32], *answer = malloc(OFFER_MAX);
    struct ljanus_offer o;
    our_transport(s, env, &o, ip, cname);
    if (!answer || ljanus_build_answer(answer, OFFER_MAX, env->scratch, &o) < 0) {
        free(answer);
        return site_fail(s, env, "cannot answer Janus's offer");
    }
    janus_send(s, env, ljanus_vr_start(&s->jan, answer), "start");
    free(answer);
}

void site_janus_on_message(struct site *s, struct load_env *env, const char *text, size_t len)
{
    char *sdp = NULL, why[160];
    trace(s, "<-", text, len);
    if (s->stage == SITE_FAILED)
        return;
    enum ljanus_result rc = ljanus_input(&s->jan, text, len, &sdp, why, sizeof why);
    if (rc == LJANUS_FAILED) {
        site_fail(s, env, "%s", why);
    } else if (rc == LJANUS_NEXT && s->jan.step == LJANUS_ATTACH) {
        janus_send(s, env, ljanus_attach(&s->jan), "attach");
    } else if (rc == LJANUS_NEXT && s->jan.step == LJANUS_JOIN) {
        send_join(s, env);
    } else if (rc == LJANUS_NO_FEED) {
        s->next_join_ms = mono_ms() + SUBSCRIBE_RETRY_MS;
    } else if ((rc == LJANUS_ANSWER || rc == LJANUS_OFFER) && s->stage == SITE_ANSWER) {
        snprintf(s->session, sizeof s->session, "%lld", s->jan.participant);
        if (rc == LJANUS_OFFER)
            on_offer(s, env, sdp);
        else
            site_apply_remote(s, env, sdp);
    }
    free(sdp);
}

/* The WebSocket is open: start the Janus session; keepalives from now on. */
void site_janus_start(struct site *s, struct load_env *env, int64_t now_ms)
{
    janus_send(s, env, ljanus_create(&s->jan), "create");
    s->next_keepalive_ms = now_ms + LJANUS_KEEPALIVE_MS;
    if (s->stage != SITE_FAILED)
        site_set_stage(s, env, SITE_ANSWER);
}

void site_janus_tick(struct site *s, struct load_env *env, int64_t now_ms)
{
    if (s->jan.session && now_ms >= s->next_keepalive_ms) {
        janus_send(s, env, ljanus_keepalive(&s->jan), "keepalive");
        s->next_keepalive_ms = now_ms + LJANUS_KEEPALIVE_MS;
    }
    if (s->next_join_ms && now_ms >= s->next_join_ms && s->stage == SITE_ANSWER) {
        s->next_join_ms = 0;
        send_subscribe(s, env);
    }
}
