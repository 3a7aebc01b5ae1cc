/* Shared by the store's files (rooms/store.c, store_sched.c, recstore.c); not an API. */
#ifndef ROOMS_STORE_PRIV_H
#define ROOMS_STORE_PRIV_H

#include "rooms/db.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>

/* A CTE naming the unit ?1 and its subtree "sub". */
#define SUBTREE "WITH RECURSIVE sub(id) AS (SELECT id FROM units WHERE id = ?1 " \
                "UNION ALL SELECT u.id FROM units u JOIN sub ON u.parent_id = sub.id) "

/* A prepared statement (NULL after logging the error). */
sqlite3_stmt *store_prep(struct db *db, const char *sql);
/* Every row of st as a JSON object named by column; finalizes st (NULL gives []). */
json_t *store_rows_json(sqlite3_stmt *st);
/* Steps and finalizes st: STORE_OK, STORE_CONFLICT, STORE_ERROR, or STORE_NOT_FOUND when
 * need_change and no row changed. */
int store_run(struct db *db, sqlite3_stmt *st, bool need_change);

#endif
