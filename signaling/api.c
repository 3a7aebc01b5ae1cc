/* The admin REST API under /api/v1 (docs/openapi.yaml): routing, sign-in, units, sites, users
 * and the audit log; the conferences' handlers are in api_conf.c. Every call is
 * authenticated (bearer token or session cookie) and checked against the caller's role and
 * unit scope before anything is read or changed; a refused or invalid request changes
 * nothing and gets {"error":{"code","message"}}. */
#include "signaling/api_internal.h"
#include "mcu/log.h"
#include "mcu/server.h"
#include "rooms/auth.h"
#include "rooms/live.h"
#include "rooms/seed.h"
#include "rooms/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum role role_of(const char *name)
{
    return !strcmp(name, "admin") ? ROLE_ADMIN : !strcmp(name, "operator") ? ROLE_OPERATOR
         : !strcmp(name, "viewer") ? ROLE_VIEWER : ROLE_NONE;
}

void api_reply(struct req *r, int status, json_t *j) /* takes j */
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    http_respond_json(r->c, status, s);
}

void api_fail(struct req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_error(r->c, status, code, msg);
}

void api_audit(struct req *r, const char *action, const char *target, const char *result, const char *detail,
                  const char *unit)
{
    const char *actor = r->user.username[0] ? r->user.username : "-";
    store_audit(r->db, actor, action, target, r->c->addr, result, detail, unit); /* also logs it */
}

/* ---- helpers for bodies and parameters */

bool api_parse_id(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 18)
        return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    *out = strtoll(s, NULL, 10);
    return *out > 0;
}

/* The value of a query argument (URL-decoded by lws), or NULL when absent. */
const char *api_query(struct req *r, const char *name, char *buf, int len)
{
    char key[40], tmp[300]; /* lws copies "name=value" */
    snprintf(key, sizeof key, "%s=", name);
    const char *v = lws_get_urlarg_by_name(r->c->wsi, key, tmp, sizeof tmp);
    if (!v)
        return NULL;
    snprintf(buf, (size_t)len, "%s", v);
    return buf;
}

/* Only these fields may appear in the body; anything else is a client mistake. */
bool api_body_fields(struct req *r, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(r->body, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= !strcmp(*a, key);
        if (!ok) {
            api_fail(r, 400, "bad_request", "unknown field '%s'", key);
            return false;
        }
    }
    return true;
}

const char *api_body_str(struct req *r, const char *name, size_t max, bool required, bool *bad)
{
    json_t *v = json_object_get(r->body, name);
    if (!v) {
        if (required) {
            api_fail(r, 400, "bad_request", "'%s' is required", name);
            *bad = true;
        }
        return NULL;
    }
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > max) {
        api_fail(r, 400, "bad_request", "'%s' must be a non-empty string of at most %zu bytes", name, max);
        *bad = true;
        return NULL;
    }
    return s;
}

/* Time as Unix milliseconds, or an ISO 8601 string with Z or an offset. */
bool api_parse_time(json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return *out > 0;
    }
    const char *s = json_string_value(v);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!p)
        return false;
    int64_t t = (int64_t)timegm(&tm) * 1000;
    if (*p == '.')
        while (isdigit((unsigned char)*++p)) {
        }
    if (*p == 'Z' && !p[1]) {
        *out = t;
        return true;
    }
    int hh, mm;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2 && strlen(p) == 6) {
        int64_t off = ((int64_t)hh * 60 + mm) * 60000;
        *out = *p == '+' ? t - off : t + off;
        return true;
    }
    return false;
}

/* ---- authentication */

/* The token of a request: the bearer header, else the session cookie, else query_token. */
static void request_token(struct conn *c, const char *query_token, char *tok, size_t len)
{
    char hdr[128];
    tok[0] = 0;
    if (lws_hdr_copy(c->wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION) > 0 && !strncmp(hdr, "Bearer ", 7))
        snprintf(tok, len, "%s", hdr + 7);
    size_t max = len;
    if (!tok[0] && lws_http_cookie_get(c->wsi, "mcu_session", tok, &max))
        tok[0] = 0;
    if (!tok[0] && query_token)
        snprintf(tok, len, "%s", query_token);
}

int64_t api_auth_user(struct conn *c, const char *query_token, char *token_out, size_t token_len)
{
    char tok[128];
    request_token(c, query_token, tok, sizeof tok);
    if (token_out)
        snprintf(token_out, token_len, "%s", tok);
    if (!tok[0])
        return 0;
    int64_t uid = auth_session_lookup(c->sig->sessions, tok, store_now_ms());
    return uid > 0 ? uid : 0;
}

static bool tls(struct req *r)
{
    return r->sig->srv->cfg.tls_cert[0] != 0;
}

/* Sign-in limits, by account ("user:<name>") and by address (an IPv6 address by its /64):
 * signin_wait fills the keys and says how many ms to wait before a try (0 = now);
 * signin_failed counts a failure on both. */
struct signin_keys {
    char user[96], addr[80];
};

static int64_t signin_wait(struct req *r, struct signin_keys *k, const char *name, int64_t now)
{
    snprintf(k->user, sizeof k->user, "user:%s", name);
    auth_addr_key(r->c->addr, k->addr, sizeof k->addr);
    int64_t wait = auth_limiter_check(r->sig->limiter, k->user, now);
    int64_t wait2 = auth_limiter_check(r->sig->limiter, k->addr, now);
    return wait2 > wait ? wait2 : wait;
}

static void signin_failed(struct req *r, const struct signin_keys *k, int64_t now)
{
    auth_limiter_fail(r->sig->limiter, k->user, now);
    auth_limiter_fail(r->sig->limiter, k->addr, now);
}

static void rate_limited(struct req *r, int64_t wait)
{
    api_fail(r, 429, "rate_limited", "too many failed sign-ins; try again in %lld s", (long long)(wait + 999) / 1000);
}

static void h_login(struct req *r)
{
    static const char *const fields[] = {"username", "password", NULL};
    bool bad = false;
    if (!api_body_fields(r, fields))
        return;
    const char *name = api_body_str(r, "username", 63, true, &bad);
    const char *pw = bad ? NULL : api_body_str(r, "password", 1024, true, &bad);
    if (bad)
        return;
    struct signin_keys k;
    int64_t now = store_now_ms();
    int64_t wait = signin_wait(r, &k, name, now);
    if (wait > 0) {
        api_audit(r, "auth.login", name, "rate_limited", "", "");
        return rate_limited(r, wait);
    }
    struct store_user u;
    bool found = store_user_by_name(r->db, name, &u) == 0;
    /* The same argon2 work whether the account exists or not: the timing tells nothing. */
    bool ok = found ? auth_password_verify(u.password_hash, pw) && !u.disabled : auth_password_verify_dummy(pw);
    if (!ok) {
        signin_failed(r, &k, now);
        api_audit(r, "auth.login", name, "denied", "", found ? u.unit : "");
        api_fail(r, 401, "bad_credentials", "wrong user name or password");
        return;
    }
    auth_limiter_success(r->sig->limiter, k.user); /* not the address: one good account clears no one else */
    char token[AUTH_TOKEN_MAX];
    int64_t expires;
    if (auth_session_create(r->sig->sessions, u.id, now, token, &expires) < 0) {
        api_fail(r, 503, "busy", "too many signed-in sessions");
        return;
    }
    r->user = u;
    api_audit(r, "auth.login", name, "ok", "", u.unit);
    snprintf(r->c->set_cookie, sizeof r->c->set_cookie, "mcu_session=%s; Path=/; HttpOnly; SameSite=Strict%s", token,
             tls(r) ? "; Secure" : "");
    api_reply(r, 200, json_pack("{s:s,s:I,s:o}", "token", token, "expires_at", (json_int_t)expires, "user",
                            store_user_json(&u)));
}

static void h_logout(struct req *r)
{
    char tok[128];
    request_token(r->c, NULL, tok, sizeof tok);
    auth_session_revoke(r->sig->sessions, tok);
    api_audit(r, "auth.logout", r->user.username, "ok", "", r->user.unit);
    snprintf(r->c->set_cookie, sizeof r->c->set_cookie, "mcu_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    api_reply(r, 200, json_object());
}

static void h_me(struct req *r)
{
    api_reply(r, 200, json_pack("{s:o}", "user", store_user_json(&r->user)));
}

static void h_password(struct req *r)
{
    static const char *const fields[] = {"old_password", "new_password", NULL};
    bool bad = false;
    if (!api_body_fields(r, fields))
        return;
    const char *old = api_body_str(r, "old_password", 1024, true, &bad);
    const char *nw = bad ? NULL : api_body_str(r, "new_password", 1024, true, &bad);
    if (bad)
        return;
    char err[160];
    /* Guessing the current password through a stolen session is limited like a sign-in. */
    struct signin_keys k;
    int64_t now = store_now_ms();
    int64_t wait = signin_wait(r, &k, r->user.username, now);
    if (wait > 0) {
        api_audit(r, "auth.password", r->user.username, "rate_limited", "", r->user.unit);
        return rate_limited(r, wait);
    }
    if (!auth_password_verify(r->user.password_hash, old)) {
        signin_failed(r, &k, now);
        api_audit(r, "auth.password", r->user.username, "denied", "", r->user.unit);
        return api_fail(r, 401, "bad_credentials", "the current password is wrong");
    }
    auth_limiter_success(r->sig->limiter, k.user);
    if (auth_password_policy(nw, err, sizeof err) < 0)
        return api_fail(r, 400, "weak_password", "%s", err);
    if (auth_password_hash(nw, r->user.password_hash) < 0 || store_user_update(r->db, &r->user) < 0)
        return api_fail(r, 500, "internal", "cannot store the password");
    auth_sessions_revoke_user(r->sig->sessions, r->user.id); /* every other sign-in ends too */
    api_audit(r, "auth.password", r->user.username, "ok", "", r->user.unit);
    api_reply(r, 200, json_object());
}

/* ---- scope */

bool api_in_scope(struct req *r, const char *unit)
{
    return store_unit_within(r->db, unit, r->user.unit);
}

/* 403 unless unit is in the caller's scope; audits the refusal. */
bool api_check_scope(struct req *r, const char *unit, const char *action, const char *target)
{
    if (api_in_scope(r, unit))
        return true;
    api_audit(r, action, target, "forbidden", "", unit);
    api_fail(r, 403, "forbidden", "outside your unit's scope");
    return false;
}

static bool need_role(struct req *r, enum role min, const char *action, const char *target)
{
    if (r->role >= min)
        return true;
    api_audit(r, action, target, "forbidden", "role", "");
    api_fail(r, 403, "forbidden", "your role may not do this");
    return false;
}

const char *api_conf_target(const struct store_conf *c)
{
    static char t[40]; /* the signaling thread only */
    snprintf(t, sizeof t, "conference:%lld", (long long)c->id);
    return t;
}

const char *api_site_target(const struct store_site *s)
{
    static char t[40];
    snprintf(t, sizeof t, "site:%lld", (long long)s->id);
    return t;
}

/* ---- units */

static void h_units(struct req *r)
{
    char pbuf[64], lbuf[16], qbuf[128];
    const char *parent = api_query(r, "parent", pbuf, sizeof pbuf);
    const char *level = api_query(r, "level", lbuf, sizeof lbuf);
    const char *q = api_query(r, "q", qbuf, sizeof qbuf);
    const char *scope = r->user.unit;
    /* a unit above the caller's may be listed: the panel draws where the caller's unit hangs */
    if (parent && !(scope[0] && store_unit_within(r->db, scope, parent)) &&
        !api_check_scope(r, parent, "unit.read", parent))
        return;
    api_reply(r, 200, json_pack("{s:o}", "units", store_units_list(r->db, scope, parent, level ? atoi(level) : 0, q)));
}

static void h_unit(struct req *r)
{
    const char *id = r->seg[1];
    if (!store_unit_exists(r->db, id))
        return api_fail(r, 404, "not_found", "no unit '%s'", id);
    if (!api_check_scope(r, id, "unit.read", id))
        return;
    api_reply(r, 200, json_pack("{s:o}", "unit", store_unit_json(r->db, id)));
}

/* ---- sites */

static bool load_site(struct req *r, struct store_site *s, const char *action)
{
    int64_t id;
    if (!api_parse_id(r->seg[1], &id) || store_site_get(r->db, id, s) < 0) {
        api_fail(r, 404, "not_found", "no such site");
        return false;
    }
    char target[32];
    snprintf(target, sizeof target, "site:%lld", (long long)id);
    return api_check_scope(r, s->unit, action, target);
}

/* Where the site is now: online (signed in on /ws), state (offline, idle, in_conference),
 * conference (the live one it is in, or null) and last_seen (now while online; null when it
 * has never signed in). */
static void site_presence(struct req *r, json_t *s, int64_t id, int64_t last_seen)
{
    struct conn *c = rooms_site_conn(r->sig, id);
    bool in = c && c->session_id && c->room_conf;
    char conf[24];
    snprintf(conf, sizeof conf, "%lld", (long long)(in ? c->room_conf : 0));
    json_object_set_new(s, "online", json_boolean(c != NULL));
    json_object_set_new(s, "state", json_string(!c ? "offline" : in ? "in_conference" : "idle"));
    json_object_set_new(s, "conference", in ? json_string(conf) : json_null());
    if (c)
        last_seen = store_now_ms();
    json_object_set_new(s, "last_seen", last_seen ? json_integer(last_seen) : json_null());
}

static void h_sites(struct req *r)
{
    char ubuf[64], sbuf[8];
    const char *unit = api_query(r, "unit", ubuf, sizeof ubuf);
    const char *sub = api_query(r, "subtree", sbuf, sizeof sbuf);
    if (unit && !api_check_scope(r, unit, "site.read", unit))
        return;
    json_t *sites = store_sites_list(r->db, r->user.unit, unit, sub && !strcmp(sub, "true"));
    size_t i;
    json_t *s;
    json_array_foreach(sites, i, s)
        site_presence(r, s, json_integer_value(json_object_get(s, "id")),
                      json_integer_value(json_object_get(s, "last_seen"))); /* 0 when null */
    api_reply(r, 200, json_pack("{s:o}", "sites", sites));
}

static json_t *new_secret(char digest[AUTH_DIGEST_HEX])
{
    char secret[40];
    auth_random_secret(secret, sizeof secret, 24);
    auth_secret_digest(secret, digest);
    return json_string(secret);
}

static void h_site_create(struct req *r)
{
    static const char *const fields[] = {"unit", "name", "link_kbps", NULL};
    bool bad = false;
    if (!api_body_fields(r, fields))
        return;
    const char *unit = api_body_str(r, "unit", STORE_UNIT_MAX - 1, true, &bad);
    const char *name = bad ? NULL : api_body_str(r, "name", STORE_NAME_MAX - 1, true, &bad);
    json_t *kbps = json_object_get(r->body, "link_kbps");
    if (bad)
        return;
    if (kbps && (!json_is_integer(kbps) || json_integer_value(kbps) < 64 || json_integer_value(kbps) > 10000000))
        return api_fail(r, 400, "bad_request", "'link_kbps' must be an integer from 64 to 10000000");
    if (!store_unit_exists(r->db, unit))
        return api_fail(r, 400, "bad_request", "no unit '%s'", unit);
    if (!api_check_scope(r, unit, "site.create", unit))
        return;
    char digest[AUTH_DIGEST_HEX];
    json_t *secret = new_secret(digest);
    int64_t id = store_site_create(r->db, unit, name, kbps ? (int)json_integer_value(kbps) : 2000, digest);
    if (id < 0) {
        json_decref(secret);
        return api_fail(r, 500, "internal", "cannot store the site");
    }
    struct store_site s;
    store_site_get(r->db, id, &s);
    char target[32];
    snprintf(target, sizeof target, "site:%lld", (long long)id);
    api_audit(r, "site.create", target, "ok", name, unit);
    api_reply(r, 201, json_pack("{s:o,s:o}", "site", store_site_json(&s), "secret", secret));
}

static void h_site_provision(struct req *r)
{
    static const char *const fields[] = {"unit", "subtree", NULL};
    bool bad = false;
    if (!api_body_fields(r, fields))
        return;
    const char *unit = api_body_str(r, "unit", STORE_UNIT_MAX - 1, true, &bad);
    if (bad)
        return;
    json_t *sub = json_object_get(r->body, "subtree");
    if (sub && !json_is_boolean(sub))
        return api_fail(r, 400, "bad_request", "'subtree' must be a boolean");
    if (!store_unit_exists(r->db, unit))
        return api_fail(r, 400, "bad_request", "no unit '%s'", unit);
    if (!api_check_scope(r, unit, "site.provision", unit))
        return;
    json_t *out = seed_sites(r->db, unit, !sub || json_is_true(sub));
    if (!out)
        return api_fail(r, 500, "internal", "cannot store the sites; nothing was created");
    char detail[32];
    snprintf(detail, sizeof detail, "%zu sites", json_array_size(out));
    api_audit(r, "site.provision", unit, "ok", detail, unit);
    api_reply(r, 201, json_pack("{s:o}", "sites", out));
}

static void h_site_get(struct req *r)
{
    struct store_site s;
    if (!load_site(r, &s, "site.read"))
        return;
    json_t *j = store_site_json(&s);
    site_presence(r, j, s.id, store_site_last_seen(r->db, s.id));
    api_reply(r, 200, json_pack("{s:o}", "site", j));
}

static void h_site_patch(struct req *r)
{
    static const char *const fields[] = {"name", "link_kbps", NULL};
    struct store_site s;
    bool bad = false;
    if (!load_site(r, &s, "site.update") || !api_body_fields(r, fields))
        return;
    const char *name = api_body_str(r, "name", STORE_NAME_MAX - 1, false, &bad);
    json_t *kbps = json_object_get(r->body, "link_kbps");
    if (bad)
        return;
    if (kbps && (!json_is_integer(kbps) || json_integer_value(kbps) < 64 || json_integer_value(kbps) > 10000000))
        return api_fail(r, 400, "bad_request", "'link_kbps' must be an integer from 64 to 10000000");
    if (store_site_update(r->db, s.id, name, kbps ? (int)json_integer_value(kbps) : -1) < 0)
        return api_fail(r, 500, "internal", "cannot store the site");
    store_site_get(r->db, s.id, &s);
    api_audit(r, "site.update", api_site_target(&s), "ok", "", s.unit);
    api_reply(r, 200, json_pack("{s:o}", "site", store_site_json(&s)));
}

static void h_site_delete(struct req *r)
{
    struct store_site s;
    if (!load_site(r, &s, "site.delete"))
        return;
    int64_t *ids = NULL;
    int n = live_confs_of_site(r->sig->live, s.id, &ids);
    free(ids);
    if (n > 0)
        return api_fail(r, 409, "conflict", "the site is invited to a live conference; end it first");
    if (store_site_delete(r->db, s.id) < 0)
        return api_fail(r, 500, "internal", "cannot delete the site");
    struct conn *c = rooms_site_conn(r->sig, s.id);
    if (c) /* its credential no longer exists: sign it out */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    api_audit(r, "site.delete", api_site_target(&s), "ok", s.name, s.unit);
    api_reply(r, 200, json_object());
}

static void h_site_credential(struct req *r)
{
    struct store_site s;
    if (!load_site(r, &s, "site.credential"))
        return;
    char digest[AUTH_DIGEST_HEX];
    json_t *secret = new_secret(digest);
    if (store_site_set_digest(r->db, s.id, digest) < 0) {
        json_decref(secret);
        return api_fail(r, 500, "internal", "cannot store the credential");
    }
    struct conn *c = rooms_site_conn(r->sig, s.id);
    if (c && !c->replaced) { /* signed in with the old secret: told why, then signed out */
        json_t *e = json_pack("{s:s,s:s,s:s}", "type", "error", "code", "credential_changed", "message",
                              "this site's credential was replaced; sign in with the new one");
        rooms_send(c, e);
        json_decref(e);
        ws_end_session(c);
        c->replaced = true; /* it says nothing more; closed once the error is written */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, 1);
    }
    api_audit(r, "site.credential", api_site_target(&s), "ok", c ? "signed out" : "", s.unit);
    api_reply(r, 200, json_pack("{s:o,s:o}", "site", store_site_json(&s), "secret", secret));
}

/* ---- users */

static bool load_user(struct req *r, struct store_user *u, const char *action)
{
    int64_t id;
    if (!api_parse_id(r->seg[1], &id) || store_user_get(r->db, id, u) < 0) {
        api_fail(r, 404, "not_found", "no such user");
        return false;
    }
    if (!u->unit[0] && r->user.unit[0]) { /* a national account is above every scoped admin */
        api_audit(r, action, r->seg[1], "forbidden", "", "");
        api_fail(r, 403, "forbidden", "outside your unit's scope");
        return false;
    }
    return !u->unit[0] || api_check_scope(r, u->unit, action, r->seg[1]);
}

/* role and unit of a new or changed account: no more than the caller's own. */
static bool user_fields(struct req *r, struct store_user *u)
{
    bool bad = false;
    const char *role = api_body_str(r, "role", 15, false, &bad);
    if (bad)
        return false;
    json_t *unit = json_object_get(r->body, "unit");
    if (role) {
        if (role_of(role) == ROLE_NONE) {
            api_fail(r, 400, "bad_request", "'role' is admin, operator or viewer");
            return false;
        }
        snprintf(u->role, sizeof u->role, "%s", role);
    }
    if (unit) {
        const char *us = json_is_null(unit) ? "" : json_string_value(unit);
        if (!us || (us[0] && !store_unit_exists(r->db, us))) {
            api_fail(r, 400, "bad_request", "'unit' must be an existing unit code (or null for all)");
            return false;
        }
        if ((!us[0] && r->user.unit[0]) || (us[0] && !api_in_scope(r, us))) {
            api_audit(r, "user.write", u->username, "forbidden", "", us);
            api_fail(r, 403, "forbidden", "an account cannot be given a scope wider than yours");
            return false;
        }
        snprintf(u->unit, sizeof u->unit, "%s", us);
    }
    return true;
}

static void h_users(struct req *r)
{
    api_reply(r, 200, json_pack("{s:o}", "users", store_users_list(r->db, r->user.unit)));
}

static void h_user_create(struct req *r)
{
    static const char *const fields[] = {"username", "password", "role", "unit", NULL};
    bool bad = false;
    if (!api_body_fields(r, fields))
        return;
    const char *name = api_body_str(r, "username", 63, true, &bad);
    const char *pw = bad ? NULL : api_body_str(r, "password", 1024, true, &bad);
    if (bad)
        return;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-@", *p))
            return api_fail(r, 400, "bad_request", "'username' may use letters, digits and . _ - @");
    struct store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "%s", name);
    snprintf(u.role, sizeof u.role, "viewer");
    snprintf(u.unit, sizeof u.unit, "%s", r->user.unit);
    if (!user_fields(r, &u))
        return;
    char err[160];
    if (auth_password_policy(pw, err, sizeof err) < 0)
        return api_fail(r, 400, "weak_password", "%s", err);
    struct store_user other;
    if (store_user_by_name(r->db, name, &other) == 0)
        return api_fail(r, 409, "conflict", "a user named '%s' exists", name);
    if (auth_password_hash(pw, u.password_hash) < 0 || (u.id = store_user_create(r->db, &u)) < 0)
        return api_fail(r, 500, "internal", "cannot store the user");
    api_audit(r, "user.create", name, "ok", u.role, u.unit);
    api_reply(r, 201, json_pack("{s:o}", "user", store_user_json(&u)));
}

static void h_user_patch(struct req *r)
{
    static const char *const fields[] = {"role", "unit", "password", "disabled", NULL};
    struct store_user u;
    if (!load_user(r, &u, "user.update") || !api_body_fields(r, fields) || !user_fields(r, &u))
        return;
    bool bad = false;
    const char *pw = api_body_str(r, "password", 1024, false, &bad);
    json_t *dis = json_object_get(r->body, "disabled");
    if (bad)
        return;
    if (dis && !json_is_boolean(dis))
        return api_fail(r, 400, "bad_request", "'disabled' must be a boolean");
    char err[160];
    if (pw && auth_password_policy(pw, err, sizeof err) < 0)
        return api_fail(r, 400, "weak_password", "%s", err);
    if (pw && auth_password_hash(pw, u.password_hash) < 0)
        return api_fail(r, 500, "internal", "cannot hash the password");
    if (dis)
        u.disabled = json_is_true(dis);
    if (store_user_update(r->db, &u) < 0)
        return api_fail(r, 500, "internal", "cannot store the user");
    if (pw || u.disabled)
        auth_sessions_revoke_user(r->sig->sessions, u.id);
    api_audit(r, "user.update", u.username, "ok", "", u.unit);
    api_reply(r, 200, json_pack("{s:o}", "user", store_user_json(&u)));
}

static void h_user_delete(struct req *r)
{
    struct store_user u;
    if (!load_user(r, &u, "user.delete"))
        return;
    if (u.id == r->user.id)
        return api_fail(r, 409, "conflict", "you cannot delete your own account");
    if (store_user_delete(r->db, u.id) < 0)
        return api_fail(r, 500, "internal", "cannot delete the user");
    auth_sessions_revoke_user(r->sig->sessions, u.id);
    api_audit(r, "user.delete", u.username, "ok", "", u.unit);
    api_reply(r, 200, json_object());
}

void h_audit(struct req *r)
{
    char lbuf[16], bbuf[24];
    const char *limit = api_query(r, "limit", lbuf, sizeof lbuf);
    const char *before = api_query(r, "before", bbuf, sizeof bbuf);
    int n = limit ? atoi(limit) : 100;
    int64_t b = 0;
    if (n < 1 || n > 1000 || (before && !api_parse_id(before, &b)))
        return api_fail(r, 400, "bad_request", "'limit' is 1..1000 and 'before' an entry id");
    api_reply(r, 200, json_pack("{s:o}", "entries", store_audit_json(r->db, r->user.unit, n, b)));
}

/* ---- routing */

struct route {
    const char *method;
    const char *pattern;        /* segments after /api/v1/, '*' matches one */
    enum role min;              /* ROLE_NONE: no sign-in needed */
    void (*handle)(struct req *r);
};

static const struct route routes[] = {
    {"POST", "auth/login", ROLE_NONE, h_login},
    {"POST", "auth/logout", ROLE_VIEWER, h_logout},
    {"GET", "auth/me", ROLE_VIEWER, h_me},
    {"POST", "auth/password", ROLE_VIEWER, h_password},
    {"GET", "units", ROLE_VIEWER, h_units},
    {"GET", "units/*", ROLE_VIEWER, h_unit},
    {"GET", "sites", ROLE_VIEWER, h_sites},
    {"POST", "sites", ROLE_ADMIN, h_site_create},
    {"POST", "sites/provision", ROLE_ADMIN, h_site_provision},
    {"GET", "sites/*", ROLE_VIEWER, h_site_get},
    {"PATCH", "sites/*", ROLE_ADMIN, h_site_patch},
    {"DELETE", "sites/*", ROLE_ADMIN, h_site_delete},
    {"POST", "sites/*/credential", ROLE_ADMIN, h_site_credential},
    {"GET", "users", ROLE_ADMIN, h_users},
    {"POST", "users", ROLE_ADMIN, h_user_create},
    {"PATCH", "users/*", ROLE_ADMIN, h_user_patch},
    {"DELETE", "users/*", ROLE_ADMIN, h_user_delete},
    {"GET", "conferences", ROLE_VIEWER, h_confs},
    {"POST", "conferences", ROLE_OPERATOR, h_conf_create},
    {"GET", "conferences/*", ROLE_VIEWER, h_conf_get},
    {"PATCH", "conferences/*", ROLE_OPERATOR, h_conf_patch},
    {"DELETE", "conferences/*", ROLE_OPERATOR, h_conf_delete},
    {"POST", "conferences/*/start", ROLE_OPERATOR, h_conf_start_end},
    {"POST", "conferences/*/end", ROLE_OPERATOR, h_conf_start_end},
    {"POST", "conferences/*/control", ROLE_OPERATOR, h_conf_control},
    {"GET", "conferences/*/roster", ROLE_VIEWER, h_conf_roster},
    {"GET", "conferences/*/attendance", ROLE_VIEWER, h_conf_attendance},
    {"GET", "conferences/*/rollcall", ROLE_VIEWER, h_conf_rollcall},
    {"GET", "recordings", ROLE_VIEWER, h_recordings},
    {"GET", "recordings/*", ROLE_VIEWER, h_recording_get},
    {"GET", "recordings/*/file", ROLE_ADMIN, h_recording_file},
    {"DELETE", "recordings/*", ROLE_ADMIN, h_recording_delete},
    {"GET", "audit", ROLE_ADMIN, h_audit},
    {"GET", "monitoring/units/*", ROLE_VIEWER, h_monitor_unit},
    {"GET", "monitoring/alarms", ROLE_VIEWER, h_monitor_alarms},
};

static bool match(const char *pattern, struct req *r)
{
    char p[64];
    snprintf(p, sizeof p, "%s", pattern);
    int i = 0;
    for (char *save, *t = strtok_r(p, "/", &save); t; t = strtok_r(NULL, "/", &save), i++)
        if (i >= r->nseg || (strcmp(t, "*") && strcmp(t, r->seg[i])))
            return false;
    return i == r->nseg;
}

int api_handle(struct conn *c)
{
    struct req r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.sig = c->sig;
    r.db = &c->sig->srv->db;
    snprintf(r.buf, sizeof r.buf, "%s", c->path + strlen("/api/v1/"));
    for (char *save, *t = strtok_r(r.buf, "/", &save); t && r.nseg < 8; t = strtok_r(NULL, "/", &save))
        r.seg[r.nseg++] = t;
    const struct route *rt = NULL;
    bool path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !rt; i++)
        if (match(routes[i].pattern, &r)) {
            path_known = true;
            if (!strcmp(routes[i].method, c->method))
                rt = &routes[i];
        }
    if (!rt) {
        if (path_known)
            http_error(c, 405, "method_not_allowed", "this method is not allowed here");
        else
            http_error(c, 404, "not_found", "no such API endpoint");
        return 0;
    }
    if (rt->min != ROLE_NONE) {
        int64_t uid = api_auth_user(c, NULL, NULL, 0);
        if (!uid || store_user_get(r.db, uid, &r.user) < 0 || r.user.disabled) {
            http_error(c, 401, "unauthorized", "sign in first (the session may have expired)");
            return 0;
        }
        r.role = role_of(r.user.role);
    }
    if (!need_role(&r, rt->min, rt->pattern, c->path))
        return 0;
    if (!strcmp(c->method, "POST") || !strcmp(c->method, "PATCH") || !strcmp(c->method, "PUT")) {
        json_error_t jerr;
        r.body = c->req_body.len ? json_loadb(c->req_body.p, c->req_body.len, JSON_REJECT_DUPLICATES, &jerr)
                                 : json_object();
        if (!r.body || !json_is_object(r.body)) {
            char msg[200];
            snprintf(msg, sizeof msg, "the body must be a JSON object%s%s", r.body ? "" : ": ",
                     r.body ? "" : jerr.text);
            json_decref(r.body);
            http_error(c, 400, "bad_json", msg);
            return 0;
        }
    }
    rt->handle(&r);
    json_decref(r.body);
    return 0;
}
