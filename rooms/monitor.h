/* Link-utilisation monitoring: the media bytes carried for each site, summed per unit over
 * fixed windows (5 minutes by default, aligned to the clock), against the unit's sites'
 * configured link capacity; a unit above MONITOR_THRESHOLD in a window is in alarm. Closed
 * windows are kept in SQLite (schema 3) for the retention period. Signaling thread only;
 * times are Unix milliseconds.
 *
 * What is stored: one monitor_windows row for every window the server ran through, and one
 * monitor_units (and monitor_sites) row only where there was traffic, so an idle province
 * costs one row per window. Readers fill the windows without a unit row with zeros. */
#ifndef ROOMS_MONITOR_H
#define ROOMS_MONITOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "rooms/db.h"
#include "rooms/store.h"

#define MONITOR_THRESHOLD 0.9   /* the regulation's alarm level */
#define MONITOR_IP_UDP_BYTES 28 /* IPv4 + UDP headers a datagram adds on the link */
#define MONITOR_MAX_RANGE_MS (400LL * 86400 * 1000) /* the longest span one query returns */

struct monitor;

/* A unit entering (raised) or leaving alarm when a window closes. */
struct monitor_alarm {
    char unit[STORE_UNIT_MAX];
    char name[STORE_NAME_MAX];
    int64_t t;               /* the window's start */
    double utilisation;
    int capacity_kbps;
    bool raised;             /* false: it was in alarm and is not any more */
};
typedef void (*monitor_alarm_fn)(void *ctx, const struct monitor_alarm *a);

/* Starts the first window at now_ms and prunes rows older than retention_days. The db stays
 * the caller's. NULL when out of memory. */
struct monitor *monitor_new(struct db *db, int sample_s, int retention_days, int64_t now_ms);
void monitor_free(struct monitor *m);
void monitor_set_alarm_hook(struct monitor *m, monitor_alarm_fn fn, void *ctx);

/* Bytes carried for a site (from it: in; to it: out) since the last call, headers included.
 * 0, or -1 when out of memory (the bytes are then not counted). */
int monitor_add(struct monitor *m, int64_t site, uint64_t bytes_in, uint64_t bytes_out);

/* Closes the window once now_ms has passed its end (writing it in one transaction and calling
 * the alarm hook for changes), and prunes once a day. Returns 1 when a window was closed,
 * 0 when none was due, -1 when writing failed (that window's counts are dropped). */
int monitor_tick(struct monitor *m, int64_t now_ms);

/* Deletes the rows older than the retention period. 0 or -1. */
int monitor_prune(struct monitor *m, int64_t now_ms);

/* {unit, name, capacity_kbps, threshold, sample_s, samples: [{t, kbps_in, kbps_out,
 * utilisation, alarm}]} for the windows starting in [from, to); NULL if the unit does not
 * exist. utilisation is null for a unit without link capacity. The caller owns the result. */
json_t *monitor_unit_json(struct db *db, const char *unit, int64_t from, int64_t to, int sample_s);

/* {alarms: [{unit, name, t, utilisation}]}: the units in alarm in the latest closed window,
 * within scope ("" = all), highest first. */
json_t *monitor_alarms_json(struct db *db, const char *scope);

#endif
