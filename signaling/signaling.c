/* The signaling thread's lws context, its loop, and the dispatch of worker events. */
#include "signaling/signaling.h"
#include "signaling/internal.h"
#include "signaling/connlimit.h"
#include "mcu/log.h"
#include "mcu/netaddr.h"
#include "mcu/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* HTTP requests one connection may make: sustained per second, and at once (a page of the
 * admin panel loads a few dozen files; keep-alive brings them over a handful of sockets). */
#define HTTP_RATE 50.0
#define HTTP_BURST 200.0

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
    case EV_VIDEO_TRACKS:
        video_on_tracks(sig, m->ptr);
        free(m->ptr);
        break;
    case EV_VIDEO_LAYERS:
        video_on_layers(sig, m->id, m->arg);
        break;
    case EV_REC_STOPPED:
        recorder_on_stopped(sig, m->ptr);
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

/* ---- connections per address: counted from accept (SERVER_NEW_CLIENT_INSTANTIATED) to the
 * wsi's end (WSI_DESTROY), which lws pairs for every accepted socket. The count rides on the
 * wsi as its opaque user data; `owner` guards against a wsi that merely inherited it. */

/* At twice the limit an address's new sockets are closed at accept, before any TLS or HTTP
 * work: a flood gets nothing. Up to there they get a readable refusal. */
static int conn_filter(struct signaling *sig, const struct lws_filter_network_conn_args *a)
{
    char addr[CONNLIMIT_ADDR_MAX];
    int max = connlimit_max(sig->connlimit);
    if (!max || connlimit_addr_text((const struct sockaddr *)&a->cli_addr, addr) < 0)
        return 0;
    return connlimit_count(sig->connlimit, addr) >= 2 * max;
}

static int conn_opened(struct signaling *sig, struct lws *wsi)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char addr[CONNLIMIT_ADDR_MAX];
    int fd = lws_get_socket_fd(wsi);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
        connlimit_addr_text((struct sockaddr *)&ss, addr) < 0)
        return 0; /* not an IP peer: nothing to count */
    struct connlimit_conn *cc = connlimit_open(sig->connlimit, addr, wsi);
    if (!cc)
        return -1; /* out of memory: refuse rather than lose count */
    lws_set_opaque_user_data(wsi, cc);
    if (cc->over && connlimit_count(sig->connlimit, addr) == connlimit_max(sig->connlimit) + 1)
        log_warn("signaling", "%s has %d connections open (max_conns_per_addr): refusing more", addr,
                 connlimit_max(sig->connlimit));
    return 0;
}

static void conn_destroyed(struct signaling *sig, struct lws *wsi)
{
    struct connlimit_conn *cc = lws_get_opaque_user_data(wsi);
    if (!cc || cc->owner != wsi)
        return;
    lws_set_opaque_user_data(wsi, NULL);
    connlimit_close(sig->connlimit, cc);
}

/* The count of the TCP connection under wsi: an HTTP/2 stream (h2c upgrade) is one of
 * several wsi on a socket, and shares the socket's limits. */
static struct connlimit_conn *conn_of(struct lws *wsi)
{
    struct lws *nwsi = lws_get_network_wsi(wsi);
    struct connlimit_conn *cc = nwsi ? lws_get_opaque_user_data(nwsi) : NULL;
    return cc && cc->owner == nwsi ? cc : NULL;
}

bool conn_over_limit(struct lws *wsi)
{
    const struct connlimit_conn *cc = conn_of(wsi);
    return cc && cc->over;
}

bool conn_request_allowed(struct lws *wsi)
{
    struct signaling *sig = lws_context_user(lws_get_context(wsi));
    struct connlimit_conn *cc = conn_of(wsi);
    return !cc || connlimit_take(sig->connlimit, cc, mono_ns() / 1000000 + 1);
}

static int callback_main(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                         void *in, size_t len)
{
    struct signaling *sig = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (sig && sig->srv->workers)
            drain_events(sig);
        return 0;
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return conn_filter(sig, user);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        return conn_opened(sig, wsi);
    case LWS_CALLBACK_WSI_DESTROY:
        conn_destroyed(sig, wsi);
        return 0;
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
    sig->connlimit = connlimit_new(cfg->max_conns_per_addr, cfg->conn_limit_exempt, HTTP_RATE, HTTP_BURST);
    if (!sig->connlimit) {
        snprintf(err, errlen, "out of memory, or conn_limit_exempt holds something that is not an address");
        free(sig);
        return NULL;
    }
    if (probe_listen(cfg->listen_host, cfg->listen_port, err, errlen) < 0) {
        connlimit_free(sig->connlimit);
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
        /* HTTP/1.1 only: every request and WebSocket then has its own TCP connection, which
         * is what the per-connection and per-address limits count (h2 would multiplex). */
        info.alpn = "http/1.1";
        info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_RENEGOTIATION;
    }
    info.timeout_secs = 30;
    info.ka_time = 0;
    sig->ctx = lws_create_context(&info);
    if (!sig->ctx) {
        snprintf(err, errlen, "cannot listen on %s port %d (in use, not an address of this host, or a bad "
                 "TLS certificate or key?)", cfg->listen_host, cfg->listen_port);
        connlimit_free(sig->connlimit);
        free(sig);
        return NULL;
    }
    sig->vhost = lws_get_vhost_by_name(sig->ctx, "default");
    if (rooms_init(sig, err, errlen) < 0) {
        rooms_free(sig);
        lws_context_destroy(sig->ctx);
        connlimit_free(sig->connlimit);
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
    connlimit_free(sig->connlimit); /* after the context: closing sockets releases their counts */
    while (sig->places) {
        struct conf_place *pl = sig->places;
        sig->places = pl->next;
        free(pl);
    }
    free(sig);
}
