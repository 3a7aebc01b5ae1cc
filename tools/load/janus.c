/* One site's side of Janus's WebSocket JSON API (see janus.h); the VideoRoom's requests
 * and SDP are in janus_video.c. Janus answers a request with "success" (create, attach)
 * or with "ack" then an "event" carrying the same transaction (a plugin message such as
 * join or start). Everything without our step's transaction
 * is either about other participants (each join is sent to the whole room: N^2/2 events
 * while a room fills) or a notice about our own handle; only the fatal ones matter. */
#include "tools/load/janus.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Serialises and frees j. */
static char *dump(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return text;
}

static const char *next_tx(struct ljanus *j, char buf[16])
{
    snprintf(buf, 16, "t%u", ++j->tx);
    return buf;
}

char *ljanus_create(struct ljanus *j)
{
    char tx[16];
    j->step = LJANUS_CREATE;
    json_t *m = json_pack("{s:s,s:s}", "janus", "create", "transaction", next_tx(j, tx));
    j->step_tx = j->tx;
    return dump(m);
}

char *ljanus_attach(struct ljanus *j)
{
    char tx[16];
    const char *plugin = j->role == LJANUS_AUDIOBRIDGE ? "janus.plugin.audiobridge" : "janus.plugin.videoroom";
    json_t *m = json_pack("{s:s,s:I,s:s,s:s}", "janus", "attach", "session_id", (json_int_t)j->session,
                          "plugin", plugin, "transaction", next_tx(j, tx));
    j->step_tx = j->tx;
    return dump(m);
}

char *ljanus_join(struct ljanus *j, long long room, const char *display, const char *offer)
{
    char tx[16];
    json_t *m = json_pack("{s:s,s:I,s:I,s:s,s:{s:s,s:I,s:s,s:b},s:{s:s,s:s}}", "janus", "message",
                          "session_id", (json_int_t)j->session, "handle_id", (json_int_t)j->handle,
                          "transaction", next_tx(j, tx), "body", "request", "join", "room",
                          (json_int_t)room, "display", display, "muted", 0, "jsep", "type", "offer",
                          "sdp", offer);
    j->step_tx = j->tx;
    return dump(m);
}

char *ljanus_keepalive(struct ljanus *j)
{
    char tx[16];
    return dump(json_pack("{s:s,s:I,s:s}", "janus", "keepalive", "session_id",
                          (json_int_t)j->session, "transaction", next_tx(j, tx)));
}

/* The transaction number of a message: "tN" -> N, 0 when absent or not ours. */
static unsigned tx_of(json_t *m)
{
    const char *t = json_string_value(json_object_get(m, "transaction"));
    unsigned n = 0;
    return t && sscanf(t, "t%u", &n) == 1 ? n : 0;
}

static long long id_of(json_t *m)
{
    return (long long)json_integer_value(json_object_get(json_object_get(m, "data"), "id"));
}

/* Janus-level error: {"janus":"error","error":{"code":N,"reason":"..."}}. */
static enum ljanus_result janus_error(json_t *m, char *why, size_t cap)
{
    json_t *e = json_object_get(m, "error");
    snprintf(why, cap, "Janus error %lld: %s", (long long)json_integer_value(json_object_get(e, "code")),
             json_string_value(json_object_get(e, "reason")) ?: "(no reason)");
    return LJANUS_FAILED;
}

static const char *plugin_label(const struct ljanus *j)
{
    return j->role == LJANUS_AUDIOBRIDGE ? "AudioBridge" : "VideoRoom";
}

/* The reply to our join: "joined" with the answer (AudioBridge, VideoRoom publisher),
 * "attached" with Janus's offer (subscriber), or the plugin's error. */
static enum ljanus_result join_reply(struct ljanus *j, json_t *m, char **sdp, char *why, size_t cap)
{
    json_t *data = json_object_get(json_object_get(m, "plugindata"), "data");
    json_t *code = json_object_get(data, "error_code");
    if (code && j->role == LJANUS_VR_SUBSCRIBER && json_integer_value(code) == LJANUS_ERR_NO_SUCH_FEED)
        return LJANUS_NO_FEED;
    if (code) {
        snprintf(why, cap, "%s error %lld: %s", plugin_label(j), (long long)json_integer_value(code),
                 json_string_value(json_object_get(data, "error")) ?: "(no text)");
        return LJANUS_FAILED;
    }
    bool sub = j->role == LJANUS_VR_SUBSCRIBER;
    const char *want = sub ? "attached" : "joined", *want_type = sub ? "offer" : "answer";
    const char *what = json_string_value(json_object_get(data, j->role == LJANUS_AUDIOBRIDGE ? "audiobridge" : "videoroom"));
    json_t *jsep = json_object_get(m, "jsep");
    const char *type = json_string_value(json_object_get(jsep, "type"));
    const char *text = json_string_value(json_object_get(jsep, "sdp"));
    if (!what || strcmp(what, want) || !type || strcmp(type, want_type) || !text) {
        snprintf(why, cap, "the reply to join is not \"%s\" with an %s (%s: %s)", want, want_type,
                 plugin_label(j), what ? what : "none");
        return LJANUS_FAILED;
    }
    *sdp = strdup(text);
    if (!*sdp) {
        snprintf(why, cap, "out of memory");
        return LJANUS_FAILED;
    }
    j->participant = (long long)json_integer_value(json_object_get(data, "id"));
    j->step = sub ? LJANUS_START : LJANUS_JOINED;
    return sub ? LJANUS_OFFER : LJANUS_ANSWER;
}

/* The reply to the subscriber's "start": {"videoroom":"event","started":"ok"}. */
static enum ljanus_result start_reply(struct ljanus *j, json_t *m, char *why, size_t cap)
{
    json_t *data = json_object_get(json_object_get(m, "plugindata"), "data");
    const char *started = json_string_value(json_object_get(data, "started"));
    if (!started || strcmp(started, "ok")) {
        snprintf(why, cap, "the reply to start is not \"started\" (VideoRoom error %lld: %s)",
                 (long long)json_integer_value(json_object_get(data, "error_code")),
                 json_string_value(json_object_get(data, "error")) ?: "none");
        return LJANUS_FAILED;
    }
    j->step = LJANUS_JOINED;
    return LJANUS_NOTHING;
}

/* The reply to the current step's request. */
static enum ljanus_result step_reply(struct ljanus *j, json_t *m, const char *kind, char **sdp,
                                     char *why, size_t cap)
{
    if (!strcmp(kind, "ack"))
        return LJANUS_NOTHING;
    if (j->step == LJANUS_JOIN && !strcmp(kind, "event"))
        return join_reply(j, m, sdp, why, cap);
    if (j->step == LJANUS_START && !strcmp(kind, "event"))
        return start_reply(j, m, why, cap);
    if (strcmp(kind, "success") || id_of(m) == 0 || j->step >= LJANUS_JOIN) {
        static const char *const req[] = {"create", "attach", "join", "start", "?"};
        snprintf(why, cap, "unexpected \"%s\" in reply to %s", kind, req[j->step]);
        return LJANUS_FAILED;
    }
    if (j->step == LJANUS_CREATE)
        j->session = id_of(m);
    else
        j->handle = id_of(m);
    j->step++;
    return LJANUS_NEXT;
}

enum ljanus_result ljanus_input(struct ljanus *j, const char *text, size_t len, char **sdp,
                                char *why, size_t why_cap)
{
    json_error_t jerr;
    json_t *m = json_loadb(text, len, 0, &jerr);
    const char *kind = json_string_value(json_object_get(m, "janus"));
    enum ljanus_result rc = LJANUS_NOTHING;
    *sdp = NULL;
    if (!kind) {
        snprintf(why, why_cap, "unreadable message from Janus: %.80s", text);
        rc = LJANUS_FAILED;
    } else if (!strcmp(kind, "error")) {
        rc = janus_error(m, why, why_cap);
    } else if (j->step != LJANUS_JOINED && tx_of(m) == j->step_tx) {
        rc = step_reply(j, m, kind, sdp, why, why_cap);
    } else if (!strcmp(kind, "hangup")) {
        snprintf(why, why_cap, "Janus hung up the PeerConnection: %s",
                 json_string_value(json_object_get(m, "reason")) ?: "(no reason)");
        rc = LJANUS_FAILED;
    } else if (!strcmp(kind, "timeout")) {
        snprintf(why, why_cap, "Janus timed the session out");
        rc = LJANUS_FAILED;
    } else if (!strcmp(kind, "detached")) {
        snprintf(why, why_cap, "Janus detached the plugin handle");
        rc = LJANUS_FAILED;
    } else {
        j->other_events++;
    }
    json_decref(m);
    return rc;
}

int ljanus_build_offer(char *out, size_t cap, const struct ljanus_offer *o)
{
    int n = snprintf(out, cap,
                     "v=0\r\no=- %u 1 IN IP4 %s\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
                     "m=audio %d UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 %s\r\n"
                     "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n"
                     "a=setup:active\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
                     "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
                     "a=ssrc:%u cname:%s\r\na=candidate:1 1 udp 2130706431 %s %d typ host\r\n"
                     "a=end-of-candidates\r\n",
                     o->sess_id, o->ip, o->port, o->ip, o->ufrag, o->pwd, o->fingerprint, o->ssrc,
                     o->cname, o->ip, o->port);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}
