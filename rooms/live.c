/* Live conferences (see rooms/live.h). One struct per live conference holds the invited sites
 * with their presence, mute and hand, and the chair's modes. Every change is written to the
 * store before it is announced, so a restart finds what the sites were last told. */
#include "rooms/live.h"
#include "rooms/auth.h"
#include "mcu/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mode { MODE_VOICE = 0, MODE_LECTURE, MODE_BROADCAST, MODE_TOUR };
static const char *const mode_names[] = {"voice", "lecture", "broadcast", "tour"};
static const char *const status_names[] = {"offline", "idle", "joined"};

#define MIN_STEP_MS 200            /* the shortest roll-call, tour or lecture step */
#define DEFAULT_STEP_MS 10000

struct member {
    struct store_member m;      /* site, name, unit, muted (by the operator/chair), removed */
    enum live_status status;
    bool self_muted, hand;
    int64_t hand_at;            /* the queue is ordered by when hands went up */
    int64_t select;             /* the main this site asked for, 0 = the conference's */
    int64_t view;               /* the main its video shows, as last told to the router */
};

struct lconf {
    struct store_conf c;        /* chair, floor, locked, mute_all live here */
    struct member *m;
    int n;
    enum mode mode;
    int64_t speaker, broadcast;
    int64_t lecture_view;       /* what the chair sees in lecture mode */
    int64_t *tour;
    int ntour, tour_idx;
    int rc_idx;                 /* roll call: index into m, -1 when none runs */
    int step_ms;                /* the current timed mode's step */
    int64_t next_step;          /* when it moves on */
    bool warned;                /* the end warning went out */
    bool state_dirty;           /* the state changed since it was last sent */
    int64_t main_view;          /* what set_main last said */
    struct lconf *next;
};

struct live {
    struct db *db;
    struct live_hooks h;
    struct lconf *confs;
    int64_t end_warning_ms;
    int64_t next_schedule_check;
};

struct live *live_new(struct db *db, const struct live_hooks *hooks)
{
    struct live *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->db = db;
    l->h = *hooks;
    l->end_warning_ms = 60000;
    return l;
}

static void lconf_free(struct lconf *lc)
{
    free(lc->m);
    free(lc->tour);
    free(lc);
}

void live_free(struct live *l)
{
    if (!l)
        return;
    while (l->confs) {
        struct lconf *lc = l->confs;
        l->confs = lc->next;
        lconf_free(lc);
    }
    free(l);
}

void live_set_end_warning(struct live *l, int64_t ms)
{
    l->end_warning_ms = ms;
}

static struct lconf *find(struct live *l, int64_t id)
{
    for (struct lconf *lc = l->confs; lc; lc = lc->next)
        if (lc->c.id == id)
            return lc;
    return NULL;
}

static struct member *member(struct lconf *lc, int64_t site)
{
    for (int i = 0; i < lc->n; i++)
        if (lc->m[i].m.site == site)
            return &lc->m[i];
    return NULL;
}

bool live_is_live(struct live *l, int64_t conf)
{
    return find(l, conf) != NULL;
}

int64_t live_chair(struct live *l, int64_t conf)
{
    struct lconf *lc = find(l, conf);
    return lc ? lc->c.chair_site : 0;
}

/* ---- what sites see */

static int64_t first_joined(struct lconf *lc, int64_t except)
{
    for (int i = 0; i < lc->n; i++)
        if (lc->m[i].status == LIVE_JOINED && lc->m[i].m.site != except)
            return lc->m[i].m.site;
    return 0;
}

/* The main picture for everyone (for_chair: what the chair sees, which differs in lecture). */
static int64_t main_site(struct lconf *lc, bool for_chair)
{
    if (lc->rc_idx >= 0)
        return lc->m[lc->rc_idx].m.site;
    if (lc->mode == MODE_BROADCAST && lc->broadcast)
        return lc->broadcast;
    if (lc->c.floor_site)
        return lc->c.floor_site;
    if (lc->mode == MODE_TOUR && lc->ntour)
        return lc->tour[lc->tour_idx];
    if (lc->mode == MODE_LECTURE)
        return for_chair ? lc->lecture_view : lc->c.chair_site;
    return lc->speaker ? lc->speaker : lc->c.chair_site;
}

static json_t *id_or_null(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

static int by_hand_time(const void *a, const void *b)
{
    const struct member *x = *(const struct member *const *)a, *y = *(const struct member *const *)b;
    return (x->hand_at > y->hand_at) - (x->hand_at < y->hand_at);
}

static json_t *state_json(struct lconf *lc)
{
    /* the queue: raised hands by the time they went up */
    const struct member *up[lc->n + 1];
    int nup = 0;
    for (int i = 0; i < lc->n; i++)
        if (lc->m[i].hand)
            up[nup++] = &lc->m[i];
    qsort(up, (size_t)nup, sizeof up[0], by_hand_time);
    json_t *hands = json_array();
    for (int i = 0; i < nup; i++)
        json_array_append_new(hands, json_integer(up[i]->m.site));
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)lc->c.id);
    json_t *rc = json_null();
    if (lc->rc_idx >= 0)
        rc = json_pack("{s:I,s:i,s:i}", "site", (json_int_t)lc->m[lc->rc_idx].m.site, "index", lc->rc_idx,
                       "total", lc->n);
    int joined = 0;
    for (int i = 0; i < lc->n; i++)
        joined += lc->m[i].status == LIVE_JOINED;
    return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:b,s:b,s:o,s:o,s:o,s:i,s:i}", "id", id, "title",
                     lc->c.title, "state", "live", "chair", id_or_null(lc->c.chair_site), "floor",
                     id_or_null(lc->c.floor_site), "main", id_or_null(main_site(lc, false)), "chair_main",
                     id_or_null(main_site(lc, true)), "speaker", id_or_null(lc->speaker), "mode",
                     mode_names[lc->mode], "locked", lc->c.locked, "mute_all", lc->c.mute_all, "hands", hands,
                     "rollcall", rc, "ends_at", lc->c.end_at ? json_integer(lc->c.end_at) : json_null(),
                     "invited", lc->n, "joined", joined);
}

/* The state with the hook's extra fields. */
static json_t *full_state(struct live *l, struct lconf *lc)
{
    json_t *j = state_json(lc);
    json_t *x = l->h.state_extra ? l->h.state_extra(l->h.ctx, lc->c.id) : NULL;
    if (x)
        json_object_update(j, x);
    json_decref(x);
    return j;
}

static json_t *member_json(struct member *m, const char *type, int64_t conf)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)conf);
    json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:b,s:b,s:b,s:b}", "site", (json_int_t)m->m.site, "name", m->m.name,
                          "unit", m->m.unit, "status", status_names[m->status], "muted", m->m.muted, "self_muted",
                          m->self_muted, "hand", m->hand, "removed", m->m.removed);
    if (type) {
        json_object_set_new(j, "type", json_string(type));
        json_object_set_new(j, "conference", json_string(id));
    }
    return j;
}

/* Sends msg to every joined site of the conference and to its watchers; takes msg. */
static void broadcast(struct live *l, struct lconf *lc, json_t *msg)
{
    for (int i = 0; i < lc->n; i++)
        if (lc->m[i].status == LIVE_JOINED && l->h.to_site)
            l->h.to_site(l->h.ctx, lc->m[i].m.site, msg);
    if (l->h.to_watchers)
        l->h.to_watchers(l->h.ctx, lc->c.id, msg);
    json_decref(msg);
}

/* The state goes out on the next tick (at most 5 times a second): when 160 sites join within
 * a second, each would otherwise get 160 copies of it. */
static void announce_state(struct live *l, struct lconf *lc)
{
    (void)l;
    lc->state_dirty = true;
}

/* Tells the router what each joined site's main view shows: its own choice, else what the
 * chair or everyone sees. */
static void push_views(struct live *l, struct lconf *lc)
{
    int64_t main = main_site(lc, false), chair_main = main_site(lc, true);
    if (main != lc->main_view && l->h.set_main) {
        lc->main_view = main;
        l->h.set_main(l->h.ctx, lc->c.id, main);
    }
    for (int i = 0; i < lc->n && l->h.set_view; i++) {
        struct member *m = &lc->m[i];
        int64_t v = m->select ? m->select : m->m.site == lc->c.chair_site ? chair_main : main;
        if (m->status != LIVE_JOINED || v == m->view)
            continue;
        m->view = v;
        l->h.set_view(l->h.ctx, lc->c.id, m->m.site, v);
    }
}

static void flush_state(struct live *l, struct lconf *lc)
{
    if (!lc->state_dirty)
        return;
    lc->state_dirty = false;
    broadcast(l, lc, json_pack("{s:s,s:o}", "type", "conference", "conference", full_state(l, lc)));
    push_views(l, lc);
}

static void announce_member(struct live *l, struct lconf *lc, struct member *m)
{
    broadcast(l, lc, member_json(m, "presence", lc->c.id));
}

static void to_site(struct live *l, int64_t site, json_t *msg) /* takes msg */
{
    if (l->h.to_site)
        l->h.to_site(l->h.ctx, site, msg);
    json_decref(msg);
}

static json_t *conf_ref(struct lconf *lc, const char *type)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)lc->c.id);
    return json_pack("{s:s,s:s}", "type", type, "conference", id);
}

static void send_invite(struct live *l, struct lconf *lc, int64_t site)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)lc->c.id);
    to_site(l, site, json_pack("{s:s,s:{s:s,s:s,s:s}}", "type", "invite", "conference", "id", id, "title",
                               lc->c.title, "state", "live"));
}

/* The mute the media session must apply: the operator's or the site's own. */
static void apply_mute(struct live *l, struct lconf *lc, struct member *m)
{
    if (m->status == LIVE_JOINED && l->h.set_mute)
        l->h.set_mute(l->h.ctx, lc->c.id, m->m.site, m->m.muted || m->self_muted);
}

static void save_member(struct live *l, struct lconf *lc, struct member *m)
{
    if (store_member_save(l->db, lc->c.id, &m->m) < 0)
        log_warn("live", "conference %lld: cannot save site %lld", (long long)lc->c.id, (long long)m->m.site);
}

static void save_control(struct live *l, struct lconf *lc)
{
    if (store_conf_save_control(l->db, &lc->c) < 0)
        log_warn("live", "conference %lld: cannot save its control state", (long long)lc->c.id);
}

/* ---- loading, start and end */

static struct lconf *load(struct live *l, int64_t id)
{
    struct lconf *lc = calloc(1, sizeof *lc);
    if (!lc)
        return NULL;
    struct store_member *sm = NULL;
    if (store_conf_get(l->db, id, &lc->c) < 0 || (lc->n = store_conf_members(l->db, id, &sm)) < 0) {
        free(lc);
        return NULL;
    }
    lc->m = calloc((size_t)lc->n + 1, sizeof *lc->m);
    if (!lc->m) {
        free(sm);
        free(lc);
        return NULL;
    }
    for (int i = 0; i < lc->n; i++) {
        lc->m[i].m = sm[i];
        lc->m[i].status = l->h.site_online && l->h.site_online(l->h.ctx, sm[i].site) ? LIVE_IDLE : LIVE_OFFLINE;
    }
    free(sm);
    lc->rc_idx = -1;
    lc->next = l->confs;
    l->confs = lc;
    return lc;
}

int live_restore(struct live *l, int64_t now)
{
    store_attend_close_all(l->db, now, "server_restart");
    int64_t *ids = NULL;
    int n = store_confs_in_state(l->db, "live", &ids), restored = 0;
    for (int i = 0; i < n; i++)
        if (!find(l, ids[i]) && load(l, ids[i])) {
            restored++;
            if (l->h.started)
                l->h.started(l->h.ctx, ids[i]);
        }
    free(ids);
    if (restored)
        log_info("live", "restored %d live conference%s", restored, restored == 1 ? "" : "s");
    return restored;
}

const char *live_start(struct live *l, int64_t conf, int64_t now, char *err, size_t errlen)
{
    struct store_conf c;
    if (store_conf_get(l->db, conf, &c) < 0) {
        snprintf(err, errlen, "no such conference");
        return "not_found";
    }
    if (find(l, conf) || !strcmp(c.state, "live")) {
        snprintf(err, errlen, "the conference is already live");
        return "already_live";
    }
    /* Each start is a new meeting: nobody is removed any more. */
    if (store_begin(l->db) < 0 || store_conf_set_state(l->db, conf, "live", now) < 0) {
        store_commit(l->db, -1);
        snprintf(err, errlen, "cannot store the conference's state");
        return "internal";
    }
    struct store_member *sm = NULL;
    int n = store_conf_members(l->db, conf, &sm);
    for (int i = 0; i < n; i++)
        if (sm[i].removed) {
            sm[i].removed = false;
            store_member_save(l->db, conf, &sm[i]);
        }
    free(sm);
    store_rollcall_clear(l->db, conf);
    if (store_commit(l->db, 0) < 0) {
        snprintf(err, errlen, "cannot store the conference's state");
        return "internal";
    }
    struct lconf *lc = load(l, conf);
    if (!lc) {
        snprintf(err, errlen, "out of memory");
        return "internal";
    }
    log_info("live", "conference %lld '%s' is live: %d sites invited", (long long)conf, lc->c.title, lc->n);
    for (int i = 0; i < lc->n; i++)
        if (lc->m[i].status == LIVE_IDLE)
            send_invite(l, lc, lc->m[i].m.site);
    if (l->h.to_watchers) {
        json_t *msg = json_pack("{s:s,s:o}", "type", "conference", "conference", full_state(l, lc));
        l->h.to_watchers(l->h.ctx, conf, msg);
        json_decref(msg);
    }
    if (l->h.started)
        l->h.started(l->h.ctx, conf);
    return NULL;
}

static void unlink_conf(struct live *l, struct lconf *lc)
{
    for (struct lconf **pp = &l->confs; *pp; pp = &(*pp)->next)
        if (*pp == lc) {
            *pp = lc->next;
            return;
        }
}

const char *live_end(struct live *l, int64_t conf, const char *reason, int64_t now, char *err, size_t errlen)
{
    struct lconf *lc = find(l, conf);
    if (!lc) {
        struct store_conf c;
        bool exists = store_conf_get(l->db, conf, &c) == 0;
        snprintf(err, errlen, exists ? "the conference is not live" : "no such conference");
        return exists ? "not_live" : "not_found";
    }
    store_begin(l->db);
    store_conf_set_state(l->db, conf, "ended", now);
    for (int i = 0; i < lc->n; i++)
        if (lc->m[i].status == LIVE_JOINED)
            store_attend_leave(l->db, conf, lc->m[i].m.site, now, "ended");
    store_commit(l->db, 0);
    json_t *ended = conf_ref(lc, "ended");
    json_object_set_new(ended, "reason", json_string(reason));
    for (int i = 0; i < lc->n; i++) {
        struct member *m = &lc->m[i];
        if (m->status != LIVE_JOINED)
            continue;
        if (l->h.to_site)
            l->h.to_site(l->h.ctx, m->m.site, ended);
        if (l->h.drop_session)
            l->h.drop_session(l->h.ctx, conf, m->m.site);
    }
    if (l->h.to_watchers)
        l->h.to_watchers(l->h.ctx, conf, ended);
    json_decref(ended);
    log_info("live", "conference %lld ended (%s)", (long long)conf, reason);
    unlink_conf(l, lc);
    lconf_free(lc);
    if (l->h.ended)
        l->h.ended(l->h.ctx, conf);
    return NULL;
}

/* ---- presence */

void live_site_online(struct live *l, int64_t site, bool online)
{
    for (struct lconf *lc = l->confs; lc; lc = lc->next) {
        struct member *m = member(lc, site);
        if (!m)
            continue;
        if (online && m->status == LIVE_OFFLINE) {
            m->status = LIVE_IDLE;
            announce_member(l, lc, m);
        } else if (!online && m->status != LIVE_OFFLINE) {
            m->status = LIVE_OFFLINE; /* a joined site's session is ended by its endpoint */
            m->hand = false;
            announce_member(l, lc, m);
        }
        if (online && m->status == LIVE_IDLE && !m->m.removed)
            send_invite(l, lc, site);
    }
}

int live_confs_of_site(struct live *l, int64_t site, int64_t **ids)
{
    int n = 0;
    *ids = NULL;
    for (struct lconf *lc = l->confs; lc; lc = lc->next)
        if (member(lc, site)) {
            int64_t *p = realloc(*ids, (size_t)(n + 1) * sizeof *p);
            if (!p)
                break;
            *ids = p;
            p[n++] = lc->c.id;
        }
    return n;
}

const char *live_may_join(struct live *l, int64_t conf, int64_t site, const char *pin, char *err, size_t errlen)
{
    struct lconf *lc = find(l, conf);
    if (!lc) {
        snprintf(err, errlen, "the conference is not live");
        return "not_live";
    }
    struct member *m = member(lc, site);
    if (!m) {
        snprintf(err, errlen, "this site is not invited to the conference");
        return "not_invited";
    }
    if (m->m.removed) {
        snprintf(err, errlen, "this site was removed from the conference");
        return "removed";
    }
    if (lc->c.pin_digest[0] && (!pin || !auth_secret_matches(lc->c.pin_digest, pin))) {
        snprintf(err, errlen, pin ? "wrong conference PIN" : "this conference needs its PIN ('pin' in join)");
        return "bad_pin";
    }
    if (lc->c.locked && !store_attended(l->db, conf, site)) {
        snprintf(err, errlen, "the conference is locked: no new sites may join");
        return "locked";
    }
    return NULL;
}

bool live_joined(struct live *l, int64_t conf, int64_t site, int64_t now)
{
    struct lconf *lc = find(l, conf);
    struct member *m = lc ? member(lc, site) : NULL;
    if (!m)
        return false;
    m->status = LIVE_JOINED;
    m->self_muted = false;
    for (int i = 0; i < lc->n; i++) /* a new session: views of or by it are told again */
        if (lc->m[i].view == site || &lc->m[i] == m)
            lc->m[i].view = 0;
    if (lc->c.mute_all && site != lc->c.chair_site && site != lc->c.floor_site && !m->m.muted) {
        m->m.muted = true;
        save_member(l, lc, m);
    }
    store_attend_join(l->db, conf, site, now);
    char buf[16];
    const char *rc = store_rollcall_get(l->db, conf, site, buf, sizeof buf);
    if (rc && !strcmp(rc, "absent"))
        store_rollcall_set(l->db, conf, site, "late", now);
    /* the newcomer first gets the whole picture, then everyone the change */
    json_t *roster = json_array();
    for (int i = 0; i < lc->n; i++)
        json_array_append_new(roster, member_json(&lc->m[i], NULL, conf));
    json_t *r = conf_ref(lc, "roster");
    json_object_set_new(r, "sites", roster);
    to_site(l, site, r);
    announce_member(l, lc, m);
    announce_state(l, lc);
    return m->m.muted;
}

void live_left(struct live *l, int64_t conf, int64_t site, const char *reason, int64_t now)
{
    struct lconf *lc = find(l, conf);
    struct member *m = lc ? member(lc, site) : NULL;
    if (!m || m->status != LIVE_JOINED)
        return;
    m->status = l->h.site_online && l->h.site_online(l->h.ctx, site) ? LIVE_IDLE : LIVE_OFFLINE;
    m->hand = false;
    store_attend_leave(l->db, conf, site, now, reason);
    announce_member(l, lc, m);
    if (lc->speaker == site)
        lc->speaker = 0;
    announce_state(l, lc);
}

void live_speaker(struct live *l, int64_t conf, int64_t site)
{
    struct lconf *lc = find(l, conf);
    if (!lc || lc->speaker == site)
        return;
    lc->speaker = site;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)conf);
    broadcast(l, lc, json_pack("{s:s,s:s,s:I}", "type", "speaker", "conference", id, "site", (json_int_t)site));
    if (main_site(lc, false) == site || main_site(lc, true) == site)
        announce_state(l, lc);
}

/* ---- requests and control */

static const char *need_site(struct lconf *lc, json_t *req, struct member **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(req, "site");
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "this action needs 'site', an integer site id");
        return "bad_request";
    }
    *out = member(lc, json_integer_value(v));
    if (!*out) {
        snprintf(err, errlen, "site %lld is not invited to this conference", (long long)json_integer_value(v));
        return "not_invited";
    }
    return NULL;
}

const char *live_site_request(struct live *l, int64_t conf, int64_t site, const char *type, json_t *req,
                              char *err, size_t errlen)
{
    struct lconf *lc = find(l, conf);
    struct member *m = lc ? member(lc, site) : NULL;
    if (!m || m->status != LIVE_JOINED) {
        snprintf(err, errlen, "this site is not in a live conference");
        return "not_joined";
    }
    if (!strcmp(type, "hand")) {
        json_t *v = json_object_get(req, "raised");
        if (!json_is_boolean(v)) {
            snprintf(err, errlen, "hand needs 'raised', a boolean");
            return "bad_request";
        }
        if (m->hand != json_is_true(v)) {
            m->hand = json_is_true(v);
            m->hand_at = store_now_ms();
            announce_member(l, lc, m);
            announce_state(l, lc);
        }
    } else if (!strcmp(type, "mute")) {
        json_t *v = json_object_get(req, "muted");
        if (!json_is_boolean(v)) {
            snprintf(err, errlen, "mute needs 'muted', a boolean");
            return "bad_request";
        }
        m->self_muted = json_is_true(v);
        apply_mute(l, lc, m);
        announce_member(l, lc, m);
    } else { /* select */
        json_t *v = json_object_get(req, "main");
        if (!json_is_null(v) && !(json_is_integer(v) && member(lc, json_integer_value(v)))) {
            snprintf(err, errlen, "select needs 'main', an invited site id or null");
            return "bad_request";
        }
        m->select = json_is_integer(v) ? json_integer_value(v) : 0;
        push_views(l, lc);
    }
    return NULL;
}

static void set_muted(struct live *l, struct lconf *lc, struct member *m, bool muted)
{
    if (m->m.muted == muted)
        return;
    m->m.muted = muted;
    save_member(l, lc, m);
    apply_mute(l, lc, m);
    announce_member(l, lc, m);
}

static int step_ms(json_t *req)
{
    json_t *v = json_object_get(req, "seconds");
    if (!v)
        return DEFAULT_STEP_MS;
    if (!json_is_number(v))
        return -1;
    double s = json_number_value(v);
    return s * 1000 < MIN_STEP_MS || s > 3600 ? -1 : (int)(s * 1000);
}

/* Roll call: records the current site's result and moves on; ends after the last. */
static void rollcall_advance(struct live *l, struct lconf *lc, const char *result, int64_t now)
{
    struct member *m = &lc->m[lc->rc_idx];
    if (!result)
        result = m->status == LIVE_JOINED ? "present" : "absent";
    store_rollcall_set(l->db, lc->c.id, m->m.site, result, now);
    json_t *ev = conf_ref(lc, "rollcall");
    json_object_set_new(ev, "site", json_integer(m->m.site));
    json_object_set_new(ev, "result", json_string(result));
    broadcast(l, lc, ev);
    if (++lc->rc_idx >= lc->n) {
        lc->rc_idx = -1;
        log_info("live", "conference %lld: roll call done", (long long)lc->c.id);
    }
    lc->next_step = now + lc->step_ms;
    announce_state(l, lc);
}

static const char *control_site_action(struct live *l, struct lconf *lc, const char *action, json_t *req,
                                       int64_t now, char *err, size_t errlen)
{
    struct member *m;
    const char *e = need_site(lc, req, &m, err, errlen);
    if (e)
        return e;
    int64_t site = m->m.site;
    if (!strcmp(action, "mute") || !strcmp(action, "unmute")) {
        set_muted(l, lc, m, !strcmp(action, "mute"));
        return NULL;
    }
    if (!strcmp(action, "grant_floor")) {
        struct member *prev = lc->c.floor_site ? member(lc, lc->c.floor_site) : NULL;
        if (prev && prev != m && lc->c.mute_all && prev->m.site != lc->c.chair_site)
            set_muted(l, lc, prev, true);
        lc->c.floor_site = site;
        if (m->hand) {
            m->hand = false;
            announce_member(l, lc, m);
        }
        set_muted(l, lc, m, false);
    } else if (!strcmp(action, "refuse_hand")) {
        if (m->hand) {
            m->hand = false;
            announce_member(l, lc, m);
        }
    } else if (!strcmp(action, "transfer_chair")) {
        lc->c.chair_site = site;
        set_muted(l, lc, m, false);
    } else if (!strcmp(action, "broadcast")) {
        lc->mode = MODE_BROADCAST;
        lc->broadcast = site;
    } else if (!strcmp(action, "remove")) {
        m->m.removed = true;
        m->hand = false;
        save_member(l, lc, m);
        if (lc->c.floor_site == site)
            lc->c.floor_site = 0;
        if (m->status == LIVE_JOINED) {
            to_site(l, site, conf_ref(lc, "removed"));
            if (l->h.drop_session)
                l->h.drop_session(l->h.ctx, lc->c.id, site);
            live_left(l, lc->c.id, site, "removed", now);
        } else {
            announce_member(l, lc, m);
        }
    } else {
        snprintf(err, errlen, "unknown action '%s'", action);
        return "bad_action";
    }
    return NULL;
}

const char *live_control(struct live *l, int64_t conf, int64_t actor_site, json_t *req, int64_t now, char *err,
                         size_t errlen)
{
    struct lconf *lc = find(l, conf);
    if (!lc) {
        snprintf(err, errlen, "the conference is not live");
        return "not_live";
    }
    if (actor_site && actor_site != lc->c.chair_site) {
        snprintf(err, errlen, "only the chair site may control the conference");
        return "not_chair";
    }
    const char *action = json_string_value(json_object_get(req, "action"));
    if (!action) {
        snprintf(err, errlen, "control needs 'action', a string");
        return "bad_request";
    }
    if (l->h.control && (!strncmp(action, "record_", 7) || !strncmp(action, "stream_", 7))) {
        const char *e = l->h.control(l->h.ctx, lc->c.id, actor_site, action, err, errlen);
        if (e && !strcmp(e, "bad_action"))
            snprintf(err, errlen, "unknown action '%s'", action);
        return e;
    }
    const char *e = NULL;
    int ms = step_ms(req);
    if (ms < 0 && (!strcmp(action, "lecture") || !strcmp(action, "rollcall_start") || !strcmp(action, "tour_start"))) {
        snprintf(err, errlen, "'seconds' must be a number from 0.2 to 3600");
        return "bad_request";
    }
    store_begin(l->db); /* mute-all and the like change many rows: one transaction */
    if (!strcmp(action, "revoke_floor")) {
        struct member *m = lc->c.floor_site ? member(lc, lc->c.floor_site) : NULL;
        lc->c.floor_site = 0;
        if (m && lc->c.mute_all && m->m.site != lc->c.chair_site)
            set_muted(l, lc, m, true);
    } else if (!strcmp(action, "mute_all_except_chair")) {
        lc->c.mute_all = true;
        lc->c.floor_site = 0;
        for (int i = 0; i < lc->n; i++)
            set_muted(l, lc, &lc->m[i], lc->m[i].m.site != lc->c.chair_site);
    } else if (!strcmp(action, "unmute_all")) {
        lc->c.mute_all = false;
        for (int i = 0; i < lc->n; i++)
            set_muted(l, lc, &lc->m[i], false);
    } else if (!strcmp(action, "lock") || !strcmp(action, "unlock")) {
        lc->c.locked = !strcmp(action, "lock");
    } else if (!strcmp(action, "voice_switching")) {
        lc->mode = MODE_VOICE;
        lc->broadcast = 0;
    } else if (!strcmp(action, "lecture")) {
        lc->mode = MODE_LECTURE;
        lc->step_ms = ms;
        lc->lecture_view = first_joined(lc, lc->c.chair_site);
        lc->next_step = now + ms;
    } else if (!strcmp(action, "tour_start")) {
        json_t *sites = json_object_get(req, "sites"), *v;
        size_t i;
        int64_t *t = calloc((size_t)lc->n + 1, sizeof *t);
        int nt = 0;
        if (!t) {
            e = "internal";
            snprintf(err, errlen, "out of memory");
        } else if (sites && !json_is_array(sites)) {
            e = "bad_request";
            snprintf(err, errlen, "'sites' must be an array of invited site ids");
        } else if (sites) {
            json_array_foreach(sites, i, v) {
                if (!json_is_integer(v) || !member(lc, json_integer_value(v)) || nt >= lc->n) {
                    e = "not_invited";
                    snprintf(err, errlen, "every site of a tour must be invited to the conference");
                    break;
                }
                t[nt++] = json_integer_value(v);
            }
        } else {
            for (int k = 0; k < lc->n; k++)
                if (lc->m[k].status == LIVE_JOINED)
                    t[nt++] = lc->m[k].m.site;
        }
        if (!e && !nt) {
            e = "bad_request";
            snprintf(err, errlen, "a tour needs at least one site");
        }
        if (e) {
            free(t);
        } else {
            free(lc->tour);
            lc->tour = t;
            lc->ntour = nt;
            lc->tour_idx = 0;
            lc->mode = MODE_TOUR;
            lc->step_ms = ms;
            lc->next_step = now + ms;
        }
    } else if (!strcmp(action, "tour_stop")) {
        if (lc->mode == MODE_TOUR)
            lc->mode = MODE_VOICE;
    } else if (!strcmp(action, "rollcall_start")) {
        if (!lc->n) {
            e = "bad_request";
            snprintf(err, errlen, "no site is invited");
        } else {
            store_rollcall_clear(l->db, conf);
            lc->rc_idx = 0;
            lc->step_ms = ms;
            lc->next_step = now + ms;
        }
    } else if (!strcmp(action, "rollcall_confirm")) {
        json_t *r = json_object_get(req, "result");
        const char *result = json_string_value(r);
        if (lc->rc_idx < 0) {
            e = "no_rollcall";
            snprintf(err, errlen, "no roll call is running");
        } else if (r && (!result || (strcmp(result, "present") && strcmp(result, "absent")))) {
            e = "bad_request";
            snprintf(err, errlen, "'result' is \"present\" or \"absent\"");
        } else {
            rollcall_advance(l, lc, result, now);
        }
    } else if (!strcmp(action, "rollcall_stop")) {
        lc->rc_idx = -1;
    } else if (!strcmp(action, "call_absent")) {
        for (int i = 0; i < lc->n; i++) {
            struct member *m = &lc->m[i];
            if (m->status == LIVE_JOINED)
                continue;
            if (m->m.removed) {
                m->m.removed = false;
                save_member(l, lc, m);
            }
            if (m->status == LIVE_IDLE)
                send_invite(l, lc, m->m.site);
        }
    } else if (!strcmp(action, "end")) {
        store_commit(l->db, 0);
        return live_end(l, conf, actor_site ? "chair" : "operator", now, err, errlen);
    } else {
        e = control_site_action(l, lc, action, req, now, err, errlen);
    }
    if (!e)
        save_control(l, lc);
    store_commit(l->db, e ? -1 : 0);
    if (!e)
        announce_state(l, lc);
    return e;
}

/* ---- time */

static void check_schedule(struct live *l, int64_t now)
{
    int64_t *ids = NULL;
    int n = store_confs_in_state(l->db, "scheduled", &ids);
    char err[128];
    for (int i = 0; i < n; i++) {
        struct store_conf c;
        if (store_conf_get(l->db, ids[i], &c) < 0 || !c.start_at || c.start_at > now)
            continue;
        if (c.end_at && c.end_at <= now) { /* its whole slot passed while the server was down */
            store_conf_set_state(l->db, c.id, "ended", now);
            continue;
        }
        live_start(l, c.id, now, err, sizeof err);
    }
    free(ids);
}

/* One step of roll call, tour or lecture mode. */
static void step(struct live *l, struct lconf *lc, int64_t now)
{
    if (lc->rc_idx >= 0) {
        rollcall_advance(l, lc, NULL, now);
    } else if (lc->mode == MODE_TOUR && lc->ntour) {
        lc->tour_idx = (lc->tour_idx + 1) % lc->ntour;
        lc->next_step = now + lc->step_ms;
        announce_state(l, lc);
    } else if (lc->mode == MODE_LECTURE) {
        int start = 0;
        for (int i = 0; i < lc->n; i++)
            if (lc->m[i].m.site == lc->lecture_view)
                start = i + 1;
        int64_t view = 0;
        for (int k = 0; k < lc->n && !view; k++) {
            struct member *m = &lc->m[(start + k) % lc->n];
            if (m->status == LIVE_JOINED && m->m.site != lc->c.chair_site)
                view = m->m.site;
        }
        lc->lecture_view = view;
        lc->next_step = now + lc->step_ms;
        announce_state(l, lc);
    } else {
        lc->next_step = 0;
    }
}

void live_tick(struct live *l, int64_t now)
{
    if (now >= l->next_schedule_check) {
        l->next_schedule_check = now + 1000;
        check_schedule(l, now);
    }
    char err[128];
    for (struct lconf *lc = l->confs, *next; lc; lc = next) {
        next = lc->next;
        if (lc->c.end_at && now >= lc->c.end_at) {
            live_end(l, lc->c.id, "schedule", now, err, sizeof err);
            continue;
        }
        if (lc->c.end_at && !lc->warned && now >= lc->c.end_at - l->end_warning_ms) {
            lc->warned = true;
            json_t *w = conf_ref(lc, "ending");
            json_object_set_new(w, "seconds", json_integer((lc->c.end_at - now + 999) / 1000));
            broadcast(l, lc, w);
        }
        if (now >= lc->next_step && lc->next_step)
            step(l, lc, now);
        flush_state(l, lc);
    }
}

void live_broadcast(struct live *l, int64_t conf, json_t *msg)
{
    struct lconf *lc = find(l, conf);
    if (lc)
        broadcast(l, lc, json_incref(msg));
}

int64_t live_main_site(struct live *l, int64_t conf)
{
    struct lconf *lc = find(l, conf);
    return lc ? main_site(lc, false) : 0;
}

void live_touch(struct live *l, int64_t conf)
{
    struct lconf *lc = find(l, conf);
    if (lc)
        announce_state(l, lc);
}

json_t *live_state_json(struct live *l, int64_t conf)
{
    struct lconf *lc = find(l, conf);
    return lc ? full_state(l, lc) : NULL;
}

json_t *live_roster_json(struct live *l, int64_t conf)
{
    struct lconf *lc = find(l, conf);
    if (!lc)
        return NULL;
    json_t *arr = json_array();
    for (int i = 0; i < lc->n; i++)
        json_array_append_new(arr, member_json(&lc->m[i], NULL, conf));
    return arr;
}
