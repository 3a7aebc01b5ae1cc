/* Impairment of the sites' media packets inside the tool: random loss, delay and jitter, as
 * netem on the sites' link would do. Used because the kernel of the machines this project
 * runs on has no sch_netem; it also needs no privileges. Reordering follows from jitter, as
 * with netem. */
#ifndef LOAD_IMPAIR_H
#define LOAD_IMPAIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct impair_pkt;

struct impair {
    double loss;                 /* probability 0..1 */
    int delay_ms, jitter_ms;     /* each packet waits delay ± jitter (uniform) */
    uint64_t rng;                /* xorshift state, fixed seed: runs repeat */
    struct impair_pkt **heap;    /* waiting packets, earliest due first; owned */
    size_t n, cap;
    uint64_t dropped, delayed;   /* counters for the report */
};

int impair_init(struct impair *im, double loss_pct, int delay_ms, int jitter_ms);
/* Drops, sends now, or queues the datagram. Returns -1 only if sending failed. */
int impair_send(struct impair *im, int fd, const void *buf, size_t len, const struct sockaddr *to,
                socklen_t tolen);
/* Sends every queued datagram that is due (call it every loop tick). */
void impair_flush(struct impair *im);
void impair_free(struct impair *im);

#endif
