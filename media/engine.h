/* The media engine of one worker: what happens to a datagram, a tick and a command.
 * Called only from its worker's thread. */
#ifndef MEDIA_ENGINE_H
#define MEDIA_ENGINE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct worker;
struct mcu_msg;

struct engine *engine_create(struct worker *w);
void engine_destroy(struct engine *e);

/* `buf` belongs to the worker's receive batch and may be modified in place (decryption). */
void engine_on_datagram(struct engine *e, int sock, uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, socklen_t fromlen, int64_t now_ns);
void engine_on_tick(struct engine *e, int64_t now_ns);
/* Commands other than the worker's own (CMD_PING). Takes ownership of m->ptr. A NULL
 * engine only releases the payload (the worker is shutting down). */
void engine_on_command(struct engine *e, struct mcu_msg *m);

/* For the conference logic (echo.c, later the mixer and router), on the worker thread. */
#include "mcu/stats.h"
struct peer;
uint8_t *engine_tx_reserve(struct engine *e);                  /* WORKER_PKT_MAX bytes */
void engine_tx_commit(struct engine *e, struct peer *p, size_t len); /* to p's selected address */
void engine_drop(struct engine *e, enum drop_reason r);
void engine_emit(struct engine *e, uint32_t type, uint64_t id, int64_t arg); /* to signaling */
/* An event with a heap payload the signaling thread frees; false (keep it) if the queue is full. */
bool engine_emit_ptr(struct engine *e, uint32_t type, void *ptr);

#endif
