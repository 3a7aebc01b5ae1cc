/* Room mode's sites (see room.h): the credentials file, the sign-in, the server's room
 * messages and the backoff. Handlers run inside the WebSocket's read callback, so they never
 * close the WebSocket themselves: they set disconnect_why and lroom_on_tcp closes it after
 * the read. Media failures found by site.c (stage SITE_FAILED) are handled by the tick. */
#include "tools/load/room.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* Requests carry ids so that an error names the request it answers: site_send_join uses 1
 * (as in the default mode), signin its own. */
#define ID_JOIN 1
#define ID_SIGNIN 2

/* ---- the credentials file ---- */

/* A site id from a JSON number or a decimal string; -1 when neither (or not positive). */
static long long site_id_of(json_t *v)
{
    if (json_is_integer(v))
        return json_integer_value(v) > 0 ? (long long)json_integer_value(v) : -1;
    const char *s = json_string_value(v);
    char *end;
    if (!s || !*s)
        return -1;
    errno = 0;
    long long id = strtoll(s, &end, 10);
    return *end || errno || id <= 0 ? -1 : id;
}

static int parse_entry(json_t *e, size_t i, struct lroom_cred *c, char *err, size_t cap)
{
    c->site = site_id_of(json_object_get(e, "site"));
    const char *secret = json_string_value(json_object_get(e, "secret"));
    const char *name = json_string_value(json_object_get(e, "name"));
    if (!json_is_object(e) || c->site < 0) {
        snprintf(err, cap, "entry %zu has no site id (a number or a decimal string)", i);
        return -1;
    }
    if (!secret || !*secret) {
        snprintf(err, cap, "site %lld (entry %zu) has no secret", c->site, i);
        return -1;
    }
    snprintf(c->name, sizeof c->name, "%s", name ? name : "");
    c->secret = strdup(secret);
    if (!c->secret) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    return 0;
}

int lroom_parse_credentials(const char *text, size_t len, struct lroom_cred **out, int *n,
                            char *err, size_t cap)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr), *arr = root;
    *out = NULL;
    *n = 0;
    if (!root) {
        snprintf(err, cap, "not JSON: %s (line %d)", jerr.text, jerr.line);
        return -1;
    }
    if (json_is_object(root))
        arr = json_object_get(root, "sites");
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 100000) {
        snprintf(err, cap, "expected a non-empty array of {site, secret, name}, or one under \"sites\"");
        json_decref(root);
        return -1;
    }
    size_t count = json_array_size(arr);
    struct lroom_cred *c = calloc(count, sizeof *c);
    int rc = c ? 0 : -1;
    if (!c)
        snprintf(err, cap, "out of memory");
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = parse_entry(json_array_get(arr, i), i, &c[i], err, cap);
        for (size_t k = 0; k < i && rc == 0; k++)
            if (c[k].site == c[i].site) {
                snprintf(err, cap, "site %lld is listed twice (entries %zu and %zu)", c[i].site, k, i);
                rc = -1;
            }
        if (rc == 0)
            (*n)++;
    }
    json_decref(root);
    if (rc < 0) {
        lroom_creds_free(c, (int)count);
        *n = 0;
        return -1;
    }
    *out = c;
    return 0;
}

void lroom_creds_free(struct lroom_cred *c, int n)
{
    for (int i = 0; c && i < n; i++)
        free(c[i].secret);
    free(c);
}

int lroom_parse_ids(const char *s, long long *ids, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || errno || v <= 0 || n == max || (*end && *end != ','))
            return -1;
        ids[n++] = v;
        s = *end ? end + 1 : end;
        if (*end && !*s)
            return -1; /* a trailing comma */
    }
    return n;
}

/* ---- per-site state ---- */

int lroom_site_init(struct site *s, const struct lroom_cred *c)
{
    struct lroom_site *rm = calloc(1, sizeof *rm);
    if (!rm || !(rm->secret = strdup(c->secret))) {
        free(rm);
        return -1;
    }
    rm->id = c->site;
    rm->backoff_ms = LROOM_BACKOFF_MIN_MS;
    rm->first_media_ms = -1;
    s->rm = rm;
    return 0;
}

void lroom_site_free(struct site *s)
{
    if (!s->rm)
        return;
    free(s->rm->secret);
    free(s->rm->media_ms);
    free(s->rm);
    s->rm = NULL;
}

void lroom_event(const struct lroom *lr, int64_t now_ms, const char *event, const struct site *s,
                 const char *key, const char *value)
{
    if (!lr->out)
        return;
    json_t *j = json_pack("{s:I,s:s,s:I}", "t", (json_int_t)(now_ms - lr->t0_ms), "event", event,
                          "site", (json_int_t)s->rm->id);
    if (j && s->rm->conf[0] && s->rm->live) /* the conference it is in, or is invited to */
        json_object_set_new(j, "conference", json_string(s->rm->conf));
    if (j && key && value)
        json_object_set_new(j, key, json_string(value));
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (text) {
        fprintf(lr->out, "%s\n", text);
        fflush(lr->out);
    }
    free(text);
    json_decref(j);
}

void lroom_rx_totals(const struct site *s, uint64_t *expected, uint64_t *lost, uint64_t *received)
{
    site_rx_loss(&s->rx, expected, lost);
    *expected += s->rm->rx_expected;
    *lost += s->rm->rx_lost;
    *received = s->rx.received + s->rm->rx_received;
}

/* The delay before the next reconnect or rejoin: the backoff with +-25 % jitter; the
 * backoff doubles up to its maximum. */
static int64_t next_delay(struct lroom_site *rm)
{
    double jitter = 0.75 + 0.5 * (double)random() / 2147483647.0;
    int64_t d = (int64_t)(rm->backoff_ms * jitter);
    rm->backoff_ms = rm->backoff_ms * 2 > LROOM_BACKOFF_MAX_MS ? LROOM_BACKOFF_MAX_MS : rm->backoff_ms * 2;
    return d;
}

/* A media session exists (or is being set up) on the server's side of this WebSocket. */
static bool in_session(const struct site *s)
{
    return s->stage == SITE_ANSWER || s->stage == SITE_CONNECTING || s->stage == SITE_FIRST_MEDIA ||
           s->stage == SITE_MEDIA || (s->stage == SITE_FAILED && s->wc_open);
}

static void send_text(struct site *s, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (!text || ws_conn_send_text(&s->ws, text, strlen(text)) < 0)
        snprintf(s->rm->disconnect_why, sizeof s->rm->disconnect_why, "cannot write to the WebSocket");
    free(text);
    json_decref(j);
}

static void send_leave(struct site *s)
{
    if (s->ws.open && !s->ws.closing)
        send_text(s, json_pack("{s:s}", "type", "leave"));
}

/* Frees the media session's transport and keeps its receive statistics; stage SITE_IDLE. */
static void drop_media(struct site *s, struct load_env *env)
{
    struct lroom_site *rm = s->rm;
    uint64_t e, l;
    site_rx_loss(&s->rx, &e, &l);
    rm->rx_expected += e;
    rm->rx_lost += l;
    rm->rx_received += s->rx.received;
    memset(&s->rx, 0, sizeof s->rx);
    site_udp_close(s, env);
    s->session[0] = 0;
    s->why[0] = 0;
    s->t_first_ms = s->t_last_audio_ms = 0;
    if (s->ear)
        lv_ear_reset(s->ear);
    rm->media_seen = false;
    site_set_stage(s, env, SITE_IDLE);
}

static void schedule_rejoin(struct site *s, int64_t now_ms)
{
    struct lroom_site *rm = s->rm;
    rm->want_join = rm->rejoin = true;
    rm->join_at_ms = now_ms + next_delay(rm);
}

/* The WebSocket is gone (or must go): everything is closed, and a reconnect is due after
 * the backoff. */
static void lost(struct site *s, struct load_env *env, int64_t now_ms, const char *why)
{
    struct lroom_site *rm = s->rm;
    bool was_open = s->ws.open;
    lroom_event(env->lroom, now_ms, "disconnected", s, "reason", why);
    drop_media(s, env);
    site_ws_close(s, env);
    rm->signed_in = rm->live = rm->want_join = false;
    rm->disconnect_why[0] = 0;
    rm->drops += was_open;
    snprintf(rm->last_error, sizeof rm->last_error, "%s", why);
    site_set_stage(s, env, SITE_BACKOFF);
    rm->retry_at_ms = now_ms + next_delay(rm);
}

static void connect_ws(struct site *s, struct load_env *env, int64_t now_ms)
{
    char why[200];
    s->rm->t_conn_ms = now_ms;
    site_set_stage(s, env, SITE_TCP);
    if (site_ws_connect(s, env, why, sizeof why) < 0)
        lost(s, env, now_ms, why);
}

void lroom_open(struct site *s, struct load_env *env, int64_t now_ms)
{
    connect_ws(s, env, now_ms);
}

static void send_signin(struct site *s, struct load_env *env, int64_t now_ms)
{
    struct lroom_site *rm = s->rm;
    send_text(s, json_pack("{s:s,s:i,s:I,s:s}", "type", "signin", "id", ID_SIGNIN, "site",
                           (json_int_t)rm->id, "secret", rm->secret));
    rm->t_conn_ms = now_ms;
    site_set_stage(s, env, SITE_SIGNIN);
}

/* ---- the server's messages ---- */

/* A conference id from a string or a number, into out[0..cap); "" when absent. */
static void conf_id(json_t *v, char *out, size_t cap)
{
    if (json_is_integer(v))
        snprintf(out, cap, "%lld", (long long)json_integer_value(v));
    else
        snprintf(out, cap, "%s", json_string_value(v) ? json_string_value(v) : "");
}

typedef void (*handler_fn)(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms);

static void on_signedin(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms)
{
    (void)msg;
    struct lroom_site *rm = s->rm;
    if (s->stage != SITE_SIGNIN)
        return;
    rm->signed_in = true;
    rm->signins++;
    rm->backoff_ms = LROOM_BACKOFF_MIN_MS;
    rm->live = rm->want_join = false;
    site_set_stage(s, env, SITE_IDLE);
    lroom_event(env->lroom, now_ms, "signedin", s, NULL, NULL);
}

static void on_invite(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms)
{
    struct lroom_site *rm = s->rm;
    char id[sizeof rm->conf];
    conf_id(json_object_get(json_object_get(msg, "conference"), "id"), id, sizeof id);
    if (!rm->signed_in || !id[0])
        return;
    if (in_session(s) && strcmp(id, rm->conf)) { /* busy in another conference: stay there */
        lroom_event(env->lroom, now_ms, "invite", s, "ignored", id);
        return;
    }
    snprintf(rm->conf, sizeof rm->conf, "%s", id);
    rm->live = true;
    lroom_event(env->lroom, now_ms, "invite", s, NULL, NULL);
    if (in_session(s))
        return;
    rm->want_join = true;
    rm->rejoin = false;
    rm->join_at_ms = rm->t_invite_ms = now_ms;
}

static void on_answer(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms)
{
    if (s->stage != SITE_ANSWER) { /* the session it answers was given up: end it */
        if (!in_session(s))
            send_leave(s);
        return;
    }
    site_take_answer(s, env, json_string_value(json_object_get(msg, "session")),
                     json_string_value(json_object_get(msg, "sdp")));
    if (s->stage != SITE_CONNECTING)
        return;
    s->rm->joins++;
    lroom_event(env->lroom, now_ms, "joined", s, "session", s->session);
}

/* ended and removed: the server closed the session; idle until invited again. */
static void session_over(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms,
                         const char *event)
{
    struct lroom_site *rm = s->rm;
    char id[sizeof rm->conf];
    conf_id(json_object_get(msg, "conference"), id, sizeof id);
    if (rm->conf[0] && id[0] && strcmp(id, rm->conf))
        return; /* about a conference it is not in */
    lroom_event(env->lroom, now_ms, event, s, NULL, NULL);
    if (in_session(s))
        drop_media(s, env);
    rm->live = rm->want_join = false;
}

static void on_ended(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms)
{
    session_over(s, env, msg, now_ms, "ended");
}

static void on_removed(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms)
{
    session_over(s, env, msg, now_ms, "removed");
}

static void on_closed(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms)
{
    struct lroom_site *rm = s->rm;
    const char *reason = json_string_value(json_object_get(msg, "reason"));
    if (!in_session(s))
        return;
    drop_media(s, env);
    rm->drops++;
    snprintf(rm->last_error, sizeof rm->last_error, "the server closed the session: %s", reason ? reason : "?");
    lroom_event(env->lroom, now_ms, "closed", s, "reason", reason ? reason : "");
    if (rm->live)
        schedule_rejoin(s, now_ms);
}

/* A refused signin: some answers are final (the run stops), others are retried. */
static void signin_refused(struct site *s, struct load_env *env, const char *code, const char *text)
{
    if (!strcmp(code, "bad_credentials") || !strcmp(code, "bad_request") || !strcmp(code, "unknown_type"))
        snprintf(env->lroom->fatal, sizeof env->lroom->fatal, "site %lld (%s): signin refused: %s: %s%s",
                 s->rm->id, s->name, code, text, !strcmp(code, "unknown_type") ?
                 " (this server does not know rooms)" : "");
    else /* rate_limited, already_signed_in (the old connection is still being closed) */
        snprintf(s->rm->disconnect_why, sizeof s->rm->disconnect_why, "signin refused: %s", code);
}

/* A refused join: wait for a new invite, or retry with backoff while the conference is live. */
static void join_refused(struct site *s, struct load_env *env, const char *code, int64_t now_ms)
{
    struct lroom_site *rm = s->rm;
    if (in_session(s))
        drop_media(s, env);
    if (!strcmp(code, "not_signed_in")) {
        snprintf(rm->disconnect_why, sizeof rm->disconnect_why, "join refused: not_signed_in");
        return;
    }
    if (!strcmp(code, "not_live") || !strcmp(code, "removed") || !strcmp(code, "not_invited") ||
        !strcmp(code, "locked")) {
        rm->live = rm->want_join = false;
        return;
    }
    if (!strcmp(code, "already_joined"))
        send_leave(s);
    if (rm->live)
        schedule_rejoin(s, now_ms);
}

static void on_error(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms)
{
    const char *code = json_string_value(json_object_get(msg, "code"));
    const char *text = json_string_value(json_object_get(msg, "message"));
    json_int_t id = json_integer_value(json_object_get(msg, "id"));
    code = code ? code : "?";
    snprintf(s->rm->last_error, sizeof s->rm->last_error, "server error %s: %s", code, text ? text : "");
    lroom_event(env->lroom, now_ms, "error", s, "code", code);
    if (id == ID_SIGNIN && s->stage == SITE_SIGNIN)
        signin_refused(s, env, code, text ? text : "");
    else if (id == ID_JOIN && s->stage == SITE_ANSWER)
        join_refused(s, env, code, now_ms);
}

static void on_layers(struct site *s, struct load_env *env, json_t *msg, int64_t now_ms)
{
    (void)now_ms;
    site_on_layers(s, env, msg);
}

static const struct {
    const char *type;
    handler_fn fn;
} handlers[] = {
    {"signedin", on_signedin}, {"invite", on_invite}, {"answer", on_answer}, {"ended", on_ended},
    {"removed", on_removed}, {"closed", on_closed}, {"error", on_error}, {"layers", on_layers},
};

struct msg_ctx {
    struct site *s;
    struct load_env *env;
    int64_t now_ms;
};

/* Every other message (conference, roster, presence, speaker, state, left...) is read and
 * ignored: the load generator plays a room that only joins and talks. */
static void on_message(void *arg, char *text, size_t len)
{
    struct msg_ctx *c = arg;
    struct site *s = c->s;
    if (s->rm->disconnect_why[0] || c->env->lroom->fatal[0])
        return;
    json_t *msg = json_loadb(text, len, 0, NULL);
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type)
        snprintf(s->rm->last_error, sizeof s->rm->last_error, "unreadable server message: %.80s", text);
    for (size_t i = 0; type && i < sizeof handlers / sizeof handlers[0]; i++)
        if (!strcmp(type, handlers[i].type)) {
            handlers[i].fn(s, c->env, msg, c->now_ms);
            break;
        }
    json_decref(msg);
}

void lroom_on_tcp(struct site *s, struct load_env *env, uint32_t events, int64_t now_ms)
{
    char why[200];
    if (s->tcp_fd < 0)
        return; /* a stale event: the socket was closed earlier in this batch */
    if (s->stage == SITE_TCP) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(s->tcp_fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            snprintf(why, sizeof why, "TCP connect to %s: %s", env->host_port, strerror(err));
            return lost(s, env, now_ms, why);
        }
        if (!(events & (EPOLLOUT | EPOLLIN)))
            return;
        site_set_stage(s, env, SITE_UPGRADE);
    }
    if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN))
        return lost(s, env, now_ms, "the WebSocket connection dropped");
    if (ws_conn_flush(&s->ws) < 0)
        return lost(s, env, now_ms, "cannot write to the WebSocket");
    if (events & EPOLLIN) {
        struct msg_ctx ctx = {s, env, now_ms};
        bool was_open = s->ws.open;
        int rc = ws_conn_on_readable(&s->ws, on_message, &ctx);
        if (env->lroom->fatal[0])
            return;
        if (s->rm->disconnect_why[0]) {
            snprintf(why, sizeof why, "%s", s->rm->disconnect_why);
            return lost(s, env, now_ms, why);
        }
        if (rc < 0)
            return lost(s, env, now_ms, !was_open ? "the WebSocket upgrade was refused or cut"
                        : rc == WS_ERR_IO ? "the server closed the WebSocket"
                        : rc == WS_ERR_PROTO ? "the server broke the WebSocket framing"
                        : "the WebSocket failed (message too big or no memory)");
        if (!was_open && s->ws.open)
            send_signin(s, env, now_ms);
    }
    site_ws_rearm(s, env);
}

/* ---- the clock ---- */

static void start_join(struct site *s, struct load_env *env, int64_t now_ms)
{
    struct lroom_site *rm = s->rm;
    rm->want_join = false;
    if (rm->rejoin) {
        rm->t_invite_ms = now_ms;
        lroom_event(env->lroom, now_ms, "rejoin", s, NULL, NULL);
    }
    rm->rejoin = false;
    s->t_open_ms = now_ms; /* the join timeout counts from here */
    snprintf(s->conference, sizeof s->conference, "%s", rm->conf);
    if (site_udp_open(s, env) == 0)
        site_send_join(s, env);
}

/* site.c failed the session (a bad answer, DTLS, the join timeout...): end it on the server
 * too, and rejoin with backoff while the conference is live. */
static void media_failed(struct site *s, struct load_env *env, int64_t now_ms)
{
    struct lroom_site *rm = s->rm;
    snprintf(rm->last_error, sizeof rm->last_error, "%s", s->why);
    lroom_event(env->lroom, now_ms, "error", s, "message", s->why);
    if (s->session[0])
        send_leave(s);
    drop_media(s, env);
    if (rm->live)
        schedule_rejoin(s, now_ms);
}

static void first_media(struct site *s, struct load_env *env, int64_t now_ms)
{
    struct lroom_site *rm = s->rm;
    int64_t ms = s->t_first_ms - rm->t_invite_ms;
    rm->media_seen = true;
    rm->backoff_ms = LROOM_BACKOFF_MIN_MS;
    if (rm->first_media_ms < 0)
        rm->first_media_ms = ms;
    if (rm->n_media_ms == rm->cap_media_ms) {
        int cap = rm->cap_media_ms ? rm->cap_media_ms * 2 : 4;
        int64_t *m = realloc(rm->media_ms, (size_t)cap * sizeof *m);
        if (m) {
            rm->media_ms = m;
            rm->cap_media_ms = cap;
        }
    }
    if (rm->n_media_ms < rm->cap_media_ms)
        rm->media_ms[rm->n_media_ms++] = ms;
    lroom_event(env->lroom, now_ms, "media", s, NULL, NULL);
}

void lroom_tick(struct site *s, struct load_env *env, int64_t now_ms, bool slow)
{
    struct lroom *lr = env->lroom;
    struct lroom_site *rm = s->rm;
    bool room = env->in_flight < lr->join_concurrency;
    if (rm->disconnect_why[0] && s->tcp_fd >= 0) { /* a write failed outside a read */
        char why[sizeof rm->disconnect_why];
        snprintf(why, sizeof why, "%s", rm->disconnect_why);
        return lost(s, env, now_ms, why);
    }
    switch (s->stage) {
    case SITE_WAITING:
        return; /* the run opens it */
    case SITE_BACKOFF:
        if (now_ms >= rm->retry_at_ms && room && !lr->finishing) {
            lroom_event(lr, now_ms, "rejoin", s, NULL, NULL);
            connect_ws(s, env, now_ms);
        }
        return;
    case SITE_TCP:
    case SITE_UPGRADE:
    case SITE_SIGNIN:
        if (now_ms - rm->t_conn_ms > lr->join_timeout_ms) {
            char why[120];
            snprintf(why, sizeof why, "still at stage %s after %lld ms", site_stage_name(s->stage),
                     (long long)(now_ms - rm->t_conn_ms));
            lost(s, env, now_ms, why);
        }
        return;
    case SITE_IDLE:
        if (rm->want_join && rm->live && now_ms >= rm->join_at_ms && room && !lr->finishing)
            start_join(s, env, now_ms);
        return;
    case SITE_FAILED:
        return media_failed(s, env, now_ms);
    default: /* in a session */
        if (s->stage == SITE_CONNECTING || slow)
            site_tick(s, env, now_ms, lr->join_timeout_ms);
        if (s->stage == SITE_MEDIA && !rm->media_seen)
            first_media(s, env, now_ms);
    }
}

void lroom_drop(struct site *s, struct load_env *env, int64_t now_ms)
{
    if (s->tcp_fd < 0 && !s->wc_open)
        return;
    lost(s, env, now_ms, "drop");
}

void lroom_finish(struct site *s, struct load_env *env)
{
    if (in_session(s) && s->session[0])
        send_leave(s);
    site_close(s, env);
}
