/* In-tool loss, delay and jitter for the sites' media (see impair.h). */
#include "tools/load/impair.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct impair_pkt {
    int64_t due_ms;
    int fd;
    struct sockaddr_storage to;
    socklen_t tolen;
    size_t len;
    uint8_t data[];
};

static uint64_t next_rand(struct impair *im)
{
    uint64_t x = im->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return im->rng = x;
}

static double uniform(struct impair *im) /* [0, 1) */
{
    return (double)(next_rand(im) >> 11) / 9007199254740992.0;
}

int impair_init(struct impair *im, double loss_pct, int delay_ms, int jitter_ms)
{
    memset(im, 0, sizeof *im);
    im->loss = loss_pct / 100.0;
    im->delay_ms = delay_ms;
    im->jitter_ms = jitter_ms < delay_ms ? jitter_ms : delay_ms; /* never before "now" */
    im->rng = 0x9E3779B97F4A7C15ull;
    return 0;
}

static void heap_swap(struct impair *im, size_t a, size_t b)
{
    struct impair_pkt *t = im->heap[a];
    im->heap[a] = im->heap[b];
    im->heap[b] = t;
}

static int heap_push(struct impair *im, struct impair_pkt *p)
{
    if (im->n == im->cap) {
        size_t cap = im->cap ? im->cap * 2 : 1024;
        struct impair_pkt **h = realloc(im->heap, cap * sizeof *h);
        if (!h)
            return -1;
        im->heap = h;
        im->cap = cap;
    }
    size_t i = im->n++;
    im->heap[i] = p;
    while (i > 0 && im->heap[(i - 1) / 2]->due_ms > im->heap[i]->due_ms) {
        heap_swap(im, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static struct impair_pkt *heap_pop(struct impair *im)
{
    struct impair_pkt *top = im->heap[0];
    im->heap[0] = im->heap[--im->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < im->n && im->heap[l]->due_ms < im->heap[m]->due_ms)
            m = l;
        if (r < im->n && im->heap[r]->due_ms < im->heap[m]->due_ms)
            m = r;
        if (m == i)
            break;
        heap_swap(im, i, m);
        i = m;
    }
    return top;
}

int impair_send(struct impair *im, int fd, const void *buf, size_t len, const struct sockaddr *to,
                socklen_t tolen)
{
    if (im->loss > 0 && uniform(im) < im->loss) {
        im->dropped++;
        return 0;
    }
    int wait = im->delay_ms + (im->jitter_ms ? (int)((2 * uniform(im) - 1) * im->jitter_ms) : 0);
    if (wait <= 0)
        return sendto(fd, buf, len, 0, to, tolen) == (ssize_t)len ? 0 : -1;
    struct impair_pkt *p = malloc(sizeof *p + len);
    if (!p)
        return -1;
    p->due_ms = now_ms() + wait;
    p->fd = fd;
    memcpy(&p->to, to, tolen);
    p->tolen = tolen;
    p->len = len;
    memcpy(p->data, buf, len);
    if (heap_push(im, p) < 0) {
        free(p);
        return -1;
    }
    im->delayed++;
    return 0;
}

void impair_flush(struct impair *im)
{
    int64_t now = now_ms();
    while (im->n && im->heap[0]->due_ms <= now) {
        struct impair_pkt *p = heap_pop(im);
        (void)!sendto(p->fd, p->data, p->len, 0, (struct sockaddr *)&p->to, p->tolen);
        free(p);
    }
}

void impair_free(struct impair *im)
{
    while (im->n)
        free(heap_pop(im));
    free(im->heap);
    memset(im, 0, sizeof *im);
}
