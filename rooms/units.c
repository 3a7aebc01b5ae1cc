/* Import of the national administrative-unit list into the units table. */
#include "rooms/units.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Inserts one unit; returns 1 if inserted, 0 if it was already there, -1 on error. */
static int insert_unit(sqlite3_stmt *st, const char *id, const char *parent, int level,
                       const char *name, const char *type)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    if (parent)
        sqlite3_bind_text(st, 2, parent, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int(st, 3, level);
    sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, type ? type : "", -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        return -1;
    return sqlite3_changes(sqlite3_db_handle(st)) > 0;
}

/* Walks a unit and its children (key "level<N+1>s"), inserting each. */
static int import_unit(sqlite3_stmt *st, json_t *u, const char *parent, int level,
                       struct units_import_result *res, char *err, size_t errlen)
{
    char idkey[32], childkey[32];
    snprintf(idkey, sizeof idkey, "level%d_id", level);
    snprintf(childkey, sizeof childkey, "level%ds", level + 1);
    const char *id = json_string_value(json_object_get(u, idkey));
    const char *name = json_string_value(json_object_get(u, "name"));
    const char *type = json_string_value(json_object_get(u, "type"));
    if (!id || !name) {
        snprintf(err, errlen, "a level-%d unit under %s lacks %s or name", level, parent ? parent : "the root", idkey);
        return -1;
    }
    int rc = insert_unit(st, id, parent, level, name, type);
    if (rc < 0) {
        snprintf(err, errlen, "cannot store unit %s: %s", id, sqlite3_errmsg(sqlite3_db_handle(st)));
        return -1;
    }
    res->inserted += rc;
    if (level <= 3)
        res->by_level[level]++;
    json_t *children = json_object_get(u, childkey);
    size_t i;
    json_t *c;
    json_array_foreach(children, i, c)
        if (import_unit(st, c, id, level + 1, res, err, errlen) < 0)
            return -1;
    return 0;
}

int units_import_province(struct db *db, const char *json_path, const char *code,
                          struct units_import_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    json_error_t jerr;
    json_t *root = json_load_file(json_path, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "cannot read %s: %s (line %d)", json_path, jerr.text, jerr.line);
        return -1;
    }
    json_t *province = NULL, *p;
    size_t i;
    json_array_foreach(json_object_get(root, "data"), i, p)
        if (!strcmp(json_string_value(json_object_get(p, "level1_id")) ?: "", code))
            province = p;
    if (!province) {
        snprintf(err, errlen, "no province with code '%s' in %s", code, json_path);
        json_decref(root);
        return -1;
    }
    snprintf(res->name, sizeof res->name, "%s", json_string_value(json_object_get(province, "name")) ?: "");

    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot start a transaction: %s", sqlite3_errmsg(db->h));
        goto out_free_json;
    }
    if (sqlite3_prepare_v2(db->h,
                           "INSERT OR IGNORE INTO units(id, parent_id, level, name, type) VALUES (?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db->h));
        goto out_rollback;
    }
    if (import_unit(st, province, NULL, 1, res, err, errlen) < 0)
        goto out_rollback;
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot commit: %s", sqlite3_errmsg(db->h));
        goto out_rollback;
    }
    rc = 0;
    goto out_free_json;
out_rollback:
    sqlite3_finalize(st);
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    res->inserted = 0;
out_free_json:
    json_decref(root);
    return rc;
}

int units_count(struct db *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, "SELECT count(*) FROM units", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}
