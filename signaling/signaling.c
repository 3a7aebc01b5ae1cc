/* The signaling thread's lws context, its loop, and the dispatch of worker events. */
#include "signaling/signaling.h"
#include "signaling/internal.h"
#include "mcu/log.h"
#include "mcu/netaddr.h"
#include "mcu/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void dispatch_event(struct signaling *sig, struct mcu_msg *m)
{
    switch (m->type) {
    case EV_PONG:
        health_on_pong(sig, m);
        break;
    case EV_SESSION_STATE:
    case EV_SESSION_CLOSED:
    case EV_DOMINANT_SPEAKER:
        ws_on_session_event(sig, m);
        break;
    case EV_LEVELS:
        rooms_on_levels(sig, m->ptr);
        free(m->ptr);
        break;
    default:
        log_warn("signaling", "unhandled event %u from worker %u", m->type, m->worker);
        free(m->ptr);
        break;
    }
}

static void drain_events(struct signaling *sig)
{
    struct server *srv = sig->srv;
    struct mcu_msg m;
    for (int i = 0; i < srv->nworkers; i++)
        while (worker_poll_event(&srv->workers[i], &m))
            dispatch_event(sig, &m);
}

static int callback_main(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len)
{
    if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED) {
        struct signaling *sig = lws_context_user(lws_get_context(wsi));
        if (sig && sig->srv->workers)
            drain_events(sig);
        return 0;
    }
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
        return ws_callback(wsi, reason, user, in, len);
    default:
        return http_callback(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"mcu", callback_main, sizeof(struct conn), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_emit(int level, const char *line)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", line);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = 0;
    if (level & LLL_ERR)
        log_error("lws", "%s", buf);
    else if (level & LLL_WARN)
        log_warn("lws", "%s", buf);
    else
        log_debug("lws", "%s", buf);
}

/* Binds the listen address once ourselves: a precise reason (in use, not local, bad text)
 * for the operator, and libwebsockets is spared its failure path, which leaks. */
static int probe_listen(const char *host, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (netaddr_parse(host, port, &ss, &len) < 0) {
        snprintf(err, errlen, "cannot listen on '%s': not an IP address", host);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&ss, len);
    if (rc < 0)
        snprintf(err, errlen, "cannot listen on %s port %d: %s", host, port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

struct signaling *signaling_create(struct server *srv, char *err, size_t errlen)
{
    struct signaling *sig = calloc(1, sizeof *sig);
    if (!sig) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sig->srv = srv;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);

    const struct mcu_config *cfg = &srv->cfg;
    if (probe_listen(cfg->listen_host, cfg->listen_port, err, errlen) < 0) {
        free(sig);
        return NULL;
    }
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = cfg->listen_port ? cfg->listen_port : CONTEXT_PORT_NO_LISTEN_SERVER;
    info.iface = cfg->listen_host[0] ? cfg->listen_host : NULL;
    info.protocols = protocols;
    info.user = sig;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (strchr(cfg->listen_host, ':'))
        info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
    if (cfg->tls_cert[0]) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cfg->tls_cert;
        info.ssl_private_key_filepath = cfg->tls_key;
    }
    info.timeout_secs = 30;
    info.ka_time = 0;
    sig->ctx = lws_create_context(&info);
    if (!sig->ctx) {
        snprintf(err, errlen, "cannot listen on %s port %d (in use, or not an address of this host?)",
                 cfg->listen_host, cfg->listen_port);
        free(sig);
        return NULL;
    }
    sig->vhost = lws_get_vhost_by_name(sig->ctx, "default");
    if (rooms_init(sig, err, errlen) < 0) {
        rooms_free(sig);
        lws_context_destroy(sig->ctx);
        free(sig);
        return NULL;
    }
    return sig;
}

int signaling_port(const struct signaling *sig)
{
    return sig->vhost ? lws_get_vhost_listen_port(sig->vhost) : -1;
}

static void *signaling_main(void *arg)
{
    struct signaling *sig = arg;
    pthread_setname_np(pthread_self(), "signaling");
    while (!atomic_load_explicit(&sig->stop, memory_order_acquire))
        if (lws_service(sig->ctx, 0) < 0)
            break;
    return NULL;
}

int signaling_start(struct signaling *sig)
{
    if (pthread_create(&sig->thread, NULL, signaling_main, sig))
        return -1;
    sig->started = true;
    return 0;
}

void signaling_wake(void *arg)
{
    struct signaling *sig = arg;
    lws_cancel_service(sig->ctx);
}

void signaling_stop(struct signaling *sig)
{
    atomic_store_explicit(&sig->stop, true, memory_order_release);
    lws_cancel_service(sig->ctx);
}

void signaling_join(struct signaling *sig)
{
    if (sig->started)
        pthread_join(sig->thread, NULL);
    sig->started = false;
}

void signaling_destroy(struct signaling *sig)
{
    if (!sig)
        return;
    /* Destroying the context closes every connection; their CLOSED callbacks free
     * per-connection state, so the deferred list must still be valid here. */
    lws_context_destroy(sig->ctx);
    rooms_free(sig);
    while (sig->places) {
        struct conf_place *pl = sig->places;
        sig->places = pl->next;
        free(pl);
    }
    free(sig);
}
