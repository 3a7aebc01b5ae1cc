/* The rooms' store over SQLite (see rooms/store.h for the contract). Statements are prepared
 * per call: the API runs a few per request, far from the media path, and this keeps each
 * function self-contained. */
#include "rooms/store.h"
#include "rooms/store_priv.h"
#include "mcu/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The subtree of ?1 as a CTE named sub(id). */

int64_t store_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sqlite3_stmt *prep(struct db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("store", "prepare: %s: %s", sqlite3_errmsg(db->h), sql);
        return NULL;
    }
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_id(sqlite3_stmt *st, int i, int64_t v) /* 0 = NULL */
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, len, "%s", t ? (const char *)t : "");
}

/* Steps a statement that returns no rows and finalizes it. */
static int run(sqlite3_stmt *st)
{
    if (!st)
        return STORE_ERROR;
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return STORE_OK;
    return rc == SQLITE_CONSTRAINT ? STORE_CONFLICT : STORE_ERROR;
}

static int run_changed(struct db *db, sqlite3_stmt *st)
{
    int rc = run(st);
    return rc == STORE_OK && sqlite3_changes(db->h) == 0 ? STORE_NOT_FOUND : rc;
}

/* Savepoints rather than BEGIN, so a function that runs in a transaction of its own can also
 * be part of a caller's larger one. */
static int begin(struct db *db)
{
    return sqlite3_exec(db->h, "SAVEPOINT store", NULL, NULL, NULL) == SQLITE_OK ? 0 : STORE_ERROR;
}

static int finish(struct db *db, int rc)
{
    if (rc >= 0 && sqlite3_exec(db->h, "RELEASE store", NULL, NULL, NULL) == SQLITE_OK)
        return rc;
    sqlite3_exec(db->h, "ROLLBACK TO store; RELEASE store", NULL, NULL, NULL);
    return rc < 0 ? rc : STORE_ERROR;
}

int store_begin(struct db *db)
{
    return begin(db);
}

int store_commit(struct db *db, int rc)
{
    return finish(db, rc);
}

/* Runs a query and returns its rows as an array of objects named after the columns. */
static json_t *rows_json(sqlite3_stmt *st)
{
    json_t *arr = json_array();
    if (!st)
        return arr;
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *name = sqlite3_column_name(st, i);
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                json_object_set_new(o, name, json_integer(sqlite3_column_int64(st, i)));
                break;
            case SQLITE_FLOAT:
                json_object_set_new(o, name, json_real(sqlite3_column_double(st, i)));
                break;
            case SQLITE_NULL:
                json_object_set_new(o, name, json_null());
                break;
            default:
                json_object_set_new(o, name, json_string((const char *)sqlite3_column_text(st, i)));
            }
        }
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    return arr;
}

/* ---- units */

bool store_unit_exists(struct db *db, const char *unit)
{
    return store_unit_level(db, unit) > 0;
}

int store_unit_level(struct db *db, const char *unit)
{
    sqlite3_stmt *st = prep(db, "SELECT level FROM units WHERE id = ?");
    if (!st)
        return -1;
    bind_text(st, 1, unit);
    int level = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return level;
}

bool store_unit_within(struct db *db, const char *unit, const char *scope)
{
    if (!scope || !scope[0])
        return store_unit_exists(db, unit);
    sqlite3_stmt *st = prep(db, "WITH RECURSIVE up(id, parent) AS (SELECT id, parent_id FROM units WHERE id = ?1 "
                                "UNION ALL SELECT u.id, u.parent_id FROM units u JOIN up ON u.id = up.parent) "
                                "SELECT 1 FROM up WHERE id = ?2");
    if (!st)
        return false;
    bind_text(st, 1, unit);
    bind_text(st, 2, scope);
    bool in = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return in;
}

json_t *store_units_list(struct db *db, const char *scope, const char *parent, int level, const char *q)
{
    char like[200];
    snprintf(like, sizeof like, "%%%s%%", q ? q : "");
    sqlite3_stmt *st = prep(db,
        SUBTREE "SELECT u.id, u.parent_id AS parent, u.level, u.name, u.type, "
        "(SELECT count(*) FROM units c WHERE c.parent_id = u.id) AS children, "
        "(SELECT count(*) FROM sites s WHERE s.unit_id = u.id) AS sites "
        "FROM units u WHERE (?1 = '' OR u.id IN sub) AND (?2 = '' OR u.parent_id = ?2) "
        "AND (?3 = 0 OR u.level = ?3) AND u.name LIKE ?4 ORDER BY u.level, u.id LIMIT 20000");
    if (st) {
        bind_text(st, 1, scope ? scope : "");
        bind_text(st, 2, parent ? parent : "");
        sqlite3_bind_int(st, 3, level);
        bind_text(st, 4, like);
    }
    return rows_json(st);
}

json_t *store_unit_json(struct db *db, const char *unit)
{
    json_t *found = NULL;
    sqlite3_stmt *st = prep(db, "SELECT u.id, u.parent_id AS parent, u.level, u.name, u.type, "
                                "(SELECT count(*) FROM units c WHERE c.parent_id = u.id) AS children, "
                                "(SELECT count(*) FROM sites s WHERE s.unit_id = u.id) AS sites "
                                "FROM units u WHERE u.id = ?");
    if (!st)
        return NULL;
    bind_text(st, 1, unit);
    json_t *arr = rows_json(st);
    if (json_array_size(arr))
        found = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    if (!found)
        return NULL;
    st = prep(db, "WITH RECURSIVE up(id, parent, level, name, depth) AS (SELECT id, parent_id, level, name, 0 "
                  "FROM units WHERE id = ?1 UNION ALL SELECT u.id, u.parent_id, u.level, u.name, depth + 1 "
                  "FROM units u JOIN up ON u.id = up.parent) SELECT id, level, name FROM up "
                  "WHERE depth > 0 ORDER BY level");
    if (st)
        bind_text(st, 1, unit);
    json_object_set_new(found, "path", rows_json(st));
    return found;
}

/* ---- sites */

static void site_from_row(sqlite3_stmt *st, struct store_site *s)
{
    s->id = sqlite3_column_int64(st, 0);
    col_text(st, 1, s->unit, sizeof s->unit);
    col_text(st, 2, s->name, sizeof s->name);
    col_text(st, 3, s->digest, sizeof s->digest);
    s->link_kbps = sqlite3_column_int(st, 4);
}

int store_site_get(struct db *db, int64_t id, struct store_site *out)
{
    sqlite3_stmt *st = prep(db, "SELECT id, unit_id, name, secret_digest, link_kbps FROM sites WHERE id = ?");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = STORE_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        site_from_row(st, out);
        rc = STORE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int64_t store_site_create(struct db *db, const char *unit, const char *name, int link_kbps, const char *digest)
{
    sqlite3_stmt *st = prep(db, "INSERT INTO sites(unit_id, name, secret_digest, link_kbps, created_at) "
                                "VALUES (?,?,?,?,?)");
    if (!st)
        return STORE_ERROR;
    bind_text(st, 1, unit);
    bind_text(st, 2, name);
    bind_text(st, 3, digest);
    sqlite3_bind_int(st, 4, link_kbps);
    sqlite3_bind_int64(st, 5, store_now_ms());
    int rc = run(st);
    return rc < 0 ? rc : sqlite3_last_insert_rowid(db->h);
}

int store_site_update(struct db *db, int64_t id, const char *name, int link_kbps)
{
    sqlite3_stmt *st = prep(db, "UPDATE sites SET name = coalesce(?2, name), "
                                "link_kbps = CASE WHEN ?3 < 0 THEN link_kbps ELSE ?3 END WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, name);
    sqlite3_bind_int(st, 3, link_kbps);
    return run_changed(db, st);
}

int store_site_set_digest(struct db *db, int64_t id, const char *digest)
{
    sqlite3_stmt *st = prep(db, "UPDATE sites SET secret_digest = ?2 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, digest);
    return run_changed(db, st);
}

int store_site_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = prep(db, "DELETE FROM sites WHERE id = ?");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return run_changed(db, st);
}

json_t *store_site_json(const struct store_site *s)
{
    return json_pack("{s:I,s:s,s:s,s:i}", "id", (json_int_t)s->id, "unit", s->unit, "name", s->name,
                     "link_kbps", s->link_kbps);
}

json_t *store_sites_list(struct db *db, const char *scope, const char *unit, bool subtree)
{
    /* ?1 is the subtree root of the filter; the scope is checked with a second CTE. */
    sqlite3_stmt *st = prep(db,
        "WITH RECURSIVE sub(id) AS (SELECT id FROM units WHERE id = ?1 UNION ALL SELECT u.id FROM units u "
        "JOIN sub ON u.parent_id = sub.id AND ?2), "
        "scope(id) AS (SELECT id FROM units WHERE id = ?3 UNION ALL SELECT u.id FROM units u "
        "JOIN scope ON u.parent_id = scope.id) "
        "SELECT s.id, s.unit_id AS unit, s.name, s.link_kbps, s.last_seen FROM sites s "
        "WHERE (?1 = '' OR s.unit_id IN sub) AND (?3 = '' OR s.unit_id IN scope) ORDER BY s.unit_id, s.id");
    if (st) {
        bind_text(st, 1, unit ? unit : "");
        sqlite3_bind_int(st, 2, subtree);
        bind_text(st, 3, scope ? scope : "");
    }
    return rows_json(st);
}

json_t *store_units_without_site(struct db *db, const char *unit)
{
    sqlite3_stmt *st = prep(db, SUBTREE "SELECT u.id, u.name, u.level FROM units u WHERE u.id IN sub AND "
                                        "NOT EXISTS (SELECT 1 FROM sites s WHERE s.unit_id = u.id) "
                                        "ORDER BY u.level, u.id");
    if (st)
        bind_text(st, 1, unit);
    return rows_json(st);
}

/* ---- users */

static int user_query(struct db *db, const char *where, int64_t id, const char *name, struct store_user *u)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT id, username, password_hash, role, coalesce(unit_id, ''), disabled "
                              "FROM users WHERE %s", where);
    sqlite3_stmt *st = prep(db, sql);
    if (!st)
        return STORE_ERROR;
    if (name)
        bind_text(st, 1, name);
    else
        sqlite3_bind_int64(st, 1, id);
    int rc = STORE_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        u->id = sqlite3_column_int64(st, 0);
        col_text(st, 1, u->username, sizeof u->username);
        col_text(st, 2, u->password_hash, sizeof u->password_hash);
        col_text(st, 3, u->role, sizeof u->role);
        col_text(st, 4, u->unit, sizeof u->unit);
        u->disabled = sqlite3_column_int(st, 5) != 0;
        rc = STORE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_user_get(struct db *db, int64_t id, struct store_user *out)
{
    return user_query(db, "id = ?", id, NULL, out);
}

int store_user_by_name(struct db *db, const char *username, struct store_user *out)
{
    return user_query(db, "username = ?", 0, username, out);
}

int64_t store_user_create(struct db *db, const struct store_user *u)
{
    sqlite3_stmt *st = prep(db, "INSERT INTO users(username, password_hash, role, unit_id, disabled, created_at) "
                                "VALUES (?,?,?,nullif(?, ''),?,?)");
    if (!st)
        return STORE_ERROR;
    bind_text(st, 1, u->username);
    bind_text(st, 2, u->password_hash);
    bind_text(st, 3, u->role);
    bind_text(st, 4, u->unit);
    sqlite3_bind_int(st, 5, u->disabled);
    sqlite3_bind_int64(st, 6, store_now_ms());
    int rc = run(st);
    return rc < 0 ? rc : sqlite3_last_insert_rowid(db->h);
}

int store_user_update(struct db *db, const struct store_user *u)
{
    sqlite3_stmt *st = prep(db, "UPDATE users SET username = ?2, password_hash = ?3, role = ?4, "
                                "unit_id = nullif(?5, ''), disabled = ?6 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, u->id);
    bind_text(st, 2, u->username);
    bind_text(st, 3, u->password_hash);
    bind_text(st, 4, u->role);
    bind_text(st, 5, u->unit);
    sqlite3_bind_int(st, 6, u->disabled);
    return run_changed(db, st);
}

int store_user_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = prep(db, "DELETE FROM users WHERE id = ?");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return run_changed(db, st);
}

int store_user_count(struct db *db)
{
    sqlite3_stmt *st = prep(db, "SELECT count(*) FROM users");
    int n = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

json_t *store_user_json(const struct store_user *u)
{
    return json_pack("{s:I,s:s,s:s,s:s?,s:b}", "id", (json_int_t)u->id, "username", u->username, "role",
                     u->role, "unit", u->unit[0] ? u->unit : NULL, "disabled", u->disabled);
}

json_t *store_users_list(struct db *db, const char *scope)
{
    sqlite3_stmt *st = prep(db, SUBTREE "SELECT id, username, role, unit_id AS unit, disabled FROM users "
                                        "WHERE ?1 = '' OR unit_id IN sub ORDER BY id");
    if (st)
        bind_text(st, 1, scope ? scope : "");
    json_t *arr = rows_json(st);
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) /* disabled as a boolean */
        json_object_set_new(o, "disabled", json_boolean(json_integer_value(json_object_get(o, "disabled"))));
    return arr;
}

/* ---- conferences */

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Appends the rows of a one-column id query to a growable array. */
/* For the store's other files (rooms/store_priv.h). */
sqlite3_stmt *store_prep(struct db *db, const char *sql)
{
    return prep(db, sql);
}

json_t *store_rows_json(sqlite3_stmt *st)
{
    return rows_json(st);
}

int store_run(struct db *db, sqlite3_stmt *st, bool need_change)
{
    return need_change ? run_changed(db, st) : run(st);
}

static int collect_ids(sqlite3_stmt *st, int64_t **ids, int *n, int *cap)
{
    if (!st)
        return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == *cap) {
            int ncap = *cap ? *cap * 2 : 64;
            int64_t *p = realloc(*ids, (size_t)ncap * sizeof *p);
            if (!p) {
                sqlite3_finalize(st);
                return -1;
            }
            *ids = p;
            *cap = ncap;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return 0;
}

static bool json_is_int_array(json_t *a)
{
    size_t i;
    json_t *v;
    if (!a)
        return true;
    if (!json_is_array(a))
        return false;
    json_array_foreach(a, i, v) if (!json_is_integer(v)) return false;
    return true;
}

int store_resolve_invite(struct db *db, const char *host, json_t *invite, int64_t **sites, char *err, size_t errlen)
{
    *sites = NULL;
    int n = 0, cap = 0;
    json_t *own = json_object_get(invite, "own"), *units = json_object_get(invite, "units");
    json_t *levels = json_object_get(invite, "levels"), *subtree = json_object_get(invite, "subtree");
    json_t *ids = json_object_get(invite, "sites");
    const char *key;
    json_t *v;
    if (!json_is_object(invite)) {
        snprintf(err, errlen, "invite must be an object");
        return -1;
    }
    json_object_foreach(invite, key, v) if (strcmp(key, "own") && strcmp(key, "units") && strcmp(key, "levels") &&
                                            strcmp(key, "subtree") && strcmp(key, "sites")) {
        snprintf(err, errlen, "invite has an unknown field '%s' (own, units, levels, subtree, sites)", key);
        return -1;
    }
    if ((own && !json_is_boolean(own)) || (subtree && !json_is_boolean(subtree)) ||
        (units && !json_is_array(units)) || !json_is_int_array(levels) || !json_is_int_array(ids)) {
        snprintf(err, errlen, "invite: own and subtree are booleans, units an array of unit codes, "
                              "levels and sites arrays of integers");
        return -1;
    }
    if (!own || json_is_true(own)) {
        sqlite3_stmt *st = prep(db, "SELECT id FROM sites WHERE unit_id = ?");
        if (st)
            bind_text(st, 1, host);
        collect_ids(st, sites, &n, &cap);
    }
    if (json_is_true(subtree)) {
        sqlite3_stmt *st = prep(db, SUBTREE "SELECT s.id FROM sites s WHERE s.unit_id IN sub");
        if (st)
            bind_text(st, 1, host);
        collect_ids(st, sites, &n, &cap);
    }
    size_t i;
    json_array_foreach(units, i, v) {
        const char *u = json_string_value(v);
        if (!u || !store_unit_within(db, u, host)) {
            snprintf(err, errlen, "invited unit '%s' is not in the host unit's subtree", u ? u : "?");
            goto fail;
        }
        sqlite3_stmt *st = prep(db, "SELECT id FROM sites WHERE unit_id = ?");
        if (st)
            bind_text(st, 1, u);
        collect_ids(st, sites, &n, &cap);
    }
    json_array_foreach(levels, i, v) {
        sqlite3_stmt *st = prep(db, SUBTREE "SELECT s.id FROM sites s JOIN units u ON u.id = s.unit_id "
                                            "WHERE u.id IN sub AND u.level = ?2");
        if (st) {
            bind_text(st, 1, host);
            sqlite3_bind_int64(st, 2, json_integer_value(v));
        }
        collect_ids(st, sites, &n, &cap);
    }
    json_array_foreach(ids, i, v) {
        struct store_site s;
        if (store_site_get(db, json_integer_value(v), &s) < 0 || !store_unit_within(db, s.unit, host)) {
            snprintf(err, errlen, "invited site %lld does not exist in the host unit's subtree",
                     (long long)json_integer_value(v));
            goto fail;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *p = realloc(*sites, (size_t)cap * sizeof *p);
            if (!p)
                goto fail;
            *sites = p;
        }
        (*sites)[n++] = s.id;
    }
    if (n) {
        qsort(*sites, (size_t)n, sizeof **sites, cmp_id);
        int m = 1;
        for (int k = 1; k < n; k++)
            if ((*sites)[k] != (*sites)[m - 1])
                (*sites)[m++] = (*sites)[k];
        n = m;
    }
    return n;
fail:
    free(*sites);
    *sites = NULL;
    return -1;
}

static int insert_members(struct db *db, int64_t conf, const int64_t *sites, int nsites)
{
    sqlite3_stmt *st = prep(db, "INSERT OR IGNORE INTO conference_sites(conference_id, site_id) VALUES (?,?)");
    if (!st)
        return STORE_ERROR;
    for (int i = 0; i < nsites; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, conf);
        sqlite3_bind_int64(st, 2, sites[i]);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return STORE_ERROR;
        }
    }
    sqlite3_finalize(st);
    return STORE_OK;
}

int64_t store_conf_create(struct db *db, const struct store_conf *c, const char *invite_json, const int64_t *sites,
                          int nsites, const char *created_by)
{
    if (begin(db) < 0)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(db, "INSERT INTO conferences(host_unit, title, invite, start_at, end_at, chair_site, "
                                "pin_digest, created_by, created_at, record, stream) VALUES (?,?,?,?,?,?,nullif(?, ''),?,?,?,?)");
    if (!st)
        return finish(db, STORE_ERROR);
    bind_text(st, 1, c->host_unit);
    bind_text(st, 2, c->title);
    bind_text(st, 3, invite_json);
    bind_id(st, 4, c->start_at);
    bind_id(st, 5, c->end_at);
    bind_id(st, 6, c->chair_site);
    bind_text(st, 7, c->pin_digest);
    bind_text(st, 8, created_by);
    sqlite3_bind_int64(st, 9, store_now_ms());
    sqlite3_bind_int(st, 10, c->record);
    sqlite3_bind_int(st, 11, c->stream);
    int rc = run(st);
    if (rc < 0)
        return finish(db, rc);
    int64_t id = sqlite3_last_insert_rowid(db->h);
    rc = insert_members(db, id, sites, nsites);
    return rc < 0 ? finish(db, rc) : finish(db, 0) < 0 ? STORE_ERROR : id;
}

int store_conf_update(struct db *db, const struct store_conf *c, const char *invite_json, const int64_t *sites,
                      int nsites)
{
    if (begin(db) < 0)
        return STORE_ERROR;
    sqlite3_stmt *st = prep(db, "UPDATE conferences SET title = ?2, invite = coalesce(?3, invite), start_at = ?4, "
                                "end_at = ?5, chair_site = ?6, pin_digest = nullif(?7, ''), record = ?8, stream = ?9 WHERE id = ?1");
    if (!st)
        return finish(db, STORE_ERROR);
    sqlite3_bind_int64(st, 1, c->id);
    bind_text(st, 2, c->title);
    bind_text(st, 3, invite_json);
    bind_id(st, 4, c->start_at);
    bind_id(st, 5, c->end_at);
    bind_id(st, 6, c->chair_site);
    bind_text(st, 7, c->pin_digest);
    sqlite3_bind_int(st, 8, c->record);
    sqlite3_bind_int(st, 9, c->stream);
    int rc = run_changed(db, st);
    if (rc == 0 && sites) {
        /* Keep the rows of sites that stay (their mute state), drop the others, add new ones. */
        st = prep(db, "DELETE FROM conference_sites WHERE conference_id = ? AND site_id NOT IN "
                      "(SELECT value FROM json_each(?))");
        if (st) {
            json_t *arr = json_array();
            for (int i = 0; i < nsites; i++)
                json_array_append_new(arr, json_integer(sites[i]));
            char *txt = json_dumps(arr, JSON_COMPACT);
            json_decref(arr);
            sqlite3_bind_int64(st, 1, c->id);
            bind_text(st, 2, txt);
            free(txt);
        }
        rc = run(st);
        if (rc == 0)
            rc = insert_members(db, c->id, sites, nsites);
    }
    return finish(db, rc);
}

int store_conf_get(struct db *db, int64_t id, struct store_conf *c)
{
    sqlite3_stmt *st = prep(db, "SELECT id, host_unit, title, coalesce(start_at, 0), coalesce(end_at, 0), state, "
                                "coalesce(chair_site, 0), coalesce(floor_site, 0), locked, mute_all, "
                                "coalesce(pin_digest, ''), coalesce(started_at, 0), record, stream FROM conferences WHERE id = ?");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = STORE_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        memset(c, 0, sizeof *c);
        c->id = sqlite3_column_int64(st, 0);
        col_text(st, 1, c->host_unit, sizeof c->host_unit);
        col_text(st, 2, c->title, sizeof c->title);
        c->start_at = sqlite3_column_int64(st, 3);
        c->end_at = sqlite3_column_int64(st, 4);
        col_text(st, 5, c->state, sizeof c->state);
        c->chair_site = sqlite3_column_int64(st, 6);
        c->floor_site = sqlite3_column_int64(st, 7);
        c->locked = sqlite3_column_int(st, 8) != 0;
        c->mute_all = sqlite3_column_int(st, 9) != 0;
        col_text(st, 10, c->pin_digest, sizeof c->pin_digest);
        c->started_at = sqlite3_column_int64(st, 11);
        c->record = sqlite3_column_int(st, 12) != 0;
        c->stream = sqlite3_column_int(st, 13) != 0;
        rc = STORE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_conf_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = prep(db, "DELETE FROM conferences WHERE id = ?");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    return run_changed(db, st);
}

int store_conf_set_state(struct db *db, int64_t id, const char *state, int64_t at)
{
    sqlite3_stmt *st = prep(db, "UPDATE conferences SET state = ?2, "
                                "started_at = CASE WHEN ?2 = 'live' THEN ?3 ELSE started_at END, "
                                "ended_at = CASE WHEN ?2 = 'ended' THEN ?3 ELSE ended_at END, "
                                "floor_site = CASE WHEN ?2 = 'live' THEN floor_site ELSE NULL END WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, state);
    sqlite3_bind_int64(st, 3, at);
    return run_changed(db, st);
}

int store_conf_save_control(struct db *db, const struct store_conf *c)
{
    sqlite3_stmt *st = prep(db, "UPDATE conferences SET chair_site = ?2, floor_site = ?3, locked = ?4, "
                                "mute_all = ?5 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, c->id);
    bind_id(st, 2, c->chair_site);
    bind_id(st, 3, c->floor_site);
    sqlite3_bind_int(st, 4, c->locked);
    sqlite3_bind_int(st, 5, c->mute_all);
    return run_changed(db, st);
}

#define CONF_COLUMNS                                                                                         \
    "c.id, c.host_unit, c.title, c.state, c.start_at, c.end_at, c.chair_site, c.floor_site, c.locked, "     \
    "c.mute_all, c.pin_digest IS NOT NULL AS pin, c.created_by, c.created_at, c.started_at, c.ended_at, "   \
    "c.record, c.stream, "                                                                                  \
    "(SELECT count(*) FROM conference_sites m WHERE m.conference_id = c.id) AS invited "

static void conf_row_fix(json_t *o)
{
    static const char *const flags[] = {"locked", "mute_all", "pin", "record", "stream"};
    for (size_t i = 0; i < 5; i++)
        json_object_set_new(o, flags[i], json_boolean(json_integer_value(json_object_get(o, flags[i]))));
    json_object_set_new(o, "permanent", json_boolean(json_is_null(json_object_get(o, "start_at"))));
}

json_t *store_conf_json(struct db *db, int64_t id)
{
    sqlite3_stmt *st = prep(db, "SELECT " CONF_COLUMNS ", c.invite FROM conferences c WHERE c.id = ?");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    json_t *arr = rows_json(st), *o = json_array_get(arr, 0);
    if (!o) {
        json_decref(arr);
        return NULL;
    }
    json_incref(o);
    json_decref(arr);
    conf_row_fix(o);
    json_t *inv = json_loads(json_string_value(json_object_get(o, "invite")) ?: "{}", 0, NULL);
    json_object_set_new(o, "invite", inv ? inv : json_object());
    return o;
}

json_t *store_confs_list(struct db *db, const char *scope, const char *state)
{
    sqlite3_stmt *st = prep(db, SUBTREE "SELECT " CONF_COLUMNS " FROM conferences c "
                                        "WHERE (?1 = '' OR c.host_unit IN sub) AND (?2 = '' OR c.state = ?2) "
                                        "ORDER BY c.id DESC");
    if (st) {
        bind_text(st, 1, scope ? scope : "");
        bind_text(st, 2, state ? state : "");
    }
    json_t *arr = rows_json(st);
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) conf_row_fix(o);
    return arr;
}

int store_confs_in_state(struct db *db, const char *state, int64_t **ids)
{
    *ids = NULL;
    int n = 0, cap = 0;
    sqlite3_stmt *st = prep(db, "SELECT id FROM conferences WHERE state = ? ORDER BY id");
    if (st)
        bind_text(st, 1, state);
    return collect_ids(st, ids, &n, &cap) < 0 ? -1 : n;
}

int store_conf_members(struct db *db, int64_t id, struct store_member **out)
{
    *out = NULL;
    sqlite3_stmt *st = prep(db, "SELECT m.site_id, s.name, s.unit_id, m.muted, m.removed FROM conference_sites m "
                                "JOIN sites s ON s.id = m.site_id JOIN units u ON u.id = s.unit_id "
                                "WHERE m.conference_id = ? ORDER BY u.level, s.unit_id, s.id");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct store_member *p = realloc(*out, (size_t)cap * sizeof *p);
            if (!p) {
                sqlite3_finalize(st);
                free(*out);
                *out = NULL;
                return -1;
            }
            *out = p;
        }
        struct store_member *m = &(*out)[n++];
        m->site = sqlite3_column_int64(st, 0);
        col_text(st, 1, m->name, sizeof m->name);
        col_text(st, 2, m->unit, sizeof m->unit);
        m->muted = sqlite3_column_int(st, 3) != 0;
        m->removed = sqlite3_column_int(st, 4) != 0;
    }
    sqlite3_finalize(st);
    return n;
}

int store_member_save(struct db *db, int64_t conf, const struct store_member *m)
{
    sqlite3_stmt *st = prep(db, "UPDATE conference_sites SET muted = ?3, removed = ?4 "
                                "WHERE conference_id = ?1 AND site_id = ?2");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conf);
    sqlite3_bind_int64(st, 2, m->site);
    sqlite3_bind_int(st, 3, m->muted);
    sqlite3_bind_int(st, 4, m->removed);
    return run_changed(db, st);
}

bool store_site_invited(struct db *db, int64_t conf, int64_t site)
{
    sqlite3_stmt *st = prep(db, "SELECT 1 FROM conference_sites WHERE conference_id = ? AND site_id = ?");
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, conf);
    sqlite3_bind_int64(st, 2, site);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

/* ---- attendance and roll call */

int store_attend_join(struct db *db, int64_t conf, int64_t site, int64_t at)
{
    sqlite3_stmt *st = prep(db, "INSERT INTO attendance(conference_id, site_id, joined_at) VALUES (?,?,?)");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conf);
    sqlite3_bind_int64(st, 2, site);
    sqlite3_bind_int64(st, 3, at);
    return run(st);
}

int store_attend_leave(struct db *db, int64_t conf, int64_t site, int64_t at, const char *reason)
{
    sqlite3_stmt *st = prep(db, "UPDATE attendance SET left_at = ?3, reason = ?4 WHERE conference_id = ?1 "
                                "AND site_id = ?2 AND left_at IS NULL");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conf);
    sqlite3_bind_int64(st, 2, site);
    sqlite3_bind_int64(st, 3, at);
    bind_text(st, 4, reason);
    return run(st);
}

int store_attend_close_all(struct db *db, int64_t at, const char *reason)
{
    sqlite3_stmt *st = prep(db, "UPDATE attendance SET left_at = ?1, reason = ?2 WHERE left_at IS NULL");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, at);
    bind_text(st, 2, reason);
    return run(st);
}

bool store_attended(struct db *db, int64_t conf, int64_t site)
{
    sqlite3_stmt *st = prep(db, "SELECT 1 FROM attendance WHERE conference_id = ? AND site_id = ? LIMIT 1");
    if (!st)
        return false;
    sqlite3_bind_int64(st, 1, conf);
    sqlite3_bind_int64(st, 2, site);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

json_t *store_attendance_json(struct db *db, int64_t conf, int64_t now)
{
    sqlite3_stmt *st = prep(db,
        "SELECT m.site_id AS site, s.name, s.unit_id AS unit, u.name AS unit_name, "
        "min(a.joined_at) AS first_join, max(a.left_at) AS last_leave, count(a.id) AS joins, "
        "coalesce(sum((coalesce(a.left_at, ?2) - a.joined_at) / 1000), 0) AS seconds, r.result AS rollcall "
        "FROM conference_sites m JOIN sites s ON s.id = m.site_id JOIN units u ON u.id = s.unit_id "
        "LEFT JOIN attendance a ON a.conference_id = m.conference_id AND a.site_id = m.site_id "
        "LEFT JOIN rollcall r ON r.conference_id = m.conference_id AND r.site_id = m.site_id "
        "WHERE m.conference_id = ?1 GROUP BY m.site_id ORDER BY u.level, s.unit_id, s.id");
    if (st) {
        sqlite3_bind_int64(st, 1, conf);
        sqlite3_bind_int64(st, 2, now);
    }
    return rows_json(st);
}

int store_rollcall_set(struct db *db, int64_t conf, int64_t site, const char *result, int64_t at)
{
    sqlite3_stmt *st = prep(db, "INSERT INTO rollcall(conference_id, site_id, result, at) VALUES (?,?,?,?) "
                                "ON CONFLICT(conference_id, site_id) DO UPDATE SET result = excluded.result, "
                                "at = excluded.at");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conf);
    sqlite3_bind_int64(st, 2, site);
    bind_text(st, 3, result);
    sqlite3_bind_int64(st, 4, at);
    return run(st);
}

int store_rollcall_clear(struct db *db, int64_t conf)
{
    sqlite3_stmt *st = prep(db, "DELETE FROM rollcall WHERE conference_id = ?");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conf);
    return run(st);
}

const char *store_rollcall_get(struct db *db, int64_t conf, int64_t site, char *buf, size_t len)
{
    sqlite3_stmt *st = prep(db, "SELECT result FROM rollcall WHERE conference_id = ? AND site_id = ?");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, conf);
    sqlite3_bind_int64(st, 2, site);
    const char *r = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        col_text(st, 0, buf, len);
        r = buf;
    }
    sqlite3_finalize(st);
    return r;
}

/* ---- secrets of this server */

int store_pin_key(struct db *db, unsigned char key[32])
{
    sqlite3_stmt *st = prep(db, "SELECT value FROM server_secrets WHERE name = 'pin_key'");
    if (!st)
        return STORE_ERROR;
    int rc = STORE_ERROR;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
        memcpy(key, sqlite3_column_blob(st, 0), 32);
        rc = STORE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- audit */

/* The one way into the audit log, so that every entry also reaches the log and syslog
 * (log_audit), whatever the log level, even when the database write fails. */
int store_audit(struct db *db, const char *actor, const char *action, const char *target, const char *address,
                const char *result, const char *detail, const char *unit)
{
    log_audit(actor && actor[0] ? actor : "-", action, target, address, result, detail);
    sqlite3_stmt *st = prep(db, "INSERT INTO audit(at, actor, action, target, address, result, detail, unit) "
                                "VALUES (?,?,?,?,?,?,?,?)");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, store_now_ms());
    bind_text(st, 2, actor ? actor : "");
    bind_text(st, 3, action);
    bind_text(st, 4, target ? target : "");
    bind_text(st, 5, address ? address : "");
    bind_text(st, 6, result);
    bind_text(st, 7, detail ? detail : "");
    bind_text(st, 8, unit ? unit : "");
    return run(st);
}

json_t *store_audit_json(struct db *db, const char *scope, int limit, int64_t before_id)
{
    sqlite3_stmt *st = prep(db, SUBTREE "SELECT id, at, actor, action, target, address, result, detail, unit "
                                        "FROM audit WHERE (?1 = '' OR unit IN sub) AND (?2 = 0 OR id < ?2) "
                                        "ORDER BY id DESC LIMIT ?3");
    if (st) {
        bind_text(st, 1, scope ? scope : "");
        sqlite3_bind_int64(st, 2, before_id);
        sqlite3_bind_int(st, 3, limit);
    }
    return rows_json(st);
}
