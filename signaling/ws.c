/* The endpoint protocol: JSON messages over the WebSocket at /ws (docs/protocol.md).
 * Requests are dispatched from a table {type, handler}; each connection has a queue of
 * outgoing messages written one per WRITEABLE callback. A join turns an SDP offer into an
 * answer here and hands the new session to a media worker. */
#include "signaling/internal.h"
#include "signaling/wsmsg.h"
#include "mcu/log.h"
#include "mcu/server.h"
#include "media/dtls.h"
#include "media/sdp.h"
#include "media/session.h"
#include "rooms/auth.h"
#include "rooms/live.h"
#include "rooms/store.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define WS_MAX_MESSAGE (256 * 1024)
/* An oversized message gets its error and the connection closes once the message has all
 * arrived (closing while the peer still sends would reset the connection, and the peer
 * would lose the error); one that goes on past WS_KILL_AFTER is cut off at once. */
#define WS_KILL_AFTER (64 * 1024 * 1024)
#define WS_MAX_QUEUE 4096 /* a room of 1,000 sites joining at once sends each ~1,000 presences */
#define ANSWER_MAX 16384

struct ws_out {
    struct ws_out *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE bytes of headroom, then the text */
};

void ws_send_json(struct conn *c, json_t *j) /* takes j */
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s)
        return;
    size_t n = strlen(s);
    if (c->outq_len >= WS_MAX_QUEUE) { /* a client that does not read: let it go */
        if (!c->replaced)
            log_warn("ws", "closing %s (site %lld): %d messages unread", c->addr, (long long)c->site_id, WS_MAX_QUEUE);
        c->replaced = true;
        free(s);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
        return;
    }
    struct ws_out *o = malloc(sizeof *o + LWS_PRE + n);
    if (!o) {
        free(s);
        return;
    }
    o->next = NULL;
    o->len = n;
    memcpy(o->data + LWS_PRE, s, n);
    free(s);
    if (c->outq_tail)
        c->outq_tail->next = o;
    else
        c->outq = o;
    c->outq_tail = o;
    c->outq_len++;
    lws_callback_on_writable(c->wsi);
}

static void send_error(struct conn *c, json_t *req_id, const char *code, const char *message)
{
    json_t *j = json_pack("{s:s,s:s,s:s}", "type", "error", "code", code, "message", message);
    if (req_id)
        json_object_set(j, "id", req_id);
    ws_send_json(c, j);
}

static void random_token(char *out, size_t n)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char r[128];
    RAND_bytes(r, (int)n);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[r[i] & 63];
    out[n] = 0;
}

static uint32_t random_ssrc(void)
{
    uint32_t v = 0;
    while (!v)
        RAND_bytes((unsigned char *)&v, sizeof v);
    return v;
}

/* Our host candidates: every media socket of the worker, plus the announced address. */
static size_t candidates(const struct server *srv, const struct worker *w, sdp_candidate_t *out, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < w->nsocks && n < cap; i++) {
        const char *a = w->socks[i].addr_text;
        if (!strcmp(a, "::") || !strcmp(a, "0.0.0.0"))
            continue; /* a wildcard is not reachable as such: announce_addr stands for it */
        if (strlen(a) >= sizeof out[n].address)
            continue;
        memcpy(out[n].address, a, strlen(a) + 1);
        out[n++].port = (uint16_t)w->socks[i].port;
    }
    const char *ann = srv->cfg.announce_addr;
    if (ann[0] && n < cap && strlen(ann) < sizeof out[n].address) {
        memcpy(out[n].address, ann, strlen(ann) + 1);
        out[n++].port = (uint16_t)w->port;
    }
    return n;
}

static bool is_mix_name(const char *name)
{
    return !strcmp(name, "mix") || (!strncmp(name, "mix-", 4) && strlen(name) < 64);
}

static struct conf_place *find_place(struct signaling *sig, const char *conference)
{
    struct conf_place *pl = sig->places;
    while (pl && strcmp(pl->name, conference))
        pl = pl->next;
    return pl;
}

static void send_speaker(struct conn *o, const char *conference, uint64_t session)
{
    char sid[24];
    snprintf(sid, sizeof sid, "%lu", (unsigned long)session);
    ws_send_json(o, json_pack("{s:s,s:s,s:s}", "type", "speaker", "conference", conference, "session", sid));
}

/* Counts one more member of a conference and returns its place (the worker hosting it),
 * placing it round-robin on its first join; NULL when out of memory. */
static struct conf_place *place(struct signaling *sig, const char *conference)
{
    struct conf_place *pl = find_place(sig, conference);
    if (!pl) {
        pl = calloc(1, sizeof *pl);
        if (!pl)
            return NULL;
        snprintf(pl->name, sizeof pl->name, "%s", conference);
        pl->worker = sig->next_worker++ % sig->srv->nworkers;
        pl->next = sig->places;
        sig->places = pl;
    }
    pl->members++;
    return pl;
}

static void unplace(struct signaling *sig, const char *conference)
{
    for (struct conf_place **pp = &sig->places; *pp; pp = &(*pp)->next) {
        struct conf_place *pl = *pp;
        if (strcmp(pl->name, conference))
            continue;
        if (--pl->members <= 0) {
            *pp = pl->next;
            free(pl);
        }
        return;
    }
}

int ws_place_conf(struct signaling *sig, const char *conference)
{
    struct conf_place *pl = place(sig, conference);
    return pl ? pl->worker : -1;
}

void ws_unplace_conf(struct signaling *sig, const char *conference)
{
    unplace(sig, conference);
}

/* A refused PIN in the audit log, under the conference's host unit. */
static void audit_pin(struct conn *c, int64_t room, const char *result)
{
    struct db *db = &c->sig->srv->db;
    char actor[32], target[32];
    struct store_conf sc;
    snprintf(actor, sizeof actor, "site:%lld", (long long)c->site_id);
    snprintf(target, sizeof target, "conference:%lld", (long long)room);
    store_audit(db, actor, "conference.join", target, c->addr, result, "",
                store_conf_get(db, room, &sc) == 0 ? sc.host_unit : "");
}

/* live_may_join with the PIN as it is stored (keyed, auth_pin_keyed), and wrong PINs limited
 * per conference and site like sign-ins: after 5 in a minute a lockout that doubles. NULL, or
 * the error code with a sentence in err. */
static const char *room_may_join(struct conn *c, int64_t room, const char *pin, char *err, size_t errlen)
{
    struct signaling *sig = c->sig;
    char key[64], keyed[AUTH_DIGEST_HEX];
    snprintf(key, sizeof key, "pin:%lld:%lld", (long long)room, (long long)c->site_id);
    int64_t now = store_now_ms();
    if (pin) {
        unsigned char pk[AUTH_PIN_KEY_BYTES];
        int64_t wait = auth_limiter_check(sig->limiter, key, now);
        if (wait > 0) {
            audit_pin(c, room, "rate_limited");
            snprintf(err, errlen, "too many wrong PINs; try again in %lld s", (long long)(wait + 999) / 1000);
            return "rate_limited";
        }
        if (store_pin_key(&sig->srv->db, pk) < 0) {
            snprintf(err, errlen, "cannot check the PIN");
            return "internal";
        }
        auth_pin_keyed(pk, pin, keyed);
    }
    const char *e = live_may_join(sig->live, room, c->site_id, pin ? keyed : NULL, err, errlen);
    if (pin && e && !strcmp(e, "bad_pin")) {
        auth_limiter_fail(sig->limiter, key, now);
        audit_pin(c, room, "bad_pin");
    } else if (pin && !e) {
        auth_limiter_success(sig->limiter, key);
    }
    return e;
}

/* join {conference, sdp}: answer the offer and start a session on a worker. */
static void handle_join(struct conn *c, json_t *req, json_t *id)
{
    struct signaling *sig = c->sig;
    struct server *srv = sig->srv;
    const char *conference = json_string_value(json_object_get(req, "conference"));
    const char *offer_text = json_string_value(json_object_get(req, "sdp"));
    if (!conference || !offer_text)
        return send_error(c, id, "bad_request", "join needs 'conference' and 'sdp' strings");
    if (c->session_id)
        return send_error(c, id, "already_joined", "this connection is already in a session; leave first");
    if (c->events)
        return send_error(c, id, "bad_request", "join on the endpoint socket /ws");
    /* A room conference by id (signed-in sites), or a test conference by name. */
    int64_t room = 0;
    char media_name[64];
    snprintf(media_name, sizeof media_name, "%s", conference);
    if (conference[0] >= '1' && conference[0] <= '9' && strspn(conference, "0123456789") == strlen(conference) &&
        strlen(conference) < 16) {
        room = strtoll(conference, NULL, 10);
        if (!c->site_id)
            return send_error(c, id, "not_signed_in", "sign in as a site first");
        char err[160];
        const char *pin = json_string_value(json_object_get(req, "pin"));
        const char *e = room_may_join(c, room, pin, err, sizeof err);
        if (e)
            return send_error(c, id, e, err);
        snprintf(media_name, sizeof media_name, "room-%lld", (long long)room);
    } else if (!srv->cfg.test_conferences && (!strcmp(conference, "echo") || is_mix_name(conference))) {
        return send_error(c, id, "unknown_conference", "test conferences are disabled on this server");
    } else if (strcmp(conference, "echo") && !is_mix_name(conference)) {
        return send_error(c, id, "unknown_conference", "no such conference");
    }
    bool mix = room || is_mix_name(conference);
    conference = media_name;
    /* options: {sample_rate: 16000|48000 (for a new conference), agc: bool, denoise: bool} */
    json_t *opts = json_object_get(req, "options");
    json_t *o_rate = json_object_get(opts, "sample_rate");
    json_t *o_agc = json_object_get(opts, "agc");
    json_t *o_dn = json_object_get(opts, "denoise");
    if ((opts && !json_is_object(opts)) || (o_agc && !json_is_boolean(o_agc)) ||
        (o_dn && !json_is_boolean(o_dn)) ||
        (o_rate && json_integer_value(o_rate) != 16000 && json_integer_value(o_rate) != 48000))
        return send_error(c, id, "bad_request",
                          "options: sample_rate is 16000 or 48000, agc and denoise are booleans");

    sdp_offer_t *offer = malloc(sizeof *offer);
    sdp_choice_t *choice = malloc(sizeof *choice);
    char *answer = malloc(ANSWER_MAX);
    struct session_params *sp = calloc(1, sizeof *sp);
    struct conf_place *placed = NULL; /* counted in a conference, undone unless the join succeeds */
    if (!offer || !choice || !answer || !sp) {
        send_error(c, id, "internal", "out of memory");
        goto out_free;
    }
    int rc = sdp_parse_offer(offer_text, strlen(offer_text), offer);
    if (rc < 0) {
        send_error(c, id, "bad_offer", sdp_strerror(rc));
        goto out_free;
    }
    if (mix && !(placed = place(sig, conference))) {
        send_error(c, id, "internal", "out of memory");
        goto out_free;
    }
    int wi = placed ? placed->worker : sig->next_worker++ % srv->nworkers;
    struct worker *w = &srv->workers[wi];
    sdp_candidate_t cands[8];
    size_t ncand = candidates(srv, w, cands, 8);

    sp->id = ++sig->next_id;
    sp->mode = mix ? SESSION_MODE_MIX : SESSION_MODE_ECHO;
    sp->mix_talkers = srv->cfg.mix_talkers;
    sp->mix_sample_rate = o_rate ? (int)json_integer_value(o_rate) : srv->cfg.mix_sample_rate;
    sp->mix_bitrate = srv->cfg.mix_bitrate;
    sp->mix_complexity = srv->cfg.mix_complexity;
    sp->mix_dtx = srv->cfg.mix_dtx;
    sp->mix_dominant_ms = srv->cfg.mix_dominant_ms;
    sp->agc = json_is_true(o_agc);
    sp->denoise = json_is_true(o_dn);
    snprintf(sp->conference, sizeof sp->conference, "%s", conference);
    sp->dtls_server = true;
    random_token(sp->local_ufrag, 8);
    random_token(sp->local_pwd, 24);
    sp->audio_ssrc_out = random_ssrc();
    sp->video_ssrc_out = random_ssrc();
    char cname[17], stream[17];
    random_token(cname, 16);
    random_token(stream, 16);
    for (size_t i = 0; i < sizeof cname - 1; i++) /* msid tokens: keep them alphanumeric */
        if (stream[i] == '+' || stream[i] == '/')
            stream[i] = 'x';
    sdp_answer_params_t ap = {
        .ice_ufrag = sp->local_ufrag, .ice_pwd = sp->local_pwd,
        .fingerprint = dtls_identity_fingerprint(srv->identity),
        .candidates = cands, .n_candidates = ncand, .setup = SDP_SETUP_PASSIVE,
        .session_id = sp->id, .session_version = 1,
        .codecs = SDP_CODEC_OPUS | SDP_CODEC_VP8 | SDP_CODEC_VP9, .cname = cname,
    };
    bool have_audio = false, have_video = false;
    for (int i = 0; i < offer->n_m; i++) {
        if (offer->m[i].kind == SDP_KIND_AUDIO && !have_audio) {
            ap.send[i] = (sdp_send_t){sp->audio_ssrc_out, 0, stream, "echo-audio"};
            have_audio = true;
        } else if (offer->m[i].kind == SDP_KIND_VIDEO && !have_video && !mix) {
            ap.send[i] = (sdp_send_t){sp->video_ssrc_out, 0, stream, "echo-video"};
            have_video = true;
        }
    }
    if (mix)
        video_plan(offer, &ap, sp, stream);
    rc = sdp_build_answer_ex(offer, &ap, answer, ANSWER_MAX, choice);
    if (rc < 0) {
        send_error(c, id, "bad_offer", sdp_strerror(rc));
        goto out_free;
    }
    snprintf(sp->remote_ufrag, sizeof sp->remote_ufrag, "%s", offer->tp.ice_ufrag);
    snprintf(sp->remote_fp, sizeof sp->remote_fp, "%s", offer->tp.fp_hex);
    sp->dtls_server = choice->our_setup == SDP_SETUP_PASSIVE;
    sp->opus_pt = choice->opus_pt;
    sp->vp8_pt = choice->vp8_pt;
    sp->vp9_pt = choice->vp9_pt;
    sp->ext_audio_level = choice->ext_id[SDP_EXT_AUDIO_LEVEL];
    sp->ext_mid = choice->ext_id[SDP_EXT_MID];
    if (mix)
        video_params(offer, choice, sp);
    for (int i = 0; i < choice->n_m; i++)
        if (choice->m[i].accepted && choice->m[i].kind == SDP_KIND_AUDIO) {
            snprintf(sp->audio_mid, sizeof sp->audio_mid, "%s", choice->m[i].mid);
            break;
        }

    uint64_t sid = sp->id;
    struct mcu_msg m = {.type = CMD_SESSION_CREATE, .worker = (uint32_t)wi, .id = sid, .ptr = sp};
    if (!worker_send_cmd(w, &m)) {
        send_error(c, id, "busy", "the media worker is overloaded; try again");
        goto out_free;
    }
    sp = NULL; /* the worker owns it now */
    c->session_id = sid;
    c->session_worker = wi;
    snprintf(c->conference, sizeof c->conference, "%s", conference);
    c->room_conf = room;
    struct conf_place *pl = placed;
    placed = NULL; /* the session holds the place now */
    char sid_text[24];
    snprintf(sid_text, sizeof sid_text, "%lu", (unsigned long)sid);
    json_t *j = json_pack("{s:s,s:s,s:s}", "type", "answer", "session", sid_text, "sdp", answer);
    if (id)
        json_object_set(j, "id", id);
    ws_send_json(c, j);
    if (pl && pl->speaker) /* who is speaking now, for a late joiner */
        send_speaker(c, conference, pl->speaker);
    log_info("ws", "session %s: %s on worker %d", sid_text, conference, wi);
    if (room && live_joined(sig->live, room, c->site_id, store_now_ms())) { /* joins muted */
        struct mcu_msg mm = {.type = CMD_SESSION_MUTE, .worker = (uint32_t)wi, .id = sid, .arg = 1};
        worker_send_cmd(w, &mm);
    }
out_free:
    if (placed)
        unplace(sig, conference);
    free(sp);
    free(answer);
    free(choice);
    free(offer);
}

/* The session is over, whoever ended it: the conference loses a member. */
static void forget_session(struct conn *c, const char *reason)
{
    rooms_session_ended(c, reason);
    struct conf_place *pl = c->conference[0] ? find_place(c->sig, c->conference) : NULL;
    if (pl && pl->speaker == c->session_id)
        pl->speaker = 0;
    if (pl)
        unplace(c->sig, c->conference);
    c->session_id = 0;
    c->conference[0] = 0;
}

void ws_end_session(struct conn *c)
{
    if (!c->session_id)
        return;
    struct worker *w = &c->sig->srv->workers[c->session_worker];
    struct mcu_msg m = {.type = CMD_SESSION_CLOSE, .worker = (uint32_t)c->session_worker, .id = c->session_id};
    if (!worker_send_cmd(w, &m))
        log_warn("ws", "session %lu: close command lost (queue full); consent will expire it",
                 (unsigned long)c->session_id);
    forget_session(c, "left");
}

static void handle_leave(struct conn *c, json_t *req, json_t *id)
{
    (void)req;
    if (!c->session_id)
        return send_error(c, id, "not_joined", "this connection is not in a session");
    ws_end_session(c);
    json_t *j = json_pack("{s:s}", "type", "left");
    if (id)
        json_object_set(j, "id", id);
    ws_send_json(c, j);
}

static void handle_ping(struct conn *c, json_t *req, json_t *id)
{
    (void)req;
    json_t *j = json_pack("{s:s}", "type", "pong");
    if (id)
        json_object_set(j, "id", id);
    ws_send_json(c, j);
}

/* signin {site, secret}: this endpoint is now that meeting room, idle until invited; the
 * reply says which conference comes next. */
static void handle_signin(struct conn *c, json_t *req, json_t *id)
{
    struct signaling *sig = c->sig;
    json_t *js = json_object_get(req, "site");
    const char *secret = json_string_value(json_object_get(req, "secret"));
    int64_t site = json_is_integer(js) ? json_integer_value(js)
                 : json_is_string(js) ? strtoll(json_string_value(js), NULL, 10) : 0;
    if (site <= 0 || !secret || strlen(secret) > 256)
        return send_error(c, id, "bad_request", "signin needs 'site' (an id) and 'secret' (a string)");
    if (c->site_id)
        return send_error(c, id, "already_signed_in", "this connection is already signed in");
    char key[80];
    snprintf(key, sizeof key, "site:%lld", (long long)site);
    int64_t now = store_now_ms();
    if (auth_limiter_check(sig->limiter, key, now) > 0) {
        store_audit(&sig->srv->db, key, "site.signin", key, c->addr, "rate_limited", "", "");
        return send_error(c, id, "rate_limited", "too many failed sign-ins for this site; wait and retry");
    }
    struct store_site s;
    bool known = store_site_get(&sig->srv->db, site, &s) == 0;
    if (!known || !auth_secret_matches(s.digest, secret)) {
        auth_limiter_fail(sig->limiter, key, now);
        store_audit(&sig->srv->db, key, "site.signin", key, c->addr, "denied", "", known ? s.unit : "");
        return send_error(c, id, "bad_credentials", "unknown site or wrong credential");
    }
    auth_limiter_success(sig->limiter, key);
    store_audit(&sig->srv->db, key, "site.signin", key, c->addr, "ok", s.name, s.unit);
    json_t *j = json_pack("{s:s,s:{s:I,s:s,s:s},s:o}", "type", "signedin", "site", "id", (json_int_t)s.id, "name",
                          s.name, "unit", s.unit, "next", rooms_next_json(c, site));
    if (id)
        json_object_set(j, "id", id);
    ws_send_json(c, j);
    rooms_site_signed_in(c, site); /* then the invitations */
}

static void reply_ok(struct conn *c, json_t *id)
{
    json_t *j = json_pack("{s:s}", "type", "ok");
    if (id)
        json_object_set(j, "id", id);
    ws_send_json(c, j);
}

/* hand {raised}, mute {muted}, select {main}: a joined site about itself. */
static void handle_site_request(struct conn *c, json_t *req, json_t *id)
{
    if (!c->room_conf)
        return send_error(c, id, "not_joined", "join a conference first");
    char err[160];
    const char *type = json_string_value(json_object_get(req, "type"));
    const char *e = live_site_request(c->sig->live, c->room_conf, c->site_id, type, req, err, sizeof err);
    if (e)
        return send_error(c, id, e, err);
    reply_ok(c, id);
}

/* control {action, ...}: the chair site runs the meeting from its room. */
static void handle_control(struct conn *c, json_t *req, json_t *id)
{
    if (!c->room_conf)
        return send_error(c, id, "not_joined", "join a conference first");
    char err[160], target[32];
    int64_t conf = c->room_conf, site = c->site_id;
    const char *e = live_control(c->sig->live, conf, site, req, store_now_ms(), err, sizeof err);
    snprintf(target, sizeof target, "conference:%lld", (long long)conf);
    char actor[32];
    snprintf(actor, sizeof actor, "site:%lld", (long long)site);
    struct store_conf sc; /* stored under the host unit, so its scoped admins see it */
    bool have = store_conf_get(&c->sig->srv->db, conf, &sc) == 0;
    store_audit(&c->sig->srv->db, actor, "conference.control", target, c->addr, e ? e : "ok",
                json_string_value(json_object_get(req, "action")), have ? sc.host_unit : "");
    if (e)
        return send_error(c, id, e, err);
    reply_ok(c, id);
}

static const struct {
    const char *type;
    void (*handle)(struct conn *c, json_t *req, json_t *id);
} handlers[] = {
    {"join", handle_join},
    {"leave", handle_leave},
    {"ping", handle_ping},
    {"signin", handle_signin},
    {"hand", handle_site_request},
    {"mute", handle_site_request},
    {"select", handle_site_request},
    {"control", handle_control},
};

/* Sends what is queued, then closes with this status (a WebSocket close code). */
static void close_after_queue(struct conn *c, int status, const char *reason)
{
    c->close_status = status;
    c->close_reason = reason;
    lws_callback_on_writable(c->wsi);
}

/* Malformed or oversize input: a clear error, then a clean close (1007 or 1009). */
void ws_refuse_input(struct conn *c, json_t *id, const char *code, const char *message)
{
    bool big = !strcmp(code, "too_large");
    send_error(c, id, code, message);
    close_after_queue(c, big ? LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE : LWS_CLOSE_STATUS_INVALID_PAYLOAD,
                      big ? "message too big" : "malformed message");
}

static void on_message(struct conn *c, const char *text, size_t len)
{
    if (c->replaced || c->close_status)
        return;
    if (!rooms_message_allowed(c)) {
        send_error(c, NULL, "rate_limited", "too many messages; slow down");
        return;
    }
    struct wsmsg_error e;
    if (c->events) { /* parsed by rooms.c; only the checks that need no parse here */
        if (wsmsg_precheck(text, len, WSMSG_SMALL_MAX, &e) < 0)
            return ws_refuse_input(c, NULL, e.code, e.message);
        return events_on_message(c, text, len);
    }
    json_t *req = wsmsg_parse(text, len, &e);
    json_t *id = json_object_get(req, "id");
    const char *type = json_string_value(json_object_get(req, "type"));
    if (e.code && (!strcmp(e.code, "bad_json") || !strcmp(e.code, "too_large"))) {
        ws_refuse_input(c, id, e.code, e.message);
    } else if (e.code) {
        send_error(c, id, e.code, e.message);
    } else {
        size_t i = 0;
        for (; i < sizeof handlers / sizeof handlers[0]; i++)
            if (!strcmp(handlers[i].type, type)) {
                handlers[i].handle(c, req, id);
                break;
            }
        if (i == sizeof handlers / sizeof handlers[0])
            send_error(c, id, "unknown_type", "unknown message type");
    }
    json_decref(req);
}

static struct conn *find_endpoint(struct signaling *sig, uint64_t session_id)
{
    for (struct conn *c = sig->endpoints; c; c = c->ws_next)
        if (c->session_id == session_id)
            return c;
    return NULL;
}

void ws_on_session_event(struct signaling *sig, const struct mcu_msg *m)
{
    struct conn *c = find_endpoint(sig, m->id);
    if (!c)
        return; /* the endpoint has gone already */
    char sid[24];
    snprintf(sid, sizeof sid, "%lu", (unsigned long)m->id);
    if (m->type == EV_DOMINANT_SPEAKER && c->room_conf) {
        live_speaker(sig->live, c->room_conf, c->site_id);
        return;
    }
    if (m->type == EV_DOMINANT_SPEAKER) {
        struct conf_place *pl = find_place(sig, c->conference);
        if (pl)
            pl->speaker = m->id;
        for (struct conn *o = sig->endpoints; o; o = o->ws_next)
            if (o->session_id && !strcmp(o->conference, c->conference))
                send_speaker(o, c->conference, m->id);
        return;
    }
    if (m->type == EV_SESSION_STATE) {
        ws_send_json(c, json_pack("{s:s,s:s,s:s}", "type", "state", "session", sid, "state",
                               session_state_name((enum session_state)m->arg)));
    } else {
        forget_session(c, session_close_reason_name((enum session_close_reason)m->arg));
        ws_send_json(c, json_pack("{s:s,s:s,s:s}", "type", "closed", "session", sid, "reason",
                               session_close_reason_name((enum session_close_reason)m->arg)));
    }
}

static void ws_free(struct conn *c)
{
    ws_end_session(c);
    rooms_endpoint_closed(c);
    while (c->outq) {
        struct ws_out *o = c->outq;
        c->outq = o->next;
        free(o);
    }
    c->outq_tail = NULL;
    c->outq_len = 0;
    sbuf_free(&c->ws_rx);
    if (c->ws_prev)
        c->ws_prev->ws_next = c->ws_next;
    else if (c->sig && c->sig->endpoints == c)
        c->sig->endpoints = c->ws_next;
    if (c->ws_next)
        c->ws_next->ws_prev = c->ws_prev;
    c->ws_prev = c->ws_next = NULL;
    c->kind = CONN_NONE;
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    struct conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64] = "";
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
        return strcmp(uri, "/ws") && strcmp(uri, "/api/v1/events"); /* nonzero refuses the upgrade */
    }
    case LWS_CALLBACK_ESTABLISHED: {
        char uri[64] = "";
        lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);
        memset(c, 0, sizeof *c);
        c->kind = CONN_WS;
        c->wsi = wsi;
        c->sig = lws_context_user(lws_get_context(wsi));
        lws_get_peer_simple(wsi, c->addr, sizeof c->addr);
        c->ws_next = c->sig->endpoints;
        if (c->ws_next)
            c->ws_next->ws_prev = c;
        c->sig->endpoints = c;
        if (conn_over_limit(wsi)) {
            send_error(c, NULL, "too_many_connections", "too many connections from your address; close some");
            close_after_queue(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many connections from this address");
            return 0;
        }
        if (!strcmp(uri, "/api/v1/events")) {
            c->events = true;
            events_open(c);
        }
        return 0;
    }
    case LWS_CALLBACK_RECEIVE:
        if (c->close_status) /* closing: nothing more is read */
            return 0;
        if (c->ws_skip) { /* the rest of a message already refused */
            c->ws_skip = !lws_is_final_fragment(wsi);
            c->ws_skipped += len;
            if (c->ws_skipped > WS_KILL_AFTER)
                return -1;
            if (!c->ws_skip)
                close_after_queue(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
            return 0;
        }
        if (c->ws_rx.len + len > WS_MAX_MESSAGE) {
            c->ws_skipped = c->ws_rx.len + len;
            sbuf_free(&c->ws_rx);
            c->ws_skip = !lws_is_final_fragment(wsi);
            send_error(c, NULL, "too_large", "messages are limited to 256 KiB");
            if (!c->ws_skip) /* else once the rest has been skipped */
                close_after_queue(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
            return 0;
        }
        sbuf_append(&c->ws_rx, in, len);
        if (!lws_is_final_fragment(wsi))
            return 0;
        if (!lws_frame_is_binary(wsi) && c->ws_rx.p)
            on_message(c, c->ws_rx.p, c->ws_rx.len);
        else
            ws_refuse_input(c, NULL, "bad_json", "messages are JSON text frames");
        sbuf_free(&c->ws_rx);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE: {
        struct ws_out *o = c->outq;
        if (!o && c->close_status) { /* everything queued is written: now the close frame */
            lws_close_reason(wsi, (enum lws_close_status)c->close_status, (unsigned char *)c->close_reason,
                             strlen(c->close_reason));
            return -1;
        }
        if (!o)
            return 0;
        if (lws_write(wsi, o->data + LWS_PRE, o->len, LWS_WRITE_TEXT) < (int)o->len)
            return -1;
        c->outq = o->next;
        if (!c->outq)
            c->outq_tail = NULL;
        c->outq_len--;
        free(o);
        if (c->outq || c->close_status)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_CLOSED:
        if (c && c->kind == CONN_WS)
            ws_free(c);
        return 0;
    default:
        return 0;
    }
}
