/* Link-utilisation monitoring (see rooms/monitor.h). A unit's utilisation in a window is
 * max(bits from its sites, bits to its sites) / (window length x the sum of its sites'
 * link_kbps): a link is full when either direction is, so the larger one counts. The window
 * length is the time the server actually covered, which is shorter only for the first
 * window after a start. */
#include "rooms/monitor.h"
#include "mcu/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (86400LL * 1000)

struct site_bytes {
    int64_t site;            /* 0 = empty slot */
    uint64_t in, out;
};

struct monitor {
    struct db *db;           /* not owned */
    int64_t len_ms;          /* window length */
    int64_t retention_ms;
    int64_t win_t;           /* start of the current window, a multiple of len_ms */
    int64_t cover_ms;        /* when the server began covering it (>= win_t) */
    int64_t pruned_ms;       /* last prune */
    struct site_bytes *tab;  /* open addressing by site id, owned */
    size_t cap, used;        /* cap a power of two, used <= cap / 2 */
    struct monitor_alarm *alarm; /* units in alarm after the last window, owned */
    size_t nalarm;
    monitor_alarm_fn hook;
    void *hook_ctx;
};

static sqlite3_stmt *prep(struct db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("monitor", "prepare: %s: %s", sqlite3_errmsg(db->h), sql);
        return NULL;
    }
    return st;
}

static int64_t floor_to(int64_t t, int64_t len)
{
    return t - ((t % len) + len) % len;
}

static void start_window(struct monitor *m, int64_t cover)
{
    m->win_t = floor_to(cover, m->len_ms);
    m->cover_ms = cover;
}

struct monitor *monitor_new(struct db *db, int sample_s, int retention_days, int64_t now_ms)
{
    struct monitor *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->db = db;
    m->len_ms = (int64_t)(sample_s > 0 ? sample_s : 300) * 1000;
    m->retention_ms = (int64_t)retention_days * DAY_MS;
    m->cap = 256;
    m->tab = calloc(m->cap, sizeof *m->tab);
    if (!m->tab) {
        free(m);
        return NULL;
    }
    start_window(m, now_ms);
    monitor_prune(m, now_ms);
    return m;
}

void monitor_free(struct monitor *m)
{
    if (!m)
        return;
    free(m->tab);
    free(m->alarm);
    free(m);
}

void monitor_set_alarm_hook(struct monitor *m, monitor_alarm_fn fn, void *ctx)
{
    m->hook = fn;
    m->hook_ctx = ctx;
}

/* ---- accumulation */

static struct site_bytes *slot(struct site_bytes *tab, size_t cap, int64_t site)
{
    size_t i = (size_t)((uint64_t)site * 0x9E3779B97F4A7C15ull >> 32) & (cap - 1);
    while (tab[i].site && tab[i].site != site)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static int grow(struct monitor *m)
{
    size_t cap = m->cap * 2;
    struct site_bytes *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->tab[i].site)
            *slot(tab, cap, m->tab[i].site) = m->tab[i];
    free(m->tab);
    m->tab = tab;
    m->cap = cap;
    return 0;
}

int monitor_add(struct monitor *m, int64_t site, uint64_t bytes_in, uint64_t bytes_out)
{
    if (site <= 0)
        return 0;
    struct site_bytes *s = slot(m->tab, m->cap, site);
    if (!s->site) {
        if (m->used + 1 > m->cap / 2) {
            if (grow(m) < 0)
                return -1;
            s = slot(m->tab, m->cap, site);
        }
        s->site = site;
        m->used++;
    }
    s->in += bytes_in;
    s->out += bytes_out;
    return 0;
}

/* ---- closing a window */

static int exec(struct db *db, const char *sql)
{
    return sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int write_sites(struct monitor *m)
{
    sqlite3_stmt *st = prep(m->db, "INSERT OR REPLACE INTO monitor_sites (site_id, t, unit_id, bytes_in, bytes_out, "
                                   "link_kbps) SELECT id, ?1, unit_id, ?2, ?3, link_kbps FROM sites WHERE id = ?4");
    if (!st)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < m->cap && rc == 0; i++) {
        struct site_bytes *s = &m->tab[i];
        if (!s->site || (!s->in && !s->out))
            continue;
        sqlite3_bind_int64(st, 1, m->win_t);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)s->in);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)s->out);
        sqlite3_bind_int64(st, 4, s->site);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The units' rows from the sites' rows just written (the capacity counts every site of the
 * unit, with traffic or not), then the window's own row. */
static int write_units(struct monitor *m, int64_t dur_ms)
{
    sqlite3_stmt *st = prep(m->db,
        "INSERT OR REPLACE INTO monitor_units (unit_id, t, bytes_in, bytes_out, capacity_kbps, utilisation) "
        "SELECT ms.unit_id, ?1, sum(ms.bytes_in), sum(ms.bytes_out), c.cap, "
        "CASE WHEN c.cap > 0 THEN max(sum(ms.bytes_in), sum(ms.bytes_out)) * 8.0 / (?2 * c.cap) END "
        "FROM monitor_sites ms JOIN (SELECT unit_id, sum(link_kbps) AS cap FROM sites GROUP BY unit_id) c "
        "ON c.unit_id = ms.unit_id WHERE ms.t = ?1 GROUP BY ms.unit_id");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, m->win_t);
    sqlite3_bind_int64(st, 2, dur_ms);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    if (rc < 0)
        return -1;
    st = prep(m->db, "INSERT OR REPLACE INTO monitor_windows (t, dur_ms) VALUES (?1, ?2)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, m->win_t);
    sqlite3_bind_int64(st, 2, dur_ms);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* The units in alarm in the window just written, as a malloc'd array (count in *n). */
static struct monitor_alarm *read_alarms(struct monitor *m, size_t *n)
{
    *n = 0;
    sqlite3_stmt *st = prep(m->db, "SELECT mu.unit_id, coalesce(u.name, ''), mu.utilisation, mu.capacity_kbps "
                                   "FROM monitor_units mu LEFT JOIN units u ON u.id = mu.unit_id "
                                   "WHERE mu.t = ?1 AND mu.utilisation > ?2 ORDER BY mu.unit_id");
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, m->win_t);
    sqlite3_bind_double(st, 2, MONITOR_THRESHOLD);
    struct monitor_alarm *a = NULL;
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct monitor_alarm *b = realloc(a, cap * sizeof *a);
            if (!b)
                break;
            a = b;
        }
        struct monitor_alarm *x = &a[(*n)++];
        memset(x, 0, sizeof *x);
        snprintf(x->unit, sizeof x->unit, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(x->name, sizeof x->name, "%s", (const char *)sqlite3_column_text(st, 1));
        x->utilisation = sqlite3_column_double(st, 2);
        x->capacity_kbps = sqlite3_column_int(st, 3);
        x->t = m->win_t;
        x->raised = true;
    }
    sqlite3_finalize(st);
    return a;
}

static bool in_list(const struct monitor_alarm *list, size_t n, const char *unit)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].unit, unit))
            return true;
    return false;
}

/* A unit's utilisation in the current window; 0 without a row (no traffic). */
static double utilisation_now(struct monitor *m, const char *unit)
{
    sqlite3_stmt *st = prep(m->db, "SELECT coalesce(utilisation, 0) FROM monitor_units WHERE unit_id = ?1 AND t = ?2");
    double u = 0;
    if (!st)
        return 0;
    sqlite3_bind_text(st, 1, unit, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, m->win_t);
    if (sqlite3_step(st) == SQLITE_ROW)
        u = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return u;
}

/* Tells the hook about units that entered or left alarm, then keeps the new set (takes now). */
static void update_alarms(struct monitor *m, struct monitor_alarm *now, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!in_list(m->alarm, m->nalarm, now[i].unit) && m->hook)
            m->hook(m->hook_ctx, &now[i]);
    for (size_t i = 0; i < m->nalarm; i++) {
        struct monitor_alarm *c = &m->alarm[i];
        if (in_list(now, n, c->unit) || !m->hook)
            continue;
        c->raised = false;
        c->t = m->win_t;
        c->utilisation = utilisation_now(m, c->unit);
        m->hook(m->hook_ctx, c);
    }
    free(m->alarm);
    m->alarm = now;
    m->nalarm = n;
}

static void clear_counts(struct monitor *m)
{
    memset(m->tab, 0, m->cap * sizeof *m->tab);
    m->used = 0;
}

static int close_window(struct monitor *m, int64_t end_ms)
{
    int64_t dur = end_ms - m->cover_ms;
    int rc = dur > 0 && exec(m->db, "SAVEPOINT monitor") == 0 ? 0 : -1;
    if (rc == 0) {
        if (write_sites(m) < 0 || write_units(m, dur) < 0) {
            log_error("monitor", "cannot store the window at %lld: %s", (long long)m->win_t, sqlite3_errmsg(m->db->h));
            exec(m->db, "ROLLBACK TO monitor");
            rc = -1;
        }
        exec(m->db, "RELEASE monitor");
    }
    clear_counts(m);
    if (rc < 0)
        return -1;
    size_t n;
    struct monitor_alarm *a = read_alarms(m, &n);
    update_alarms(m, a, n);
    return 1;
}

int monitor_tick(struct monitor *m, int64_t now_ms)
{
    int rc = 0;
    int64_t end = m->win_t + m->len_ms;
    if (now_ms < m->cover_ms) { /* the clock went back: start over, keeping no counts */
        clear_counts(m);
        start_window(m, now_ms);
    } else if (now_ms >= end) {
        rc = close_window(m, end);
        /* The next window follows on, unless the clock jumped past it. */
        start_window(m, now_ms < end + m->len_ms ? end : now_ms);
    }
    if (now_ms - m->pruned_ms >= DAY_MS)
        monitor_prune(m, now_ms);
    return rc;
}

int monitor_prune(struct monitor *m, int64_t now_ms)
{
    static const char *const sql[] = {
        "DELETE FROM monitor_sites WHERE t < ?1",
        "DELETE FROM monitor_units WHERE t < ?1",
        "DELETE FROM monitor_windows WHERE t < ?1",
    };
    m->pruned_ms = now_ms;
    int rc = 0;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = prep(m->db, sql[i]);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, now_ms - m->retention_ms);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = -1;
        sqlite3_finalize(st);
    }
    return rc;
}

/* ---- reading, for the API */

static int unit_capacity(struct db *db, const char *unit, char *name, size_t namelen)
{
    sqlite3_stmt *st = prep(db, "SELECT name, (SELECT coalesce(sum(link_kbps), 0) FROM sites WHERE unit_id = ?1) "
                                "FROM units WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, unit, -1, SQLITE_TRANSIENT);
    int cap = -1;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(name, namelen, "%s", (const char *)sqlite3_column_text(st, 0));
        cap = sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    return cap;
}

/* v rounded to 1/scale; dividing (not multiplying by 1/scale) gives the double nearest the
 * decimal, which JSON then prints short. */
static double round_to(double v, double scale)
{
    return round(v * scale) / scale;
}

static json_t *sample_json(sqlite3_stmt *st, int capacity)
{
    int64_t t = sqlite3_column_int64(st, 0), dur = sqlite3_column_int64(st, 1);
    double in = (double)sqlite3_column_int64(st, 2) * 8.0 / (double)dur; /* bits per ms = kbit/s */
    double out = (double)sqlite3_column_int64(st, 3) * 8.0 / (double)dur;
    json_t *u;
    bool alarm = false;
    if (sqlite3_column_type(st, 4) != SQLITE_NULL) { /* traffic was stored for the unit */
        double v = sqlite3_column_double(st, 4);
        alarm = v > MONITOR_THRESHOLD;
        u = json_real(round_to(v, 10000));
    } else {
        u = sqlite3_column_type(st, 5) == SQLITE_NULL && capacity > 0 ? json_real(0) : json_null();
    }
    return json_pack("{s:I,s:f,s:f,s:o,s:b}", "t", (json_int_t)t, "kbps_in", round_to(in, 10), "kbps_out",
                     round_to(out, 10), "utilisation", u, "alarm", alarm);
}

json_t *monitor_unit_json(struct db *db, const char *unit, int64_t from, int64_t to, int sample_s)
{
    char name[STORE_NAME_MAX] = "";
    int capacity = unit_capacity(db, unit, name, sizeof name);
    if (capacity < 0)
        return NULL;
    json_t *samples = json_array();
    sqlite3_stmt *st = prep(db, "SELECT w.t, w.dur_ms, coalesce(mu.bytes_in, 0), coalesce(mu.bytes_out, 0), "
                                "mu.utilisation, mu.t FROM monitor_windows w LEFT JOIN monitor_units mu "
                                "ON mu.unit_id = ?1 AND mu.t = w.t WHERE w.t >= ?2 AND w.t < ?3 AND w.dur_ms > 0 "
                                "ORDER BY w.t");
    if (st) {
        sqlite3_bind_text(st, 1, unit, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, from);
        sqlite3_bind_int64(st, 3, to);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(samples, sample_json(st, capacity));
        sqlite3_finalize(st);
    }
    return json_pack("{s:s,s:s,s:i,s:f,s:i,s:o}", "unit", unit, "name", name, "capacity_kbps", capacity,
                     "threshold", MONITOR_THRESHOLD, "sample_s", sample_s, "samples", samples);
}

json_t *monitor_alarms_json(struct db *db, const char *scope)
{
    json_t *alarms = json_array();
    sqlite3_stmt *st = prep(db,
        "WITH RECURSIVE sub(id) AS (SELECT id FROM units WHERE id = ?1 "
        "UNION ALL SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id) "
        "SELECT mu.unit_id, coalesce(u.name, ''), mu.t, mu.utilisation FROM monitor_units mu "
        "LEFT JOIN units u ON u.id = mu.unit_id "
        "WHERE mu.t = (SELECT max(t) FROM monitor_windows) AND mu.utilisation > ?2 "
        "AND (?1 = '' OR mu.unit_id IN sub) ORDER BY mu.utilisation DESC, mu.unit_id");
    if (st) {
        sqlite3_bind_text(st, 1, scope ? scope : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 2, MONITOR_THRESHOLD);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(alarms, json_pack("{s:s,s:s,s:I,s:f}", "unit", sqlite3_column_text(st, 0),
                                                    "name", sqlite3_column_text(st, 1), "t",
                                                    (json_int_t)sqlite3_column_int64(st, 2), "utilisation",
                                                    round_to(sqlite3_column_double(st, 3), 10000)));
        sqlite3_finalize(st);
    }
    return json_pack("{s:o}", "alarms", alarms);
}
