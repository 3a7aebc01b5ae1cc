/* Import of the national administrative-unit list into the units table. */
#include "rooms/units.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Writes one unit: inserted, or its name, type and place updated when they changed.
 * Returns 1 if a row was written, 0 if it was already as given, -1 on error. */
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
    res->written += rc;
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

/* Imports the provinces of root["data"] whose code matches (all of them when code is NULL). */
static int import_matching(struct db *db, json_t *root, const char *code, struct units_import_result *res,
                           char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h,
                           "INSERT INTO units(id, parent_id, level, name, type) VALUES (?,?,?,?,?) "
                           "ON CONFLICT(id) DO UPDATE SET parent_id = excluded.parent_id, "
                           "level = excluded.level, name = excluded.name, type = excluded.type "
                           "WHERE parent_id IS NOT excluded.parent_id OR level != excluded.level "
                           "OR name != excluded.name OR type != excluded.type",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db->h));
        return -1;
    }
    json_t *p;
    size_t i;
    json_array_foreach(json_object_get(root, "data"), i, p) {
        const char *id = json_string_value(json_object_get(p, "level1_id"));
        if (code && strcmp(id ? id : "", code))
            continue;
        res->provinces++;
        snprintf(res->name, sizeof res->name, "%s", json_string_value(json_object_get(p, "name")) ?: "");
        if (import_unit(st, p, NULL, 1, res, err, errlen) < 0) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (!res->provinces) {
        snprintf(err, errlen, "no province with code '%s' in the file", code ? code : "(any)");
        return -1;
    }
    return 0;
}

int units_import(struct db *db, const char *json_path, const char *code, struct units_import_result *res,
                 char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (errlen)
        err[0] = 0;
    if (code && !strcmp(code, "all"))
        code = NULL;
    json_error_t jerr;
    json_t *root = json_load_file(json_path, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "cannot read %s: %s (line %d)", json_path, jerr.text, jerr.line);
        return -1;
    }
    int before = units_count(db), rc = -1;
    if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot start a transaction: %s", sqlite3_errmsg(db->h));
        goto out;
    }
    if (import_matching(db, root, code, res, err, errlen) < 0 ||
        sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        if (!err[0])
            snprintf(err, errlen, "cannot commit: %s", sqlite3_errmsg(db->h));
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
        res->written = 0;
        goto out;
    }
    res->inserted = units_count(db) - before;
    res->updated = res->written - res->inserted;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int units_import_province(struct db *db, const char *json_path, const char *code,
                          struct units_import_result *res, char *err, size_t errlen)
{
    if (!code || !strcmp(code, "all")) {
        snprintf(err, errlen, "a province code is needed");
        return -1;
    }
    return units_import(db, json_path, code, res, err, errlen);
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
