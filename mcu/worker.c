/* The media worker's loop: epoll over the UDP sockets, the command eventfd and the tick
 * timerfd. Receives in recvmmsg batches into preallocated buffers and sends in sendmmsg
 * batches; nothing here allocates or locks once the thread runs. */
#include "mcu/worker.h"
#include "mcu/log.h"
#include "mcu/msg.h"
#include "mcu/netaddr.h"
#include "media/engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TAG_EVENT (-1)
#define TAG_TIMER (-2)
#define RX_ROUNDS 8 /* recvmmsg batches per socket before the loop looks at the rest */

int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int open_socket(struct worker_sock *s, const char *addr, int port)
{
    socklen_t len;
    int rc = netaddr_parse(addr, port, &s->local, &len);
    if (rc < 0) {
        log_error("worker", "media address '%s' is not an IP address", addr);
        return rc;
    }
    int fd = socket(s->local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (s->local.ss_family == AF_INET6) {
        /* "::" means one dual-stack socket for every address; a specific IPv6 address
         * stays IPv6-only so that it never answers for IPv4. */
        int v6only = !IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&s->local)->sin6_addr);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    int bufsz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
    if (bind(fd, (struct sockaddr *)&s->local, len) < 0) {
        rc = -errno;
        log_error("worker", "cannot bind UDP %s port %d: %s", addr, port, strerror(errno));
        close(fd);
        return rc;
    }
    getsockname(fd, (struct sockaddr *)&s->local, &len);
    s->port = ntohs(s->local.ss_family == AF_INET ? ((struct sockaddr_in *)&s->local)->sin_port
                                                  : ((struct sockaddr_in6 *)&s->local)->sin6_port);
    s->fd = fd;
    snprintf(s->addr_text, sizeof s->addr_text, "%s", addr);
    return 0;
}

static int epoll_add(int epfd, int fd, int tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(int64_t)tag};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int worker_init(struct worker *w, int index, const struct mcu_config *cfg,
                worker_notify_fn notify, void *notify_arg)
{
    memset(w, 0, sizeof *w);
    w->index = index;
    /* media_port 0 asks for ephemeral ports (tests that run servers side by side). */
    w->port = cfg->media_port ? cfg->media_port + index : 0;
    w->notify = notify;
    w->consent_timeout_ns = (int64_t)cfg->consent_timeout_ms * 1000000LL;
    w->notify_arg = notify_arg;
    w->epfd = w->evfd = w->tfd = -1;
    int rc;
    if ((rc = spsc_init(&w->cmdq, (size_t)cfg->queue_depth)) < 0)
        return rc;
    if ((rc = spsc_init(&w->evq, (size_t)cfg->queue_depth)) < 0)
        goto out_free_cmdq;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (w->epfd < 0 || w->evfd < 0 || w->tfd < 0) {
        rc = -errno;
        goto out_close_fds;
    }
    for (int i = 0; i < cfg->n_media_addrs; i++) {
        if ((rc = open_socket(&w->socks[i], cfg->media_addrs[i], w->port)) < 0)
            goto out_close_socks;
        w->nsocks++;
        w->port = w->socks[0].port;
        if ((rc = epoll_add(w->epfd, w->socks[i].fd, i)) < 0)
            goto out_close_socks;
    }
    if ((rc = epoll_add(w->epfd, w->evfd, TAG_EVENT)) < 0 ||
        (rc = epoll_add(w->epfd, w->tfd, TAG_TIMER)) < 0)
        goto out_close_socks;
    w->engine = engine_create(w);
    if (!w->engine) {
        rc = -ENOMEM;
        goto out_close_socks;
    }
    return 0;

out_close_socks:
    for (int i = 0; i < w->nsocks; i++)
        close(w->socks[i].fd);
    w->nsocks = 0;
out_close_fds:
    if (w->epfd >= 0) close(w->epfd);
    if (w->evfd >= 0) close(w->evfd);
    if (w->tfd >= 0) close(w->tfd);
    w->epfd = w->evfd = w->tfd = -1;
    spsc_free(&w->evq);
out_free_cmdq:
    spsc_free(&w->cmdq);
    return rc;
}

bool worker_send_cmd(struct worker *w, const struct mcu_msg *m)
{
    if (!spsc_push(&w->cmdq, m))
        return false;
    uint64_t one = 1;
    ssize_t n = write(w->evfd, &one, sizeof one);
    (void)n; /* EAGAIN only when the counter is saturated: the worker is awake anyway */
    return true;
}

bool worker_poll_event(struct worker *w, struct mcu_msg *out)
{
    return spsc_pop(&w->evq, out);
}

bool worker_emit(struct worker *w, const struct mcu_msg *m)
{
    if (!spsc_push(&w->evq, m)) {
        stat_add(&w->stats.drops[DROP_EVENT_QUEUE_FULL], 1);
        return false;
    }
    stat_add(&w->stats.events, 1);
    if (w->notify)
        w->notify(w->notify_arg);
    return true;
}

static void tx_flush(struct worker *w);

uint8_t *worker_tx_reserve(struct worker *w)
{
    if (w->tx.n == WORKER_BATCH)
        tx_flush(w);
    return w->tx.buf[w->tx.n];
}

void worker_tx_commit(struct worker *w, int sock, size_t len, const struct sockaddr *to,
                      socklen_t tolen)
{
    struct worker_tx *t = &w->tx;
    int i = t->n;
    memcpy(&t->to[i], to, tolen);
    t->sock[i] = sock;
    t->iov[i].iov_base = t->buf[i];
    t->iov[i].iov_len = len;
    memset(&t->msg[i].msg_hdr, 0, sizeof t->msg[i].msg_hdr);
    t->msg[i].msg_hdr.msg_name = &t->to[i];
    t->msg[i].msg_hdr.msg_namelen = tolen;
    t->msg[i].msg_hdr.msg_iov = &t->iov[i];
    t->msg[i].msg_hdr.msg_iovlen = 1;
    t->n++;
    if (t->n == WORKER_BATCH)
        tx_flush(w);
}

/* Sends runs of consecutive entries that share a socket, one sendmmsg per run. */
static void tx_flush(struct worker *w)
{
    struct worker_tx *t = &w->tx;
    int start = 0;
    while (start < t->n) {
        int end = start + 1;
        while (end < t->n && t->sock[end] == t->sock[start])
            end++;
        int fd = w->socks[t->sock[start]].fd;
        int i = start;
        while (i < end) {
            int sent = sendmmsg(fd, &t->msg[i], (unsigned)(end - i), 0);
            if (sent < 0) {
                if (errno == EINTR)
                    continue;
                /* EAGAIN or a per-destination error: count this one and go on. */
                stat_add(&w->stats.drops[errno == EAGAIN ? DROP_TX_QUEUE_FULL : DROP_TX_ERROR], 1);
                i++;
                continue;
            }
            for (int k = i; k < i + sent; k++)
                stat_add(&w->stats.tx_bytes, t->msg[k].msg_len);
            stat_add(&w->stats.tx_packets, (uint64_t)sent);
            i += sent;
        }
        start = end;
    }
    t->n = 0;
}

static void handle_commands(struct worker *w)
{
    uint64_t cnt;
    ssize_t n = read(w->evfd, &cnt, sizeof cnt);
    (void)n;
    struct mcu_msg m;
    while (spsc_pop(&w->cmdq, &m)) {
        stat_add(&w->stats.cmds, 1);
        if (m.type == CMD_PING) {
            struct mcu_msg r = {.type = EV_PONG, .worker = (uint32_t)w->index, .id = m.id, .arg = m.arg};
            worker_emit(w, &r);
        } else {
            engine_on_command(w->engine, &m);
        }
    }
}

static void handle_tick(struct worker *w)
{
    uint64_t expirations = 0;
    if (read(w->tfd, &expirations, sizeof expirations) != sizeof expirations || !expirations)
        return;
    int64_t now = mono_ns();
    w->tick_count += (int64_t)expirations;
    int64_t due = w->tick_start_ns + (w->tick_count - 1) * WORKER_TICK_NS;
    int64_t lag_us = (now - due) / 1000;
    if (lag_us < 0)
        lag_us = 0;
    struct worker_stats *s = &w->stats;
    atomic_store_explicit(&s->lag_last_us, (uint32_t)lag_us, memory_order_relaxed);
    if ((uint32_t)lag_us > atomic_load_explicit(&s->lag_max_us, memory_order_relaxed))
        atomic_store_explicit(&s->lag_max_us, (uint32_t)lag_us, memory_order_relaxed);
    if (w->last_tick_ns) {
        int64_t jit = (now - w->last_tick_ns - WORKER_TICK_NS) / 1000;
        if (jit < 0)
            jit = -jit;
        if (jit >= JITTER_BUCKETS)
            jit = JITTER_BUCKETS - 1;
        _Atomic uint32_t *b = &s->jitter_hist[jit];
        atomic_store_explicit(b, atomic_load_explicit(b, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        if ((uint32_t)jit > atomic_load_explicit(&s->jitter_max_us, memory_order_relaxed))
            atomic_store_explicit(&s->jitter_max_us, (uint32_t)jit, memory_order_relaxed);
    }
    w->last_tick_ns = now;
    atomic_store_explicit(&s->last_tick_ns, now, memory_order_relaxed);
    stat_add(&s->ticks, 1);
    if (expirations > 1)
        stat_add(&s->ticks_missed, expirations - 1);
    engine_on_tick(w->engine, now);
}

/* Reads up to RX_ROUNDS batches from one socket and hands each datagram to the engine. */
static void handle_socket(struct worker *w, int si, struct mmsghdr *msgs, struct iovec *iov,
                          struct sockaddr_storage *from, uint8_t (*bufs)[WORKER_PKT_MAX])
{
    int fd = w->socks[si].fd;
    for (int round = 0; round < RX_ROUNDS; round++) {
        for (int i = 0; i < WORKER_BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = WORKER_PKT_MAX;
            memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof from[i];
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, WORKER_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        int64_t now = mono_ns();
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len;
            stat_add(&w->stats.rx_packets, 1);
            stat_add(&w->stats.rx_bytes, len);
            if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                stat_add(&w->stats.drops[DROP_TRUNCATED], 1);
                continue;
            }
            engine_on_datagram(w->engine, si, bufs[i], len, &from[i], msgs[i].msg_hdr.msg_namelen, now);
        }
        if (n < WORKER_BATCH)
            return;
    }
}

struct rx_batch {
    struct mmsghdr msgs[WORKER_BATCH];
    struct iovec iov[WORKER_BATCH];
    struct sockaddr_storage from[WORKER_BATCH];
    uint8_t bufs[WORKER_BATCH][WORKER_PKT_MAX];
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "media-%d", w->index);
    pthread_setname_np(pthread_self(), name);

    struct rx_batch *rx = calloc(1, sizeof *rx); /* once per thread, not per packet */
    if (!rx) {
        log_error("worker", "worker %d: out of memory", w->index);
        return NULL;
    }
    w->tick_start_ns = mono_ns() + WORKER_TICK_NS;
    struct itimerspec its = {
        .it_interval = {0, WORKER_TICK_NS},
        .it_value = {w->tick_start_ns / 1000000000LL, w->tick_start_ns % 1000000000LL},
    };
    timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    atomic_store(&w->stats.last_tick_ns, mono_ns());
    log_info("worker", "worker %d running on UDP port %d (%d socket%s)", w->index, w->port,
             w->nsocks, w->nsocks == 1 ? "" : "s");

    struct epoll_event evs[16];
    while (!atomic_load_explicit(&w->stop, memory_order_acquire)) {
        int n = epoll_wait(w->epfd, evs, 16, 1000);
        int64_t t0 = mono_ns();
        for (int i = 0; i < n; i++) {
            int tag = (int)(int64_t)evs[i].data.u64;
            if (tag == TAG_EVENT)
                handle_commands(w);
            else if (tag == TAG_TIMER)
                handle_tick(w);
            else
                handle_socket(w, tag, rx->msgs, rx->iov, rx->from, rx->bufs);
        }
        if (w->tx.n)
            tx_flush(w);
        stat_add(&w->stats.busy_ns, (uint64_t)(mono_ns() - t0));
    }
    free(rx);
    log_info("worker", "worker %d stopped", w->index);
    return NULL;
}

int worker_start(struct worker *w)
{
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc)
        return -rc;
    w->started = true;
    return 0;
}

void worker_stop(struct worker *w)
{
    atomic_store_explicit(&w->stop, true, memory_order_release);
    uint64_t one = 1;
    ssize_t n = write(w->evfd, &one, sizeof one);
    (void)n;
}

void worker_join(struct worker *w)
{
    if (w->started)
        pthread_join(w->thread, NULL);
    w->started = false;
}

void worker_destroy(struct worker *w)
{
    if (w->engine)
        engine_destroy(w->engine);
    w->engine = NULL;
    /* Commands still queued may carry payloads the engine would have owned. */
    struct mcu_msg m;
    while (spsc_pop(&w->cmdq, &m))
        if (m.ptr)
            engine_on_command(NULL, &m);
    while (spsc_pop(&w->evq, &m)) /* events nobody will read: their payloads */
        if (m.type != EV_REC_STOPPED) /* a recorder stays signaling's (recorder_free closed it) */
            free(m.ptr);
    for (int i = 0; i < w->nsocks; i++)
        close(w->socks[i].fd);
    w->nsocks = 0;
    close(w->epfd);
    close(w->evfd);
    close(w->tfd);
    spsc_free(&w->cmdq);
    spsc_free(&w->evq);
}
