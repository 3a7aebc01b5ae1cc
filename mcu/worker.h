/* A media worker: one thread, one epoll loop, its UDP sockets, a 20 ms timerfd tick, and a
 * command queue from the signaling thread woken through an eventfd. Everything the media
 * path touches for the worker's sessions is owned by this thread alone. */
#ifndef MCU_WORKER_H
#define MCU_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mcu/config.h"
#include "mcu/spsc.h"
#include "mcu/stats.h"

#define WORKER_MAX_SOCKS CONFIG_MAX_MEDIA_ADDRS
#define WORKER_BATCH 32      /* datagrams per recvmmsg / sendmmsg call */
#define WORKER_PKT_MAX 2048  /* bytes per datagram buffer */
#define WORKER_TICK_NS 20000000LL

struct engine;

typedef void (*worker_notify_fn)(void *arg); /* wakes the signaling thread; any thread */

struct worker_sock {
    int fd;                         /* nonblocking UDP socket */
    struct sockaddr_storage local;  /* bound address */
    char addr_text[64];             /* the configured address, as announced */
    int port;                       /* bound UDP port (differs per socket when ephemeral) */
};

struct worker_tx {
    struct mmsghdr msg[WORKER_BATCH];           /* ready for sendmmsg */
    struct iovec iov[WORKER_BATCH];
    struct sockaddr_storage to[WORKER_BATCH];
    int sock[WORKER_BATCH];                     /* index into socks[] per entry */
    uint8_t buf[WORKER_BATCH][WORKER_PKT_MAX];
    int n;                                      /* entries queued */
};

struct worker {
    int index;                          /* 0..N-1; media port = base + index */
    pthread_t thread;
    bool started;                       /* thread was created */
    int epfd, evfd, tfd;                /* epoll, command wake-up, 20 ms tick */
    struct worker_sock socks[WORKER_MAX_SOCKS];
    int nsocks;
    int port;                           /* UDP port of the first socket */
    int64_t consent_timeout_ns;         /* from the configuration */
    struct spsc cmdq;                   /* signaling -> worker */
    struct spsc evq;                    /* worker -> signaling */
    _Atomic bool stop;                  /* set by worker_stop */
    worker_notify_fn notify;
    void *notify_arg;
    struct engine *engine;              /* media state, owned by the worker thread */
    struct dtls_identity *identity;     /* shared certificate, set before worker_start */
    struct worker_tx tx;                /* outgoing batch, worker thread only */
    int64_t tick_start_ns;              /* first tick's due time */
    int64_t tick_count;                 /* due ticks so far, including missed ones */
    int64_t last_tick_ns;               /* worker-private copy of stats.last_tick_ns */
    struct worker_stats stats;          /* read by any thread */
};

/* Binds the sockets and creates the fds in the calling thread, so that a port in use is
 * reported at start-up. Returns 0 or -errno; on failure nothing is left open. */
int worker_init(struct worker *w, int index, const struct mcu_config *cfg,
                worker_notify_fn notify, void *notify_arg);
int worker_start(struct worker *w);
void worker_stop(struct worker *w);    /* any thread; returns at once */
void worker_join(struct worker *w);
void worker_destroy(struct worker *w); /* after join (or if never started) */

/* Signaling thread: queue a command and wake the worker. false if the queue is full. */
bool worker_send_cmd(struct worker *w, const struct mcu_msg *m);
/* Signaling thread: take one event the worker emitted. */
bool worker_poll_event(struct worker *w, struct mcu_msg *out);

/* Worker thread only. */
bool worker_emit(struct worker *w, const struct mcu_msg *m);
/* Reserve the next outgoing buffer (WORKER_PKT_MAX bytes), fill it, then commit it with its
 * length and destination; the batch goes out by sendmmsg when full or at the end of the loop
 * iteration. Reserve never fails: a full batch is flushed first. */
uint8_t *worker_tx_reserve(struct worker *w);
void worker_tx_commit(struct worker *w, int sock, size_t len, const struct sockaddr *to,
                      socklen_t tolen);

int64_t mono_ns(void);

#endif
