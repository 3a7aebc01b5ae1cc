/* SQLite set-up and ordered migrations; each migration runs in its own transaction, so a
 * failure leaves the schema at the previous version. */
#include "rooms/db.h"
#include "mcu/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const migrations[] = {
    /* 1: the administrative tree. Depth is data: a unit's level is its distance from the root. */
    "CREATE TABLE units ("
    "  id TEXT PRIMARY KEY,"          /* official code, e.g. '89', '883', '30280' */
    "  parent_id TEXT REFERENCES units(id) ON DELETE CASCADE,"
    "  level INTEGER NOT NULL,"        /* 1 = province, 2 = district, 3 = commune, ... */
    "  name TEXT NOT NULL,"
    "  type TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX units_parent ON units(parent_id);",
};
#define NMIGRATIONS (int)(sizeof migrations / sizeof migrations[0])

int db_schema_latest(void)
{
    return NMIGRATIONS;
}

static int mkdir_parent(const char *path)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(dir, 0750) < 0 && errno != EEXIST ? -1 : 0;
}

static int exec(struct db *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int migrate(struct db *db, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (version > NMIGRATIONS) {
        snprintf(err, errlen, "database schema %d is newer than this server (%d)", version, NMIGRATIONS);
        return -1;
    }
    for (int v = version; v < NMIGRATIONS; v++) {
        char sql[64], msg[256];
        if (exec(db, "BEGIN IMMEDIATE", err, errlen) < 0)
            return -1;
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
        if (exec(db, migrations[v], msg, sizeof msg) < 0 || exec(db, sql, msg, sizeof msg) < 0) {
            snprintf(err, errlen, "migration %d failed: %s", v + 1, msg);
            exec(db, "ROLLBACK", msg, sizeof msg);
            return -1;
        }
        if (exec(db, "COMMIT", err, errlen) < 0)
            return -1;
        log_info("db", "migrated schema to version %d", v + 1);
    }
    db->schema_version = NMIGRATIONS;
    return 0;
}

int db_open(struct db *db, const char *path, char *err, size_t errlen)
{
    memset(db, 0, sizeof *db);
    if (strcmp(path, ":memory:") && mkdir_parent(path) < 0) {
        snprintf(err, errlen, "cannot create the directory of %s: %s", path, strerror(errno));
        return -1;
    }
    if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path, sqlite3_errmsg(db->h));
        sqlite3_close(db->h);
        db->h = NULL;
        return -1;
    }
    sqlite3_busy_timeout(db->h, 2000);
    if (exec(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL",
             err, errlen) < 0 ||
        migrate(db, err, errlen) < 0) {
        db_close(db);
        return -1;
    }
    return 0;
}

void db_close(struct db *db)
{
    if (db->h)
        sqlite3_close(db->h);
    db->h = NULL;
}
