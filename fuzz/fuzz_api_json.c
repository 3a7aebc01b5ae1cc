/* libFuzzer target for the admin REST API: a request built from the input goes through the
 * real dispatcher, api_handle (signaling/api.c), and so through its sign-in, role and scope
 * checks into every handler (sites, users, conferences, recordings, monitoring, audit, sign-in
 * itself), on the database of fuzz/api_fixture.h. Input:
 *   byte 0   bits 0-2 the caller: enum caller (admin, scoped admin, operators, viewer, a
 *            disabled account), 6 nobody, 7 an unknown token; bits 3-5 the method; bit 6 the
 *            token in the session cookie instead of a bearer header; bit 7 the server has TLS
 *   then     "<path under /api/v1/>[?<query>]\n<body>"
 * The reply is what the handler left in struct conn (status, type, body), as http.c would
 * send it. It must be consistent: a status, a JSON body (an {"error":{code,message}} one for
 * an error); a refusal changes nothing but the audit log and the live state; a caller never
 * gets a success its role does not allow, nor sees a unit outside its scope. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/api_fixture.h"
#include "signaling/jsonlimit.h"

static const char *const methods[8] = {"GET", "POST", "PATCH", "DELETE", "GET", "POST", "PUT", "HEAD"};

static int64_t audit_rows(struct db *db)
{
    sqlite3_stmt *st;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db->h, "SELECT count(*) FROM audit", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static json_t *live_snapshot(struct admin_fixture *a)
{
    return json_pack("{s:o*,s:o*}", "state", live_state_json(a->sig.live, a->f->conf), "roster",
                     live_roster_json(a->sig.live, a->f->conf));
}

/* Every "unit" and "host_unit" string in the reply is within scope. */
static void check_units(struct db *db, json_t *j, const char *scope)
{
    const char *key;
    json_t *v;
    size_t i;
    if (json_is_array(j))
        json_array_foreach(j, i, v) check_units(db, v, scope);
    if (!json_is_object(j))
        return;
    json_object_foreach(j, key, v) {
        if ((!strcmp(key, "unit") || !strcmp(key, "host_unit")) && json_is_string(v) &&
            !store_unit_within(db, json_string_value(v), scope)) {
            fprintf(stderr, "a caller scoped to %s sees unit %s\n", scope, json_string_value(v));
            abort();
        }
        check_units(db, v, scope);
    }
}

/* What a success may be for this caller, whatever the route table says. */
static void check_allowed(struct admin_fixture *a, int who, const char *method, const char *path, json_t *reply)
{
    bool write = strcmp(method, "GET") && strcmp(method, "HEAD");
    bool ok;
    if (who >= FIX_NUSERS || who == CALLER_DISABLED)
        ok = !strncmp(path, "auth/login", 10);
    else if (!strcmp(fix_users[who].role, "viewer"))
        ok = !write || !strncmp(path, "auth/", 5);
    else if (!strcmp(fix_users[who].role, "operator"))
        ok = (!write || !strncmp(path, "auth/", 5) || !strncmp(path, "conferences", 11)) &&
             strncmp(path, "users", 5) && strncmp(path, "audit", 5);
    else
        ok = true;
    if (!ok) {
        fprintf(stderr, "%s %s succeeded for caller %d\n", method, path, who);
        abort();
    }
    if (who < FIX_NUSERS && fix_users[who].unit[0] && strncmp(path, "auth/login", 10))
        check_units(&a->f->db, reply, fix_users[who].unit);
}

static void check_reply(struct admin_fixture *a, struct conn *c, int who, const char *method, const char *path,
                        int64_t changes, int64_t audits, json_t *live_before)
{
    if (c->send_file[0] && strstr(c->send_file, ".."))
        abort(); /* a download never leaves the recordings' directory */
    if (c->send_file[0])
        return;
    if (c->status < 100 || c->status > 599 || !c->ctype)
        abort();
    if (c->set_cookie[0] && (!strstr(c->set_cookie, "HttpOnly") || !strstr(c->set_cookie, "SameSite=Strict") ||
                             !a->srv.cfg.tls_cert[0] != !strstr(c->set_cookie, "; Secure")))
        abort();
    if (!c->body || strcmp(c->ctype, "application/json"))
        return; /* out of memory, or a CSV export */
    json_error_t jerr;
    json_t *reply = json_loadb(c->body, c->body_len, 0, &jerr);
    if (!json_is_object(reply))
        abort();
    if (c->status >= 400) {
        json_t *e = json_object_get(reply, "error");
        if (!json_is_string(json_object_get(e, "code")) || !json_is_string(json_object_get(e, "message")))
            abort();
    }
    if (c->status >= 400 && c->status < 500) {
        /* refused: the only write is the audit entry, and nothing live moved */
        json_t *live_after = live_snapshot(a);
        if (sqlite3_total_changes64(a->f->db.h) - changes != audit_rows(&a->f->db) - audits ||
            !json_equal(live_before, live_after)) {
            fprintf(stderr, "%s %s: refused with %d but changed something\n", method, path, c->status);
            abort();
        }
        json_decref(live_after);
    }
    if (c->status < 300)
        check_allowed(a, who, method, path, reply);
    json_decref(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int who = data[0] & 7;
    const char *method = methods[(data[0] >> 3) & 7];
    const char *text = (const char *)data + 1, *nl = memchr(text, '\n', size - 1);
    size_t line = nl ? (size_t)(nl - text) : size - 1;
    const char *body = nl ? nl + 1 : text + size - 1;
    size_t body_len = (size_t)(text + size - 1 - body);
    char target[512], auth[160], cookie[160];
    snprintf(target, sizeof target, "%.*s", (int)(line < 400 ? line : 400), text);
    char *query = strchr(target, '?');
    if (query)
        *query++ = 0;
    if (body_len && jsonlimit_depth(body, body_len, JSONLIMIT_DEPTH) < 0)
        return 0; /* http.c answers 400 before the API sees it */

    struct admin_fixture *a = afix_begin(who == 7 ? FIX_NUSERS : who, data[0] & 0x80);
    const char *token = who == 7 ? "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" : a->token;
    snprintf(auth, sizeof auth, "Bearer %s", token);
    snprintf(cookie, sizeof cookie, "theme=dark; mcu_session=%s", token);
    if (token[0] && !(data[0] & 0x40))
        fake.authorization = auth;
    else if (token[0])
        fake.cookie = cookie;
    fake.query = query;

    struct conn c;
    memset(&c, 0, sizeof c);
    c.kind = CONN_HTTP;
    c.wsi = FAKE_WSI;
    c.sig = &a->sig;
    snprintf(c.method, sizeof c.method, "%s", method);
    snprintf(c.path, sizeof c.path, "/api/v1/%s", target);
    snprintf(c.addr, sizeof c.addr, "%s", fake.addr);
    if (body_len)
        sbuf_append(&c.req_body, body, body_len);

    int64_t changes = sqlite3_total_changes64(a->f->db.h), audits = audit_rows(&a->f->db);
    json_t *live_before = live_snapshot(a);
    quiet_begin();
    api_handle(&c);
    quiet_end();
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s %s (caller %d) -> %d %.*s\n", method, c.path, who, c.status, (int)c.body_len,
                c.body ? c.body : "");
    check_reply(a, &c, who, method, c.path + 8, changes, audits, live_before);
    json_decref(live_before);
    free(c.body);
    sbuf_free(&c.req_body);
    afix_end(a);
    return 0;
}
