/* The worker's media engine. At this stage it classifies each datagram by its first byte
 * (RFC 7983) and, having no sessions yet, drops it with a counted reason. */
#include "media/engine.h"
#include "mcu/msg.h"
#include "mcu/worker.h"

#include <stdlib.h>

struct engine {
    struct worker *w; /* the owning worker */
};

struct engine *engine_create(struct worker *w)
{
    struct engine *e = calloc(1, sizeof *e);
    if (e)
        e->w = w;
    return e;
}

void engine_destroy(struct engine *e)
{
    free(e);
}

void engine_on_datagram(struct engine *e, int sock, uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, socklen_t fromlen, int64_t now_ns)
{
    (void)sock, (void)from, (void)fromlen, (void)now_ns;
    uint8_t b = len ? buf[0] : 255;
    enum drop_reason r = DROP_UNKNOWN_KIND;
    if (b <= 3)
        r = DROP_STUN_UNKNOWN_USER;
    else if (b >= 20 && b <= 63)
        r = DROP_DTLS_UNKNOWN_ADDR;
    else if (b >= 128 && b <= 191)
        r = DROP_RTP_UNKNOWN_ADDR;
    stat_add(&e->w->stats.drops[r], 1);
}

void engine_on_tick(struct engine *e, int64_t now_ns)
{
    (void)e, (void)now_ns;
}

void engine_on_command(struct engine *e, struct mcu_msg *m)
{
    (void)e;
    free(m->ptr);
    m->ptr = NULL;
}
