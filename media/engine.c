/* The worker's media engine: looks peers up by ICE username (first check) and by remote
 * address (everything after), runs ICE-lite and DTLS for them, and hands decrypted RTP and
 * RTCP to the conference logic (media/echo.c for now). Single-threaded: its worker's. */
#include "media/engine.h"
#include "mcu/log.h"
#include "mcu/msg.h"
#include "mcu/worker.h"
#include "media/echo.h"
#include "media/mixconf.h"
#include "media/peer.h"
#include "media/quality.h"
#include "media/rtp.h"
#include "media/stun.h"
#include "media/vrouter.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096 /* power of two */
#define HOUSEKEEPING_TICKS 10 /* consent and timers every 200 ms */
/* Per-source budgets: a validated address may send this many packets a second (simulcast
 * video, audio and RTCP stay far below), and a session's ICE checks are verified (an HMAC
 * each) at most this often; the rest is dropped as rate_limited before any crypto. */
#define SOURCE_PPS 4000.0
#define SOURCE_BURST 2000.0
#define STUN_PPS 50.0
#define STUN_BURST 25.0

struct engine {
    struct worker *w;
    struct peer *peers;                 /* all peers, doubly linked */
    uint32_t npeers;
    struct peer *by_ufrag[BUCKETS];
    struct peer *by_id[BUCKETS];
    struct peer_addr *by_addr[BUCKETS];
    uint32_t ticks;
    struct mixconf_set confs;           /* audio conferences on this worker */
};

static uint32_t hash_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static uint32_t hash_addr(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)a;
        return hash_bytes(&s->sin_addr, 4) ^ s->sin_port;
    }
    const struct sockaddr_in6 *s = (const void *)a;
    return hash_bytes(&s->sin6_addr, 16) ^ s->sin6_port;
}

static bool addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

static struct peer_addr *find_addr(struct engine *e, const struct sockaddr_storage *a)
{
    for (struct peer_addr *pa = e->by_addr[hash_addr(a) & (BUCKETS - 1)]; pa; pa = pa->next)
        if (addr_equal(&pa->addr, a))
            return pa;
    return NULL;
}

static void addr_unlink(struct engine *e, struct peer_addr *pa)
{
    struct peer_addr **pp = &e->by_addr[hash_addr(&pa->addr) & (BUCKETS - 1)];
    for (; *pp; pp = &(*pp)->next)
        if (*pp == pa) {
            *pp = pa->next;
            break;
        }
    pa->used = false;
    pa->next = NULL;
}

static struct peer *find_ufrag(struct engine *e, const char *ufrag, size_t len)
{
    for (struct peer *p = e->by_ufrag[hash_bytes(ufrag, len) & (BUCKETS - 1)]; p; p = p->ufrag_next)
        if (strlen(p->p.local_ufrag) == len && !memcmp(p->p.local_ufrag, ufrag, len))
            return p;
    return NULL;
}

static struct peer *find_id(struct engine *e, uint64_t id)
{
    for (struct peer *p = e->by_id[hash_bytes(&id, sizeof id) & (BUCKETS - 1)]; p; p = p->id_next)
        if (p->p.id == id)
            return p;
    return NULL;
}


uint8_t *engine_tx_reserve(struct engine *e)
{
    return worker_tx_reserve(e->w);
}

void engine_tx_commit(struct engine *e, struct peer *p, size_t len)
{
    if (p->selected < 0)
        return;
    struct peer_addr *pa = &p->addrs[p->selected];
    qstats_sent(&p->q, len);
    worker_tx_commit(e->w, pa->sock, len, (struct sockaddr *)&pa->addr, pa->len);
}

void engine_drop(struct engine *e, enum drop_reason r)
{
    stat_add(&e->w->stats.drops[r], 1);
}

void engine_emit(struct engine *e, uint32_t type, uint64_t id, int64_t arg)
{
    struct mcu_msg m = {.type = type, .worker = (uint32_t)e->w->index, .id = id, .arg = arg};
    worker_emit(e->w, &m);
}

bool engine_emit_ptr(struct engine *e, uint32_t type, void *ptr)
{
    struct mcu_msg m = {.type = type, .worker = (uint32_t)e->w->index, .ptr = ptr};
    return worker_emit(e->w, &m);
}

static void set_state(struct engine *e, struct peer *p, enum session_state s)
{
    if (p->state == s)
        return;
    p->state = s;
    engine_emit(e, EV_SESSION_STATE, p->p.id, s);
}

static void flush_dtls(struct engine *e, struct peer *p)
{
    for (;;) {
        uint8_t *out = worker_tx_reserve(e->w);
        int n = dtls_conn_next_out(p->dtls, out, WORKER_PKT_MAX);
        if (n <= 0)
            return;
        engine_tx_commit(e, p, (size_t)n);
    }
}

static void peer_free(struct engine *e, struct peer *p)
{
    mixconf_leave(&e->confs, p);
    for (int i = 0; i < PEER_MAX_ADDRS; i++)
        if (p->addrs[i].used)
            addr_unlink(e, &p->addrs[i]);
    struct peer **pp = &e->by_ufrag[hash_bytes(p->p.local_ufrag, strlen(p->p.local_ufrag)) & (BUCKETS - 1)];
    for (; *pp; pp = &(*pp)->ufrag_next)
        if (*pp == p) {
            *pp = p->ufrag_next;
            break;
        }
    pp = &e->by_id[hash_bytes(&p->p.id, sizeof p->p.id) & (BUCKETS - 1)];
    for (; *pp; pp = &(*pp)->id_next)
        if (*pp == p) {
            *pp = p->id_next;
            break;
        }
    if (p->prev)
        p->prev->next = p->next;
    else
        e->peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    e->npeers--;
    atomic_store_explicit(&e->w->stats.sessions, e->npeers, memory_order_relaxed);
    srtpx_session_free(p->srtp);
    dtls_conn_free(p->dtls);
    free(p);
}

/* Tells the peer we are going (DTLS close_notify), if it has an address to hear it. */
static void say_goodbye(struct engine *e, struct peer *p)
{
    if (p->dtls && p->selected >= 0) {
        dtls_conn_close(p->dtls);
        flush_dtls(e, p);
    }
}

/* Ends a peer the worker decided to end, telling the signaling side why. */
static void peer_close(struct engine *e, struct peer *p, enum session_close_reason why)
{
    log_info("engine", "session %lu closed: %s", (unsigned long)p->p.id, session_close_reason_name(why));
    if (why != CLOSE_DTLS_CLOSED)
        say_goodbye(e, p);
    engine_emit(e, EV_SESSION_CLOSED, p->p.id, why);
    peer_free(e, p);
}

static int peer_create(struct engine *e, struct session_params *sp)
{
    if (find_id(e, sp->id) || find_ufrag(e, sp->local_ufrag, strlen(sp->local_ufrag)))
        return -1;
    struct peer *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->p = *sp;
    p->selected = -1;
    p->created_ns = p->consent_ns = mono_ns();
    p->dtls = dtls_conn_new(e->w->identity, sp->dtls_server, sp->remote_fp);
    if (!p->dtls) {
        free(p);
        return -1;
    }
    if (sp->mode == SESSION_MODE_MIX && mixconf_join(&e->confs, p) < 0) {
        dtls_conn_free(p->dtls);
        free(p);
        return -1;
    }
    uint32_t hu = hash_bytes(sp->local_ufrag, strlen(sp->local_ufrag)) & (BUCKETS - 1);
    p->ufrag_next = e->by_ufrag[hu];
    e->by_ufrag[hu] = p;
    uint32_t hi = hash_bytes(&sp->id, sizeof sp->id) & (BUCKETS - 1);
    p->id_next = e->by_id[hi];
    e->by_id[hi] = p;
    p->next = e->peers;
    if (e->peers)
        e->peers->prev = p;
    e->peers = p;
    e->npeers++;
    atomic_store_explicit(&e->w->stats.sessions, e->npeers, memory_order_relaxed);
    return 0;
}

/* Records a validated address; with USE-CANDIDATE (or as the first one) it becomes the
 * address media goes to, which also follows a nominated pair that moves. */
static void peer_validate_addr(struct engine *e, struct peer *p, int sock,
                               const struct sockaddr_storage *from, socklen_t fromlen,
                               bool nominate)
{
    int idx = -1;
    for (int i = 0; i < PEER_MAX_ADDRS; i++)
        if (p->addrs[i].used && addr_equal(&p->addrs[i].addr, from)) {
            idx = i;
            break;
        }
    if (idx < 0) {
        struct peer_addr *owner = find_addr(e, from);
        if (owner) /* the address moved to a new session: the old one loses it */
            addr_unlink(e, owner);
        for (int i = 0; i < PEER_MAX_ADDRS && idx < 0; i++)
            if (!p->addrs[i].used)
                idx = i;
        if (idx < 0) {
            idx = p->replace == p->selected ? (p->replace + 1) % PEER_MAX_ADDRS : p->replace;
            p->replace = (idx + 1) % PEER_MAX_ADDRS;
            addr_unlink(e, &p->addrs[idx]);
        }
        struct peer_addr *pa = &p->addrs[idx];
        memcpy(&pa->addr, from, fromlen);
        pa->tokens_ns = 0; /* a fresh budget for a new address */
        pa->len = fromlen;
        pa->sock = sock;
        pa->used = true;
        pa->peer = p;
        uint32_t h = hash_addr(from) & (BUCKETS - 1);
        pa->next = e->by_addr[h];
        e->by_addr[h] = pa;
    }
    if (nominate || p->selected < 0) {
        bool first = p->selected < 0;
        p->selected = idx;
        if (first && !p->p.dtls_server) {
            dtls_conn_start(p->dtls);
            flush_dtls(e, p);
        }
    }
}

/* Token bucket: refills at rate per second up to burst; false when empty. */
static bool rate_ok(double *tokens, int64_t *at_ns, int64_t now, double rate, double burst)
{
    if (*at_ns == 0)
        *tokens = burst;
    else
        *tokens += (double)(now - *at_ns) * rate / 1e9;
    if (*tokens > burst)
        *tokens = burst;
    *at_ns = now;
    if (*tokens < 1.0)
        return false;
    *tokens -= 1.0;
    return true;
}

static void on_stun(struct engine *e, int sock, const uint8_t *buf, size_t len,
                    const struct sockaddr_storage *from, socklen_t fromlen, int64_t now)
{
    stun_msg_t m;
    if (stun_parse(buf, len, &m) < 0)
        return engine_drop(e, DROP_STUN_MALFORMED);
    if (m.type != STUN_BINDING_REQUEST)
        return engine_drop(e, DROP_STUN_UNEXPECTED);
    if (!m.has_fingerprint || stun_check_fingerprint(buf, len, &m) < 0)
        return engine_drop(e, DROP_STUN_FINGERPRINT);
    const uint8_t *lu;
    size_t lul;
    if (!m.username || stun_username_split(m.username, m.username_len, &lu, &lul, NULL, NULL) < 0)
        return engine_drop(e, DROP_STUN_UNKNOWN_USER);
    struct peer *p = find_ufrag(e, (const char *)lu, lul);
    if (!p)
        return engine_drop(e, DROP_STUN_UNKNOWN_USER);
    if (!rate_ok(&p->stun_tokens, &p->stun_tokens_ns, now, STUN_PPS, STUN_BURST))
        return engine_drop(e, DROP_RATE_LIMITED);
    const uint8_t *key = (const uint8_t *)p->p.local_pwd;
    size_t keylen = strlen(p->p.local_pwd);
    if (!m.has_integrity || stun_check_integrity(buf, len, &m, key, keylen) < 0)
        return engine_drop(e, DROP_STUN_AUTH);

    p->consent_ns = now;
    peer_validate_addr(e, p, sock, from, fromlen, m.use_candidate);
    if (p->state == SESSION_NEW)
        set_state(e, p, SESSION_CHECKING);
    uint8_t *out = worker_tx_reserve(e->w);
    int n = stun_build_binding_success(out, WORKER_PKT_MAX, m.tid, (const struct sockaddr *)from, key, keylen);
    if (n > 0)
        worker_tx_commit(e->w, sock, (size_t)n, (const struct sockaddr *)from, fromlen);
}

static void on_dtls(struct engine *e, struct peer *p, const uint8_t *buf, size_t len)
{
    int st = dtls_conn_feed(p->dtls, buf, len);
    flush_dtls(e, p);
    if (st == DTLS_CONNECTED && !p->srtp) {
        dtls_srtp_keys_t k;
        if (dtls_conn_srtp_keys(p->dtls, &k) == 0)
            p->srtp = srtpx_session_new(k.profile, k.local, k.remote);
        if (!p->srtp) {
            log_warn("engine", "session %lu: cannot set up SRTP", (unsigned long)p->p.id);
            return peer_close(e, p, CLOSE_DTLS_FAILED);
        }
        log_info("engine", "session %lu: DTLS connected, SRTP profile %d", (unsigned long)p->p.id, k.profile);
        set_state(e, p, SESSION_CONNECTED);
    } else if (st == DTLS_FAILED) {
        engine_drop(e, DROP_DTLS_ERROR);
        log_warn("engine", "session %lu: DTLS failed: %s", (unsigned long)p->p.id, dtls_conn_reason(p->dtls));
        set_state(e, p, SESSION_FAILED);
        peer_close(e, p, CLOSE_DTLS_FAILED);
    } else if (st == DTLS_CLOSED) {
        peer_close(e, p, CLOSE_DTLS_CLOSED);
    } else if (st < 0) {
        engine_drop(e, DROP_DTLS_ERROR);
    }
}

static void on_srtp(struct engine *e, struct peer *p, uint8_t *buf, size_t len)
{
    qstats_received(&p->q, len);
    if (!p->srtp)
        return engine_drop(e, DROP_RTP_NOT_READY);
    bool rtcp = rtp_is_rtcp(buf, len);
    int rc = rtcp ? srtpx_unprotect_rtcp(p->srtp, buf, &len) : srtpx_unprotect_rtp(p->srtp, buf, &len);
    if (rc < 0)
        return engine_drop(e, rc == SRTPX_ERR_AUTH ? DROP_SRTP_AUTH
                              : rc == SRTPX_ERR_REPLAY ? DROP_SRTP_REPLAY : DROP_SRTP_OTHER);
    if (p->p.mode == SESSION_MODE_MIX) {
        if (!rtcp)
            mixconf_on_rtp(e, p, buf, len);
        else {
            quality_on_rtcp(p, buf, len); /* receiver reports: the round trip */
            mixconf_on_rtcp(e, p, buf, len); /* video feedback: PLI, NACK, bandwidth */
        }
    } else if (rtcp) {
        echo_on_rtcp(e, p, buf, len);
    } else {
        echo_on_rtp(e, p, buf, len);
    }
}

void engine_on_datagram(struct engine *e, int sock, uint8_t *buf, size_t len,
                        const struct sockaddr_storage *from, socklen_t fromlen, int64_t now_ns)
{
    int kind = demux_classify(buf, len);
    if (kind == DEMUX_STUN)
        return on_stun(e, sock, buf, len, from, fromlen, now_ns);
    if (kind == DEMUX_UNKNOWN)
        return engine_drop(e, DROP_UNKNOWN_KIND);
    struct peer_addr *pa = find_addr(e, from);
    if (!pa)
        return engine_drop(e, kind == DEMUX_DTLS ? DROP_DTLS_UNKNOWN_ADDR : DROP_RTP_UNKNOWN_ADDR);
    if (!rate_ok(&pa->tokens, &pa->tokens_ns, now_ns, SOURCE_PPS, SOURCE_BURST))
        return engine_drop(e, DROP_RATE_LIMITED);
    pa->sock = sock;
    if (kind == DEMUX_DTLS)
        on_dtls(e, pa->peer, buf, len);
    else
        on_srtp(e, pa->peer, buf, len);
}

static void housekeeping(struct engine *e, int64_t now)
{
    struct peer *next;
    for (struct peer *p = e->peers; p; p = next) {
        next = p->next;
        if (now - p->consent_ns > e->w->consent_timeout_ns) {
            peer_close(e, p, CLOSE_CONSENT_EXPIRED);
            continue;
        }
        if (p->state != SESSION_CONNECTED && p->selected >= 0 && dtls_conn_timeout_ms(p->dtls) == 0) {
            int st = dtls_conn_on_timer(p->dtls);
            flush_dtls(e, p);
            if (st == DTLS_FAILED)
                peer_close(e, p, CLOSE_DTLS_FAILED);
        }
    }
}

void engine_on_tick(struct engine *e, int64_t now_ns)
{
    mixconf_tick(e, &e->confs, now_ns);
    if (++e->ticks % HOUSEKEEPING_TICKS == 0)
        housekeeping(e, now_ns);
}

void engine_on_command(struct engine *e, struct mcu_msg *m)
{
    if (!e) { /* the worker is going away: just release the payload */
        free(m->ptr);
        return;
    }
    switch (m->type) {
    case CMD_SESSION_CREATE: {
        struct session_params *sp = m->ptr;
        if (peer_create(e, sp) < 0) {
            log_warn("engine", "session %lu: cannot create", (unsigned long)sp->id);
            engine_emit(e, EV_SESSION_CLOSED, sp->id, CLOSE_DTLS_FAILED);
        }
        free(sp);
        break;
    }
    case CMD_SESSION_CLOSE: {
        struct peer *p = find_id(e, m->id);
        if (p) {
            say_goodbye(e, p);
            peer_free(e, p);
        }
        break;
    }
    case CMD_SESSION_MUTE: {
        struct peer *p = find_id(e, m->id);
        if (p)
            mixconf_set_muted(p, m->arg != 0);
        break;
    }
    case CMD_VIDEO_VIEW: {
        struct peer *p = find_id(e, m->id);
        if (p)
            vrouter_set_view(p, (uint64_t)m->arg);
        break;
    }
    case CMD_REC_START:
    case CMD_REC_STOP: {
        struct rec_cmd *rc = m->ptr;
        struct rec *back = mixconf_record(&e->confs, rc, m->type == CMD_REC_START);
        if (back && !engine_emit_ptr(e, EV_REC_STOPPED, back))
            log_error("engine", "conference '%s': recorder lost (event queue full)", rc->conference);
        free(rc);
        break;
    }
    case CMD_REC_VIEW:
        mixconf_record_view(&e->confs, m->ptr);
        free(m->ptr);
        break;
    default:
        free(m->ptr);
        break;
    }
}

struct engine *engine_create(struct worker *w)
{
    struct engine *e = calloc(1, sizeof *e);
    if (e)
        e->w = w;
    return e;
}

void engine_destroy(struct engine *e)
{
    if (!e)
        return;
    while (e->peers)
        peer_free(e, e->peers);
    mixconf_free_all(&e->confs);
    free(e);
}
