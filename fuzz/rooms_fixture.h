/* Shared by fuzz_endpoint.c and fuzz_api_json.c: an in-memory database with a small unit
 * tree (province 89, districts 883 and 884, three communes), one site per unit, and one live
 * conference of province 89 inviting them all, chaired by the province's site. It is made
 * once per process; each input then runs inside a savepoint that is rolled back, on a fresh
 * `struct live` restored from the database, so every input starts from the same state and a
 * crash reproduces from its input alone. */
#ifndef FUZZ_ROOMS_FIXTURE_H
#define FUZZ_ROOMS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcu/log.h"
#include "rooms/auth.h"
#include "rooms/db.h"
#include "rooms/live.h"
#include "rooms/store.h"

#define FIX_SECRET "fuzz-site-secret-0123456789abcdef"
#define FIX_NSITES 6

struct fixture {
    struct db db;
    int64_t conf;                  /* the live conference */
    int64_t sites[FIX_NSITES];     /* sites[0] is the chair (province) */
    char digest[AUTH_DIGEST_HEX];  /* of FIX_SECRET, every site's credential */
    struct live *live;             /* per input, between fixture_begin and fixture_end */
    int64_t now;
};

static void fix_to_site(void *ctx, int64_t site, json_t *msg) { (void)ctx, (void)site, (void)msg; }
static void fix_to_watchers(void *ctx, int64_t conf, json_t *msg) { (void)ctx, (void)conf, (void)msg; }
static void fix_set_mute(void *ctx, int64_t conf, int64_t site, bool m) { (void)ctx, (void)conf, (void)site, (void)m; }
static void fix_drop(void *ctx, int64_t conf, int64_t site) { (void)ctx, (void)conf, (void)site; }
static bool fix_online(void *ctx, int64_t site) { (void)ctx; return site % 2 == 0; }

static const struct live_hooks fix_hooks = {
    .to_site = fix_to_site, .to_watchers = fix_to_watchers, .set_mute = fix_set_mute,
    .drop_session = fix_drop, .site_online = fix_online,
};

static void fix_die(const char *what)
{
    fprintf(stderr, "fixture: %s\n", what);
    abort();
}

static struct fixture *fixture_get(void)
{
    static struct fixture f;
    static bool ready;
    if (ready)
        return &f;
    char err[200];
    log_init(LOG_LVL_ERROR, false);
    if (auth_init() < 0 || db_open(&f.db, ":memory:", err, sizeof err) < 0)
        fix_die("cannot open the database");
    static const char *const units =
        "INSERT INTO units (id, parent_id, level, name) VALUES ('89', NULL, 1, 'An Giang'),"
        "('883', '89', 2, 'Long Xuyen'), ('884', '89', 2, 'Chau Doc'), ('30280', '883', 3, 'My Binh'),"
        "('30283', '883', 3, 'My Long'), ('30300', '884', 3, 'Vinh My')";
    if (sqlite3_exec(f.db.h, units, NULL, NULL, NULL) != SQLITE_OK)
        fix_die("cannot insert units");
    auth_secret_digest(FIX_SECRET, f.digest);
    static const char *const ids[FIX_NSITES] = {"89", "883", "884", "30280", "30283", "30300"};
    for (int i = 0; i < FIX_NSITES; i++)
        if ((f.sites[i] = store_site_create(&f.db, ids[i], ids[i], 2000, f.digest)) <= 0)
            fix_die("cannot create a site");
    struct store_conf c;
    memset(&c, 0, sizeof c);
    snprintf(c.host_unit, sizeof c.host_unit, "89");
    snprintf(c.title, sizeof c.title, "fuzz");
    c.chair_site = f.sites[0];
    f.conf = store_conf_create(&f.db, &c, "{\"subtree\":true}", f.sites, FIX_NSITES, "fuzz");
    f.now = 1700000000000;
    struct live *l = live_new(&f.db, &fix_hooks);
    if (f.conf <= 0 || !l || live_start(l, f.conf, f.now, err, sizeof err))
        fix_die("cannot start the conference");
    live_free(l);
    ready = true;
    return &f;
}

/* A fresh live state for one input: sites 0-3 joined, 4 idle, 5 offline. */
static struct fixture *fixture_begin(void)
{
    struct fixture *f = fixture_get();
    sqlite3_exec(f->db.h, "SAVEPOINT fuzz", NULL, NULL, NULL);
    f->live = live_new(&f->db, &fix_hooks);
    if (!f->live)
        fix_die("out of memory");
    live_restore(f->live, f->now);
    for (int i = 0; i < FIX_NSITES - 1; i++)
        live_site_online(f->live, f->sites[i], true);
    for (int i = 0; i < 4; i++)
        live_joined(f->live, f->conf, f->sites[i], f->now);
    return f;
}

/* Lets the timed modes run a little, then forgets everything the input changed. */
static void fixture_end(struct fixture *f)
{
    for (int i = 1; i <= 3; i++)
        live_tick(f->live, f->now + i * 4000);
    json_decref(live_state_json(f->live, f->conf));
    json_decref(live_roster_json(f->live, f->conf));
    live_free(f->live);
    f->live = NULL;
    sqlite3_exec(f->db.h, "ROLLBACK TO fuzz; RELEASE fuzz", NULL, NULL, NULL);
}

#endif
