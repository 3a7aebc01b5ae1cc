/* The recordings table: one row per recording of a conference, written while it runs (its
 * duration and size are refreshed, so a crash leaves them close to the truth) and read by the
 * admin API within the caller's scope. */
#include "rooms/recstore.h"
#include "rooms/store.h"
#include "rooms/store_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_COLUMNS                                                                                       \
    "r.id, r.conference_id AS conference, r.title, r.host_unit, r.started_at, r.ended_at, r.duration_ms, " \
    "r.bytes, r.state, r.error, r.started_by "

int64_t recstore_create(struct db *db, int64_t conf, const char *host_unit, const char *title, int64_t at,
                        const char *by)
{
    sqlite3_stmt *st = store_prep(db, "INSERT INTO recordings(conference_id, host_unit, title, file, started_at, "
                                      "state, started_by) VALUES (?, ?, ?, '', ?, 'recording', ?)");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, conf);
    sqlite3_bind_text(st, 2, host_unit, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, at);
    sqlite3_bind_text(st, 5, by, -1, SQLITE_TRANSIENT);
    if (store_run(db, st, false) < 0)
        return STORE_ERROR;
    int64_t id = sqlite3_last_insert_rowid(db->h);
    char file[64];
    recstore_file_name(conf, id, file, sizeof file);
    st = store_prep(db, "UPDATE recordings SET file = ? WHERE id = ?");
    if (st) {
        sqlite3_bind_text(st, 1, file, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, id);
    }
    return store_run(db, st, true) < 0 ? STORE_ERROR : id;
}

void recstore_file_name(int64_t conf, int64_t id, char *out, size_t len)
{
    snprintf(out, len, "conference-%lld-rec-%lld.webm", (long long)conf, (long long)id);
}

int recstore_progress(struct db *db, int64_t id, int64_t duration_ms, int64_t bytes)
{
    sqlite3_stmt *st = store_prep(db, "UPDATE recordings SET duration_ms = ?2, bytes = ?3 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, duration_ms);
    sqlite3_bind_int64(st, 3, bytes);
    return store_run(db, st, true);
}

int recstore_finish(struct db *db, int64_t id, const char *state, const char *error, int64_t at,
                    int64_t duration_ms, int64_t bytes)
{
    sqlite3_stmt *st = store_prep(db, "UPDATE recordings SET state = ?2, error = ?3, ended_at = ?4, "
                                      "duration_ms = ?5, bytes = ?6 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, error ? error : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, at);
    sqlite3_bind_int64(st, 5, duration_ms);
    sqlite3_bind_int64(st, 6, bytes);
    return store_run(db, st, true);
}

int recstore_get(struct db *db, int64_t id, struct recstore_row *out)
{
    sqlite3_stmt *st = store_prep(db, "SELECT id, conference_id, host_unit, file, state, bytes, title "
                                      "FROM recordings WHERE id = ?");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, id);
    int rc = STORE_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(st, 0);
        out->conference = sqlite3_column_int64(st, 1);
        snprintf(out->host_unit, sizeof out->host_unit, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(out->file, sizeof out->file, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(out->state, sizeof out->state, "%s", (const char *)sqlite3_column_text(st, 4));
        out->bytes = sqlite3_column_int64(st, 5);
        snprintf(out->title, sizeof out->title, "%s", (const char *)sqlite3_column_text(st, 6));
        rc = STORE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

json_t *recstore_json(struct db *db, int64_t id)
{
    sqlite3_stmt *st = store_prep(db, "SELECT " REC_COLUMNS "FROM recordings r WHERE r.id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    json_t *arr = store_rows_json(st), *o = json_array_get(arr, 0);
    json_incref(o);
    json_decref(arr);
    return o;
}

json_t *recstore_list(struct db *db, const char *scope, int64_t conf)
{
    sqlite3_stmt *st = store_prep(db, SUBTREE "SELECT " REC_COLUMNS "FROM recordings r "
                                              "WHERE (?1 = '' OR r.host_unit IN sub) AND (?2 = 0 OR r.conference_id = ?2) "
                                              "ORDER BY r.id DESC");
    if (st) {
        sqlite3_bind_text(st, 1, scope ? scope : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, conf);
    }
    return store_rows_json(st);
}

int recstore_delete(struct db *db, int64_t id)
{
    sqlite3_stmt *st = store_prep(db, "DELETE FROM recordings WHERE id = ?");
    if (st)
        sqlite3_bind_int64(st, 1, id);
    return store_run(db, st, true);
}

int recstore_interrupted(struct db *db)
{
    sqlite3_stmt *st = store_prep(db, "UPDATE recordings SET state = 'interrupted', "
                                      "error = 'the server stopped while recording', "
                                      "ended_at = started_at + duration_ms WHERE state = 'recording'");
    if (store_run(db, st, false) < 0)
        return STORE_ERROR;
    return sqlite3_changes(db->h);
}

int recstore_older_than(struct db *db, int64_t before, int64_t **ids)
{
    *ids = NULL;
    sqlite3_stmt *st = store_prep(db, "SELECT id FROM recordings WHERE state != 'recording' AND "
                                      "coalesce(ended_at, started_at) < ? ORDER BY id LIMIT 1000");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, before);
    int n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            int64_t *p = realloc(*ids, (size_t)(cap = cap ? cap * 2 : 16) * sizeof *p);
            if (!p)
                break;
            *ids = p;
        }
        (*ids)[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}
