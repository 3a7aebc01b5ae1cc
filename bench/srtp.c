/* Bench: what one packet costs the server on its SRTP forwarding path (receive, unprotect,
 * copy, protect, send) inside a real media worker echoing a real client, beside the raw
 * costs that path is built from, measured in the same run on packets of the same size:
 * libsrtp2 unprotect + protect, and a bare UDP reflector thread (recvmmsg + sendmmsg).
 * Every cost is the CPU time of the thread that does the work, per packet. */
#include "mcu/config.h"
#include "mcu/log.h"
#include "mcu/msg.h"
#include "mcu/worker.h"
#include "media/dtls.h"
#include "media/rtp.h"
#include "media/session.h"
#include "media/srtp.h"
#include "media/wclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 32              /* datagrams per sendmmsg from the client */
#define CLIENT_RX 64          /* datagrams per recvmmsg on the client */
#define CHUNK 16384           /* packets prepared ahead of each timed stretch */
#define SRTP_BATCH 256        /* raw SRTP: packets per timed stretch (they stay in cache) */
#define ECHO_WAIT_MS 200      /* nothing back for this long: what is in flight is lost */
#define SOCK_BUF (4 << 20)    /* what the worker asks for on its sockets */
#define MIN_ECHOED 0.99       /* below this share of echoes the run is broken */
#define MAX_SIZES 2
#define PT_VIDEO 96
#define SSRC_IN 0x1234
#define SSRC_AUDIO_OUT 0xA0D10
#define SSRC_VIDEO_OUT 0x51DE0

struct opts {
    int packets;             /* per measured path and size */
    int inflight;            /* most client packets not yet echoed */
    int profile;             /* SRTPX_* */
    size_t sizes[MAX_SIZES]; /* RTP payload bytes; the summary line is about sizes[0] */
    int nsizes;
};

/* Packets prepared before a timed stretch, so that the client's own work stays out of it. */
struct pkts {
    uint8_t *buf;  /* `cap` slots of `stride` bytes, owned */
    size_t *len;   /* bytes used in each slot, owned */
    size_t stride;
    int cap;
};

/* One server-side thread under load: the worker, or the bare reflector. */
struct path {
    const char *label;                   /* for messages */
    pthread_t thread;                    /* whose CPU time is the cost */
    _Atomic uint64_t *forwarded;         /* that thread's count of datagrams sent back */
    int fd;                              /* the client's socket */
    const struct sockaddr_storage *dst;  /* the server's socket */
    socklen_t dstlen;
    srtpx_session_t *protect;            /* the client's outbound SRTP */
    uint16_t *seq;                       /* the client's next RTP sequence number */
};

struct path_result {
    uint64_t sent, echoed, forwarded;
    double cpu_us;   /* server thread CPU per forwarded packet */
    double pps;      /* echoes per second of driving */
};

struct row {
    size_t size;
    double x_us, srtp_us, udp_us, echo_pps, udp_pps;
    double libsrtp_us; /* the same transform through libsrtp2 (Debian's, on NSS), for reference */
    uint64_t sent, echoed;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: srtp [--packets N] [--size BYTES] [--profile gcm|cm] [--inflight N]\n"
            "  --packets N    packets per measurement (default 200000)\n"
            "  --size BYTES   RTP payload size (default: 1200, then 120)\n"
            "  --profile P    gcm: AEAD_AES_128_GCM (default), cm: AES128_CM_SHA1_80\n"
            "  --inflight N   most packets not yet echoed (default 256)\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.packets = 200000, .inflight = 256, .profile = SRTPX_AEAD_AES_128_GCM,
                       .sizes = {1200, 120}, .nsizes = 2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc)
            return -1;
        const char *v = argv[++i];
        char *end;
        long n = strtol(v, &end, 10);
        bool num = *v && !*end;
        if (!strcmp(a, "--packets") && num && n >= 1000 && n <= 100000000)
            o->packets = (int)n;
        else if (!strcmp(a, "--size") && num && n >= 16 && n <= 1400) {
            o->sizes[0] = (size_t)n;
            o->nsizes = 1;
        } else if (!strcmp(a, "--inflight") && num && n >= BURST && n <= 4096)
            o->inflight = (int)n;
        else if (!strcmp(a, "--profile") && !strcmp(v, "gcm"))
            o->profile = SRTPX_AEAD_AES_128_GCM;
        else if (!strcmp(a, "--profile") && !strcmp(v, "cm"))
            o->profile = SRTPX_AES128_CM_SHA1_80;
        else
            return -1;
    }
    return 0;
}

static int64_t ns_of(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static int64_t thread_cpu_ns(pthread_t t)
{
    clockid_t id;
    struct timespec ts;
    if (pthread_getcpuclockid(t, &id) || clock_gettime(id, &ts) < 0)
        return -1;
    return ns_of(&ts);
}

static int64_t self_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ns_of(&ts);
}

static const char *profile_name(int profile)
{
    return profile == SRTPX_AEAD_AES_128_GCM ? "gcm" : "cm";
}

/* ---- packets -------------------------------------------------------------------------- */

static int pkts_alloc(struct pkts *pk, int cap)
{
    pk->stride = (12 + 1400 + SRTPX_MAX_TRAILER + 63) & ~(size_t)63;
    pk->cap = cap;
    pk->buf = malloc(pk->stride * (size_t)cap);
    pk->len = calloc((size_t)cap, sizeof *pk->len);
    if (pk->buf && pk->len)
        return 0;
    free(pk->buf);
    free(pk->len);
    return -1;
}

static void pkts_free(struct pkts *pk)
{
    free(pk->buf);
    free(pk->len);
}

static uint8_t *slot(const struct pkts *pk, int i)
{
    return pk->buf + (size_t)i * pk->stride;
}

/* Writes n video RTP packets with consecutive sequence numbers from *seq, each protected
 * with `s` as the sender would. Returns 0, or -1 if libsrtp refused one. */
static int make_packets(struct pkts *pk, int n, size_t payload, uint16_t *seq,
                        srtpx_session_t *s)
{
    for (int i = 0; i < n; i++) {
        uint8_t *b = slot(pk, i);
        rtp_write_t h = {.pt = PT_VIDEO, .seq = *seq, .ts = *seq * 3000u, .ssrc = SSRC_IN};
        int off = rtp_write_header(b, pk->stride, &h);
        if (off < 0)
            return -1;
        memset(b + off, (uint8_t)*seq, payload);
        size_t len = (size_t)off + payload;
        int rc = srtpx_protect_rtp(s, b, &len, pk->stride);
        if (rc < 0) {
            fprintf(stderr, "srtp: protect failed: %s\n", srtpx_strerror(rc));
            return -1;
        }
        pk->len[i] = len;
        (*seq)++;
    }
    return 0;
}

static srtpx_session_t *random_session(int profile, uint8_t *tx, uint8_t *rx)
{
    size_t n = srtpx_master_len(profile);
    if (RAND_bytes(tx, (int)n) != 1 || RAND_bytes(rx, (int)n) != 1)
        return NULL;
    return srtpx_session_new(profile, tx, rx);
}

/* ---- raw costs: SRTP ------------------------------------------------------------------ */

/* CPU per packet of unprotect + protect, as the server does them, through media/srtp.h:
 * `snd` protects the packets (untimed), `srv` holds the mirror keys. flags 0 measures the
 * transform the server uses (for GCM: media/srtp_gcm.c over OpenSSL); SRTPX_LIBSRTP_ONLY
 * measures libsrtp2 doing the same. */
static int raw_srtp(int profile, size_t payload, int packets, unsigned flags, double *us)
{
    uint8_t k1[32], k2[32];
    struct pkts pk;
    int rc = -1;
    srtpx_session_t *snd = random_session(profile, k1, k2);
    srtpx_session_t *srv = srtpx_session_new_ex(profile, k2, k1, flags);
    if (!snd || !srv || pkts_alloc(&pk, SRTP_BATCH) < 0) {
        fprintf(stderr, "srtp: cannot set up the raw SRTP sessions\n");
        goto out;
    }
    uint16_t seq = 1;
    int64_t cpu = 0;
    for (int done = 0; done < packets;) {
        int n = packets - done < SRTP_BATCH ? packets - done : SRTP_BATCH;
        if (make_packets(&pk, n, payload, &seq, snd) < 0)
            goto out_pk;
        int64_t t0 = self_cpu_ns();
        for (int i = 0; i < n; i++) {
            uint8_t *b = slot(&pk, i);
            size_t len = pk.len[i];
            int e = srtpx_unprotect_rtp(srv, b, &len);
            if (e == 0)
                e = srtpx_protect_rtp(srv, b, &len, pk.stride);
            if (e < 0) {
                fprintf(stderr, "srtp: raw SRTP failed: %s\n", srtpx_strerror(e));
                goto out_pk;
            }
        }
        cpu += self_cpu_ns() - t0;
        done += n;
    }
    *us = (double)cpu / 1e3 / packets;
    rc = 0;
out_pk:
    pkts_free(&pk);
out:
    srtpx_session_free(snd);
    srtpx_session_free(srv);
    return rc;
}

/* ---- raw costs: a bare UDP reflector -------------------------------------------------- */

/* What the worker's loop would be with nothing to do per packet: epoll, recvmmsg batches of
 * WORKER_BATCH, each sent straight back with one sendmmsg. */
struct reflector {
    pthread_t thread;
    int fd, epfd;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    _Atomic bool stop;
    _Atomic uint64_t forwarded;
    struct mmsghdr msg[WORKER_BATCH];
    struct iovec iov[WORKER_BATCH];
    struct sockaddr_storage from[WORKER_BATCH];
    uint8_t buf[WORKER_BATCH][WORKER_PKT_MAX];
};

static int udp_socket(struct sockaddr_storage *addr, socklen_t *len)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int sz = SOCK_BUF;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    *len = sizeof *addr;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)addr, len) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void reflect_batches(struct reflector *r)
{
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < WORKER_BATCH; i++) {
            r->iov[i] = (struct iovec){.iov_base = r->buf[i], .iov_len = WORKER_PKT_MAX};
            r->msg[i].msg_hdr = (struct msghdr){.msg_name = &r->from[i],
                                                .msg_namelen = sizeof r->from[i],
                                                .msg_iov = &r->iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(r->fd, r->msg, WORKER_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++)
            r->iov[i].iov_len = r->msg[i].msg_len;
        for (int i = 0; i < n;) {
            int s = sendmmsg(r->fd, &r->msg[i], (unsigned)(n - i), 0);
            i += s > 0 ? s : 1; /* a failed datagram is skipped, as the worker does */
            if (s > 0)
                stat_add(&r->forwarded, (uint64_t)s);
        }
        if (n < WORKER_BATCH)
            return;
    }
}

static void *reflector_main(void *arg)
{
    struct reflector *r = arg;
    pthread_setname_np(pthread_self(), "reflector");
    while (!atomic_load_explicit(&r->stop, memory_order_acquire)) {
        struct epoll_event ev;
        if (epoll_wait(r->epfd, &ev, 1, 50) > 0)
            reflect_batches(r);
    }
    return NULL;
}

/* Caller frees the result with reflector_stop. NULL on failure. */
static struct reflector *reflector_start(void)
{
    struct reflector *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->fd = udp_socket(&r->addr, &r->addrlen);
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    if (r->fd < 0 || r->epfd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->fd, &ev) < 0 ||
        pthread_create(&r->thread, NULL, reflector_main, r)) {
        if (r->fd >= 0)
            close(r->fd);
        if (r->epfd >= 0)
            close(r->epfd);
        free(r);
        return NULL;
    }
    return r;
}

static void reflector_stop(struct reflector *r)
{
    atomic_store_explicit(&r->stop, true, memory_order_release);
    pthread_join(r->thread, NULL);
    close(r->fd);
    close(r->epfd);
    free(r);
}

/* ---- the client's load ---------------------------------------------------------------- */

struct rxbuf {
    struct mmsghdr msg[CLIENT_RX];
    struct iovec iov[CLIENT_RX];
    uint8_t buf[CLIENT_RX][WORKER_PKT_MAX];
};

/* Takes every datagram waiting on fd; returns how many were RTP (echoes), or -1. */
static int take_echoes(int fd, struct rxbuf *rx)
{
    int echoes = 0;
    for (;;) {
        for (int i = 0; i < CLIENT_RX; i++) {
            rx->iov[i] = (struct iovec){.iov_base = rx->buf[i], .iov_len = WORKER_PKT_MAX};
            rx->msg[i].msg_hdr = (struct msghdr){.msg_iov = &rx->iov[i], .msg_iovlen = 1};
        }
        int n = recvmmsg(fd, rx->msg, CLIENT_RX, MSG_DONTWAIT, NULL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? echoes : -1;
        for (int i = 0; i < n; i++) {
            size_t len = rx->msg[i].msg_len;
            if (demux_classify(rx->buf[i], len) == DEMUX_RTP && !rtp_is_rtcp(rx->buf[i], len))
                echoes++;
        }
        if (n < CLIENT_RX)
            return echoes;
    }
}

/* Sends pk's n packets in bursts of BURST, keeping at most `inflight` unanswered, and counts
 * the echoes. What has not come back after ECHO_WAIT_MS of silence is counted lost. */
static int drive(const struct path *p, const struct pkts *pk, int n, int inflight,
                 struct rxbuf *rx, struct path_result *r)
{
    struct mmsghdr msg[BURST];
    struct iovec iov[BURST];
    int next = 0, out = 0;
    while (next < n || out > 0) {
        while (next < n && out + BURST <= inflight) {
            int k = n - next < BURST ? n - next : BURST;
            for (int i = 0; i < k; i++) {
                iov[i] = (struct iovec){.iov_base = slot(pk, next + i),
                                        .iov_len = pk->len[next + i]};
                msg[i].msg_hdr = (struct msghdr){.msg_name = (void *)p->dst,
                                                 .msg_namelen = p->dstlen,
                                                 .msg_iov = &iov[i], .msg_iovlen = 1};
            }
            int s = sendmmsg(p->fd, msg, (unsigned)k, 0);
            if (s < 0 && errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
                perror("srtp: sendmmsg");
                return -1;
            }
            if (s <= 0)
                break; /* the socket is full: take echoes first */
            next += s;
            out += s;
            r->sent += (uint64_t)s;
        }
        int got = take_echoes(p->fd, rx);
        if (got < 0) {
            perror("srtp: recvmmsg");
            return -1;
        }
        if (got == 0) {
            struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
            if (poll(&pfd, 1, ECHO_WAIT_MS) == 0)
                out = 0; /* lost: the totals will show it */
            continue;
        }
        r->echoed += (uint64_t)got;
        out = got > out ? 0 : out - got;
    }
    return 0;
}

/* Puts `packets` packets through the path, CHUNK at a time, and reads the server thread's
 * CPU time around all of it. Between chunks the server thread is idle (it sleeps in
 * epoll_wait), so preparing the next chunk costs it nothing. */
static int run_path(const struct path *p, size_t payload, int packets, int inflight,
                    struct path_result *r)
{
    struct pkts pk;
    struct rxbuf *rx = malloc(sizeof *rx);
    int rc = -1;
    memset(r, 0, sizeof *r);
    if (!rx || pkts_alloc(&pk, CHUNK) < 0) {
        fprintf(stderr, "srtp: out of memory\n");
        goto out;
    }
    int64_t wall = 0, cpu0 = thread_cpu_ns(p->thread);
    uint64_t fwd0 = atomic_load(p->forwarded);
    for (int done = 0; done < packets;) {
        int n = packets - done < CHUNK ? packets - done : CHUNK;
        if (make_packets(&pk, n, payload, p->seq, p->protect) < 0)
            goto out_pk;
        int64_t t0 = mono_ns();
        if (drive(p, &pk, n, inflight, rx, r) < 0)
            goto out_pk;
        wall += mono_ns() - t0;
        done += n;
    }
    usleep(20000); /* the server counts a batch after sendmmsg returns: let the last one in */
    int64_t cpu1 = thread_cpu_ns(p->thread);
    r->forwarded = atomic_load(p->forwarded) - fwd0;
    if (cpu0 < 0 || cpu1 < 0 || !r->forwarded) {
        fprintf(stderr, "srtp: %s: nothing came back, or no CPU clock for the thread\n",
                p->label);
        goto out_pk;
    }
    r->cpu_us = (double)(cpu1 - cpu0) / 1e3 / (double)r->forwarded;
    r->pps = wall > 0 ? (double)r->echoed * 1e9 / (double)wall : 0;
    rc = 0;
    if (r->echoed < (uint64_t)(MIN_ECHOED * (double)r->sent)) {
        fprintf(stderr, "srtp: %s: only %llu of %llu packets came back (need %.0f%%)\n",
                p->label, (unsigned long long)r->echoed, (unsigned long long)r->sent,
                MIN_ECHOED * 100);
        rc = -1;
    }
out_pk:
    pkts_free(&pk);
out:
    free(rx);
    return rc;
}

/* ---- the server: one worker, one echo session, one client ------------------------------ */

struct rig {
    struct worker w;
    bool worker_ok;
    dtls_identity_t *server_id, *client_id;
    struct wclient c;
    bool client_ok;
    uint16_t seq; /* the client's next RTP sequence number */
};

/* Creates the echo session as the signaling thread would (this thread is the only producer
 * of the worker's command queue) and points the client at it. */
static int open_echo(struct rig *r)
{
    if (wclient_init(&r->c, r->client_id, "127.0.0.1") < 0)
        return -1;
    r->client_ok = true;
    struct session_params *sp = calloc(1, sizeof *sp);
    if (!sp)
        return -1;
    sp->id = 1;
    sp->mode = SESSION_MODE_ECHO;
    snprintf(sp->local_ufrag, sizeof sp->local_ufrag, "bench");
    snprintf(sp->local_pwd, sizeof sp->local_pwd, "benchbenchbenchbenchbench");
    snprintf(sp->remote_ufrag, sizeof sp->remote_ufrag, "%s", r->c.local_ufrag);
    snprintf(sp->remote_fp, sizeof sp->remote_fp, "%s", dtls_identity_fingerprint(r->client_id));
    sp->dtls_server = true;
    sp->opus_pt = 111;
    sp->vp8_pt = PT_VIDEO;
    sp->vp9_pt = -1;
    sp->audio_ssrc_out = SSRC_AUDIO_OUT;
    sp->video_ssrc_out = SSRC_VIDEO_OUT;
    if (wclient_set_remote(&r->c, "127.0.0.1", r->w.port, sp->local_ufrag, sp->local_pwd,
                           dtls_identity_fingerprint(r->server_id)) < 0) {
        free(sp);
        return -1;
    }
    struct mcu_msg m = {.type = CMD_SESSION_CREATE, .id = sp->id, .ptr = sp};
    if (!worker_send_cmd(&r->w, &m)) {
        free(sp);
        return -1;
    }
    int sz = SOCK_BUF;
    setsockopt(r->c.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(r->c.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    return 0;
}

/* A few packets one at a time, each echo decrypted and checked: the path works before it is
 * timed (and the echo's first-packet keyframe request is out of the way). */
static int check_echo(struct rig *r, size_t payload)
{
    uint8_t buf[WORKER_PKT_MAX];
    for (int k = 0; k < 8; k++) {
        uint16_t seq = r->seq++;
        rtp_write_t h = {.pt = PT_VIDEO, .seq = seq, .ts = seq * 3000u, .ssrc = SSRC_IN};
        int off = rtp_write_header(buf, sizeof buf, &h);
        memset(buf + off, 0x5a, payload);
        if (wclient_send_srtp(&r->c, buf, (size_t)off + payload, sizeof buf, false) < 0)
            return -1;
        int n;
        bool rtcp = false;
        do /* the echo's keyframe request (RTCP) may come first */
            if ((n = wclient_recv_srtp(&r->c, buf, sizeof buf, 1000, &rtcp)) <= 0)
                return -1;
        while (rtcp);
        rtp_hdr_t e;
        if (rtp_parse(buf, (size_t)n, &e) < 0 || e.ssrc != SSRC_VIDEO_OUT || e.seq != seq ||
            e.payload_len != payload || buf[e.payload_off] != 0x5a)
            return -1;
    }
    return 0;
}

static int rig_start(struct rig *r, int profile)
{
    struct mcu_config cfg;
    config_defaults(&cfg);
    cfg.n_media_addrs = 1;
    snprintf(cfg.media_addrs[0], sizeof cfg.media_addrs[0], "127.0.0.1");
    cfg.media_port = 0;
    cfg.consent_timeout_ms = 600000; /* the load sends no ICE checks */
    r->server_id = dtls_identity_new();
    r->client_id = profile == SRTPX_AES128_CM_SHA1_80
                       ? dtls_identity_new_with_profiles("SRTP_AES128_CM_SHA1_80")
                       : dtls_identity_new();
    if (!r->server_id || !r->client_id || worker_init(&r->w, 0, &cfg, NULL, NULL) < 0) {
        fprintf(stderr, "srtp: cannot set up the worker\n");
        return -1;
    }
    r->w.identity = r->server_id;
    if (worker_start(&r->w) < 0) {
        worker_destroy(&r->w);
        fprintf(stderr, "srtp: cannot start the worker\n");
        return -1;
    }
    r->worker_ok = true;
    if (open_echo(r) < 0 || wclient_connect(&r->c, 5000) < 0) {
        fprintf(stderr, "srtp: the client could not connect to the echo session\n");
        return -1;
    }
    if (r->c.srtp_profile != profile) {
        fprintf(stderr, "srtp: negotiated SRTP profile %d, wanted %d\n", r->c.srtp_profile,
                profile);
        return -1;
    }
    r->seq = 1000;
    if (check_echo(r, 1200) < 0 || check_echo(r, 120) < 0) {
        fprintf(stderr, "srtp: the echo did not come back intact\n");
        return -1;
    }
    return 0;
}

static void rig_stop(struct rig *r)
{
    if (r->client_ok)
        wclient_free(&r->c);
    if (r->worker_ok) {
        worker_stop(&r->w);
        worker_join(&r->w);
        worker_destroy(&r->w);
    }
    dtls_identity_free(r->server_id);
    dtls_identity_free(r->client_id);
}

static uint64_t worker_drops(struct worker *w)
{
    uint64_t n = 0;
    for (int i = 0; i < DROP_MAX; i++)
        n += stat_get(&w->stats.drops[i]);
    return n;
}

/* ---- one size ------------------------------------------------------------------------- */

static int measure(struct rig *r, const struct opts *o, size_t payload, struct row *row)
{
    memset(row, 0, sizeof *row);
    row->size = payload;
    if (raw_srtp(o->profile, payload, o->packets, 0, &row->srtp_us) < 0 ||
        raw_srtp(o->profile, payload, o->packets, SRTPX_LIBSRTP_ONLY, &row->libsrtp_us) < 0)
        return -1;

    /* The reflector gets SRTP packets of the same length, from a key of its own. */
    uint8_t k1[32], k2[32];
    uint16_t seq = 1;
    srtpx_session_t *scratch = random_session(o->profile, k1, k2);
    struct reflector *refl = scratch ? reflector_start() : NULL;
    struct sockaddr_storage caddr;
    socklen_t clen;
    int cfd = refl ? udp_socket(&caddr, &clen) : -1;
    struct path_result pr;
    int rc = -1;
    if (cfd < 0) {
        fprintf(stderr, "srtp: cannot set up the UDP reflector\n");
    } else {
        struct path up = {.label = "udp reflector", .thread = refl->thread,
                          .forwarded = &refl->forwarded, .fd = cfd, .dst = &refl->addr,
                          .dstlen = refl->addrlen, .protect = scratch, .seq = &seq};
        rc = run_path(&up, payload, o->packets, o->inflight, &pr);
        row->udp_us = pr.cpu_us;
        row->udp_pps = pr.pps;
    }
    if (cfd >= 0)
        close(cfd);
    if (refl)
        reflector_stop(refl);
    srtpx_session_free(scratch);
    if (rc < 0)
        return -1;

    uint64_t drops0 = worker_drops(&r->w);
    struct path ep = {.label = "echo", .thread = r->w.thread,
                      .forwarded = &r->w.stats.tx_packets, .fd = r->c.fd, .dst = &r->c.server,
                      .dstlen = r->c.server_len, .protect = r->c.srtp, .seq = &r->seq};
    rc = run_path(&ep, payload, o->packets, o->inflight, &pr);
    uint64_t drops = worker_drops(&r->w) - drops0;
    if (drops)
        fprintf(stderr, "srtp: the worker dropped %llu datagrams\n", (unsigned long long)drops);
    row->x_us = pr.cpu_us;
    row->echo_pps = pr.pps;
    row->sent = pr.sent;
    row->echoed = pr.echoed;
    return rc;
}

static void print_table(const struct opts *o, const struct row *rows, int n)
{
    printf("\n%6s %7s %9s %9s %11s %9s %9s %6s %10s %10s %9s\n", "size", "profile", "x_us",
           "srtp_us", "libsrtp2_us", "udp_us", "r_us", "x/r", "echo_pps", "udp_pps", "echoed");
    for (int i = 0; i < n; i++) {
        const struct row *w = &rows[i];
        double raw = w->srtp_us + w->udp_us;
        printf("%6zu %7s %9.3f %9.3f %11.3f %9.3f %9.3f %6.2f %10.0f %10.0f %8.2f%%\n", w->size,
               profile_name(o->profile), w->x_us, w->srtp_us, w->libsrtp_us, w->udp_us, raw,
               w->x_us / raw, w->echo_pps, w->udp_pps, 100.0 * (double)w->echoed / (double)w->sent);
    }
    printf("\nsrtp_us: the transform the server uses (GCM RTP: OpenSSL, media/srtp_gcm.c); "
           "libsrtp2_us: the same through libsrtp2, for reference. r = srtp_us + udp_us.\n");
    printf("\n");
    for (int i = n - 1; i >= 0; i--) {
        double raw = rows[i].srtp_us + rows[i].udp_us;
        printf("target x <= 2r (%zu B): %s (x/r = %.2f)\n", rows[i].size,
               rows[i].x_us <= 2 * raw ? "met" : "NOT met", rows[i].x_us / raw);
    }
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    log_init(LOG_LVL_WARN, false);
    if (srtpx_init() < 0) {
        fprintf(stderr, "srtp: libsrtp2 did not initialise\n");
        return 1;
    }
    printf("srtp bench: %d packets per measurement, profile %s, at most %d in flight\n"
           "x   = media worker thread CPU per echoed packet (recvmmsg, unprotect, copy, protect,"
           " sendmmsg)\n"
           "srtp = the server's SRTP transform (GCM RTP: OpenSSL), unprotect + protect of one packet, in a loop\n"
           "udp  = bare reflector thread CPU per packet (epoll, recvmmsg, sendmmsg), same load\n"
           "r   = srtp + udp\n",
           o.packets, profile_name(o.profile), o.inflight);
    fflush(stdout);

    static struct rig r;
    struct row rows[MAX_SIZES];
    int rc = rig_start(&r, o.profile);
    for (int i = 0; rc == 0 && i < o.nsizes; i++)
        rc = measure(&r, &o, o.sizes[i], &rows[i]);
    rig_stop(&r);
    if (rc == 0) {
        print_table(&o, rows, o.nsizes);
        double raw = rows[0].srtp_us + rows[0].udp_us;
        printf("srtp: mcu_us_per_packet=%.2f raw_us_per_packet=%.2f\n", rows[0].x_us, raw);
    }
    log_close();
    return rc < 0 ? 1 : 0;
}
