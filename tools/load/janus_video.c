/* The VideoRoom half of the load generator's Janus client (see janus.h): the publisher's
 * and the subscriber's requests, the publisher's offer (Opus plus VP8 rid simulcast) and
 * the subscriber's answer to the offer Janus makes. Pure text in, text out. */
#include "tools/load/janus.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dump(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

/* A plugin message on our handle, with the next transaction; takes body and jsep (may be NULL). */
static char *message(struct ljanus *j, json_t *body, json_t *jsep)
{
    char tx[16];
    snprintf(tx, sizeof tx, "t%u", ++j->tx);
    j->step_tx = j->tx;
    json_t *m = json_pack("{s:s,s:I,s:I,s:s,s:o}", "janus", "message", "session_id", (json_int_t)j->session,
                          "handle_id", (json_int_t)j->handle, "transaction", tx, "body", body);
    if (m && jsep)
        json_object_set_new(m, "jsep", jsep);
    else
        json_decref(jsep);
    return dump(m);
}

static json_t *jsep(const char *type, const char *sdp)
{
    return json_pack("{s:s,s:s}", "type", type, "sdp", sdp);
}

char *ljanus_vr_publish(struct ljanus *j, long long room, long long feed, const char *display,
                        const char *offer)
{
    json_t *body = json_pack("{s:s,s:s,s:I,s:I,s:s}", "request", "joinandconfigure", "ptype", "publisher",
                             "room", (json_int_t)room, "id", (json_int_t)feed, "display", display);
    /* Janus 1.1.2 reads rids highest first unless told otherwise; ours are lowest first */
    json_t *js = jsep("offer", offer);
    if (js)
        json_object_set_new(js, "rid_order", json_string("lmh"));
    return body ? message(j, body, js) : (json_decref(js), NULL);
}

char *ljanus_vr_subscribe(struct ljanus *j, long long room, const struct ljanus_sub_stream *streams, int n)
{
    json_t *list = json_array();
    for (int i = 0; list && i < n; i++) {
        json_t *s = json_pack("{s:I,s:s}", "feed", (json_int_t)streams[i].feed, "mid", streams[i].mid);
        if (s && streams[i].substream >= 0)
            json_object_set_new(s, "substream", json_integer(streams[i].substream));
        if (!s || json_array_append_new(list, s) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    json_t *body = json_pack("{s:s,s:s,s:I,s:o}", "request", "join", "ptype", "subscriber", "room",
                             (json_int_t)room, "streams", list);
    return body ? message(j, body, NULL) : NULL;
}

char *ljanus_vr_start(struct ljanus *j, const char *answer)
{
    json_t *body = json_pack("{s:s}", "request", "start");
    return body ? message(j, body, jsep("answer", answer)) : NULL;
}

/* snprintf at out + *n; false when it does not fit. */
#define PUT(...)                                                                             \
    do {                                                                                     \
        int k_ = snprintf(out + n, cap - n, __VA_ARGS__);                                    \
        if (k_ < 0 || (size_t)k_ >= cap - n)                                                 \
            return -1;                                                                       \
        n += (size_t)k_;                                                                     \
    } while (0)

/* ICE and DTLS lines of one m-section: ours, we are the DTLS client (Janus the server). */
static int transport(char *out, size_t cap, const struct ljanus_offer *o)
{
    size_t n = 0;
    PUT("c=IN IP4 %s\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\na=setup:active\r\n",
        o->ip, o->ufrag, o->pwd, o->fingerprint);
    return (int)n;
}

static int candidate(char *out, size_t cap, const struct ljanus_offer *o)
{
    size_t n = 0;
    PUT("a=candidate:1 1 udp 2130706431 %s %d typ host\r\na=end-of-candidates\r\n", o->ip, o->port);
    return (int)n;
}

int ljanus_build_av_offer(char *out, size_t cap, const struct ljanus_offer *o, const char *const *rids,
                          int n_rids)
{
    size_t n = 0;
    int k;
    PUT("v=0\r\no=- %u 1 IN IP4 %s\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
        "m=audio %d UDP/TLS/RTP/SAVPF 111\r\n", o->sess_id, o->ip, o->port);
    if ((k = transport(out + n, cap - n, o)) < 0)
        return -1;
    n += (size_t)k;
    PUT("a=mid:0\r\na=sendonly\r\na=rtcp-mux\r\na=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:%u cname:%s\r\n",
        LJANUS_EXT_MID, o->ssrc, o->cname);
    if ((k = candidate(out + n, cap - n, o)) < 0)
        return -1;
    n += (size_t)k;
    PUT("m=video %d UDP/TLS/RTP/SAVPF 96\r\n", o->port);
    if ((k = transport(out + n, cap - n, o)) < 0)
        return -1;
    n += (size_t)k;
    PUT("a=mid:1\r\na=sendonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
        "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
        "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\n",
        LJANUS_EXT_MID, LJANUS_EXT_RID);
    for (int i = 0; i < n_rids; i++)
        PUT("a=rid:%s send\r\n", rids[i]);
    if (n_rids > 0) {
        PUT("a=simulcast:send ");
        for (int i = 0; i < n_rids; i++)
            PUT("%s%s", i ? ";" : "", rids[i]);
        PUT("\r\n");
    }
    return (int)n;
}

/* The payload type we take in an m-section Janus offers: its first Opus or VP8; -1 none. */
static int pick_pt(const sdp_msection_t *m)
{
    const char *want = m->kind == SDP_KIND_AUDIO ? "opus" : m->kind == SDP_KIND_VIDEO ? "VP8" : NULL;
    for (int k = 0; want && k < m->n_codecs; k++)
        if (!strcasecmp(m->codecs[k].name, want))
            return m->codecs[k].pt;
    return -1;
}

/* One answered m-section: recvonly, one codec, the mid extension echoed. */
static int answer_msection(char *out, size_t cap, const sdp_msection_t *m, int pt, const struct ljanus_offer *o,
                           bool first)
{
    size_t n = 0;
    int k;
    const sdp_codec_t *c = NULL;
    for (int i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            c = &m->codecs[i];
    PUT("m=%s %d UDP/TLS/RTP/SAVPF %d\r\n", m->media, first ? o->port : 9, pt);
    if ((k = transport(out + n, cap - n, o)) < 0)
        return -1;
    n += (size_t)k;
    PUT("a=mid:%s\r\na=%s\r\na=rtcp-mux\r\n", m->mid, m->dir == SDP_DIR_INACTIVE ? "inactive" : "recvonly");
    for (int i = 0; i < m->n_extmaps; i++)
        if (!strcmp(m->extmaps[i].uri, "urn:ietf:params:rtp-hdrext:sdes:mid"))
            PUT("a=extmap:%u %s\r\n", m->extmaps[i].id, m->extmaps[i].uri);
    if (c->channels > 1)
        PUT("a=rtpmap:%d %s/%u/%u\r\n", pt, c->name, c->clock, c->channels);
    else
        PUT("a=rtpmap:%d %s/%u\r\n", pt, c->name, c->clock);
    if (c->fmtp[0])
        PUT("a=fmtp:%d %s\r\n", pt, c->fmtp);
    if (m->kind == SDP_KIND_VIDEO)
        PUT("a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n", pt, pt);
    if (first) {
        PUT("a=ssrc:%u cname:%s\r\n", o->ssrc, o->cname);
        if ((k = candidate(out + n, cap - n, o)) < 0)
            return -1;
        n += (size_t)k;
    }
    return (int)n;
}

int ljanus_build_answer(char *out, size_t cap, const sdp_offer_t *offer, const struct ljanus_offer *o)
{
    size_t n = 0;
    int k, taken = 0;
    PUT("v=0\r\no=- %u 1 IN IP4 %s\r\ns=-\r\nt=0 0\r\na=group:BUNDLE", o->sess_id, o->ip);
    for (int i = 0; i < offer->n_m; i++)
        if (offer->m[i].port && pick_pt(&offer->m[i]) >= 0)
            PUT(" %s", offer->m[i].mid);
    PUT("\r\n");
    for (int i = 0; i < offer->n_m; i++) {
        const sdp_msection_t *m = &offer->m[i];
        int pt = m->port ? pick_pt(m) : -1;
        if (pt < 0) { /* rejected: a data channel, a disabled stream, a codec we do not take */
            PUT("m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\na=inactive\r\n", m->media, m->proto,
                m->fmt0[0] ? m->fmt0 : "0", m->mid);
            continue;
        }
        if ((k = answer_msection(out + n, cap - n, m, pt, o, taken == 0)) < 0)
            return -1;
        n += (size_t)k;
        taken++;
    }
    return taken ? (int)n : -1;
}
