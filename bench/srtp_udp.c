/* Bench: the raw cost of sending one forwarded media packet, measured apart from any
 * server: SRTP-protect it under AEAD_AES_128_GCM (the profile browsers negotiate, through
 * media/srtp.h as the server does it) and send it with sendmmsg to a loopback socket that a
 * reader thread drains. It is the floor of what a selective forwarder pays per packet it
 * forwards; bench/video-forward compares the server's CPU per forwarded packet with it. */
#include "media/srtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32              /* datagrams per sendmmsg, as the server's send batches */
#define READ_BATCH 64
#define INFLIGHT 2048         /* most datagrams sent and not yet read */
#define STALL_MS 200          /* nothing read for this long: what is in flight is lost */
#define SOCK_BUF (4 << 20)
#define MAX_DESTS 4096
#define PT_VIDEO 96
#define MAX_REPEAT 15

struct opts {
    size_t size;       /* RTP packet bytes before protection (header included) */
    int packets;       /* per measurement */
    int dests;         /* receiving sockets, each with its own SRTP session */
    int repeat;        /* rounds of the three measurements; each figure is the median */
    const char *json;
};

/* The receiving side: one socket per destination, all drained by one reader thread. */
struct sink {
    int fd[MAX_DESTS];
    struct sockaddr_in addr[MAX_DESTS];
    int n, epfd;
    _Atomic uint64_t received;
    atomic_bool stop;
    pthread_t thread;
};

/* What a measurement found: CPU of the sending thread per packet. */
struct result {
    double us;         /* per packet */
    uint64_t sent, lost;
};

enum mode { PROTECT_ONLY, SEND_ONLY, PROTECT_AND_SEND };

static void usage(FILE *f)
{
    fprintf(f, "usage: srtp_udp [--size BYTES] [--packets N] [--dests N] [--json FILE]\n"
               "  --size BYTES   RTP packet size before SRTP, header included (default 1100; 16..1400)\n"
               "  --packets N    packets per measurement (default 200000)\n"
               "  --dests N      receiving sockets, one SRTP session each (default 64; 1..%d)\n"
               "  --repeat N     rounds of the measurements, the median is kept (default 3; 1..%d)\n"
               "  --json FILE    also write the figures there\n", MAX_DESTS, MAX_REPEAT);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.size = 1100, .packets = 200000, .dests = 64, .repeat = 3};
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
        if (!strcmp(a, "--size") && num && n >= 16 && n <= 1400)
            o->size = (size_t)n;
        else if (!strcmp(a, "--packets") && num && n >= 1000 && n <= 100000000)
            o->packets = (int)n;
        else if (!strcmp(a, "--dests") && num && n >= 1 && n <= MAX_DESTS)
            o->dests = (int)n;
        else if (!strcmp(a, "--repeat") && num && n >= 1 && n <= MAX_REPEAT)
            o->repeat = (int)n;
        else if (!strcmp(a, "--json"))
            o->json = v;
        else
            return -1;
    }
    return 0;
}

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *reader(void *arg)
{
    struct sink *k = arg;
    static uint8_t bufs[READ_BATCH][1600];
    struct mmsghdr mm[READ_BATCH];
    struct iovec iov[READ_BATCH];
    struct epoll_event ev[64];
    while (!atomic_load(&k->stop)) {
        int n = epoll_wait(k->epfd, ev, 64, 50);
        for (int e = 0; e < n; e++) {
            int fd = k->fd[ev[e].data.u32];
            for (;;) {
                for (int i = 0; i < READ_BATCH; i++) {
                    iov[i] = (struct iovec){bufs[i], sizeof bufs[i]};
                    mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
                }
                int got = recvmmsg(fd, mm, READ_BATCH, MSG_DONTWAIT, NULL);
                if (got <= 0)
                    break;
                atomic_fetch_add(&k->received, (uint64_t)got);
            }
        }
    }
    return NULL;
}

static int sink_open(struct sink *k, int n)
{
    k->n = n;
    k->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (k->epfd < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int buf = SOCK_BUF;
        socklen_t len = sizeof k->addr[i];
        k->addr[i] = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        k->fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (k->fd[i] < 0)
            return -1;
        setsockopt(k->fd[i], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (bind(k->fd[i], (struct sockaddr *)&k->addr[i], sizeof k->addr[i]) < 0 ||
            getsockname(k->fd[i], (struct sockaddr *)&k->addr[i], &len) < 0 ||
            epoll_ctl(k->epfd, EPOLL_CTL_ADD, k->fd[i], &ev) < 0)
            return -1;
    }
    return pthread_create(&k->thread, NULL, reader, k) ? -1 : 0;
}

static void sink_close(struct sink *k)
{
    atomic_store(&k->stop, true);
    pthread_join(k->thread, NULL);
    for (int i = 0; i < k->n; i++)
        close(k->fd[i]);
    close(k->epfd);
}

/* A session keyed with random masters, as each receiver's would be after DTLS. */
static srtpx_session_t *random_session(void)
{
    uint8_t tx[32], rx[32];
    size_t n = srtpx_master_len(SRTPX_AEAD_AES_128_GCM);
    if (RAND_bytes(tx, (int)n) != 1 || RAND_bytes(rx, (int)n) != 1)
        return NULL;
    return srtpx_session_new(SRTPX_AEAD_AES_128_GCM, tx, rx);
}

/* The packet a receiver gets: a VP8-like RTP header with its own SSRC and sequence, the
 * payload from the template. */
static void make_packet(uint8_t *p, const uint8_t *tmpl, size_t size, uint32_t ssrc, uint16_t seq)
{
    memcpy(p, tmpl, size);
    p[0] = 0x80;
    p[1] = PT_VIDEO;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    uint32_t ts = (uint32_t)seq * 3600u;
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
}

/* Waits (sleeping, so it costs the sending thread almost nothing) until the reader has
 * room for one more batch; a reader that stalls makes what is in flight count as lost. */
static void wait_room(struct sink *k, uint64_t base, uint64_t sent, uint64_t *lost)
{
    int64_t since = mono_ms();
    uint64_t last = atomic_load(&k->received) - base;
    for (;;) {
        uint64_t got = atomic_load(&k->received) - base;
        if (sent - got - *lost + BATCH <= INFLIGHT)
            return;
        if (got != last) {
            last = got;
            since = mono_ms();
        } else if (mono_ms() - since > STALL_MS) {
            *lost = sent - got;
            return;
        }
        struct timespec ts = {0, 20000};
        nanosleep(&ts, NULL);
    }
}

/* One measurement: `packets` datagrams to the destinations in turn, BATCH per sendmmsg.
 * Only the work of the mode is timed (thread CPU time); the rest is done outside. */
static int measure(const struct opts *o, struct sink *k, srtpx_session_t **sess, uint16_t *seq,
                   enum mode mode, struct result *res)
{
    static uint8_t slot[BATCH][1500];
    uint8_t tmpl[1500];
    struct mmsghdr mm[BATCH];
    struct iovec iov[BATCH];
    RAND_bytes(tmpl, (int)o->size);
    int64_t cpu = 0;
    uint64_t sent = 0, lost = 0, base = atomic_load(&k->received);
    int d = 0;
    for (int done = 0; done < o->packets; done += BATCH) {
        if (mode != PROTECT_ONLY)
            wait_room(k, base, sent, &lost);
        int64_t t0 = mode == SEND_ONLY ? 0 : thread_cpu_ns();
        for (int i = 0; i < BATCH; i++, d = (d + 1) % o->dests) {
            size_t len = o->size;
            make_packet(slot[i], tmpl, o->size, 0x5EED0000u + (uint32_t)d, seq[d]++);
            if (srtpx_protect_rtp(sess[d], slot[i], &len, sizeof slot[i]) < 0)
                return -1;
            iov[i] = (struct iovec){slot[i], len};
            mm[i].msg_hdr = (struct msghdr){.msg_name = &k->addr[d], .msg_namelen = sizeof k->addr[d],
                                            .msg_iov = &iov[i], .msg_iovlen = 1};
        }
        if (mode == SEND_ONLY)
            t0 = thread_cpu_ns();
        for (int off = 0; mode != PROTECT_ONLY && off < BATCH;) {
            int n = sendmmsg(k->fd[0], mm + off, (unsigned)(BATCH - off), 0);
            if (n < 0 && errno != EINTR && errno != EAGAIN)
                return -1;
            off += n > 0 ? n : 0;
        }
        cpu += thread_cpu_ns() - t0;
        sent += BATCH;
    }
    if (mode != PROTECT_ONLY) { /* let the reader finish, for the share read */
        int64_t end = mono_ms() + STALL_MS;
        while (atomic_load(&k->received) - base < sent && mono_ms() < end)
            usleep(1000);
        lost = sent - (atomic_load(&k->received) - base);
    }
    *res = (struct result){.us = (double)cpu / 1e3 / (double)sent, .sent = sent,
                           .lost = mode == PROTECT_ONLY ? 0 : lost};
    return 0;
}

static int cmp_us(const void *a, const void *b)
{
    double x = ((const struct result *)a)->us, y = ((const struct result *)b)->us;
    return x < y ? -1 : x > y;
}

/* Rounds of the three measurements, interleaved so that a noisy moment on a shared machine
 * spoils one round of each rather than all of one; r[mode] gets the median round. */
static int measure_all(const struct opts *o, struct sink *k, srtpx_session_t **sess, uint16_t *seq,
                       struct result r[3])
{
    struct result round[3][MAX_REPEAT], warm;
    int rc = measure(o, k, sess, seq, PROTECT_AND_SEND, &warm); /* caches, socket buffers */
    for (int i = 0; i < o->repeat && rc == 0; i++)
        for (int m = 0; m < 3 && rc == 0; m++)
            rc = measure(o, k, sess, seq, (enum mode)m, &round[m][i]);
    for (int m = 0; m < 3 && rc == 0; m++) {
        qsort(round[m], (size_t)o->repeat, sizeof round[m][0], cmp_us);
        r[m] = round[m][o->repeat / 2];
    }
    return rc;
}

static void write_json(const struct opts *o, const struct result *r)
{
    FILE *f = fopen(o->json, "w");
    if (!f) {
        fprintf(stderr, "srtp_udp: cannot write %s\n", o->json);
        return;
    }
    fprintf(f, "{\"bench\":\"srtp_udp\",\"profile\":\"AEAD_AES_128_GCM\",\"size\":%zu,\"dests\":%d,"
            "\"batch\":%d,\"repeat\":%d,\"packets\":%d,\"srtp_us\":%.3f,\"udp_us\":%.3f,\"raw_us_per_packet\":%.3f,"
            "\"sent\":%llu,\"lost\":%llu}\n", o->size, o->dests, BATCH, o->repeat, o->packets, r[PROTECT_ONLY].us,
            r[SEND_ONLY].us, r[PROTECT_AND_SEND].us, (unsigned long long)r[PROTECT_AND_SEND].sent,
            (unsigned long long)r[PROTECT_AND_SEND].lost);
    fclose(f);
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    static struct sink k;
    srtpx_session_t **sess = calloc((size_t)o.dests, sizeof *sess);
    uint16_t *seq = calloc((size_t)o.dests, sizeof *seq);
    if (!sess || !seq || srtpx_init() < 0 || sink_open(&k, o.dests) < 0) {
        fprintf(stderr, "srtp_udp: setup failed: %s\n", strerror(errno));
        return 1;
    }
    for (int d = 0; d < o.dests; d++)
        if (!(sess[d] = random_session())) {
            fprintf(stderr, "srtp_udp: cannot key SRTP\n");
            return 1;
        }
    static const char *const names[] = {"srtp (protect only)", "udp (sendmmsg only)", "raw (protect + send)"};
    struct result r[3];
    int rc = measure_all(&o, &k, sess, seq, r);
    sink_close(&k);
    for (int d = 0; d < o.dests; d++)
        srtpx_session_free(sess[d]);
    free(sess);
    free(seq);
    if (rc < 0) {
        fprintf(stderr, "srtp_udp: a protect or a send failed: %s\n", strerror(errno));
        return 1;
    }
    printf("srtp_udp: %zu-byte RTP packets, AEAD_AES_128_GCM, sendmmsg batches of %d to %d loopback "
           "sockets (one SRTP session each), %d packets per measurement, median of %d; CPU of the "
           "sending thread\n", o.size, BATCH, o.dests, o.packets, o.repeat);
    for (int m = 0; m < 3; m++)
        printf("  %-22s %7.3f us/packet%s\n", names[m], r[m].us,
               m == PROTECT_ONLY ? "" : r[m].lost ? "  (some lost: the reader fell behind)" : "");
    double read = 100.0 * (double)(r[2].sent - r[2].lost) / (double)r[2].sent;
    printf("  read by the receivers: %.2f%%\n", read);
    if (o.json)
        write_json(&o, r);
    printf("srtp_udp: size=%zu dests=%d raw_us_per_packet=%.3f srtp_us=%.3f udp_us=%.3f\n", o.size, o.dests,
           r[2].us, r[0].us, r[1].us);
    return read < 99.0 ? 1 : 0;
}
