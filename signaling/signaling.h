/* The signaling thread: one libwebsockets loop serving HTTP, the REST API, static files and
 * WebSockets on one port, and the receiving end of every worker's event queue. */
#ifndef SIGNALING_SIGNALING_H
#define SIGNALING_SIGNALING_H

#include <stddef.h>

struct server;
struct signaling;

/* Creates the lws context and binds the listening socket (so a port in use fails here). */
struct signaling *signaling_create(struct server *srv, char *err, size_t errlen);
int signaling_start(struct signaling *sig);
void signaling_stop(struct signaling *sig);    /* any thread */
void signaling_join(struct signaling *sig);
void signaling_destroy(struct signaling *sig);
void signaling_wake(void *sig);                /* any thread: drain worker events soon */
int signaling_port(const struct signaling *sig); /* the bound port (useful with port 0) */

#endif
