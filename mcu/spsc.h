/* Bounded single-producer single-consumer ring of fixed-size messages.
 * The signaling thread and each media worker talk through a pair of these: no lock, no
 * allocation after spsc_init. Capacity is a power of two; a full ring refuses the push and
 * the producer counts the drop (commands are never blocked on the packet path). */
#ifndef MCU_SPSC_H
#define MCU_SPSC_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One message between threads. Ownership of `ptr` passes to the consumer; its type says
 * what it points to and who frees it. */
struct mcu_msg {
    uint32_t type;   /* enum mcu_cmd or enum mcu_event */
    uint32_t worker; /* worker index the message concerns */
    uint64_t id;     /* request/session id, echoed in replies */
    int64_t arg;     /* small payload: a sequence number, a status code */
    void *ptr;       /* optional heap payload, owned by the receiver */
};

struct spsc {
    alignas(64) _Atomic size_t head; /* next slot to read; written by the consumer only */
    alignas(64) _Atomic size_t tail; /* next slot to write; written by the producer only */
    alignas(64) size_t mask;         /* capacity - 1 */
    struct mcu_msg *slots;           /* capacity entries, owned by the ring */
};

int spsc_init(struct spsc *q, size_t capacity); /* capacity rounded up to a power of two */
void spsc_free(struct spsc *q);                 /* frees slots, not the messages' ptr */
bool spsc_push(struct spsc *q, const struct mcu_msg *m);
bool spsc_pop(struct spsc *q, struct mcu_msg *out);
size_t spsc_depth(const struct spsc *q); /* approximate when read by a third thread */
size_t spsc_capacity(const struct spsc *q);

#endif
