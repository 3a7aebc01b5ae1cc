/* The embedded SQLite database: opening, pragmas and schema migrations.
 * Used from the signaling thread only. */
#ifndef ROOMS_DB_H
#define ROOMS_DB_H

#include <sqlite3.h>
#include <stddef.h>

struct db {
    sqlite3 *h;         /* open connection, owned */
    int schema_version; /* after migrations */
};

/* Opens (creating the file and its directory if needed) and migrates. 0 or -1 with a
 * message in err. */
int db_open(struct db *db, const char *path, char *err, size_t errlen);
void db_close(struct db *db);
int db_schema_latest(void);

#endif
