/* The administrative tree (province -> district -> commune, any depth) in the database,
 * and its import from the national list of administrative units (shared/data). */
#ifndef ROOMS_UNITS_H
#define ROOMS_UNITS_H

#include <stddef.h>

#include "rooms/db.h"

struct units_import_result {
    int inserted;       /* units new in the database */
    int updated;        /* units already there whose name, type or parent changed */
    int written;        /* inserted + updated */
    int provinces;      /* provinces read from the file */
    int by_level[4];    /* units read at levels 1..3 (index 1..3) */
    char name[128];     /* the (last) province's name */
};

/* Imports one province (level-1 code, e.g. "89") and everything below it from the national
 * JSON file, in one transaction: all or nothing. Units already present are left as they are,
 * so a second import changes nothing. 0, or -1 with a message in err. */
int units_import_province(struct db *db, const char *json_path, const char *code,
                          struct units_import_result *res, char *err, size_t errlen);

/* The same for one province by code, or every province when code is NULL or "all"; a
 * re-import updates changed names and never duplicates. */
int units_import(struct db *db, const char *json_path, const char *code, struct units_import_result *res,
                 char *err, size_t errlen);

/* How many units the database holds. */
int units_count(struct db *db);

#endif
