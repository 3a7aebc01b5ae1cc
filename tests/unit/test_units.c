/* Import of the national administrative-unit list: a real province from shared/data, an
 * idempotent second import, and all-or-nothing on bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcu/log.h"
#include "rooms/db.h"
#include "rooms/units.h"

static const char *units_path(void)
{
    static char path[512];
    const char *src = getenv("MCU_SRCDIR");
    snprintf(path, sizeof path, "%s/../shared/data/vn-admin-units-2025-03.json", src ? src : ".");
    return path;
}

static int level_count(struct db *db, int level)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db->h, "SELECT count(*) FROM units WHERE level = ?", -1, &st, NULL);
    sqlite3_bind_int(st, 1, level);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
}

static void test_import_an_giang(void **state)
{
    (void)state;
    struct db db;
    char err[256];
    assert_int_equal(db_open(&db, ":memory:", err, sizeof err), 0);
    struct units_import_result r;
    assert_int_equal(units_import_province(&db, units_path(), "89", &r, err, sizeof err), 0);
    assert_string_equal(r.name, "Tỉnh An Giang");
    assert_int_equal(r.inserted, 167); /* 1 province, 11 districts, 155 communes */
    assert_int_equal(level_count(&db, 1), 1);
    assert_int_equal(level_count(&db, 2), 11);
    assert_int_equal(level_count(&db, 3), 155);
    /* Every commune hangs off a district of this province. */
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db.h, "SELECT count(*) FROM units c JOIN units d ON c.parent_id = d.id "
                             "WHERE c.level = 3 AND d.level = 2 AND d.parent_id = '89'", -1, &st, NULL);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 155);
    sqlite3_finalize(st);
    /* A second import changes nothing. */
    assert_int_equal(units_import_province(&db, units_path(), "89", &r, err, sizeof err), 0);
    assert_int_equal(r.inserted, 0);
    assert_int_equal(r.updated, 0);
    assert_int_equal(units_count(&db), 167);
    /* A unit renamed locally gets its official name back, still without duplicates. */
    assert_int_equal(sqlite3_exec(db.h, "UPDATE units SET name = 'old' WHERE id = '883'", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(units_import(&db, units_path(), "89", &r, err, sizeof err), 0);
    assert_int_equal(r.inserted, 0);
    assert_int_equal(r.updated, 1);
    assert_int_equal(units_count(&db), 167);
    db_close(&db);
}

static void test_import_all(void **state)
{
    (void)state;
    struct db db;
    char err[256];
    assert_int_equal(db_open(&db, ":memory:", err, sizeof err), 0);
    struct units_import_result r;
    assert_int_equal(units_import(&db, units_path(), "all", &r, err, sizeof err), 0);
    assert_int_equal(r.provinces, 63);
    assert_int_equal(level_count(&db, 1), 63);
    assert_int_equal(level_count(&db, 2), 696);
    assert_int_equal(level_count(&db, 3), 10047);
    assert_int_equal(r.inserted, 63 + 696 + 10047);
    assert_int_equal(units_import(&db, units_path(), NULL, &r, err, sizeof err), 0);
    assert_int_equal(r.inserted, 0);
    db_close(&db);
}

static void test_unknown_province(void **state)
{
    (void)state;
    struct db db;
    char err[256];
    assert_int_equal(db_open(&db, ":memory:", err, sizeof err), 0);
    struct units_import_result r;
    assert_int_equal(units_import_province(&db, units_path(), "99", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "no province with code '99'"));
    assert_int_equal(units_import_province(&db, "/nonexistent.json", "89", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read"));
    assert_int_equal(units_count(&db), 0);
    db_close(&db);
}

static void test_bad_unit_rolls_back(void **state)
{
    (void)state;
    char path[] = "/tmp/mcu-units-XXXXXX";
    int fd = mkstemp(path);
    const char *json = "{\"data\":[{\"level1_id\":\"77\",\"name\":\"T\",\"type\":\"Tỉnh\",\"level2s\":["
                       "{\"level2_id\":\"770\",\"name\":\"H1\",\"level3s\":[{\"level3_id\":\"77001\",\"name\":\"X\"}]},"
                       "{\"level2_id\":\"771\"}]}]}"; /* the second district has no name */
    assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    struct db db;
    char err[256];
    assert_int_equal(db_open(&db, ":memory:", err, sizeof err), 0);
    struct units_import_result r;
    assert_int_equal(units_import_province(&db, path, "77", &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "lacks"));
    assert_int_equal(units_count(&db), 0); /* nothing half-written */
    db_close(&db);
    unlink(path);
}

int main(void)
{
    log_init(LOG_LVL_WARN, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import_an_giang),
        cmocka_unit_test(test_import_all),
        cmocka_unit_test(test_unknown_province),
        cmocka_unit_test(test_bad_unit_rolls_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
