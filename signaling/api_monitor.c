/* The monitoring part of the admin API: a unit's link-utilisation samples (JSON or CSV) and
 * the units in alarm in the latest window, both limited to the caller's scope. The samples
 * themselves are made by rooms/monitor.c from the media the workers carry. */
#include "signaling/api_internal.h"
#include "mcu/server.h"
#include "rooms/monitor.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS (86400LL * 1000)

/* A time query argument: absent keeps *out, a bad one replies 400 and returns false. */
static bool query_ms(struct req *r, const char *name, int64_t *out)
{
    char buf[32];
    const char *v = api_query(r, name, buf, sizeof buf);
    if (!v)
        return true;
    if (!api_parse_id(v, out)) {
        api_fail(r, 400, "bad_request", "'%s' must be a time in Unix milliseconds", name);
        return false;
    }
    return true;
}

static void csv_reply(struct req *r, json_t *doc)
{
    struct sbuf b = {0};
    const char *unit = json_string_value(json_object_get(doc, "unit"));
    int capacity = (int)json_integer_value(json_object_get(doc, "capacity_kbps"));
    sbuf_printf(&b, "unit,t,time,kbps_in,kbps_out,capacity_kbps,utilisation,alarm\r\n");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "samples"), i, s) {
        int64_t t = json_integer_value(json_object_get(s, "t"));
        time_t secs = (time_t)(t / 1000);
        struct tm tm;
        char when[32], util[32] = "";
        gmtime_r(&secs, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_t *u = json_object_get(s, "utilisation");
        if (json_is_number(u))
            snprintf(util, sizeof util, "%.4f", json_number_value(u));
        sbuf_printf(&b, "%s,%lld,%s,%.1f,%.1f,%d,%s,%s\r\n", unit, (long long)t, when,
                    json_number_value(json_object_get(s, "kbps_in")), json_number_value(json_object_get(s, "kbps_out")),
                    capacity, util, json_is_true(json_object_get(s, "alarm")) ? "true" : "false");
    }
    json_decref(doc);
    if (b.oom) {
        sbuf_free(&b);
        return api_fail(r, 500, "internal", "out of memory");
    }
    http_respond(r->c, 200, "text/csv; charset=utf-8", b.p, b.len);
}

void h_monitor_unit(struct req *r)
{
    const char *unit = r->seg[2];
    if (strlen(unit) >= STORE_UNIT_MAX || !store_unit_exists(r->db, unit))
        return api_fail(r, 404, "not_found", "no unit '%s'", unit);
    if (!api_check_scope(r, unit, "monitoring.read", unit))
        return;
    int64_t to = 0, from = 0;
    if (!query_ms(r, "from", &from) || !query_ms(r, "to", &to))
        return;
    if (!to)
        to = store_now_ms();
    if (!from)
        from = to - DAY_MS;
    if (from >= to || to - from > MONITOR_MAX_RANGE_MS)
        return api_fail(r, 400, "bad_request", "'from' must come before 'to', at most %lld days apart",
                        MONITOR_MAX_RANGE_MS / DAY_MS);
    char fbuf[8];
    const char *format = api_query(r, "format", fbuf, sizeof fbuf);
    if (format && strcmp(format, "json") && strcmp(format, "csv"))
        return api_fail(r, 400, "bad_request", "'format' is json or csv");
    json_t *doc = monitor_unit_json(r->db, unit, from, to, r->sig->srv->cfg.monitor_sample_s);
    if (!doc)
        return api_fail(r, 404, "not_found", "no unit '%s'", unit);
    if (format && !strcmp(format, "csv"))
        return csv_reply(r, doc);
    api_reply(r, 200, doc);
}

void h_monitor_alarms(struct req *r)
{
    api_reply(r, 200, monitor_alarms_json(r->db, r->user.unit));
}
