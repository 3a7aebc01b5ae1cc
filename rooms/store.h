/* What the rooms keep: units and scopes, sites, admin users, conferences with their invited
 * sites, attendance, roll-call results and the audit log. The rest of the program sees only
 * these functions; SQLite (rooms/db.c) is the engine behind them today, and another engine
 * would implement the same list. Signaling thread only. Times are Unix milliseconds.
 *
 * Conventions: functions returning int give 0 on success, STORE_NOT_FOUND when the row does not
 * exist, STORE_CONFLICT for a uniqueness or reference violation, STORE_ERROR otherwise.
 * Listings come back as new jansson values (the caller owns them), ready for the API. Every
 * change of more than one row runs in one transaction. */
#ifndef ROOMS_STORE_H
#define ROOMS_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "rooms/db.h"

enum { STORE_OK = 0, STORE_NOT_FOUND = -1, STORE_CONFLICT = -2, STORE_ERROR = -3 };

#define STORE_UNIT_MAX 16
#define STORE_NAME_MAX 160

int64_t store_now_ms(void);
/* A transaction around several calls (each call alone is atomic already). */
int store_begin(struct db *db);
int store_commit(struct db *db, int rc); /* commits if rc >= 0, else rolls back; returns rc */

/* --- units and scopes. A scope is a unit id meaning it and its subtree; "" means all. */
bool store_unit_exists(struct db *db, const char *unit);
bool store_unit_within(struct db *db, const char *unit, const char *scope);
int store_unit_level(struct db *db, const char *unit); /* -1 unknown */
/* Units within scope, filtered by parent ("" = any) and level (0 = any); q matches names. */
json_t *store_units_list(struct db *db, const char *scope, const char *parent, int level, const char *q);
json_t *store_unit_json(struct db *db, const char *unit); /* with its path to the root; NULL unknown */

/* --- sites */
struct store_site {
    int64_t id;
    char unit[STORE_UNIT_MAX];
    char name[STORE_NAME_MAX];
    char digest[65];
    int link_kbps;
};
int store_site_get(struct db *db, int64_t id, struct store_site *out);
int64_t store_site_create(struct db *db, const char *unit, const char *name, int link_kbps,
                          const char *digest); /* new id, or a negative STORE_* */
int store_site_update(struct db *db, int64_t id, const char *name, int link_kbps); /* NULL / -1 keep */
int store_site_set_digest(struct db *db, int64_t id, const char *digest);
int store_site_delete(struct db *db, int64_t id);
json_t *store_site_json(const struct store_site *s);
/* Sites in scope; unit "" = all, else that unit (and its subtree when subtree). Each row has
 * last_seen too (ms, null = never). */
json_t *store_sites_list(struct db *db, const char *scope, const char *unit, bool subtree);
/* Units of the subtree of unit that have no site yet, as a JSON array of {id, name}. */
json_t *store_units_without_site(struct db *db, const char *unit);

/* --- admin users */
struct store_user {
    int64_t id;
    char username[64];
    char password_hash[128];
    char role[16];               /* admin, operator, viewer */
    char unit[STORE_UNIT_MAX];   /* scope; "" = all */
    bool disabled;
};
int store_user_get(struct db *db, int64_t id, struct store_user *out);
int store_user_by_name(struct db *db, const char *username, struct store_user *out);
int64_t store_user_create(struct db *db, const struct store_user *u);
int store_user_update(struct db *db, const struct store_user *u); /* every field but id */
int store_user_delete(struct db *db, int64_t id);
int store_user_count(struct db *db);
json_t *store_user_json(const struct store_user *u); /* never the hash */
json_t *store_users_list(struct db *db, const char *scope);

/* --- conferences */
struct store_conf {
    int64_t id;
    char host_unit[STORE_UNIT_MAX];
    char title[STORE_NAME_MAX];
    int64_t start_at, end_at;    /* 0 = permanent */
    char state[12];              /* scheduled, live, ended */
    int64_t chair_site, floor_site; /* 0 = none */
    bool locked, mute_all;
    char pin_digest[65];         /* "" = no PIN */
    int64_t started_at;
    bool record, stream;         /* record it / stream it (HLS) whenever it is live */
};
struct store_member {
    int64_t site;
    char name[STORE_NAME_MAX];
    char unit[STORE_UNIT_MAX];
    bool muted, removed;
};
/* Resolves an invitation rule {own, units[], levels[], subtree, sites[]} against the host's
 * subtree to a sorted, de-duplicated malloc'd list of site ids. Returns the count, or -1 with
 * a sentence in err (a unit or site outside the host's subtree, a malformed rule). */
int store_resolve_invite(struct db *db, const char *host, json_t *invite, int64_t **sites, char *err,
                         size_t errlen);
/* Creates the conference and its invited sites in one transaction; returns the id or < 0. */
int64_t store_conf_create(struct db *db, const struct store_conf *c, const char *invite_json,
                          const int64_t *sites, int nsites, const char *created_by);
/* Changes the fields and, when sites is not NULL, replaces the invited sites (keeping the mute
 * state of those that stay). One transaction. */
int store_conf_update(struct db *db, const struct store_conf *c, const char *invite_json,
                      const int64_t *sites, int nsites);
int store_conf_get(struct db *db, int64_t id, struct store_conf *out);
int store_conf_delete(struct db *db, int64_t id);
int store_conf_set_state(struct db *db, int64_t id, const char *state, int64_t at);
/* Chair, floor, lock and mute-all of a live conference. */
int store_conf_save_control(struct db *db, const struct store_conf *c);
json_t *store_conf_json(struct db *db, int64_t id); /* with its invite rule and invited count */
json_t *store_confs_list(struct db *db, const char *scope, const char *state);
/* Ids of the conferences in a state ("live", "scheduled"); malloc'd, count returned. */
int store_confs_in_state(struct db *db, const char *state, int64_t **ids);
/* The invited sites, ordered by unit then id; malloc'd array, count returned (-1 error). */
int store_conf_members(struct db *db, int64_t id, struct store_member **out);
int store_member_save(struct db *db, int64_t conf, const struct store_member *m);
bool store_site_invited(struct db *db, int64_t conf, int64_t site);

/* --- attendance and roll call */
int store_attend_join(struct db *db, int64_t conf, int64_t site, int64_t at);
int store_attend_leave(struct db *db, int64_t conf, int64_t site, int64_t at, const char *reason);
int store_attend_close_all(struct db *db, int64_t at, const char *reason); /* after a restart */
bool store_attended(struct db *db, int64_t conf, int64_t site);
/* One row per invited site: first join, last leave, joins, seconds present, roll call. */
json_t *store_attendance_json(struct db *db, int64_t conf, int64_t now);
int store_rollcall_set(struct db *db, int64_t conf, int64_t site, const char *result, int64_t at);
int store_rollcall_clear(struct db *db, int64_t conf);
const char *store_rollcall_get(struct db *db, int64_t conf, int64_t site, char *buf, size_t len);

/* --- a site's schedule and last connection (rooms/store_sched.c) */
/* The next conference that invites the site: the soonest 'scheduled' one starting after
 * now, else a permanent one (no start) waiting to be started. A new {id (a string), title,
 * start_at, end_at (ms or null), host_unit, host_unit_name}, json_null() when there is none,
 * NULL on an error. */
json_t *store_site_next_conf(struct db *db, int64_t site, int64_t now);
/* The ids of the sites a conference invites, ascending; malloc'd, count returned (-1 error). */
int store_conf_site_ids(struct db *db, int64_t conf, int64_t **ids);
/* The site was connected at `at` (it signed in, or its endpoint went away). */
int store_site_seen(struct db *db, int64_t site, int64_t at);
int64_t store_site_last_seen(struct db *db, int64_t site); /* 0 = never, or unknown site */

/* --- the server's conference-PIN key (32 random bytes, made by the schema; see
 * auth_pin_digest). STORE_OK or STORE_ERROR. */
int store_pin_key(struct db *db, unsigned char key[32]);

/* --- audit log: each entry is also logged by log_audit (stderr at any log level, and syslog
 * when it is on). unit is the target's unit ("" = national), for scoped reading. */
int store_audit(struct db *db, const char *actor, const char *action, const char *target,
                const char *address, const char *result, const char *detail, const char *unit);
json_t *store_audit_json(struct db *db, const char *scope, int limit, int64_t before_id);

#endif
