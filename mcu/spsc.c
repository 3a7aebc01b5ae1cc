/* Bounded SPSC ring: acquire/release on head and tail is all the synchronisation needed. */
#include "mcu/spsc.h"

#include <errno.h>
#include <stdlib.h>

int spsc_init(struct spsc *q, size_t capacity)
{
    size_t cap = 2;
    while (cap < capacity)
        cap <<= 1;
    q->slots = calloc(cap, sizeof *q->slots);
    if (!q->slots)
        return -ENOMEM;
    q->mask = cap - 1;
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    return 0;
}

void spsc_free(struct spsc *q)
{
    free(q->slots);
    q->slots = NULL;
}

bool spsc_push(struct spsc *q, const struct mcu_msg *m)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    if (tail - head > q->mask)
        return false;
    q->slots[tail & q->mask] = *m;
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    return true;
}

bool spsc_pop(struct spsc *q, struct mcu_msg *out)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (head == tail)
        return false;
    *out = q->slots[head & q->mask];
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
    return true;
}

size_t spsc_depth(const struct spsc *q)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
    return tail - head;
}

size_t spsc_capacity(const struct spsc *q)
{
    return q->mask + 1;
}
