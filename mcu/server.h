/* The whole daemon as one object: configuration, database, media workers and the signaling
 * thread, started and stopped in the right order. main() and the benches both use it. */
#ifndef MCU_SERVER_H
#define MCU_SERVER_H

#include <stdint.h>

#include "mcu/config.h"
#include "mcu/worker.h"
#include "rooms/db.h"

struct signaling;

struct server {
    struct mcu_config cfg;   /* copy of the configuration in force */
    struct worker *workers;  /* nworkers entries */
    int nworkers;
    struct signaling *sig;   /* the signaling thread and its lws context */
    struct db db;            /* owned by the signaling thread once started */
    struct dtls_identity *identity; /* the DTLS certificate every session presents */
    int64_t started_ns;      /* CLOCK_MONOTONIC at start */
};

/* Opens the database, binds every socket, then starts the threads. On failure everything
 * already opened is closed again and err says why. */
int server_start(struct server *s, const struct mcu_config *cfg, char *err, size_t errlen);
/* Stops the signaling thread and the workers, joins them, closes sockets and database. */
void server_shutdown(struct server *s);

#endif
