/* The admin REST API under /api/v1 (docs/openapi.yaml): sign-in, units, sites, users,
 * conferences with their live control, attendance and roll-call exports, the audit log.
 * Every call is authenticated (bearer token or session cookie) and checked against the
 * caller's role and unit scope before anything is read or changed; a refused or invalid
 * request changes nothing and gets {"error":{"code","message"}}. */
#include "signaling/internal.h"
#include "mcu/log.h"
#include "mcu/server.h"
#include "rooms/auth.h"
#include "rooms/live.h"
#include "rooms/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN };

struct req {
    struct conn *c;
    struct signaling *sig;
    struct db *db;
    char buf[256];
    const char *seg[8];          /* path segments after /api/v1/ */
    int nseg;
    json_t *body;                /* the parsed body of POST/PUT/PATCH, an object */
    struct store_user user;      /* the caller, when signed in */
    enum role role;
};

static enum role role_of(const char *name)
{
    return !strcmp(name, "admin") ? ROLE_ADMIN : !strcmp(name, "operator") ? ROLE_OPERATOR
         : !strcmp(name, "viewer") ? ROLE_VIEWER : ROLE_NONE;
}

static void reply(struct req *r, int status, json_t *j) /* takes j */
{
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    http_respond_json(r->c, status, s);
}

static void fail(struct req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(struct req *r, int status, const char *code, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_error(r->c, status, code, msg);
}

static void audit(struct req *r, const char *action, const char *target, const char *result, const char *detail,
                  const char *unit)
{
    const char *actor = r->user.username[0] ? r->user.username : "-";
    store_audit(r->db, actor, action, target, r->c->addr, result, detail, unit);
    log_info("audit", "%s %s %s from %s: %s%s%s", actor, action, target ? target : "", r->c->addr, result,
             detail && detail[0] ? " " : "", detail ? detail : "");
}

/* ---- helpers for bodies and parameters */

static bool parse_id(const char *s, int64_t *out)
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
static const char *query(struct req *r, const char *name, char *buf, int len)
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
static bool body_fields(struct req *r, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(r->body, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= !strcmp(*a, key);
        if (!ok) {
            fail(r, 400, "bad_request", "unknown field '%s'", key);
            return false;
        }
    }
    return true;
}

static const char *body_str(struct req *r, const char *name, size_t max, bool required, bool *bad)
{
    json_t *v = json_object_get(r->body, name);
    if (!v) {
        if (required) {
            fail(r, 400, "bad_request", "'%s' is required", name);
            *bad = true;
        }
        return NULL;
    }
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > max) {
        fail(r, 400, "bad_request", "'%s' must be a non-empty string of at most %zu bytes", name, max);
        *bad = true;
        return NULL;
    }
    return s;
}

/* Time as Unix milliseconds, or an ISO 8601 string with Z or an offset. */
static bool parse_time(json_t *v, int64_t *out)
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

static void h_login(struct req *r)
{
    static const char *const fields[] = {"username", "password", NULL};
    bool bad = false;
    if (!body_fields(r, fields))
        return;
    const char *name = body_str(r, "username", 63, true, &bad);
    const char *pw = bad ? NULL : body_str(r, "password", 1024, true, &bad);
    if (bad)
        return;
    char kuser[96], kaddr[80];
    snprintf(kuser, sizeof kuser, "user:%s", name);
    snprintf(kaddr, sizeof kaddr, "addr:%s", r->c->addr);
    int64_t now = store_now_ms();
    int64_t wait = auth_limiter_check(r->sig->limiter, kuser, now);
    int64_t wait2 = auth_limiter_check(r->sig->limiter, kaddr, now);
    if (wait2 > wait)
        wait = wait2;
    if (wait > 0) {
        audit(r, "auth.login", name, "rate_limited", "", "");
        fail(r, 429, "rate_limited", "too many failed sign-ins; try again in %lld s", (long long)(wait + 999) / 1000);
        return;
    }
    struct store_user u;
    bool ok = store_user_by_name(r->db, name, &u) == 0 && !u.disabled && auth_password_verify(u.password_hash, pw);
    if (!ok) {
        auth_limiter_fail(r->sig->limiter, kuser, now);
        auth_limiter_fail(r->sig->limiter, kaddr, now);
        audit(r, "auth.login", name, "denied", "", "");
        fail(r, 401, "bad_credentials", "wrong user name or password");
        return;
    }
    auth_limiter_success(r->sig->limiter, kuser);
    char token[AUTH_TOKEN_MAX];
    int64_t expires;
    if (auth_session_create(r->sig->sessions, u.id, now, token, &expires) < 0) {
        fail(r, 503, "busy", "too many signed-in sessions");
        return;
    }
    r->user = u;
    audit(r, "auth.login", name, "ok", "", u.unit);
    snprintf(r->c->set_cookie, sizeof r->c->set_cookie, "mcu_session=%s; Path=/; HttpOnly; SameSite=Strict%s", token,
             tls(r) ? "; Secure" : "");
    reply(r, 200, json_pack("{s:s,s:I,s:o}", "token", token, "expires_at", (json_int_t)expires, "user",
                            store_user_json(&u)));
}

static void h_logout(struct req *r)
{
    char tok[128];
    request_token(r->c, NULL, tok, sizeof tok);
    auth_session_revoke(r->sig->sessions, tok);
    audit(r, "auth.logout", r->user.username, "ok", "", r->user.unit);
    snprintf(r->c->set_cookie, sizeof r->c->set_cookie, "mcu_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    reply(r, 200, json_object());
}

static void h_me(struct req *r)
{
    reply(r, 200, json_pack("{s:o}", "user", store_user_json(&r->user)));
}

static void h_password(struct req *r)
{
    static const char *const fields[] = {"old_password", "new_password", NULL};
    bool bad = false;
    if (!body_fields(r, fields))
        return;
    const char *old = body_str(r, "old_password", 1024, true, &bad);
    const char *nw = bad ? NULL : body_str(r, "new_password", 1024, true, &bad);
    if (bad)
        return;
    char err[160];
    if (!auth_password_verify(r->user.password_hash, old)) {
        audit(r, "auth.password", r->user.username, "denied", "", r->user.unit);
        return fail(r, 401, "bad_credentials", "the current password is wrong");
    }
    if (auth_password_policy(nw, err, sizeof err) < 0)
        return fail(r, 400, "weak_password", "%s", err);
    if (auth_password_hash(nw, r->user.password_hash) < 0 || store_user_update(r->db, &r->user) < 0)
        return fail(r, 500, "internal", "cannot store the password");
    auth_sessions_revoke_user(r->sig->sessions, r->user.id); /* every other sign-in ends too */
    audit(r, "auth.password", r->user.username, "ok", "", r->user.unit);
    reply(r, 200, json_object());
}

/* ---- scope */

static bool in_scope(struct req *r, const char *unit)
{
    return store_unit_within(r->db, unit, r->user.unit);
}

/* 403 unless unit is in the caller's scope; audits the refusal. */
static bool check_scope(struct req *r, const char *unit, const char *action, const char *target)
{
    if (in_scope(r, unit))
        return true;
    audit(r, action, target, "forbidden", "", unit);
    fail(r, 403, "forbidden", "outside your unit's scope");
    return false;
}

static bool need_role(struct req *r, enum role min, const char *action, const char *target)
{
    if (r->role >= min)
        return true;
    audit(r, action, target, "forbidden", "role", "");
    fail(r, 403, "forbidden", "your role may not do this");
    return false;
}

static const char *conf_target(const struct store_conf *c)
{
    static char t[40]; /* the signaling thread only */
    snprintf(t, sizeof t, "conference:%lld", (long long)c->id);
    return t;
}

static const char *site_target(const struct store_site *s)
{
    static char t[40];
    snprintf(t, sizeof t, "site:%lld", (long long)s->id);
    return t;
}

/* ---- units */

static void h_units(struct req *r)
{
    char pbuf[64], lbuf[16], qbuf[128];
    const char *parent = query(r, "parent", pbuf, sizeof pbuf);
    const char *level = query(r, "level", lbuf, sizeof lbuf);
    const char *q = query(r, "q", qbuf, sizeof qbuf);
    const char *scope = r->user.unit;
    if (parent && !in_scope(r, parent) && !(scope[0] && store_unit_within(r->db, scope, parent)))
        return fail(r, 403, "forbidden", "outside your unit's scope");
    reply(r, 200, json_pack("{s:o}", "units", store_units_list(r->db, scope, parent, level ? atoi(level) : 0, q)));
}

static void h_unit(struct req *r)
{
    const char *id = r->seg[1];
    if (!store_unit_exists(r->db, id))
        return fail(r, 404, "not_found", "no unit '%s'", id);
    if (!in_scope(r, id))
        return fail(r, 403, "forbidden", "outside your unit's scope");
    reply(r, 200, json_pack("{s:o}", "unit", store_unit_json(r->db, id)));
}

/* ---- sites */

static bool load_site(struct req *r, struct store_site *s, const char *action)
{
    int64_t id;
    if (!parse_id(r->seg[1], &id) || store_site_get(r->db, id, s) < 0) {
        fail(r, 404, "not_found", "no such site");
        return false;
    }
    char target[32];
    snprintf(target, sizeof target, "site:%lld", (long long)id);
    return check_scope(r, s->unit, action, target);
}

static void h_sites(struct req *r)
{
    char ubuf[64], sbuf[8];
    const char *unit = query(r, "unit", ubuf, sizeof ubuf);
    const char *sub = query(r, "subtree", sbuf, sizeof sbuf);
    if (unit && !in_scope(r, unit))
        return fail(r, 403, "forbidden", "outside your unit's scope");
    json_t *sites = store_sites_list(r->db, r->user.unit, unit, sub && !strcmp(sub, "true"));
    size_t i;
    json_t *s;
    json_array_foreach(sites, i, s) {
        struct conn *c = rooms_site_conn(r->sig, json_integer_value(json_object_get(s, "id")));
        json_object_set_new(s, "online", json_boolean(c != NULL));
    }
    reply(r, 200, json_pack("{s:o}", "sites", sites));
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
    if (!body_fields(r, fields))
        return;
    const char *unit = body_str(r, "unit", STORE_UNIT_MAX - 1, true, &bad);
    const char *name = bad ? NULL : body_str(r, "name", STORE_NAME_MAX - 1, true, &bad);
    json_t *kbps = json_object_get(r->body, "link_kbps");
    if (bad)
        return;
    if (kbps && (!json_is_integer(kbps) || json_integer_value(kbps) < 64 || json_integer_value(kbps) > 10000000))
        return fail(r, 400, "bad_request", "'link_kbps' must be an integer from 64 to 10000000");
    if (!store_unit_exists(r->db, unit))
        return fail(r, 400, "bad_request", "no unit '%s'", unit);
    if (!check_scope(r, unit, "site.create", unit))
        return;
    char digest[AUTH_DIGEST_HEX];
    json_t *secret = new_secret(digest);
    int64_t id = store_site_create(r->db, unit, name, kbps ? (int)json_integer_value(kbps) : 2000, digest);
    if (id < 0) {
        json_decref(secret);
        return fail(r, 500, "internal", "cannot store the site");
    }
    struct store_site s;
    store_site_get(r->db, id, &s);
    char target[32];
    snprintf(target, sizeof target, "site:%lld", (long long)id);
    audit(r, "site.create", target, "ok", name, unit);
    reply(r, 201, json_pack("{s:o,s:o}", "site", store_site_json(&s), "secret", secret));
}

static void h_site_provision(struct req *r)
{
    static const char *const fields[] = {"unit", "subtree", NULL};
    bool bad = false;
    if (!body_fields(r, fields))
        return;
    const char *unit = body_str(r, "unit", STORE_UNIT_MAX - 1, true, &bad);
    if (bad)
        return;
    json_t *sub = json_object_get(r->body, "subtree");
    if (sub && !json_is_boolean(sub))
        return fail(r, 400, "bad_request", "'subtree' must be a boolean");
    if (!store_unit_exists(r->db, unit))
        return fail(r, 400, "bad_request", "no unit '%s'", unit);
    if (!check_scope(r, unit, "site.provision", unit))
        return;
    json_t *units = store_units_without_site(r->db, unit), *out = json_array(), *u;
    size_t i;
    int rc = store_begin(r->db);
    json_array_foreach(units, i, u) {
        const char *uid = json_string_value(json_object_get(u, "id"));
        if (sub && !json_is_true(sub) && strcmp(uid, unit))
            continue;
        char digest[AUTH_DIGEST_HEX], name[STORE_NAME_MAX];
        snprintf(name, sizeof name, "Điểm cầu %s", json_string_value(json_object_get(u, "name")));
        json_t *secret = new_secret(digest);
        int64_t id = store_site_create(r->db, uid, name, 2000, digest);
        if (id < 0) {
            json_decref(secret);
            rc = -1;
            break;
        }
        json_array_append_new(out, json_pack("{s:I,s:s,s:s,s:o}", "site", (json_int_t)id, "unit", uid, "name", name,
                                             "secret", secret));
    }
    json_decref(units);
    if (store_commit(r->db, rc) < 0) {
        json_decref(out);
        return fail(r, 500, "internal", "cannot store the sites; nothing was created");
    }
    char detail[32];
    snprintf(detail, sizeof detail, "%zu sites", json_array_size(out));
    audit(r, "site.provision", unit, "ok", detail, unit);
    reply(r, 201, json_pack("{s:o}", "sites", out));
}

static void h_site_get(struct req *r)
{
    struct store_site s;
    if (!load_site(r, &s, "site.read"))
        return;
    json_t *j = store_site_json(&s);
    json_object_set_new(j, "online", json_boolean(rooms_site_conn(r->sig, s.id) != NULL));
    reply(r, 200, json_pack("{s:o}", "site", j));
}

static void h_site_patch(struct req *r)
{
    static const char *const fields[] = {"name", "link_kbps", NULL};
    struct store_site s;
    bool bad = false;
    if (!load_site(r, &s, "site.update") || !body_fields(r, fields))
        return;
    const char *name = body_str(r, "name", STORE_NAME_MAX - 1, false, &bad);
    json_t *kbps = json_object_get(r->body, "link_kbps");
    if (bad)
        return;
    if (kbps && (!json_is_integer(kbps) || json_integer_value(kbps) < 64 || json_integer_value(kbps) > 10000000))
        return fail(r, 400, "bad_request", "'link_kbps' must be an integer from 64 to 10000000");
    if (store_site_update(r->db, s.id, name, kbps ? (int)json_integer_value(kbps) : -1) < 0)
        return fail(r, 500, "internal", "cannot store the site");
    store_site_get(r->db, s.id, &s);
    audit(r, "site.update", site_target(&s), "ok", "", s.unit);
    reply(r, 200, json_pack("{s:o}", "site", store_site_json(&s)));
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
        return fail(r, 409, "conflict", "the site is invited to a live conference; end it first");
    if (store_site_delete(r->db, s.id) < 0)
        return fail(r, 500, "internal", "cannot delete the site");
    struct conn *c = rooms_site_conn(r->sig, s.id);
    if (c) /* its credential no longer exists: sign it out */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
    audit(r, "site.delete", site_target(&s), "ok", s.name, s.unit);
    reply(r, 200, json_object());
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
        return fail(r, 500, "internal", "cannot store the credential");
    }
    audit(r, "site.credential", site_target(&s), "ok", "", s.unit);
    reply(r, 200, json_pack("{s:o,s:o}", "site", store_site_json(&s), "secret", secret));
}

/* ---- users */

static bool load_user(struct req *r, struct store_user *u, const char *action)
{
    int64_t id;
    if (!parse_id(r->seg[1], &id) || store_user_get(r->db, id, u) < 0) {
        fail(r, 404, "not_found", "no such user");
        return false;
    }
    if (!u->unit[0] && r->user.unit[0]) { /* a national account is above every scoped admin */
        audit(r, action, r->seg[1], "forbidden", "", "");
        fail(r, 403, "forbidden", "outside your unit's scope");
        return false;
    }
    return !u->unit[0] || check_scope(r, u->unit, action, r->seg[1]);
}

/* role and unit of a new or changed account: no more than the caller's own. */
static bool user_fields(struct req *r, struct store_user *u)
{
    bool bad = false;
    const char *role = body_str(r, "role", 15, false, &bad);
    if (bad)
        return false;
    json_t *unit = json_object_get(r->body, "unit");
    if (role) {
        if (role_of(role) == ROLE_NONE) {
            fail(r, 400, "bad_request", "'role' is admin, operator or viewer");
            return false;
        }
        snprintf(u->role, sizeof u->role, "%s", role);
    }
    if (unit) {
        const char *us = json_is_null(unit) ? "" : json_string_value(unit);
        if (!us || (us[0] && !store_unit_exists(r->db, us))) {
            fail(r, 400, "bad_request", "'unit' must be an existing unit code (or null for all)");
            return false;
        }
        if ((!us[0] && r->user.unit[0]) || (us[0] && !in_scope(r, us))) {
            audit(r, "user.write", u->username, "forbidden", "", us);
            fail(r, 403, "forbidden", "an account cannot be given a scope wider than yours");
            return false;
        }
        snprintf(u->unit, sizeof u->unit, "%s", us);
    }
    return true;
}

static void h_users(struct req *r)
{
    reply(r, 200, json_pack("{s:o}", "users", store_users_list(r->db, r->user.unit)));
}

static void h_user_create(struct req *r)
{
    static const char *const fields[] = {"username", "password", "role", "unit", NULL};
    bool bad = false;
    if (!body_fields(r, fields))
        return;
    const char *name = body_str(r, "username", 63, true, &bad);
    const char *pw = bad ? NULL : body_str(r, "password", 1024, true, &bad);
    if (bad)
        return;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-@", *p))
            return fail(r, 400, "bad_request", "'username' may use letters, digits and . _ - @");
    struct store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "%s", name);
    snprintf(u.role, sizeof u.role, "viewer");
    snprintf(u.unit, sizeof u.unit, "%s", r->user.unit);
    if (!user_fields(r, &u))
        return;
    char err[160];
    if (auth_password_policy(pw, err, sizeof err) < 0)
        return fail(r, 400, "weak_password", "%s", err);
    struct store_user other;
    if (store_user_by_name(r->db, name, &other) == 0)
        return fail(r, 409, "conflict", "a user named '%s' exists", name);
    if (auth_password_hash(pw, u.password_hash) < 0 || (u.id = store_user_create(r->db, &u)) < 0)
        return fail(r, 500, "internal", "cannot store the user");
    audit(r, "user.create", name, "ok", u.role, u.unit);
    reply(r, 201, json_pack("{s:o}", "user", store_user_json(&u)));
}

static void h_user_patch(struct req *r)
{
    static const char *const fields[] = {"role", "unit", "password", "disabled", NULL};
    struct store_user u;
    if (!load_user(r, &u, "user.update") || !body_fields(r, fields) || !user_fields(r, &u))
        return;
    bool bad = false;
    const char *pw = body_str(r, "password", 1024, false, &bad);
    json_t *dis = json_object_get(r->body, "disabled");
    if (bad)
        return;
    if (dis && !json_is_boolean(dis))
        return fail(r, 400, "bad_request", "'disabled' must be a boolean");
    char err[160];
    if (pw && auth_password_policy(pw, err, sizeof err) < 0)
        return fail(r, 400, "weak_password", "%s", err);
    if (pw && auth_password_hash(pw, u.password_hash) < 0)
        return fail(r, 500, "internal", "cannot hash the password");
    if (dis)
        u.disabled = json_is_true(dis);
    if (store_user_update(r->db, &u) < 0)
        return fail(r, 500, "internal", "cannot store the user");
    if (pw || u.disabled)
        auth_sessions_revoke_user(r->sig->sessions, u.id);
    audit(r, "user.update", u.username, "ok", "", u.unit);
    reply(r, 200, json_pack("{s:o}", "user", store_user_json(&u)));
}

static void h_user_delete(struct req *r)
{
    struct store_user u;
    if (!load_user(r, &u, "user.delete"))
        return;
    if (u.id == r->user.id)
        return fail(r, 409, "conflict", "you cannot delete your own account");
    if (store_user_delete(r->db, u.id) < 0)
        return fail(r, 500, "internal", "cannot delete the user");
    auth_sessions_revoke_user(r->sig->sessions, u.id);
    audit(r, "user.delete", u.username, "ok", "", u.unit);
    reply(r, 200, json_object());
}

/* ---- conferences */

static bool load_conf(struct req *r, struct store_conf *c, const char *action)
{
    int64_t id;
    if (!parse_id(r->seg[1], &id) || store_conf_get(r->db, id, c) < 0) {
        fail(r, 404, "not_found", "no such conference");
        return false;
    }
    char target[32];
    snprintf(target, sizeof target, "conference:%lld", (long long)id);
    return check_scope(r, c->host_unit, action, target);
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

static void h_confs(struct req *r)
{
    char sbuf[16];
    const char *state = query(r, "state", sbuf, sizeof sbuf);
    reply(r, 200, json_pack("{s:o}", "conferences", store_confs_list(r->db, r->user.unit, state)));
}

/* The writable fields of a conference from the body into c; resolves the invitation when
 * given. Returns the count of invited sites (or 0 when not given), -1 after a reply. */
static int conf_fields(struct req *r, struct store_conf *c, int64_t **sites, char **invite_text)
{
    bool bad = false;
    const char *title = body_str(r, "title", STORE_NAME_MAX - 1, !c->id, &bad);
    if (bad)
        return -1;
    if (title)
        snprintf(c->title, sizeof c->title, "%s", title);
    json_t *sched = json_object_get(r->body, "schedule");
    if (sched && json_is_null(sched)) {
        c->start_at = c->end_at = 0;
    } else if (sched) {
        if (!json_is_object(sched) || !parse_time(json_object_get(sched, "start"), &c->start_at) ||
            !parse_time(json_object_get(sched, "end"), &c->end_at) || c->end_at <= c->start_at) {
            fail(r, 400, "bad_request", "'schedule' is null (permanent) or {start, end}: Unix ms or ISO 8601 "
                                        "times with Z or an offset, end after start");
            return -1;
        }
    }
    json_t *pin = json_object_get(r->body, "pin");
    if (pin && !json_is_null(pin)) {
        const char *p = json_string_value(pin);
        if (!p || strlen(p) < 4 || strlen(p) > 12 || strspn(p, "0123456789") != strlen(p)) {
            fail(r, 400, "bad_request", "'pin' is null or 4 to 12 digits");
            return -1;
        }
        auth_secret_digest(p, c->pin_digest);
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
            fail(r, 400, "bad_request", "%s", err);
            return -1;
        }
        *invite_text = json_dumps(rule, JSON_COMPACT);
        json_decref(rule);
    }
    json_t *chair = json_object_get(r->body, "chair_site");
    if (chair && !json_is_null(chair) && !json_is_integer(chair)) {
        fail(r, 400, "bad_request", "'chair_site' is a site id or null");
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
            fail(r, 400, "bad_request", "the chair site must be one of the invited sites");
            return -1;
        }
    }
    return n;
}

static void h_conf_create(struct req *r)
{
    static const char *const fields[] = {"title", "host_unit", "invite", "schedule", "chair_site", "pin", NULL};
    bool bad = false;
    if (!body_fields(r, fields))
        return;
    const char *host = body_str(r, "host_unit", STORE_UNIT_MAX - 1, true, &bad);
    if (bad)
        return;
    if (!store_unit_exists(r->db, host))
        return fail(r, 400, "bad_request", "no unit '%s'", host);
    if (!check_scope(r, host, "conference.create", host))
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
            fail(r, 500, "internal", "cannot store the conference");
        } else {
            char target[32], detail[200];
            snprintf(target, sizeof target, "conference:%lld", (long long)id);
            snprintf(detail, sizeof detail, "%s (%d sites)", c.title, n);
            audit(r, "conference.create", target, "ok", detail, host);
            reply(r, 201, json_pack("{s:o}", "conference", conf_full(r, id)));
        }
    }
    free(sites);
    free(invite);
}

static void h_conf_get(struct req *r)
{
    struct store_conf c;
    if (!load_conf(r, &c, "conference.read"))
        return;
    reply(r, 200, json_pack("{s:o}", "conference", conf_full(r, c.id)));
}

static void h_conf_patch(struct req *r)
{
    static const char *const fields[] = {"title", "invite", "schedule", "chair_site", "pin", NULL};
    struct store_conf c;
    if (!load_conf(r, &c, "conference.update") || !body_fields(r, fields))
        return;
    if (strcmp(c.state, "scheduled"))
        return fail(r, 409, "conflict", "only a conference that has not started can be changed (it is %s)", c.state);
    int64_t *sites = NULL;
    char *invite = NULL;
    int n = conf_fields(r, &c, &sites, &invite);
    if (n >= 0) {
        static const int64_t none[1];
        if (store_conf_update(r->db, &c, invite, invite && !sites ? none : sites, n) < 0) {
            fail(r, 500, "internal", "cannot store the conference; nothing was changed");
        } else {
            audit(r, "conference.update", conf_target(&c), "ok", "", c.host_unit);
            reply(r, 200, json_pack("{s:o}", "conference", conf_full(r, c.id)));
        }
    }
    free(sites);
    free(invite);
}

static void h_conf_delete(struct req *r)
{
    struct store_conf c;
    if (!load_conf(r, &c, "conference.delete"))
        return;
    if (live_is_live(r->sig->live, c.id))
        return fail(r, 409, "conflict", "the conference is live; end it first");
    if (store_conf_delete(r->db, c.id) < 0)
        return fail(r, 500, "internal", "cannot delete the conference");
    audit(r, "conference.delete", conf_target(&c), "ok", c.title, c.host_unit);
    reply(r, 200, json_object());
}

static int error_status(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {{"not_found", 404}, {"already_live", 409}, {"not_live", 409}, {"no_rollcall", 409},
               {"internal", 500}, {"not_invited", 400}, {"bad_request", 400}, {"bad_action", 400}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].code, code))
            return map[i].status;
    return 400;
}

static void h_conf_start_end(struct req *r)
{
    bool start = !strcmp(r->seg[2], "start");
    const char *action = start ? "conference.start" : "conference.end";
    struct store_conf c;
    if (!load_conf(r, &c, action))
        return;
    char err[200];
    const char *e = start ? live_start(r->sig->live, c.id, store_now_ms(), err, sizeof err)
                          : live_end(r->sig->live, c.id, "operator", store_now_ms(), err, sizeof err);
    audit(r, action, conf_target(&c), e ? e : "ok", "", c.host_unit);
    if (e)
        return fail(r, error_status(e), e, "%s", err);
    reply(r, 200, json_pack("{s:o}", "conference", conf_full(r, c.id)));
}

static void h_conf_control(struct req *r)
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
    audit(r, "conference.control", conf_target(&c), e ? e : "ok", detail, c.host_unit);
    if (e)
        return fail(r, error_status(e), e, "%s", err);
    json_t *state = live_state_json(r->sig->live, c.id);
    reply(r, 200, json_pack("{s:o}", "live", state ? state : json_null()));
}

static void h_conf_roster(struct req *r)
{
    struct store_conf c;
    if (!load_conf(r, &c, "conference.read"))
        return;
    json_t *roster = live_roster_json(r->sig->live, c.id);
    if (!roster)
        return fail(r, 409, "not_live", "the conference is not live");
    reply(r, 200, json_pack("{s:o,s:o}", "sites", roster, "live", live_state_json(r->sig->live, c.id)));
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
    const char *format = query(r, "format", fbuf, sizeof fbuf);
    if (!format || !strcmp(format, "json"))
        return reply(r, 200, json_pack("{s:o}", name, rows));
    if (strcmp(format, "csv")) {
        json_decref(rows);
        return fail(r, 400, "bad_request", "'format' is json or csv");
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

static void h_conf_attendance(struct req *r)
{
    static const char *const cols[] = {"site", "name", "unit", "unit_name", "first_join", "last_leave", "joins",
                                       "seconds", "rollcall", NULL};
    struct store_conf c;
    if (!load_conf(r, &c, "conference.read"))
        return;
    reply_rows(r, store_attendance_json(r->db, c.id, store_now_ms()), cols, "attendance");
}

static void h_conf_rollcall(struct req *r)
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

static void h_audit(struct req *r)
{
    char lbuf[16], bbuf[24];
    const char *limit = query(r, "limit", lbuf, sizeof lbuf);
    const char *before = query(r, "before", bbuf, sizeof bbuf);
    int n = limit ? atoi(limit) : 100;
    int64_t b = 0;
    if (n < 1 || n > 1000 || (before && !parse_id(before, &b)))
        return fail(r, 400, "bad_request", "'limit' is 1..1000 and 'before' an entry id");
    reply(r, 200, json_pack("{s:o}", "entries", store_audit_json(r->db, r->user.unit, n, b)));
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
    {"GET", "audit", ROLE_ADMIN, h_audit},
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
