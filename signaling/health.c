/* GET /healthz: a real round trip through every worker's queues. The request sends a ping
 * to each worker and answers when all have replied, or after 500 ms with whoever did; a
 * worker that did not answer, or whose tick is stale, makes the answer 503. */
#include "signaling/internal.h"
#include "mcu/server.h"

#include <jansson.h>
#include <stdlib.h>

#ifndef MCU_VERSION
#define MCU_VERSION "0.0.0-dev"
#endif

#define PING_TIMEOUT_US 500000
#define STALE_TICK_MS 1000.0

static void unlink_deferred(struct conn *c)
{
    for (struct conn **pp = &c->sig->deferred; *pp; pp = &(*pp)->next_deferred)
        if (*pp == c) {
            *pp = c->next_deferred;
            break;
        }
    c->next_deferred = NULL;
}

static void reply(struct conn *c)
{
    struct server *srv = c->sig->srv;
    int64_t now = mono_ns();
    bool ok = true;
    json_t *workers = json_array();
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        int64_t last = atomic_load_explicit(&w->stats.last_tick_ns, memory_order_relaxed);
        double age_ms = (double)(now - last) / 1e6;
        bool answered = c->pong_rtt_ns[i] >= 0;
        bool alive = answered && age_ms < STALE_TICK_MS;
        ok = ok && alive;
        json_t *o = json_pack("{s:i,s:b,s:f,s:i}", "index", i, "alive", alive,
                              "last_tick_age_ms", age_ms, "udp_port", w->port);
        json_object_set_new(o, "ping_rtt_ms",
                            answered ? json_real((double)c->pong_rtt_ns[i] / 1e6) : json_null());
        json_array_append_new(workers, o);
    }
    json_t *j = json_pack("{s:s,s:s,s:f,s:o}", "status", ok ? "ok" : "degraded", "version",
                          MCU_VERSION, "uptime_s", (double)(now - srv->started_ns) / 1e9,
                          "workers", workers);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    http_respond_json(c, ok ? 200 : 503, s);
    lws_set_timer_usecs(c->wsi, LWS_SET_TIMER_USEC_CANCEL);
    unlink_deferred(c);
    http_resume(c);
}

int health_handle(struct conn *c)
{
    struct signaling *sig = c->sig;
    struct server *srv = sig->srv;
    c->pong_rtt_ns = malloc(sizeof(int64_t) * (size_t)srv->nworkers);
    if (!c->pong_rtt_ns) {
        http_error(c, 500, "out_of_memory", "out of memory");
        return 0;
    }
    c->ping_id = ++sig->next_id;
    c->ping_sent_ns = mono_ns();
    c->pongs = 0;
    for (int i = 0; i < srv->nworkers; i++) {
        c->pong_rtt_ns[i] = -1;
        struct mcu_msg m = {.type = CMD_PING, .worker = (uint32_t)i, .id = c->ping_id, .arg = i};
        worker_send_cmd(&srv->workers[i], &m); /* a full queue shows up as a missing pong */
    }
    c->next_deferred = sig->deferred;
    sig->deferred = c;
    lws_set_timer_usecs(c->wsi, PING_TIMEOUT_US);
    return 1;
}

void health_on_pong(struct signaling *sig, const struct mcu_msg *m)
{
    for (struct conn *c = sig->deferred; c; c = c->next_deferred) {
        if (c->ping_id != m->id)
            continue;
        if (m->worker < (uint32_t)sig->srv->nworkers && c->pong_rtt_ns[m->worker] < 0) {
            c->pong_rtt_ns[m->worker] = mono_ns() - c->ping_sent_ns;
            if (++c->pongs == sig->srv->nworkers)
                reply(c);
        }
        return;
    }
}

void health_on_timeout(struct conn *c)
{
    if (c->pong_rtt_ns)
        reply(c);
}

void health_forget(struct conn *c)
{
    if (c->sig && c->pong_rtt_ns)
        unlink_deferred(c);
}
