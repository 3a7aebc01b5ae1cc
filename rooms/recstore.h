/* The recordings of conferences in the store (table `recordings`). Signaling thread only. */
#ifndef ROOMS_RECSTORE_H
#define ROOMS_RECSTORE_H

#include "rooms/db.h"
#include "rooms/store.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct recstore_row {
    int64_t id, conference, bytes;
    char host_unit[STORE_UNIT_MAX];
    char title[STORE_NAME_MAX];
    char file[64];               /* inside the recording directory */
    char state[16];              /* recording, done, failed, interrupted */
};

/* A new row in state 'recording'; its file name comes from recstore_file_name. id or < 0. */
int64_t recstore_create(struct db *db, int64_t conf, const char *host_unit, const char *title, int64_t at,
                        const char *by);
void recstore_file_name(int64_t conf, int64_t id, char *out, size_t len);
int recstore_progress(struct db *db, int64_t id, int64_t duration_ms, int64_t bytes);
/* The end: state done, failed or interrupted, with an error sentence ("" none). */
int recstore_finish(struct db *db, int64_t id, const char *state, const char *error, int64_t at,
                    int64_t duration_ms, int64_t bytes);
int recstore_get(struct db *db, int64_t id, struct recstore_row *out);
/* {id, conference, title, host_unit, started_at, ended_at, duration_ms, bytes, state, error,
 * started_by}: one (NULL if none) or the list, newest first, in scope ("" = all), of one
 * conference (conf > 0) or all. */
json_t *recstore_json(struct db *db, int64_t id);
json_t *recstore_list(struct db *db, const char *scope, int64_t conf);
int recstore_delete(struct db *db, int64_t id);
/* At start-up: rows left 'recording' by a server that died become 'interrupted'; count. */
int recstore_interrupted(struct db *db);
/* Finished recordings that ended before `before` (retention), ids malloc'd; count or < 0. */
int recstore_older_than(struct db *db, int64_t before, int64_t **ids);

#endif
