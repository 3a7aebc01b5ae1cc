/* SQLite set-up and ordered migrations; each migration runs in its own transaction, so a
 * failure leaves the schema at the previous version. */
#include "rooms/db.h"
#include "mcu/log.h"
#include "rooms/auth.h"

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
    /* 2: sites, admin users, conferences, attendance, roll calls, the audit log. Times are
     * Unix milliseconds. A user or site secret is stored only as a hash. */
    "CREATE TABLE sites ("
    "  id INTEGER PRIMARY KEY,"
    "  unit_id TEXT NOT NULL REFERENCES units(id),"
    "  name TEXT NOT NULL,"
    "  secret_digest TEXT NOT NULL,"   /* sha-256 hex of the random credential */
    "  link_kbps INTEGER NOT NULL DEFAULT 2000,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX sites_unit ON sites(unit_id);"
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  username TEXT NOT NULL UNIQUE,"
    "  password_hash TEXT NOT NULL,"   /* argon2id encoded */
    "  role TEXT NOT NULL CHECK (role IN ('admin','operator','viewer')),"
    "  unit_id TEXT REFERENCES units(id)," /* the scope: this unit and its subtree; NULL = all */
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE conferences ("
    "  id INTEGER PRIMARY KEY,"
    "  host_unit TEXT NOT NULL REFERENCES units(id),"
    "  title TEXT NOT NULL,"
    "  invite TEXT NOT NULL,"          /* the invitation rule as JSON, kept for display and edits */
    "  start_at INTEGER, end_at INTEGER," /* NULL start: permanent */
    "  state TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled','live','ended')),"
    "  chair_site INTEGER REFERENCES sites(id) ON DELETE SET NULL,"
    "  floor_site INTEGER REFERENCES sites(id) ON DELETE SET NULL,"
    "  locked INTEGER NOT NULL DEFAULT 0,"
    "  mute_all INTEGER NOT NULL DEFAULT 0,"
    "  pin_digest TEXT,"
    "  created_by TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  started_at INTEGER, ended_at INTEGER"
    ");"
    "CREATE TABLE conference_sites ("
    "  conference_id INTEGER NOT NULL REFERENCES conferences(id) ON DELETE CASCADE,"
    "  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,"
    "  muted INTEGER NOT NULL DEFAULT 0,"
    "  removed INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (conference_id, site_id)"
    ");"
    "CREATE INDEX conference_sites_site ON conference_sites(site_id);"
    "CREATE TABLE attendance ("
    "  id INTEGER PRIMARY KEY,"
    "  conference_id INTEGER NOT NULL REFERENCES conferences(id) ON DELETE CASCADE,"
    "  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,"
    "  joined_at INTEGER NOT NULL,"
    "  left_at INTEGER,"
    "  reason TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX attendance_conf ON attendance(conference_id, site_id);"
    "CREATE TABLE rollcall ("
    "  conference_id INTEGER NOT NULL REFERENCES conferences(id) ON DELETE CASCADE,"
    "  site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,"
    "  result TEXT NOT NULL CHECK (result IN ('present','absent','late')),"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (conference_id, site_id)"
    ");"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL DEFAULT '',"
    "  address TEXT NOT NULL DEFAULT '',"
    "  result TEXT NOT NULL,"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  unit TEXT NOT NULL DEFAULT ''"   /* the unit the target belongs to, for scoped reading */
    ");"
    "CREATE INDEX audit_at ON audit(at);",
    /* 3: link-utilisation monitoring (rooms/monitor.c). A window is named by its start, a
     * multiple of its length; units and sites have a row only for windows with traffic.
     * No foreign keys: the history outlives a deleted site or unit. */
    "CREATE TABLE monitor_windows ("
    "  t INTEGER PRIMARY KEY,"
    "  dur_ms INTEGER NOT NULL"           /* time the server covered (shorter after a start) */
    ");"
    "CREATE TABLE monitor_units ("
    "  unit_id TEXT NOT NULL,"
    "  t INTEGER NOT NULL,"
    "  bytes_in INTEGER NOT NULL,"        /* from the unit's sites, IP and UDP headers included */
    "  bytes_out INTEGER NOT NULL,"       /* to them */
    "  capacity_kbps INTEGER NOT NULL,"   /* the sum of its sites' link_kbps then */
    "  utilisation REAL,"                 /* max(in, out) / capacity; NULL without capacity */
    "  PRIMARY KEY (unit_id, t)"
    ") WITHOUT ROWID;"
    "CREATE INDEX monitor_units_t ON monitor_units(t);"
    "CREATE TABLE monitor_sites ("
    "  site_id INTEGER NOT NULL,"
    "  t INTEGER NOT NULL,"
    "  unit_id TEXT NOT NULL,"
    "  bytes_in INTEGER NOT NULL,"
    "  bytes_out INTEGER NOT NULL,"
    "  link_kbps INTEGER NOT NULL,"
    "  PRIMARY KEY (site_id, t)"
    ") WITHOUT ROWID;"
    "CREATE INDEX monitor_sites_t ON monitor_sites(t);",
    /* 4: when each site was last connected, for the admin panel (rooms/store_sched.c): set
     * when it signs in and when its endpoint goes away; NULL = never signed in. */
    "ALTER TABLE sites ADD COLUMN last_seen INTEGER;",
    /* 5: recording and live streaming (rooms/recstore.c, signaling/recorder.c). A recording
     * keeps its conference's title and host unit: it outlives the conference, and its scope
     * is the host's. duration_ms and bytes are refreshed while it runs, so a crash leaves
     * them close to the truth. */
    "ALTER TABLE conferences ADD COLUMN record INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE conferences ADD COLUMN stream INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE recordings ("
    "  id INTEGER PRIMARY KEY,"
    "  conference_id INTEGER NOT NULL,"
    "  host_unit TEXT NOT NULL,"
    "  title TEXT NOT NULL,"
    "  file TEXT NOT NULL,"              /* name inside the recording directory */
    "  started_at INTEGER NOT NULL,"
    "  ended_at INTEGER,"
    "  duration_ms INTEGER NOT NULL DEFAULT 0,"
    "  bytes INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL CHECK (state IN ('recording','done','failed','interrupted')),"
    "  error TEXT NOT NULL DEFAULT '',"
    "  started_by TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX recordings_conf ON recordings(conference_id);",
    /* 6: secrets of this server, made once at random. pin_key keys the conference PINs
     * (rooms/auth.h auth_pin_digest); the PINs stored before it, a plain SHA-256 of the
     * digits, are keyed now. mcu_random_bytes and mcu_pin_rekey are registered by db_open. */
    "CREATE TABLE server_secrets ("
    "  name TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL"
    ");"
    "INSERT INTO server_secrets VALUES ('pin_key', mcu_random_bytes(32));"
    "UPDATE conferences SET pin_digest = "
    "  mcu_pin_rekey(pin_digest, (SELECT value FROM server_secrets WHERE name = 'pin_key'))"
    "  WHERE pin_digest IS NOT NULL;",
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

/* mcu_random_bytes(n): n bytes (1..64) from the CSPRNG, for the secrets migrations make. */
static void sql_random_bytes(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    int n = sqlite3_value_int(argv[0]);
    unsigned char buf[64];
    if (n < 1 || n > (int)sizeof buf || auth_init() < 0)
        return sqlite3_result_error(ctx, "mcu_random_bytes: 1 to 64 bytes", -1);
    auth_random_bytes(buf, (size_t)n);
    sqlite3_result_blob(ctx, buf, n, SQLITE_TRANSIENT);
}

/* mcu_pin_rekey(old digest, key): a PIN's plain SHA-256 hex as auth_pin_digest stores it
 * now. A malformed old digest, which no PIN ever matched, is kept as it is (still matching
 * none) rather than dropped, which would open the conference. */
static void sql_pin_rekey(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *old = (const char *)sqlite3_value_text(argv[0]);
    char out[AUTH_DIGEST_HEX];
    if (sqlite3_value_bytes(argv[1]) != AUTH_PIN_KEY_BYTES)
        return sqlite3_result_error(ctx, "mcu_pin_rekey: the key must be 32 bytes", -1);
    if (auth_pin_rekey(sqlite3_value_blob(argv[1]), old, out) < 0)
        return sqlite3_result_value(ctx, argv[0]);
    sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
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
    if (sqlite3_create_function(db->h, "mcu_random_bytes", 1, SQLITE_UTF8, NULL, sql_random_bytes, NULL, NULL) ||
        sqlite3_create_function(db->h, "mcu_pin_rekey", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_pin_rekey,
                                NULL, NULL)) {
        snprintf(err, errlen, "cannot register the migrations' functions: %s", sqlite3_errmsg(db->h));
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
