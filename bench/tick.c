/* Bench: how steady the media workers' 20 ms tick is, first with the server idle, then while
 * client threads hammer the signaling thread with HTTP (/metrics and /healthz, which pings
 * every worker). Runs the real server in-process on loopback and reads the workers' jitter
 * histograms directly, so what it reports is what the media path experiences. */
#include "mcu/config.h"
#include "mcu/log.h"
#include "mcu/server.h"
#include "mcu/stats.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SETTLE_NS 1000000000LL /* before each phase: first ticks, clients connected */
#define IO_TIMEOUT_S 5
#define RBUF 65536

struct opts {
    int seconds;       /* per phase */
    int workers;       /* 0 = one per core */
    int load_threads;  /* HTTP clients in the busy phase */
    const char *json;  /* optional result file */
};

/* One HTTP client thread. Counters have one writer (the thread); main reads them. */
struct loader {
    pthread_t thread;
    int index, port;
    _Atomic bool *stop;
    _Atomic uint64_t ok[2], lat_ns[2]; /* [0] /metrics, [1] /healthz: 2xx answers, their time */
    _Atomic uint64_t non2xx, errors;   /* other statuses; connect/read/parse failures */
};

static const char *const load_paths[2] = {"/metrics", "/healthz"};

/* CPU time in clock ticks of the process's threads, grouped by what they are. */
struct cpu {
    uint64_t signaling, workers, load, other;
};

/* Everything read at one instant; phase figures are differences of two of these. */
struct snap {
    int64_t t_ns;
    uint32_t *hist;        /* nworkers * JITTER_BUCKETS, owned */
    uint64_t *ticks, *missed, *busy_ns; /* per worker, owned */
    double proc_cpu_s;     /* getrusage(RUSAGE_SELF), user + system */
    struct cpu cpu;
    uint64_t ok[2], lat_ns[2], non2xx, errors; /* summed over loaders */
};

struct quant {
    uint64_t ticks, missed, intervals;
    uint32_t p50, p99, max;
    double busy_pct;
};

struct phase {
    const char *name;
    double wall_s;
    struct quant *worker;  /* nworkers entries, owned */
    struct quant all;
    double proc_pct, sig_pct, workers_pct, load_pct, other_pct; /* % of one core */
    double rps, rps_path[2], mean_ms[2];
    uint64_t non2xx, errors;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tick [--seconds N] [--workers N] [--load-threads N] [--json FILE]\n"
               "  --seconds N       length of each phase (default 60)\n"
               "  --workers N       media workers (default: one per core)\n"
               "  --load-threads N  HTTP client threads in the busy phase (default 4)\n"
               "  --json FILE       also write the results as JSON\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.seconds = 60, .workers = 0, .load_threads = 4};
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
        if (!strcmp(a, "--json"))
            o->json = v;
        else if (!strcmp(a, "--seconds") && num && n > 0 && n <= 86400)
            o->seconds = (int)n;
        else if (!strcmp(a, "--workers") && num && n > 0 && n <= 1024)
            o->workers = (int)n;
        else if (!strcmp(a, "--load-threads") && num && n >= 0 && n <= 1024)
            o->load_threads = (int)n;
        else
            return -1;
    }
    return 0;
}

/* A loopback TCP port that was free a moment ago (the server binds it right after). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", path, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(path);
}

/* ---- HTTP client ---------------------------------------------------------------------- */

struct hconn {
    int fd;           /* -1 when not connected */
    char buf[RBUF];
    size_t len;       /* bytes in buf not yet consumed */
};

static int hconn_open(struct hconn *h, int port)
{
    h->len = 0;
    h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (h->fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(h->fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(h->fd);
        h->fd = -1;
        return -1;
    }
    return 0;
}

static void hconn_close(struct hconn *h)
{
    if (h->fd >= 0)
        close(h->fd);
    h->fd = -1;
    h->len = 0;
}

static int fill(struct hconn *h)
{
    if (h->len == sizeof h->buf)
        return -1;
    ssize_t n;
    do
        n = recv(h->fd, h->buf + h->len, sizeof h->buf - h->len, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    h->len += (size_t)n;
    return 0;
}

static void consume(struct hconn *h, size_t n)
{
    memmove(h->buf, h->buf + n, h->len - n);
    h->len -= n;
}

/* Reads one response on a keep-alive connection, discarding the body. Returns the status,
 * or -1 on an I/O or framing error (the caller reconnects). Sets *close_after when the
 * server will not keep the connection. */
static int read_response(struct hconn *h, bool *close_after)
{
    char *eoh;
    while (!(h->len && (eoh = memmem(h->buf, h->len, "\r\n\r\n", 4))))
        if (fill(h) < 0)
            return -1;
    size_t hlen = (size_t)(eoh - h->buf) + 4;
    char head[4096];
    if (hlen >= sizeof head)
        return -1;
    memcpy(head, h->buf, hlen);
    head[hlen] = '\0';
    consume(h, hlen);
    int status;
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    const char *cl = strcasestr(head, "\r\ncontent-length:");
    *close_after = strcasestr(head, "\r\nconnection: close") != NULL || !cl;
    if (!cl) { /* body runs to the end of the connection */
        while (fill(h) == 0)
            h->len = 0;
        return status;
    }
    unsigned long long left = strtoull(cl + 17, NULL, 10);
    while (left) {
        if (!h->len && fill(h) < 0)
            return -1;
        size_t n = h->len < left ? h->len : (size_t)left;
        consume(h, n);
        left -= n;
    }
    return status;
}

static int http_get(struct hconn *h, int port, const char *path, bool *close_after)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
    if (send(h->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        return -1;
    return read_response(h, close_after);
}

/* Alternates /metrics and /healthz over one keep-alive connection, reconnecting on error. */
static void *loader_main(void *arg)
{
    struct loader *l = arg;
    char name[16];
    snprintf(name, sizeof name, "tick-load-%d", l->index);
    pthread_setname_np(pthread_self(), name);
    struct hconn *h = malloc(sizeof *h);
    if (!h) {
        atomic_fetch_add(&l->errors, 1);
        return NULL;
    }
    h->fd = -1;
    for (unsigned i = 0; !atomic_load_explicit(l->stop, memory_order_relaxed); i++) {
        if (h->fd < 0 && hconn_open(h, l->port) < 0) {
            atomic_fetch_add(&l->errors, 1);
            usleep(10000);
            continue;
        }
        int which = (int)(i & 1);
        bool close_after = false;
        int64_t t0 = mono_ns();
        int st = http_get(h, l->port, load_paths[which], &close_after);
        int64_t dt = mono_ns() - t0;
        if (st < 0) {
            atomic_fetch_add(&l->errors, 1);
            hconn_close(h);
            continue;
        }
        if (st >= 200 && st < 300) {
            atomic_fetch_add_explicit(&l->ok[which], 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&l->lat_ns[which], (uint64_t)dt, memory_order_relaxed);
        } else {
            atomic_fetch_add(&l->non2xx, 1);
        }
        if (close_after)
            hconn_close(h);
    }
    hconn_close(h);
    free(h);
    return NULL;
}

/* ---- snapshots ------------------------------------------------------------------------ */

/* Sums utime + stime of every thread of this process by role, using the names the server
 * gives its threads ("signaling", "media-N") and ours ("tick-load-N"). */
static void thread_cpu(struct cpu *c)
{
    memset(c, 0, sizeof *c);
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[32] = "", stat[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = '\0';
        char *p = strrchr(stat, ')'); /* the name may hold spaces; fields follow the last ')' */
        unsigned long long ut, st;
        if (!p || sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &ut, &st) != 2)
            continue;
        uint64_t t = ut + st;
        if (!strncmp(comm, "signaling", 9))
            c->signaling += t;
        else if (!strncmp(comm, "media-", 6))
            c->workers += t;
        else if (!strncmp(comm, "tick-load-", 10))
            c->load += t;
        else
            c->other += t;
    }
    closedir(d);
}

static int snap_alloc(struct snap *s, int nworkers)
{
    memset(s, 0, sizeof *s);
    s->hist = calloc((size_t)nworkers * JITTER_BUCKETS, sizeof *s->hist);
    s->ticks = calloc((size_t)nworkers, sizeof *s->ticks);
    s->missed = calloc((size_t)nworkers, sizeof *s->missed);
    s->busy_ns = calloc((size_t)nworkers, sizeof *s->busy_ns);
    return s->hist && s->ticks && s->missed && s->busy_ns ? 0 : -1;
}

static void snap_free(struct snap *s)
{
    free(s->hist);
    free(s->ticks);
    free(s->missed);
    free(s->busy_ns);
}

static void snap_take(struct snap *s, struct server *srv, struct loader *ld, int nld)
{
    s->t_ns = mono_ns();
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker_stats *ws = &srv->workers[i].stats;
        uint32_t *h = s->hist + (size_t)i * JITTER_BUCKETS;
        for (int k = 0; k < JITTER_BUCKETS; k++)
            h[k] = atomic_load_explicit(&ws->jitter_hist[k], memory_order_relaxed);
        s->ticks[i] = stat_get(&ws->ticks);
        s->missed[i] = stat_get(&ws->ticks_missed);
        s->busy_ns[i] = stat_get(&ws->busy_ns);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    s->proc_cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    thread_cpu(&s->cpu);
    memset(s->ok, 0, sizeof s->ok);
    memset(s->lat_ns, 0, sizeof s->lat_ns);
    s->non2xx = s->errors = 0;
    for (int i = 0; i < nld; i++) {
        for (int p = 0; p < 2; p++) {
            s->ok[p] += atomic_load(&ld[i].ok[p]);
            s->lat_ns[p] += atomic_load(&ld[i].lat_ns[p]);
        }
        s->non2xx += atomic_load(&ld[i].non2xx);
        s->errors += atomic_load(&ld[i].errors);
    }
}

/* ---- phase figures -------------------------------------------------------------------- */

static void quantify(struct quant *q, const uint32_t *diff)
{
    q->intervals = 0;
    q->max = 0;
    for (int k = 0; k < JITTER_BUCKETS; k++) {
        q->intervals += diff[k];
        if (diff[k])
            q->max = (uint32_t)k;
    }
    q->p50 = stats_hist_quantile(diff, 0.50);
    q->p99 = stats_hist_quantile(diff, 0.99);
}

/* Fills p from two snapshots. diff and merged are caller scratch of JITTER_BUCKETS each. */
static void phase_compute(struct phase *p, const struct snap *a, const struct snap *b,
                          int nworkers, uint32_t *diff, uint32_t *merged)
{
    p->wall_s = (double)(b->t_ns - a->t_ns) / 1e9;
    memset(merged, 0, JITTER_BUCKETS * sizeof *merged);
    memset(&p->all, 0, sizeof p->all);
    uint64_t busy = 0;
    for (int i = 0; i < nworkers; i++) {
        const uint32_t *ha = a->hist + (size_t)i * JITTER_BUCKETS;
        const uint32_t *hb = b->hist + (size_t)i * JITTER_BUCKETS;
        for (int k = 0; k < JITTER_BUCKETS; k++) {
            diff[k] = hb[k] - ha[k];
            merged[k] += diff[k];
        }
        struct quant *q = &p->worker[i];
        quantify(q, diff);
        q->ticks = b->ticks[i] - a->ticks[i];
        q->missed = b->missed[i] - a->missed[i];
        q->busy_pct = 100.0 * (double)(b->busy_ns[i] - a->busy_ns[i]) / 1e9 / p->wall_s;
        p->all.ticks += q->ticks;
        p->all.missed += q->missed;
        busy += b->busy_ns[i] - a->busy_ns[i];
    }
    quantify(&p->all, merged);
    p->all.busy_pct = 100.0 * (double)busy / 1e9 / p->wall_s / nworkers;
    double hz = (double)sysconf(_SC_CLK_TCK), core = 100.0 / p->wall_s;
    p->proc_pct = (b->proc_cpu_s - a->proc_cpu_s) * core;
    p->sig_pct = (double)(b->cpu.signaling - a->cpu.signaling) / hz * core;
    p->workers_pct = (double)(b->cpu.workers - a->cpu.workers) / hz * core;
    p->load_pct = (double)(b->cpu.load - a->cpu.load) / hz * core;
    p->other_pct = (double)(b->cpu.other - a->cpu.other) / hz * core;
    p->rps = 0;
    for (int k = 0; k < 2; k++) {
        uint64_t n = b->ok[k] - a->ok[k];
        p->rps_path[k] = (double)n / p->wall_s;
        p->rps += p->rps_path[k];
        p->mean_ms[k] = n ? (double)(b->lat_ns[k] - a->lat_ns[k]) / (double)n / 1e6 : 0;
    }
    p->non2xx = b->non2xx - a->non2xx;
    p->errors = b->errors - a->errors;
}

static void print_quant_row(const char *label, const struct quant *q)
{
    printf("  %6s %7lu %6lu %9lu %7u %7u %7u%s %6.2f\n", label, q->ticks, q->missed, q->intervals,
           q->p50, q->p99, q->max, q->max == JITTER_BUCKETS - 1 ? "+" : " ", q->busy_pct);
}

static void phase_print(const struct phase *p, int nworkers, int nld)
{
    printf("\nphase %s: %.2f s\n", p->name, p->wall_s);
    printf("  %6s %7s %6s %9s %7s %7s %8s %6s\n", "worker", "ticks", "missed", "intervals",
           "p50_us", "p99_us", "max_us", "busy%");
    char label[16];
    for (int i = 0; i < nworkers; i++) {
        snprintf(label, sizeof label, "%d", i);
        print_quant_row(label, &p->worker[i]);
    }
    print_quant_row("all", &p->all);
    printf("  cpu (%% of one core): process %.1f | signaling thread %.1f | workers %.1f | "
           "load clients %.1f | other %.1f\n",
           p->proc_pct, p->sig_pct, p->workers_pct, p->load_pct, p->other_pct);
    if (nld)
        printf("  http: %.0f req/s with %d clients (/metrics %.0f/s mean %.2f ms, /healthz %.0f/s "
               "mean %.2f ms), non-2xx %lu, errors %lu\n",
               p->rps, nld, p->rps_path[0], p->mean_ms[0], p->rps_path[1], p->mean_ms[1],
               p->non2xx, p->errors);
}

static json_t *quant_json(const struct quant *q)
{
    return json_pack("{s:I,s:I,s:I,s:i,s:i,s:i,s:f}", "ticks", (json_int_t)q->ticks, "ticks_missed",
                     (json_int_t)q->missed, "intervals", (json_int_t)q->intervals, "p50_us",
                     (int)q->p50, "p99_us", (int)q->p99, "max_us", (int)q->max, "busy_pct",
                     q->busy_pct);
}

static json_t *phase_json(const struct phase *p, int nworkers)
{
    json_t *ws = json_array();
    for (int i = 0; i < nworkers; i++)
        json_array_append_new(ws, quant_json(&p->worker[i]));
    return json_pack("{s:f,s:o,s:o,s:{s:f,s:f,s:f,s:f,s:f},s:{s:f,s:f,s:f,s:f,s:f,s:I,s:I}}",
                     "seconds", p->wall_s, "all", quant_json(&p->all), "workers", ws,
                     "cpu_pct_of_core", "process", p->proc_pct, "signaling", p->sig_pct,
                     "workers", p->workers_pct, "load_clients", p->load_pct, "other", p->other_pct,
                     "http", "rps", p->rps, "metrics_rps", p->rps_path[0], "metrics_mean_ms",
                     p->mean_ms[0], "healthz_rps", p->rps_path[1], "healthz_mean_ms", p->mean_ms[1],
                     "non_2xx", (json_int_t)p->non2xx, "errors", (json_int_t)p->errors);
}

static int write_json(const char *file, const struct opts *o, int nworkers, const struct phase *ph)
{
    json_t *j = json_pack("{s:s,s:i,s:i,s:i,s:o,s:o}", "bench", "tick", "seconds_per_phase",
                          o->seconds, "workers", nworkers, "load_threads", o->load_threads,
                          "idle", phase_json(&ph[0], nworkers), "busy", phase_json(&ph[1], nworkers));
    int rc = j ? json_dump_file(j, file, JSON_INDENT(2)) : -1;
    json_decref(j);
    return rc;
}

/* ---- phases --------------------------------------------------------------------------- */

static void sleep_until(int64_t deadline_ns)
{
    struct timespec ts = {.tv_sec = deadline_ns / 1000000000LL, .tv_nsec = deadline_ns % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

struct bench {
    struct server srv;
    const struct opts *o;
    struct loader *ld;    /* o->load_threads entries, owned */
    _Atomic bool ld_stop;
    struct snap a, b;
    uint32_t *diff, *merged; /* JITTER_BUCKETS each, scratch */
    struct phase ph[2];      /* idle, busy */
};

static int start_loaders(struct bench *B, int port)
{
    for (int i = 0; i < B->o->load_threads; i++) {
        struct loader *l = &B->ld[i];
        l->index = i;
        l->port = port;
        l->stop = &B->ld_stop;
        if (pthread_create(&l->thread, NULL, loader_main, l)) {
            atomic_store(&B->ld_stop, true);
            for (int k = 0; k < i; k++)
                pthread_join(B->ld[k].thread, NULL);
            return -1;
        }
    }
    return 0;
}

/* Settles, snapshots, waits the phase out, snapshots again. Load (if any) runs throughout. */
static void measure(struct bench *B, struct phase *p)
{
    int nld = p == &B->ph[1] ? B->o->load_threads : 0;
    sleep_until(mono_ns() + SETTLE_NS);
    snap_take(&B->a, &B->srv, B->ld, nld);
    sleep_until(B->a.t_ns + (int64_t)B->o->seconds * 1000000000LL);
    snap_take(&B->b, &B->srv, B->ld, nld);
    phase_compute(p, &B->a, &B->b, B->srv.nworkers, B->diff, B->merged);
}

static int run(struct bench *B, int port)
{
    int nw = B->srv.nworkers;
    B->ph[0].name = "idle";
    B->ph[1].name = "signaling busy";
    B->ld = calloc((size_t)B->o->load_threads + 1, sizeof *B->ld);
    B->diff = malloc(JITTER_BUCKETS * sizeof *B->diff);
    B->merged = malloc(JITTER_BUCKETS * sizeof *B->merged);
    B->ph[0].worker = calloc((size_t)nw, sizeof(struct quant));
    B->ph[1].worker = calloc((size_t)nw, sizeof(struct quant));
    if (!B->ld || !B->diff || !B->merged || !B->ph[0].worker || !B->ph[1].worker ||
        snap_alloc(&B->a, nw) < 0 || snap_alloc(&B->b, nw) < 0) {
        fprintf(stderr, "tick: out of memory\n");
        return -1;
    }
    printf("tick: %d media worker%s, %d load thread%s, %d s per phase, server on 127.0.0.1:%d\n",
           nw, nw == 1 ? "" : "s", B->o->load_threads, B->o->load_threads == 1 ? "" : "s",
           B->o->seconds, port);
    fflush(stdout);
    measure(B, &B->ph[0]);
    phase_print(&B->ph[0], nw, 0);
    fflush(stdout);
    if (start_loaders(B, port) < 0) {
        fprintf(stderr, "tick: cannot start the load threads\n");
        return -1;
    }
    measure(B, &B->ph[1]);
    atomic_store(&B->ld_stop, true);
    for (int i = 0; i < B->o->load_threads; i++)
        pthread_join(B->ld[i].thread, NULL);
    phase_print(&B->ph[1], nw, B->o->load_threads);
    return 0;
}

static void bench_free(struct bench *B)
{
    snap_free(&B->a);
    snap_free(&B->b);
    free(B->ph[0].worker);
    free(B->ph[1].worker);
    free(B->diff);
    free(B->merged);
    free(B->ld);
}

/* Returns 0 when both phases saw ticks (and the busy phase got answers), 1 otherwise. */
static int verdict(const struct bench *B)
{
    const struct phase *ph = B->ph;
    if (!ph[0].all.intervals || !ph[1].all.intervals) {
        fprintf(stderr, "tick: no ticks were seen in the %s phase\n",
                ph[0].all.intervals ? "busy" : "idle");
        return 1;
    }
    if (B->o->load_threads && ph[1].rps <= 0) {
        fprintf(stderr, "tick: the server answered no HTTP request in the busy phase\n");
        return 1;
    }
    return 0;
}

static void config_for_bench(struct mcu_config *cfg, const struct opts *o, int port, const char *dir)
{
    config_defaults(cfg);
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->listen_port = port;
    snprintf(cfg->media_addrs[0], sizeof cfg->media_addrs[0], "127.0.0.1");
    cfg->n_media_addrs = 1; /* IPv6 loopback may be missing in containers; ticks don't care */
    cfg->media_port = 0;
    cfg->workers = o->workers;
    snprintf(cfg->db_path, sizeof cfg->db_path, "%s/mcu.db", dir);
    snprintf(cfg->web_root, sizeof cfg->web_root, "web");
    cfg->log_level = LOG_LVL_WARN;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    log_init(LOG_LVL_WARN, false);
    char dir[] = "/tmp/mcu-tick-XXXXXX";
    int port = free_port();
    if (!mkdtemp(dir) || port < 0) {
        fprintf(stderr, "tick: cannot create a temporary directory or find a free port: %s\n",
                strerror(errno));
        return 1;
    }
    static struct bench B; /* large (histogram pointers aside) and lives for the whole run */
    B.o = &o;
    struct mcu_config cfg;
    config_for_bench(&cfg, &o, port, dir);
    char err[512];
    if (server_start(&B.srv, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "tick: the server did not start: %s\n", err);
        remove_dir(dir);
        return 1;
    }
    int rc = run(&B, port) < 0 ? 1 : verdict(&B);
    server_shutdown(&B.srv);
    remove_dir(dir);
    if (rc == 0 && o.json && write_json(o.json, &o, B.srv.nworkers, B.ph) < 0) {
        fprintf(stderr, "tick: cannot write %s\n", o.json);
        rc = 1;
    }
    if (rc == 0) {
        const struct phase *ph = B.ph;
        printf("\ntick: idle_p50_us=%u idle_p99_us=%u idle_max_us=%u busy_p50_us=%u "
               "busy_p99_us=%u busy_max_us=%u busy_http_rps=%.0f\n",
               ph[0].all.p50, ph[0].all.p99, ph[0].all.max, ph[1].all.p50, ph[1].all.p99,
               ph[1].all.max, ph[1].rps);
    }
    bench_free(&B);
    log_close();
    return rc;
}
