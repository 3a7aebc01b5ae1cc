/* The admin API's conferences (docs/openapi.yaml): list, create, change, delete, start and
 * end, live control, roster, and the attendance and roll-call exports as JSON or CSV. */
#include "signaling/api_internal.h"
#include "mcu/server.h"
#include "rooms/auth.h"
#include "rooms/live.h"

#include <stdlib.h>
#include <string.h>

static bool load_conf(struct req *r, struct store_conf *c, const char *action)
{
    int64_t id;
    if (!api_parse_id(r->seg[1], &id) || store_conf_get(r->db, id, c) < 0) {
        api_fail(r, 404, "not_found", "no such conference");
        return false;
    }
    char target[32];
    snprintf(target, sizeof target, "conference:%lld", (long long)id);
    return api_check_scope(r, c->host_unit, action, target);
}

static json_t *conf_full(struct req *r, int64_t id)
{
    json_t *j = store_conf_json(r->db, id);
    json_t *live = live_state_json(r->sig->live, id);
    if (j && live)
        json_object_set_new(j, "live", live);
    else
        json_decref(live);
    return j;
}

void h_confs(struct req *r)
{
    char sbuf[16];
    const char *state = api_query(r, "state", sbuf, sizeof sbuf);
    api_reply(r, 200, json_pack("{s:o}", "conferences", store_confs_list(r->db, r->user.unit, state)));
}

/* The writable fields of a conference from the body into c; resolves the invitation when
 * given. Returns the count of invited sites (or 0 when not given), -1 after a reply. */
static int conf_fields(struct req *r, struct store_conf *c, int64_t **sites, char **invite_text)
{
    bool bad = false;
    const char *title = api_body_str(r, "title", STORE_NAME_MAX - 1, !c->id, &bad);
    if (bad)
        return -1;
    if (title)
        snprintf(c->title, sizeof c->title, "%s", title);
    json_t *sched = json_object_get(r->body, "schedule");
    if (sched && json_is_null(sched)) {
        c->start_at = c->end_at = 0;
    } else if (sched) {
        if (!json_is_object(sched) || !api_parse_time(json_object_get(sched, "start"), &c->start_at) ||
            !api_parse_time(json_object_get(sched, "end"), &c->end_at) || c->end_at <= c->start_at) {
            api_fail(r, 400, "bad_request", "'schedule' is null (permanent) or {start, end}: Unix ms or ISO 8601 "
                                        "times with Z or an offset, end after start");
            return -1;
        }
    }
    static const char *const flags[] = {"record", "stream"};
    bool *dest[] = {&c->record, &c->stream};
    for (int i = 0; i < 2; i++) {
        json_t *f = json_object_get(r->body, flags[i]);
        if (f && !json_is_boolean(f)) {
            api_fail(r, 400, "bad_request", "'%s' is true or false", flags[i]);
            return -1;
        }
        if (f)
            *dest[i] = json_is_true(f);
    }
    json_t *pin = json_object_get(r->body, "pin");
    if (pin && !json_is_null(pin)) {
        const char *p = json_string_value(pin);
        if (!p || strlen(p) < 4 || strlen(p) > 12 || strspn(p, "0123456789") != strlen(p)) {
            api_fail(r, 400, "bad_request", "'pin' is null or 4 to 12 digits");
            return -1;
        }
        unsigned char key[AUTH_PIN_KEY_BYTES];
        if (store_pin_key(r->db, key) < 0) {
            api_fail(r, 500, "internal", "cannot read the server's PIN key");
            return -1;
        }
        auth_pin_digest(key, p, c->pin_digest); /* keyed: a bare hash of a few digits inverts at once */
    } else if (pin) {
        c->pin_digest[0] = 0;
    }
    int n = 0;
    json_t *inv = json_object_get(r->body, "invite");
    if (inv || !c->id) {
        json_t *rule = inv ? json_incref(inv) : json_pack("{s:b}", "own", 1);
        char err[200];
        n = store_resolve_invite(r->db, c->host_unit, rule, sites, err, sizeof err);
        if (n < 0) {
            json_decref(rule);
            api_fail(r, 400, "bad_request", "%s", err);
            return -1;
        }
        *invite_text = json_dumps(rule, JSON_COMPACT);
        json_decref(rule);
    }
    json_t *chair = json_object_get(r->body, "chair_site");
    if (chair && !json_is_null(chair) && !json_is_integer(chair)) {
        api_fail(r, 400, "bad_request", "'chair_site' is a site id or null");
        return -1;
    }
    if (chair)
        c->chair_site = json_is_integer(chair) ? json_integer_value(chair) : 0;
    if (c->chair_site) { /* the chair must be among the invited */
        bool found = false;
        if (*sites)
            for (int i = 0; i < n; i++)
                found |= (*sites)[i] == c->chair_site;
        else
            found = store_site_invited(r->db, c->id, c->chair_site);
        if (!found) {
            api_fail(r, 400, "bad_request", "the chair site must be one of the invited sites");
            return -1;
        }
    }
    return n;
}

void h_conf_create(struct req *r)
{
    static const char *const fields[] = {"title", "host_unit", "invite", "schedule", "chair_site", "pin",
                                         "record", "stream", NULL};
    bool bad = false;
    if (!api_body_fields(r, fields))
        return;
    const char *host = api_body_str(r, "host_unit", STORE_UNIT_MAX - 1, true, &bad);
    if (bad)
        return;
    if (!store_unit_exists(r->db, host))
        return api_fail(r, 400, "bad_request", "no unit '%s'", host);
    if (!api_check_scope(r, host, "conference.create", host))
        return;
    struct store_conf c;
    memset(&c, 0, sizeof c);
    snprintf(c.host_unit, sizeof c.host_unit, "%s", host);
    int64_t *sites = NULL;
    char *invite = NULL;
    int n = conf_fields(r, &c, &sites, &invite);
    if (n >= 0) {
        int64_t id = store_conf_create(r->db, &c, invite, sites, n, r->user.username);
        if (id < 0) {
            api_fail(r, 500, "internal", "cannot store the conference");
        } else {
            char target[32], detail[200];
            snprintf(target, sizeof target, "conference:%lld", (long long)id);
            snprintf(detail, sizeof detail, "%s (%d sites)", c.title, n);
            api_audit(r, "conference.create", target, "ok", detail, host);
            api_reply(r, 201, json_pack("{s:o}", "conference", conf_full(r, id)));
            rooms_schedule_changed(r->sig, sites, n);
        }
    }
    free(sites);
    free(invite);
}

void h_conf_get(struct req *r)
{
    struct store_conf c;
    if (!load_conf(r, &c, "conference.read"))
        return;
    api_reply(r, 200, json_pack("{s:o}", "conference", conf_full(r, c.id)));
}

void h_conf_patch(struct req *r)
{
    static const char *const fields[] = {"title", "invite", "schedule", "chair_site", "pin", "record", "stream", NULL};
    struct store_conf c;
    if (!load_conf(r, &c, "conference.update") || !api_body_fields(r, fields))
        return;
    if (strcmp(c.state, "scheduled"))
        return api_fail(r, 409, "conflict", "only a conference that has not started can be changed (it is %s)", c.state);
    int64_t *sites = NULL;
    char *invite = NULL;
    int n = conf_fields(r, &c, &sites, &invite);
    if (n >= 0) {
        static const int64_t none[1];
        int64_t *before = NULL; /* the invited before the change hear of it too */
        int nbefore = store_conf_site_ids(r->db, c.id, &before);
        if (store_conf_update(r->db, &c, invite, invite && !sites ? none : sites, n) < 0) {
            api_fail(r, 500, "internal", "cannot store the conference; nothing was changed");
        } else {
            api_audit(r, "conference.update", api_conf_target(&c), "ok", "", c.host_unit);
            api_reply(r, 200, json_pack("{s:o}", "conference", conf_full(r, c.id)));
            int64_t *all = nbefore > 0 && n > 0 ? realloc(before, (size_t)(nbefore + n) * sizeof *all) : NULL;
            if (all) { /* one message to a site in both lists */
                memcpy(all + nbefore, sites, (size_t)n * sizeof *all);
                before = all;
                nbefore += n;
            } else {
                rooms_schedule_changed(r->sig, sites, n);
            }
            rooms_schedule_changed(r->sig, before, nbefore);
        }
        free(before);
    }
    free(sites);
    free(invite);
}

void h_conf_delete(struct req *r)
{
    struct store_conf c;
    if (!load_conf(r, &c, "conference.delete"))
        return;
    if (live_is_live(r->sig->live, c.id))
        return api_fail(r, 409, "conflict", "the conference is live; end it first");
    int64_t *invited = NULL;
    int n = store_conf_site_ids(r->db, c.id, &invited);
    if (store_conf_delete(r->db, c.id) < 0) {
        free(invited);
        return api_fail(r, 500, "internal", "cannot delete the conference");
    }
    api_audit(r, "conference.delete", api_conf_target(&c), "ok", c.title, c.host_unit);
    api_reply(r, 200, json_object());
    rooms_schedule_changed(r->sig, invited, n);
    free(invited);
}

static int error_status(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {{"not_found", 404}, {"already_live", 409}, {"not_live", 409}, {"no_rollcall", 409},
               {"internal", 500}, {"not_invited", 400}, {"bad_request", 400}, {"bad_action", 400},
               {"already_recording", 409}, {"not_recording", 409}, {"already_streaming", 409},
               {"not_streaming", 409}, {"disk_full", 507}, {"io_error", 500}, {"busy", 503}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].code, code))
            return map[i].status;
    return 400;
}

void h_conf_start_end(struct req *r)
{
    bool start = !strcmp(r->seg[2], "start");
    const char *action = start ? "conference.start" : "conference.end";
    struct store_conf c;
    if (!load_conf(r, &c, action))
        return;
    char err[200];
    const char *e = start ? live_start(r->sig->live, c.id, store_now_ms(), err, sizeof err)
                          : live_end(r->sig->live, c.id, "operator", store_now_ms(), err, sizeof err);
    api_audit(r, action, api_conf_target(&c), e ? e : "ok", "", c.host_unit);
    if (e)
        return api_fail(r, error_status(e), e, "%s", err);
    api_reply(r, 200, json_pack("{s:o}", "conference", conf_full(r, c.id)));
}

void h_conf_control(struct req *r)
{
    struct store_conf c;
    if (!load_conf(r, &c, "conference.control"))
        return;
    char err[200], detail[200];
    const char *action = json_string_value(json_object_get(r->body, "action"));
    json_t *site = json_object_get(r->body, "site");
    if (json_is_integer(site))
        snprintf(detail, sizeof detail, "%s site %lld", action ? action : "?", (long long)json_integer_value(site));
    else
        snprintf(detail, sizeof detail, "%s", action ? action : "?");
    const char *e = live_control(r->sig->live, c.id, 0, r->body, store_now_ms(), err, sizeof err);
    api_audit(r, "conference.control", api_conf_target(&c), e ? e : "ok", detail, c.host_unit);
    if (e)
        return api_fail(r, error_status(e), e, "%s", err);
    json_t *state = live_state_json(r->sig->live, c.id);
    api_reply(r, 200, json_pack("{s:o}", "live", state ? state : json_null()));
}

void h_conf_roster(struct req *r)
{
    struct store_conf c;
    if (!load_conf(r, &c, "conference.read"))
        return;
    json_t *roster = live_roster_json(r->sig->live, c.id);
    if (!roster)
        return api_fail(r, 409, "not_live", "the conference is not live");
    api_reply(r, 200, json_pack("{s:o,s:o}", "sites", roster, "live", live_state_json(r->sig->live, c.id)));
}

/* CSV field: quoted when it holds a separator, a quote or a line break. */
static void csv_field(struct sbuf *b, json_t *v, bool last)
{
    char num[32];
    const char *s = "";
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        s = num;
    } else if (json_is_string(v)) {
        s = json_string_value(v);
    }
    if (strpbrk(s, ",\"\r\n")) {
        sbuf_append(b, "\"", 1);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                sbuf_append(b, "\"\"", 2);
            else
                sbuf_append(b, p, 1);
        }
        sbuf_append(b, "\"", 1);
    } else {
        sbuf_append(b, s, strlen(s));
    }
    sbuf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static void reply_rows(struct req *r, json_t *rows, const char *const *cols, const char *name)
{
    char fbuf[8];
    const char *format = api_query(r, "format", fbuf, sizeof fbuf);
    if (!format || !strcmp(format, "json"))
        return api_reply(r, 200, json_pack("{s:o}", name, rows));
    if (strcmp(format, "csv")) {
        json_decref(rows);
        return api_fail(r, 400, "bad_request", "'format' is json or csv");
    }
    struct sbuf b = {0};
    int ncol = 0;
    while (cols[ncol])
        ncol++;
    for (int k = 0; k < ncol; k++) {
        json_t *h = json_string(cols[k]);
        csv_field(&b, h, k == ncol - 1);
        json_decref(h);
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) for (int k = 0; k < ncol; k++)
        csv_field(&b, json_object_get(row, cols[k]), k == ncol - 1);
    json_decref(rows);
    http_respond(r->c, 200, "text/csv; charset=utf-8", b.p, b.len);
}

void h_conf_attendance(struct req *r)
{
    static const char *const cols[] = {"site", "name", "unit", "unit_name", "first_join", "last_leave", "joins",
                                       "seconds", "rollcall", NULL};
    struct store_conf c;
    if (!load_conf(r, &c, "conference.read"))
        return;
    reply_rows(r, store_attendance_json(r->db, c.id, store_now_ms()), cols, "attendance");
}

void h_conf_rollcall(struct req *r)
{
    static const char *const cols[] = {"site", "name", "unit", "unit_name", "rollcall", NULL};
    struct store_conf c;
    if (!load_conf(r, &c, "conference.read"))
        return;
    json_t *rows = store_attendance_json(r->db, c.id, store_now_ms()), *row;
    size_t i;
    json_array_foreach(rows, i, row) { /* only what a roll call needs */
        json_object_del(row, "first_join");
        json_object_del(row, "last_leave");
        json_object_del(row, "joins");
        json_object_del(row, "seconds");
    }
    reply_rows(r, rows, cols, "rollcall");
}

