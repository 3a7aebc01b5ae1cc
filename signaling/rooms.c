/* The rooms on the signaling thread: signed-in sites by id, the live conferences' hooks
 * (messages to sites and admin panels, mute and close commands to the media workers), the
 * scheduling tick, the admin events socket at /api/v1/events, and what the workers' level
 * reports feed: live quality for watchers and link-utilisation monitoring. */
#include "signaling/internal.h"
#include "mcu/log.h"
#include "mcu/server.h"
#include "rooms/auth.h"
#include "rooms/live.h"
#include "rooms/monitor.h"
#include "rooms/store.h"
#include "media/session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TICK_US (200 * LWS_US_PER_MS)
#define MSG_RATE 50.0   /* messages per second a connection may send, sustained */
#define MSG_BURST 200.0
#define QUALITY_MS 2000 /* a `quality` event per conference about this often */

static unsigned bucket(int64_t site)
{
    return (unsigned)((uint64_t)site * 0x9E3779B97F4A7C15ull >> 54) % SITE_BUCKETS;
}

struct conn *rooms_site_conn(struct signaling *sig, int64_t site)
{
    for (struct conn *c = sig->site_map[bucket(site)]; c; c = c->site_next)
        if (c->site_id == site)
            return c;
    return NULL;
}

static void map_remove(struct signaling *sig, struct conn *c)
{
    for (struct conn **pp = &sig->site_map[bucket(c->site_id)]; *pp; pp = &(*pp)->site_next)
        if (*pp == c) {
            *pp = c->site_next;
            c->site_next = NULL;
            return;
        }
}

void rooms_send(struct conn *c, json_t *msg)
{
    ws_send_json(c, json_incref(msg));
}

/* ---- live hooks */

static void send_schedule(struct conn *c);

/* An invitation means a conference went live (or the site just signed in): when it is the
 * one the site's idle screen shows as next, the next one comes after it. */
static void hook_to_site(void *ctx, int64_t site, json_t *msg)
{
    struct conn *c = rooms_site_conn(ctx, site);
    if (!c)
        return;
    rooms_send(c, msg);
    const char *type = json_string_value(json_object_get(msg, "type"));
    const char *conf = json_string_value(json_object_get(json_object_get(msg, "conference"), "id"));
    if (c->next_conf && type && conf && !strcmp(type, "invite") && strtoll(conf, NULL, 10) == c->next_conf)
        send_schedule(c);
}

uint64_t rooms_session_of(struct signaling *sig, int64_t conf, int64_t site)
{
    struct conn *c = site ? rooms_site_conn(sig, site) : NULL;
    return c && c->session_id && c->room_conf == conf ? c->session_id : 0;
}

static void hook_set_view(void *ctx, int64_t conf, int64_t site, int64_t view)
{
    struct signaling *sig = ctx;
    struct conn *c = rooms_site_conn(sig, site);
    if (!c || !c->session_id || c->room_conf != conf)
        return;
    uint64_t source = rooms_session_of(sig, conf, view);
    struct mcu_msg m = {.type = CMD_VIDEO_VIEW, .worker = (uint32_t)c->session_worker,
                        .id = c->session_id, .arg = (int64_t)source};
    worker_send_cmd(&sig->srv->workers[c->session_worker], &m);
}

static void hook_to_watchers(void *ctx, int64_t conf, json_t *msg)
{
    struct signaling *sig = ctx;
    for (struct conn *c = sig->endpoints; c; c = c->ws_next)
        if (c->events && c->watch_conf == conf)
            rooms_send(c, msg);
}

static void hook_set_mute(void *ctx, int64_t conf, int64_t site, bool muted)
{
    struct signaling *sig = ctx;
    struct conn *c = rooms_site_conn(sig, site);
    if (!c || c->room_conf != conf || !c->session_id)
        return;
    struct mcu_msg m = {.type = CMD_SESSION_MUTE, .worker = (uint32_t)c->session_worker, .id = c->session_id,
                        .arg = muted};
    if (!worker_send_cmd(&sig->srv->workers[c->session_worker], &m))
        log_warn("rooms", "site %lld: mute command lost (queue full)", (long long)site);
}

static void hook_drop_session(void *ctx, int64_t conf, int64_t site)
{
    struct conn *c = rooms_site_conn(ctx, site);
    if (c && c->room_conf == conf) {
        c->room_conf = 0; /* the conference already knows */
        ws_end_session(c);
    }
}

static bool hook_site_online(void *ctx, int64_t site)
{
    return rooms_site_conn(ctx, site) != NULL;
}

/* An admin events socket lives only as long as its sign-in: logout, expiry, a password
 * change or a disabled account close it. Only a peek: an open socket is not a use of the
 * sign-in, or a panel left open would never reach its idle expiry. */
static void check_watchers(struct signaling *sig, int64_t now)
{
    for (struct conn *c = sig->endpoints; c; c = c->ws_next) {
        if (!c->events || !c->user_id || c->replaced)
            continue;
        struct store_user u;
        if (auth_session_peek(sig->sessions, c->token, now) == c->user_id &&
            store_user_get(&sig->srv->db, c->user_id, &u) == 0 && !u.disabled)
            continue;
        json_t *e = json_pack("{s:s,s:s,s:s}", "type", "error", "code", "unauthorized", "message",
                              "the sign-in has ended");
        rooms_send(c, e);
        json_decref(e);
        c->user_id = 0;
        c->watch_conf = 0;
        c->replaced = true;
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 1);
    }
}

/* A unit entered or left link-utilisation alarm: the log, the audit log, and the events
 * sockets whose account's scope holds the unit. */
static void on_alarm(void *ctx, const struct monitor_alarm *a)
{
    struct signaling *sig = ctx;
    struct db *db = &sig->srv->db;
    char target[32], detail[96];
    snprintf(target, sizeof target, "unit:%s", a->unit);
    snprintf(detail, sizeof detail, "utilisation %.1f%% of %d kbps", a->utilisation * 100, a->capacity_kbps);
    if (a->raised)
        log_warn("monitor", "unit %s (%s): link utilisation %.1f%% of %d kbps, above %.0f%%", a->unit, a->name,
                 a->utilisation * 100, a->capacity_kbps, MONITOR_THRESHOLD * 100);
    else
        log_info("monitor", "unit %s (%s): link utilisation back to %.1f%%", a->unit, a->name, a->utilisation * 100);
    store_audit(db, "-", "monitor.alarm", target, "", a->raised ? "raised" : "cleared", detail, a->unit);
    json_t *msg = json_pack("{s:s,s:s,s:s,s:I,s:f,s:s}", "type", "alarm", "unit", a->unit, "name", a->name, "t",
                            (json_int_t)a->t, "utilisation", a->utilisation, "state", a->raised ? "raised" : "cleared");
    for (struct conn *c = sig->endpoints; c; c = c->ws_next) {
        struct store_user u;
        if (c->events && c->user_id && !c->replaced && store_user_get(db, c->user_id, &u) == 0 &&
            store_unit_within(db, a->unit, u.unit))
            rooms_send(c, msg);
    }
    json_decref(msg);
}

static void tick(lws_sorted_usec_list_t *sul)
{
    struct signaling *sig = lws_container_of(sul, struct signaling, tick);
    int64_t now = store_now_ms();
    live_tick(sig->live, now);
    monitor_tick(sig->monitor, now);
    recorder_tick(sig->recorder, now);
    if (now - sig->watchers_checked >= 5000) {
        sig->watchers_checked = now;
        check_watchers(sig, now);
    }
    lws_sul_schedule(sig->ctx, 0, &sig->tick, tick, TICK_US);
}

int rooms_init(struct signaling *sig, char *err, size_t errlen)
{
    const struct mcu_config *cfg = &sig->srv->cfg;
    struct live_hooks hooks = {
        .ctx = sig, .to_site = hook_to_site, .to_watchers = hook_to_watchers, .set_mute = hook_set_mute,
        .drop_session = hook_drop_session, .site_online = hook_site_online, .set_view = hook_set_view,
        .set_main = recorder_set_main, .started = recorder_started, .ended = recorder_ended,
        .state_extra = recorder_state, .control = recorder_control,
    };
    if (auth_init() < 0) {
        snprintf(err, errlen, "cannot initialise libsodium");
        return -1;
    }
    sig->sessions = auth_sessions_new((int64_t)cfg->session_idle_s * 1000, (int64_t)cfg->session_max_s * 1000, 4096);
    sig->limiter = auth_limiter_new(5, 60000, 15 * 60000, 8192);
    sig->live = live_new(&sig->srv->db, &hooks);
    if (!sig->sessions || !sig->limiter || !sig->live) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sig->monitor = monitor_new(&sig->srv->db, cfg->monitor_sample_s, cfg->monitor_retention_days, store_now_ms());
    if (!sig->monitor) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    monitor_set_alarm_hook(sig->monitor, on_alarm, sig);
    live_set_end_warning(sig->live, (int64_t)cfg->end_warning_s * 1000);
    if (!(sig->recorder = recorder_new(sig, err, errlen)))
        return -1;
    live_restore(sig->live, store_now_ms());
    lws_sul_schedule(sig->ctx, 0, &sig->tick, tick, TICK_US);
    return 0;
}

void rooms_free(struct signaling *sig)
{
    recorder_free(sig->recorder);
    sig->recorder = NULL;
    live_free(sig->live);
    monitor_free(sig->monitor);
    sig->monitor = NULL;
    auth_sessions_free(sig->sessions);
    auth_limiter_free(sig->limiter);
    sig->live = NULL;
    sig->sessions = NULL;
    sig->limiter = NULL;
}

/* ---- sites coming and going */

void rooms_site_signed_in(struct conn *c, int64_t site)
{
    struct signaling *sig = c->sig;
    struct conn *old = rooms_site_conn(sig, site);
    if (old) { /* the room reconnected (its old link may be half-open): the newest wins */
        json_t *e = json_pack("{s:s,s:s,s:s}", "type", "error", "code", "replaced", "message",
                              "this site signed in on another connection");
        rooms_send(old, e);
        json_decref(e);
        ws_end_session(old);
        map_remove(sig, old);
        old->site_id = 0;
        old->replaced = true; /* it says nothing more; closed once the error is written */
        lws_set_timeout(old->wsi, PENDING_TIMEOUT_CLOSE_SEND, 1);
    }
    c->site_id = site;
    c->site_next = sig->site_map[bucket(site)];
    sig->site_map[bucket(site)] = c;
    if (store_site_seen(&sig->srv->db, site, store_now_ms()) < 0)
        log_warn("rooms", "site %lld: cannot store when it was last seen", (long long)site);
    live_site_online(sig->live, site, true); /* presence (if it was offline) and invitations */
}

void rooms_session_ended(struct conn *c, const char *reason)
{
    if (!c->room_conf)
        return;
    int64_t conf = c->room_conf;
    c->room_conf = 0;
    live_left(c->sig->live, conf, c->site_id, reason, store_now_ms());
}

void rooms_endpoint_closed(struct conn *c)
{
    if (!c->site_id)
        return;
    int64_t site = c->site_id;
    map_remove(c->sig, c);
    c->site_id = 0;
    c->next_conf = 0;
    store_site_seen(&c->sig->srv->db, site, store_now_ms()); /* a deleted site has no row: fine */
    live_site_online(c->sig->live, site, false);
}

/* ---- the next conference on a room's idle screen */

json_t *rooms_next_json(struct conn *c, int64_t site)
{
    json_t *next = store_site_next_conf(&c->sig->srv->db, site, store_now_ms());
    if (!next) {
        log_warn("rooms", "site %lld: cannot read its next conference", (long long)site);
        next = json_null();
    }
    const char *id = json_string_value(json_object_get(next, "id"));
    c->next_conf = id ? strtoll(id, NULL, 10) : 0;
    return next;
}

static void send_schedule(struct conn *c)
{
    ws_send_json(c, json_pack("{s:s,s:o}", "type", "schedule", "next", rooms_next_json(c, c->site_id)));
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One query per signed-in site among them: an edit reaches a few hundred rooms at most. */
void rooms_schedule_changed(struct signaling *sig, int64_t *sites, int n)
{
    if (n <= 0 || !sites)
        return;
    qsort(sites, (size_t)n, sizeof *sites, cmp_id);
    for (int i = 0; i < n; i++) {
        if (i && sites[i] == sites[i - 1])
            continue;
        struct conn *c = rooms_site_conn(sig, sites[i]);
        if (c && !c->replaced)
            send_schedule(c);
    }
}

bool rooms_message_allowed(struct conn *c)
{
    int64_t now = store_now_ms();
    if (!c->tokens_at_ms)
        c->tokens = MSG_BURST;
    else
        c->tokens += (double)(now - c->tokens_at_ms) * MSG_RATE / 1000.0;
    if (c->tokens > MSG_BURST)
        c->tokens = MSG_BURST;
    c->tokens_at_ms = now;
    if (c->tokens < 1.0)
        return false;
    c->tokens -= 1.0;
    return true;
}

/* ---- the admin events socket */

/* The endpoint of each session of a level report (NULL where there is none, or it is not in
 * a room conference), in one pass over the endpoints: a report names every member of a
 * conference, and a province has hundreds. Returns a malloc'd array of lv->n. */
static struct conn **report_conns(struct signaling *sig, const struct mix_levels *lv)
{
    size_t cap = 16;
    while (cap < (size_t)lv->n * 2)
        cap *= 2;
    struct conn **out = calloc((size_t)lv->n, sizeof *out);
    int *idx = malloc(cap * sizeof *idx); /* open addressing: session -> index in lv->v */
    if (!out || !idx) {
        free(out);
        free(idx);
        return NULL;
    }
    for (size_t k = 0; k < cap; k++)
        idx[k] = -1;
    for (int i = 0; i < lv->n; i++) {
        size_t k = (size_t)(lv->v[i].session * 0x9E3779B97F4A7C15ull >> 40) & (cap - 1);
        while (idx[k] >= 0)
            k = (k + 1) & (cap - 1);
        idx[k] = i;
    }
    for (struct conn *c = sig->endpoints; c; c = c->ws_next) {
        if (!c->session_id || !c->room_conf)
            continue;
        size_t k = (size_t)(c->session_id * 0x9E3779B97F4A7C15ull >> 40) & (cap - 1);
        for (; idx[k] >= 0; k = (k + 1) & (cap - 1))
            if (lv->v[idx[k]].session == c->session_id) {
                out[idx[k]] = c;
                break;
            }
    }
    free(idx);
    return out;
}

static void quality_reset(struct conn *c)
{
    c->q_bytes_in = c->q_bytes_out = c->q_expected = 0;
    c->q_lost = 0;
    c->q_ms = 0;
}

/* Adds a report's figures to the endpoint's quality window (a new one for a new session). */
static void quality_add(struct conn *c, const struct mix_level *l, int interval_ms)
{
    if (c->q_session != c->session_id) {
        quality_reset(c);
        c->q_session = c->session_id;
    }
    c->q_bytes_in += l->bytes_in;
    c->q_bytes_out += l->bytes_out;
    c->q_expected += l->expected;
    c->q_lost += l->lost;
    c->q_ms += interval_ms;
    c->q_jitter_ms = l->jitter_ms;
    c->q_rtt_ms = l->rtt_ms;
}

/* One site's entry of a `quality` event; loss and jitter are null while nothing came. */
static json_t *quality_json(const struct conn *c)
{
    double ms = c->q_ms > 0 ? c->q_ms : 1;
    int64_t lost = c->q_lost < 0 ? 0 : c->q_lost;
    double loss = c->q_expected ? (double)lost / (double)c->q_expected : 0;
    return json_pack("{s:f,s:f,s:o,s:o,s:o}", "kbps_in", round(c->q_bytes_in * 80.0 / ms) / 10,
                     "kbps_out", round(c->q_bytes_out * 80.0 / ms) / 10,
                     "loss", c->q_expected ? json_real(round((loss > 1 ? 1 : loss) * 10000) / 10000) : json_null(),
                     "jitter_ms", c->q_jitter_ms >= 0 ? json_real(round(c->q_jitter_ms * 10) / 10) : json_null(),
                     "rtt_ms", c->q_rtt_ms >= 0 ? json_integer(c->q_rtt_ms) : json_null());
}

static json_t *sites_event(const char *type, int64_t conf, json_t *sites)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)conf);
    return json_pack("{s:s,s:s,s:o}", "type", type, "conference", id, "sites", sites);
}

/* Every 500 ms per conference: the bytes go to the monitor; watchers get `levels`, and every
 * QUALITY_MS `quality`, once the longest-covered member has that much. */
void rooms_on_levels(struct signaling *sig, const struct mix_levels *lv)
{
    if (!lv || !lv->n)
        return;
    struct conn **conns = report_conns(sig, lv);
    if (!conns)
        return;
    int64_t conf = 0;
    bool due = false;
    for (int i = 0; i < lv->n; i++) {
        struct conn *c = conns[i];
        const struct mix_level *l = &lv->v[i];
        if (c && !conf)
            conf = c->room_conf;
        if (!c || c->room_conf != conf) {
            conns[i] = NULL;
            continue;
        }
        monitor_add(sig->monitor, c->site_id, l->bytes_in + (uint64_t)l->pkts_in * MONITOR_IP_UDP_BYTES,
                    l->bytes_out + (uint64_t)l->pkts_out * MONITOR_IP_UDP_BYTES);
        quality_add(c, l, lv->interval_ms);
        due |= c->q_ms >= QUALITY_MS;
    }
    bool watched = false;
    for (struct conn *c = sig->endpoints; c && conf && !watched; c = c->ws_next)
        watched = c->events && c->watch_conf == conf;
    json_t *levels = watched ? json_object() : NULL, *quality = watched && due ? json_object() : NULL;
    for (int i = 0; i < lv->n; i++) {
        struct conn *c = conns[i];
        if (!c)
            continue;
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)c->site_id);
        if (levels)
            json_object_set_new(levels, key, json_pack("{s:i,s:f}", "level", lv->v[i].level, "rx_pps",
                                                       lv->v[i].rx_packets * 1000.0 / lv->interval_ms));
        if (quality)
            json_object_set_new(quality, key, quality_json(c));
        if (due)
            quality_reset(c);
    }
    free(conns);
    if (levels) {
        json_t *msg = sites_event("levels", conf, levels);
        hook_to_watchers(sig, conf, msg);
        json_decref(msg);
    }
    if (quality) {
        json_t *msg = sites_event("quality", conf, quality);
        hook_to_watchers(sig, conf, msg);
        json_decref(msg);
    }
}

static void events_error(struct conn *c, json_t *id, const char *code, const char *message)
{
    json_t *j = json_pack("{s:s,s:s,s:s}", "type", "error", "code", code, "message", message);
    if (id)
        json_object_set(j, "id", id);
    ws_send_json(c, j);
}

static void events_watch(struct conn *c, json_t *req, json_t *id)
{
    struct db *db = &c->sig->srv->db;
    struct store_user u;
    const char *cs = json_string_value(json_object_get(req, "conference"));
    int64_t conf = cs ? strtoll(cs, NULL, 10) : json_integer_value(json_object_get(req, "conference"));
    struct store_conf sc;
    if (store_user_get(db, c->user_id, &u) < 0 || u.disabled)
        return events_error(c, id, "unauthorized", "sign in again");
    if (conf <= 0 || store_conf_get(db, conf, &sc) < 0)
        return events_error(c, id, "not_found", "no such conference");
    if (!store_unit_within(db, sc.host_unit, u.unit)) {
        char target[32];
        snprintf(target, sizeof target, "conference:%lld", (long long)conf);
        store_audit(db, u.username, "conference.watch", target, c->addr, "forbidden", "", sc.host_unit);
        return events_error(c, id, "forbidden", "outside your unit's scope");
    }
    c->watch_conf = conf;
    json_t *live = live_state_json(c->sig->live, conf), *roster = live_roster_json(c->sig->live, conf);
    char cid[24];
    snprintf(cid, sizeof cid, "%lld", (long long)conf);
    json_t *j = json_pack("{s:s,s:s,s:o,s:o}", "type", "watching", "conference", cid, "live",
                          live ? live : json_null(), "sites", roster ? roster : json_array());
    if (id)
        json_object_set(j, "id", id);
    ws_send_json(c, j);
}

void events_on_message(struct conn *c, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(req)) {
        ws_refuse_input(c, NULL, "bad_json", req ? "a message must be a JSON object" : jerr.text);
        json_decref(req);
        return;
    }
    json_t *id = json_object_get(req, "id");
    const char *type = json_string_value(json_object_get(req, "type"));
    if (!c->user_id)
        events_error(c, id, "unauthorized", "sign in first");
    else if (!type)
        events_error(c, id, "bad_request", "a message needs a 'type' string");
    else if (!strcmp(type, "watch"))
        events_watch(c, req, id);
    else if (!strcmp(type, "unwatch"))
        c->watch_conf = 0;
    else
        events_error(c, id, "unknown_type", "unknown message type (watch, unwatch)");
    json_decref(req);
}

void events_open(struct conn *c)
{
    char buf[96];
    const char *tok = lws_get_urlarg_by_name(c->wsi, "token=", buf, sizeof buf);
    c->user_id = api_auth_user(c, tok, c->token, sizeof c->token);
    if (!c->user_id) {
        events_error(c, NULL, "unauthorized", "sign in first (the session may have expired)");
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 1);
    }
}
