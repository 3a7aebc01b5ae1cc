/* Link-utilisation monitoring against an in-memory database: windows aligned to the clock,
 * utilisation from the larger direction over the unit's whole capacity, alarms raised and
 * cleared once, zero-filled idle windows, the first partial window, clock jumps, scope of the
 * alarm list, and pruning by age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rooms/db.h"
#include "rooms/monitor.h"
#include "rooms/store.h"

#define T0 1700000100000LL /* a multiple of 300 s */
#define WIN 300000LL

struct fixture {
    struct db db;
    int64_t a1, a2, b, prov; /* sites: two in 883 (1000 kbps each), one in 884 (500), one in 89 */
    struct monitor_alarm seen[16];
    int nseen;
};

static void on_alarm(void *ctx, const struct monitor_alarm *a)
{
    struct fixture *f = ctx;
    if (f->nseen < 16)
        f->seen[f->nseen++] = *a;
}

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    char err[256];
    assert_int_equal(db_open(&f.db, ":memory:", err, sizeof err), 0);
    assert_int_equal(sqlite3_exec(f.db.h,
                                  "INSERT INTO units VALUES ('89', NULL, 1, 'Tỉnh An Giang', ''),"
                                  "('883', '89', 2, 'Thành phố Long Xuyên', ''), ('884', '89', 2, 'Châu Đốc', ''),"
                                  "('30280', '883', 3, 'Phường Mỹ Bình', '')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    f.a1 = store_site_create(&f.db, "883", "A1", 1000, "x");
    f.a2 = store_site_create(&f.db, "883", "A2", 1000, "x");
    f.b = store_site_create(&f.db, "884", "B", 500, "x");
    f.prov = store_site_create(&f.db, "89", "P", 8000, "x");
    assert_true(f.a1 > 0 && f.b > 0 && f.prov > 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    db_close(&f->db);
    return 0;
}

static uint64_t bytes_for(double kbps, int64_t ms)
{
    return (uint64_t)(kbps * (double)ms / 8.0); /* kbit/s x ms = bits */
}

static int count(struct db *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db->h, sql, -1, &st, NULL), SQLITE_OK);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

static json_t *sample(json_t *unit, size_t i)
{
    return json_array_get(json_object_get(unit, "samples"), i);
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void test_windows_and_alarms(void **state)
{
    struct fixture *f = *state;
    struct monitor *m = monitor_new(&f->db, 300, 400, T0);
    assert_non_null(m);
    monitor_set_alarm_hook(m, on_alarm, f);
    /* 883: 1900 kbps from its sites against 2000 kbps of links: 95 %, in alarm. The downlink
     * is smaller and does not count. 884: 100 kbps of 500 down, 20 %. */
    assert_int_equal(monitor_add(m, f->a1, bytes_for(1200, WIN), bytes_for(300, WIN)), 0);
    assert_int_equal(monitor_add(m, f->a2, bytes_for(700, WIN), bytes_for(300, WIN)), 0);
    assert_int_equal(monitor_add(m, f->b, bytes_for(10, WIN), bytes_for(100, WIN)), 0);
    assert_int_equal(monitor_add(m, 9999, 1000000, 1000000), 0); /* a deleted site: not counted */
    assert_int_equal(monitor_tick(m, T0 + WIN - 1), 0);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_windows"), 0);
    assert_int_equal(monitor_tick(m, T0 + WIN + 150), 1);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_windows"), 1);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_units"), 2);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_sites"), 3);
    assert_int_equal(f->nseen, 1);
    assert_string_equal(f->seen[0].unit, "883");
    assert_string_equal(f->seen[0].name, "Thành phố Long Xuyên");
    assert_true(f->seen[0].raised);
    assert_int_equal(f->seen[0].t, T0);
    assert_int_equal(f->seen[0].capacity_kbps, 2000);
    assert_true(fabs(f->seen[0].utilisation - 0.95) < 1e-3);

    /* Still in alarm in the next window: no second notice. */
    assert_int_equal(monitor_add(m, f->a1, bytes_for(1950, WIN), 0), 0);
    assert_int_equal(monitor_tick(m, T0 + 2 * WIN), 1);
    assert_int_equal(f->nseen, 1);
    /* An idle window: a window row only, and the alarm clears. */
    assert_int_equal(monitor_tick(m, T0 + 3 * WIN), 1);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_windows"), 3);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_units"), 3);
    assert_int_equal(f->nseen, 2);
    assert_string_equal(f->seen[1].unit, "883");
    assert_false(f->seen[1].raised);
    assert_int_equal(f->seen[1].t, T0 + 2 * WIN);
    assert_string_equal(f->seen[1].name, "Thành phố Long Xuyên");
    assert_true(f->seen[1].utilisation == 0);

    /* The API's view: three samples, the idle one zero-filled. */
    json_t *u = monitor_unit_json(&f->db, "883", T0, T0 + 3 * WIN, 300);
    assert_non_null(u);
    assert_string_equal(json_string_value(json_object_get(u, "unit")), "883");
    assert_int_equal(json_integer_value(json_object_get(u, "capacity_kbps")), 2000);
    assert_int_equal(json_integer_value(json_object_get(u, "sample_s")), 300);
    assert_true(fabs(num(u, "threshold") - 0.9) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(u, "samples")), 3);
    assert_int_equal(json_integer_value(json_object_get(sample(u, 0), "t")), T0);
    assert_true(fabs(num(sample(u, 0), "kbps_in") - 1900 * 1.0) < 0.2);
    assert_true(fabs(num(sample(u, 0), "kbps_out") - 600) < 0.2);
    assert_true(fabs(num(sample(u, 0), "utilisation") - 0.95) < 1e-3);
    assert_true(json_is_true(json_object_get(sample(u, 0), "alarm")));
    assert_true(json_is_true(json_object_get(sample(u, 1), "alarm")));
    assert_true(fabs(num(sample(u, 1), "utilisation") - 0.975) < 1e-3);
    assert_true(json_is_false(json_object_get(sample(u, 2), "alarm")));
    assert_true(num(sample(u, 2), "utilisation") == 0 && num(sample(u, 2), "kbps_in") == 0);
    assert_true(json_is_real(json_object_get(sample(u, 2), "utilisation")));
    json_decref(u);
    /* A range selects by window start; a unit without sites has no utilisation. */
    u = monitor_unit_json(&f->db, "883", T0 + 1, T0 + 2 * WIN, 300);
    assert_int_equal(json_array_size(json_object_get(u, "samples")), 1);
    json_decref(u);
    u = monitor_unit_json(&f->db, "30280", T0, T0 + 3 * WIN, 300);
    assert_int_equal(json_integer_value(json_object_get(u, "capacity_kbps")), 0);
    assert_int_equal(json_array_size(json_object_get(u, "samples")), 3);
    assert_true(json_is_null(json_object_get(sample(u, 0), "utilisation")));
    json_decref(u);
    assert_null(monitor_unit_json(&f->db, "77777", T0, T0 + WIN, 300));
    u = monitor_unit_json(&f->db, "884", T0, T0 + WIN, 300);
    assert_true(fabs(num(sample(u, 0), "utilisation") - 0.2) < 1e-3); /* the downlink is the larger */
    json_decref(u);
    monitor_free(m);
}

static void test_alarm_list_scope(void **state)
{
    struct fixture *f = *state;
    struct monitor *m = monitor_new(&f->db, 300, 400, T0);
    monitor_add(m, f->b, bytes_for(480, WIN), 0);      /* 884: 96 % */
    monitor_add(m, f->a1, bytes_for(1850, WIN), 0);    /* 883: 92.5 % */
    monitor_add(m, f->prov, bytes_for(7000, WIN), 0);  /* 89: 87.5 %, below */
    assert_int_equal(monitor_tick(m, T0 + WIN), 1);
    json_t *j = monitor_alarms_json(&f->db, "");
    json_t *a = json_object_get(j, "alarms");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "unit")), "884");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "name")), "Châu Đốc");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "t")), T0);
    assert_true(fabs(num(json_array_get(a, 0), "utilisation") - 0.96) < 1e-3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "unit")), "883");
    json_decref(j);
    j = monitor_alarms_json(&f->db, "883");
    assert_int_equal(json_array_size(json_object_get(j, "alarms")), 1);
    json_decref(j);
    j = monitor_alarms_json(&f->db, "30280");
    assert_int_equal(json_array_size(json_object_get(j, "alarms")), 0);
    json_decref(j);
    /* Only the latest window counts: after an idle one the list is empty. */
    assert_int_equal(monitor_tick(m, T0 + 2 * WIN), 1);
    j = monitor_alarms_json(&f->db, "");
    assert_int_equal(json_array_size(json_object_get(j, "alarms")), 0);
    json_decref(j);
    monitor_free(m);
}

/* The first window after a start covers only part of its length; a clock jump forward
 * closes the window at its end and starts the next at the new time; a jump back drops
 * what was counted. */
static void test_partial_and_clock(void **state)
{
    struct fixture *f = *state;
    struct monitor *m = monitor_new(&f->db, 300, 400, T0 + 100000);
    monitor_add(m, f->a1, bytes_for(1000, 200000), 0); /* 1000 kbps for the 200 s covered */
    assert_int_equal(monitor_tick(m, T0 + WIN), 1);
    json_t *u = monitor_unit_json(&f->db, "883", T0, T0 + WIN, 300);
    assert_true(fabs(num(sample(u, 0), "kbps_in") - 1000) < 0.2);
    assert_true(fabs(num(sample(u, 0), "utilisation") - 0.5) < 1e-3);
    json_decref(u);
    /* Forward by an hour: the window [T0+300 s, +600 s) closes; the next starts at the new time. */
    monitor_add(m, f->a1, bytes_for(100, WIN), 0);
    int64_t later = T0 + 12 * WIN + 60000;
    assert_int_equal(monitor_tick(m, later), 1);
    monitor_add(m, f->a1, bytes_for(1000, 240000), 0);
    assert_int_equal(monitor_tick(m, T0 + 13 * WIN), 1);
    u = monitor_unit_json(&f->db, "883", T0 + 12 * WIN, T0 + 13 * WIN, 300);
    assert_int_equal(json_array_size(json_object_get(u, "samples")), 1);
    assert_true(fabs(num(sample(u, 0), "kbps_in") - 1000) < 0.2); /* over the 240 s covered */
    json_decref(u);
    /* Back in time: nothing is written for the counts before the jump. */
    monitor_add(m, f->a1, bytes_for(1000, 1000), 0);
    int before = count(&f->db, "SELECT count(*) FROM monitor_sites");
    assert_int_equal(monitor_tick(m, T0 + 5 * WIN + 10), 0);
    assert_int_equal(monitor_tick(m, T0 + 6 * WIN), 1);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_sites"), before);
    monitor_free(m);
}

static void test_many_sites_and_prune(void **state)
{
    struct fixture *f = *state;
    int64_t now = T0 + 500LL * 86400 * 1000;
    assert_int_equal(sqlite3_exec(f->db.h, "DELETE FROM monitor_windows; DELETE FROM monitor_units; "
                                           "DELETE FROM monitor_sites", NULL, NULL, NULL), SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO monitor_windows VALUES (%lld, 300000), (%lld, 300000)",
             (long long)(now - 401LL * 86400 * 1000), (long long)(now - 399LL * 86400 * 1000));
    assert_int_equal(sqlite3_exec(f->db.h, sql, NULL, NULL, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql, "INSERT INTO monitor_units VALUES ('883', %lld, 1, 1, 2000, 0.1)",
             (long long)(now - 401LL * 86400 * 1000));
    assert_int_equal(sqlite3_exec(f->db.h, sql, NULL, NULL, NULL), SQLITE_OK);
    struct monitor *m = monitor_new(&f->db, 300, 400, now); /* prunes at start */
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_windows"), 1);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_units"), 0);
    /* Thousands of sites in one window: the table grows, every count lands. */
    for (int64_t s = 1; s <= 5000; s++)
        assert_int_equal(monitor_add(m, s, 10, 20), 0);
    for (int64_t s = 1; s <= 5000; s++)
        assert_int_equal(monitor_add(m, s, 10, 20), 0);
    assert_int_equal(monitor_tick(m, now / WIN * WIN + WIN), 1);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_sites"), 4); /* the four that exist */
    assert_int_equal(count(&f->db, "SELECT sum(bytes_in) FROM monitor_sites"), 80);
    assert_int_equal(count(&f->db, "SELECT sum(bytes_out) FROM monitor_units"), 160);
    /* A day later the next prune drops the 399-day-old window. */
    monitor_tick(m, now + 86400LL * 1000 + 1000);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM monitor_windows WHERE t < %lld", (long long)now);
    assert_int_equal(count(&f->db, sql), 0);
    assert_int_equal(count(&f->db, "SELECT count(*) FROM monitor_windows"), 2); /* the two since */
    monitor_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_windows_and_alarms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alarm_list_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_and_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_sites_and_prune, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
