/* The store as a meeting room's day sees it: the next conference that invites a site (its
 * idle screen), the sites a conference invites (whom to tell when that changes), and when
 * each site was last connected (the admin panel's sites page). The rest of the store is
 * rooms/store.c; the contract is rooms/store.h. */
#include "rooms/store.h"
#include "rooms/store_priv.h"

#include <stdio.h>
#include <stdlib.h>

static json_t *int_or_null(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(st, i));
}

/* Timed conferences first, soonest first; then the permanent ones (no start), oldest first.
 * A scheduled conference whose start has passed is about to go live (the scheduler checks
 * every second), and then its invitation says more than this would. */
json_t *store_site_next_conf(struct db *db, int64_t site, int64_t now)
{
    sqlite3_stmt *st = store_prep(db, "SELECT c.id, c.title, c.start_at, c.end_at, c.host_unit, coalesce(u.name, '') "
                                      "FROM conference_sites cs JOIN conferences c ON c.id = cs.conference_id "
                                      "LEFT JOIN units u ON u.id = c.host_unit "
                                      "WHERE cs.site_id = ?1 AND c.state = 'scheduled' "
                                      "AND (c.start_at IS NULL OR c.start_at > ?2) "
                                      "ORDER BY c.start_at IS NULL, c.start_at, c.id LIMIT 1");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, site);
    sqlite3_bind_int64(st, 2, now);
    json_t *out = json_null();
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(st, 0));
        out = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s}", "id", id, "title", (const char *)sqlite3_column_text(st, 1),
                        "start_at", int_or_null(st, 2), "end_at", int_or_null(st, 3), "host_unit",
                        (const char *)sqlite3_column_text(st, 4), "host_unit_name",
                        (const char *)sqlite3_column_text(st, 5));
    } else if (rc != SQLITE_DONE) {
        out = NULL;
    }
    sqlite3_finalize(st);
    return out;
}

int store_conf_site_ids(struct db *db, int64_t conf, int64_t **ids)
{
    *ids = NULL;
    sqlite3_stmt *st =
        store_prep(db, "SELECT site_id FROM conference_sites WHERE conference_id = ? ORDER BY site_id");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, conf);
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            int64_t *p = realloc(*ids, (size_t)cap * sizeof *p);
            if (!p) {
                rc = SQLITE_NOMEM;
                break;
            }
            *ids = p;
        }
        (*ids)[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL;
        return -1;
    }
    return n;
}

int store_site_seen(struct db *db, int64_t site, int64_t at)
{
    sqlite3_stmt *st = store_prep(db, "UPDATE sites SET last_seen = ?2 WHERE id = ?1");
    if (!st)
        return STORE_ERROR;
    sqlite3_bind_int64(st, 1, site);
    sqlite3_bind_int64(st, 2, at);
    return store_run(db, st, true);
}

int64_t store_site_last_seen(struct db *db, int64_t site)
{
    sqlite3_stmt *st = store_prep(db, "SELECT coalesce(last_seen, 0) FROM sites WHERE id = ?");
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, site);
    int64_t at = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return at;
}
