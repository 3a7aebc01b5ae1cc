/* Room mode's run (see run.h and room.h): one site per credential, driven by the same 5 ms
 * clock and epoll set as the default mode, for a fixed time. A test steers it through stdin
 * (`drop SITE`, `quit`) and follows it through JSON lines on stdout (--status-lines): a
 * status every second, with what each verify site hears, and an event line per change. */
#include "tools/load/impair.h"
#include "tools/load/run.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 5              /* as in the default mode: each site sends on one tick in four */
#define PHASES (20 / TICK_MS)
#define MAX_CATCHUP 20
#define HEARD_WINDOW_S 1.5     /* a status line's "heard" judges this much of the newest audio */
#define HEARD_MIN_S 0.5        /* ... and needs at least this much */
#define HEARD_STALE_MS 1000    /* no mix for this long: it hears nobody */
#define STDIN_LINE 256

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- setup ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *b = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
        if (!b)
            free(buf);
        buf = b;
        cap *= 2;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* The index of the credential with this site id, -1 none. */
static int cred_index(const struct load_run *r, long long id)
{
    for (int i = 0; i < r->o.sites; i++)
        if (r->creds[i].site == id)
            return i;
    return -1;
}

static int check_ids(const struct load_run *r, const long long *ids, int n, const char *opt)
{
    for (int k = 0; k < n; k++) {
        if (cred_index(r, ids[k]) < 0) {
            fprintf(stderr, "mcu-load: %s: site %lld is not among the %d sites of %s\n", opt, ids[k],
                    r->o.sites, r->o.credentials);
            return -1;
        }
        for (int j = 0; j < k; j++)
            if (ids[j] == ids[k]) {
                fprintf(stderr, "mcu-load: %s: site %lld is listed twice\n", opt, ids[k]);
                return -1;
            }
    }
    return 0;
}

int load_room_setup(struct load_run *r)
{
    struct load_opts *o = &r->o;
    size_t len;
    char err[256], *text = read_file(o->credentials, &len);
    if (!text) {
        fprintf(stderr, "mcu-load: cannot read %s: %s\n", o->credentials, strerror(errno));
        return -1;
    }
    int rc = lroom_parse_credentials(text, len, &r->creds, &r->n_creds, err, sizeof err);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "mcu-load: %s: %s\n", o->credentials, err);
        return -1;
    }
    if (o->sites > r->n_creds) {
        fprintf(stderr, "mcu-load: --sites %d, but %s holds %d sites\n", o->sites, o->credentials, r->n_creds);
        return -1;
    }
    if (o->sites < 0)
        o->sites = r->n_creds;
    if (o->n_talker_ids > LA_MAX_TALKERS) {
        fprintf(stderr, "mcu-load: --talker-sites: at most %d talkers (one signature tone each)\n",
                LA_MAX_TALKERS);
        return -1;
    }
    if (check_ids(r, o->talker_ids, o->n_talker_ids, "--talker-sites") < 0 ||
        check_ids(r, o->verify_ids, o->n_verify_ids, "--verify-sites") < 0)
        return -1;
    o->talkers = o->n_talker_ids;
    return 0;
}

static bool is_verify(const struct load_run *r, long long id)
{
    for (int k = 0; k < r->o.n_verify_ids; k++)
        if (r->o.verify_ids[k] == id)
            return true;
    return false;
}

/* The receivers that decode their mix: --verify-sites, or the talkers and then the others
 * in file order, --verify in all. */
static int make_ears(struct load_run *r)
{
    int left = r->o.verify_ids ? r->o.n_verify_ids : r->o.verify;
    int secs = r->o.verify_seconds < 2 ? 2 : r->o.verify_seconds; /* >= HEARD_WINDOW_S */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < r->n && left > 0; i++) {
            struct site *s = &r->sites[i];
            bool pick = r->o.verify_ids ? pass == 0 && is_verify(r, s->rm->id)
                                        : (pass == 0) == (s->talker >= 0);
            if (!pick || s->ear)
                continue;
            s->ear = calloc(1, sizeof *s->ear);
            if (!s->ear || lv_ear_init(s->ear, secs) < 0)
                return -1;
            left--;
        }
    return 0;
}

int load_room_make_sites(struct load_run *r)
{
    struct load_env *env = &r->env;
    r->n = r->o.sites;
    r->sites = calloc((size_t)r->n, sizeof *r->sites);
    env->nrooms = 1; /* no marker beeps in room mode; one entry keeps site_send's lookups valid */
    env->rooms = calloc(1, sizeof *env->rooms);
    if (!r->sites || !env->rooms)
        return -1;
    env->rooms[0].marker_site = -1;
    env->lroom = &r->room;
    r->room.join_concurrency = r->o.join_concurrency;
    r->room.join_timeout_ms = (int64_t)r->o.join_timeout_s * 1000;
    r->room.out = r->o.status_lines ? stdout : NULL;
    for (int i = 0; i < r->n; i++) {
        const struct lroom_cred *c = &r->creds[i];
        int talker = -1;
        for (int k = 0; k < r->o.n_talker_ids; k++)
            if (r->o.talker_ids[k] == c->site) {
                talker = k;
                r->talker_site[k] = i;
            }
        char name[LROOM_NAME_SZ];
        if (c->name[0])
            snprintf(name, sizeof name, "%s", c->name);
        else
            snprintf(name, sizeof name, "site-%lld", c->site);
        site_init(&r->sites[i], i, 0, talker, false, false, name, "", env);
        if (lroom_site_init(&r->sites[i], c) < 0)
            return -1;
    }
    return make_ears(r);
}

/* ---- what the sites hear ---- */

/* The talker site ids whose signature is in s's newest mix, as a JSON array. */
static json_t *heard(const struct load_run *r, const struct site *s, int64_t now_ms)
{
    json_t *a = json_array();
    if (!s->ear || s->stage != SITE_MEDIA || now_ms - s->t_last_audio_ms > HEARD_STALE_MS)
        return a;
    for (int k = 0; k < r->o.talkers; k++) {
        double secs, db = lv_ear_tone_dbfs_last(s->ear, la_talker_hz(k), HEARD_WINDOW_S, &secs);
        if (secs >= HEARD_MIN_S && db >= r->o.present_dbfs)
            json_array_append_new(a, json_integer(r->sites[r->talker_site[k]].rm->id));
    }
    return a;
}

struct counts {
    int signed_in, joined, media;
};

static struct counts count(const struct load_run *r)
{
    struct counts c = {0};
    for (int i = 0; i < r->n; i++) {
        const struct site *s = &r->sites[i];
        c.signed_in += s->rm->signed_in;
        c.joined += s->stage == SITE_CONNECTING || s->stage == SITE_FIRST_MEDIA || s->stage == SITE_MEDIA;
        c.media += s->stage == SITE_MEDIA;
    }
    return c;
}

static void status_line(const struct load_run *r, int64_t now_ms)
{
    struct counts c = count(r);
    json_t *h = json_object();
    for (int i = 0; i < r->n; i++)
        if (r->sites[i].ear) {
            char key[24];
            snprintf(key, sizeof key, "%lld", r->sites[i].rm->id);
            json_object_set_new(h, key, heard(r, &r->sites[i], now_ms));
        }
    json_t *j = json_pack("{s:I,s:i,s:i,s:i,s:o}", "t", (json_int_t)(now_ms - r->room.t0_ms),
                          "signed_in", c.signed_in, "joined", c.joined, "media", c.media, "heard", h);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (text) {
        printf("%s\n", text);
        fflush(stdout);
    }
    free(text);
    json_decref(j);
}

/* The progress line on stderr, once a second. */
static void progress(const struct load_run *r, int64_t now_ms, uint64_t *last_out, uint64_t *last_in)
{
    struct counts c = count(r);
    bool tty = isatty(2);
    fprintf(stderr, "%s[%6.1fs] signed in %d/%d  joined %d  media %d  out %llu pkt/s  in %llu pkt/s%s",
            tty ? "\r\033[K" : "", (double)(now_ms - r->room.t0_ms) / 1000.0, c.signed_in, r->n, c.joined,
            c.media, (unsigned long long)(r->env.pkts_out - *last_out),
            (unsigned long long)(r->env.pkts_in - *last_in), tty ? "" : "\n");
    fflush(stderr);
    *last_out = r->env.pkts_out;
    *last_in = r->env.pkts_in;
}

/* ---- stdin commands ---- */

static struct site *site_by_id(struct load_run *r, long long id)
{
    for (int i = 0; i < r->n; i++)
        if (r->sites[i].rm->id == id)
            return &r->sites[i];
    return NULL;
}

static void command(struct load_run *r, char *line, int64_t now_ms)
{
    char *end = line + strlen(line);
    while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        *--end = 0;
    while (*line == ' ' || *line == '\t')
        line++;
    long long id;
    char extra;
    if (!*line || *line == '#')
        return;
    if (!strcmp(line, "quit")) {
        r->room_quit = true;
    } else if (sscanf(line, "drop %lld %c", &id, &extra) == 1) {
        struct site *s = site_by_id(r, id);
        if (s)
            lroom_drop(s, &r->env, now_ms);
        else
            fprintf(stderr, "mcu-load: drop: no site %lld in this run\n", id);
    } else {
        fprintf(stderr, "mcu-load: unknown command \"%s\" (drop SITE, quit)\n", line);
    }
}

struct line_buf {
    char b[STDIN_LINE];
    size_t n;
    bool open;                 /* stdin is in the epoll set */
};

static void on_stdin(struct load_run *r, struct line_buf *lb, int64_t now_ms)
{
    char buf[4096];
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) { /* EOF: tests may close stdin; the run goes on */
        epoll_ctl(r->env.epfd, EPOLL_CTL_DEL, 0, NULL);
        lb->open = false;
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\n') {
            if (lb->n < sizeof lb->b - 1)
                lb->b[lb->n++] = buf[i]; /* longer lines are cut: no command is that long */
            continue;
        }
        lb->b[lb->n] = 0;
        command(r, lb->b, now_ms);
        lb->n = 0;
    }
}

/* ---- the report ---- */

static json_t *ids_json(const long long *ids, int n)
{
    json_t *a = json_array();
    for (int k = 0; k < n; k++)
        json_array_append_new(a, json_integer(ids[k]));
    return a;
}

static json_t *room_site_json(const struct site *s, bool video)
{
    const struct lroom_site *rm = s->rm;
    uint64_t e, l, rx;
    lroom_rx_totals(s, &e, &l, &rx);
    json_t *ms = json_array();
    for (int k = 0; k < rm->n_media_ms; k++)
        json_array_append_new(ms, json_integer(rm->media_ms[k]));
    json_t *o = json_pack("{s:I,s:s,s:i,s:i,s:i,s:o,s:o,s:s,s:s}", "site", (json_int_t)rm->id, "name",
                          s->name, "signins", rm->signins, "joins", rm->joins, "drops", rm->drops,
                          "first_media_ms", rm->first_media_ms >= 0 ? json_integer(rm->first_media_ms) : json_null(),
                          "media_ms", ms, "last_status", site_stage_name(s->stage), "conference", rm->conf);
    if (s->talker >= 0)
        json_object_set_new(o, "talker", json_integer(s->talker));
    if (rm->last_error[0])
        json_object_set_new(o, "last_error", json_string(rm->last_error));
    json_object_set_new(o, "sent", json_integer((json_int_t)s->sent));
    json_object_set_new(o, "received", json_integer((json_int_t)rx));
    json_object_set_new(o, "lost", json_integer((json_int_t)l));
    if (video)
        json_object_set_new(o, "video_frames_received", json_integer((json_int_t)s->video_frames_in));
    return o;
}

/* Each verify site's tone levels over the audio its ear kept (up to --verify-seconds). */
static json_t *receiver_json(const struct load_run *r, const struct site *s, int64_t now_ms)
{
    json_t *lv = json_object();
    double secs = 0;
    for (int k = 0; k < r->o.talkers; k++) {
        char key[16];
        snprintf(key, sizeof key, "%.0f", la_talker_hz(k));
        json_object_set_new(lv, key, json_real(round(lv_ear_tone_dbfs(s->ear, la_talker_hz(k), &secs) * 10) / 10));
    }
    return json_pack("{s:I,s:s,s:o,s:o,s:f}", "site", (json_int_t)s->rm->id, "name", s->name, "heard",
                     heard(r, s, now_ms), "levels_dbfs", lv, "seconds", secs);
}

static json_t *totals_json(const struct load_run *r, double *media_ms, int *n_media)
{
    struct counts c = count(r);
    int signins = 0, joins = 0, drops = 0;
    uint64_t exp = 0, lost = 0, recv = 0;
    for (int i = 0; i < r->n; i++) {
        const struct lroom_site *rm = r->sites[i].rm;
        uint64_t e, l, rx;
        lroom_rx_totals(&r->sites[i], &e, &l, &rx);
        exp += e;
        lost += l;
        recv += rx;
        signins += rm->signins;
        joins += rm->joins;
        drops += rm->drops;
        for (int k = 0; k < rm->n_media_ms && media_ms; k++)
            media_ms[(*n_media)++] = (double)rm->media_ms[k];
    }
    json_t *t = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "sites", r->n, "signed_in", c.signed_in,
                          "joined", c.joined, "media", c.media, "signins", signins, "joins", joins,
                          "drops", drops);
    json_object_set_new(t, "packets", json_pack("{s:I,s:I,s:I,s:I}", "sent", (json_int_t)r->env.pkts_out,
                        "received", (json_int_t)r->env.pkts_in, "send_errors", (json_int_t)r->env.send_errors,
                        "unprotect_errors", (json_int_t)r->env.unprotect_errors));
    json_object_set_new(t, "loss", json_pack("{s:I,s:I,s:I,s:f}", "expected", (json_int_t)exp, "received",
                        (json_int_t)recv, "lost", (json_int_t)lost,
                        "pct", exp ? round(10000.0 * (double)lost / (double)exp) / 100 : 0.0));
    return t;
}

static json_t *config_json(const struct load_run *r)
{
    const struct load_opts *o = &r->o;
    json_t *verify = json_array(); /* as chosen, by --verify-sites or by default */
    for (int i = 0; i < r->n; i++)
        if (r->sites[i].ear)
            json_array_append_new(verify, json_integer(r->sites[i].rm->id));
    return json_pack("{s:s,s:s,s:i,s:o,s:o,s:i,s:i,s:i,s:s}", "url", o->url, "credentials", o->credentials,
                     "sites", o->sites, "talker_sites", ids_json(o->talker_ids, o->n_talker_ids),
                     "verify_sites", verify, "seconds", o->seconds,
                     "join_concurrency", o->join_concurrency, "join_timeout_s", o->join_timeout_s,
                     "bind", r->env.bind_addr ? r->env.bind_addr : "");
}

/* The JSON report and the summary line; the exit code (2 after a refused credential). */
static int room_report(struct load_run *r, int64_t now_ms)
{
    const char *fatal = r->room.fatal;
    json_t *rep = json_pack("{s:s,s:s,s:b}", "tool", "mcu-load", "mode", "rooms", "ok", !fatal[0]);
    json_object_set_new(rep, "failures", fatal[0] ? json_pack("[s]", fatal) : json_array());
    json_object_set_new(rep, "config", config_json(r));
    json_object_set_new(rep, "duration_s", json_real((double)r->room_end_ms / 1000.0));
    json_object_set_new(rep, "quit", json_boolean(r->room_quit));
    double *media_ms = NULL, *first = calloc((size_t)r->n + 1, sizeof *first);
    int n_media = 0, n_first = 0, all = 0;
    for (int i = 0; i < r->n; i++)
        all += r->sites[i].rm->n_media_ms;
    media_ms = calloc((size_t)all + 1, sizeof *media_ms);
    json_object_set_new(rep, "totals", totals_json(r, media_ms, &n_media));
    json_t *sites = json_array(), *recs = json_array();
    for (int i = 0; i < r->n; i++) {
        const struct site *s = &r->sites[i];
        json_array_append_new(sites, room_site_json(s, r->o.video));
        if (s->rm->first_media_ms >= 0 && first)
            first[n_first++] = (double)s->rm->first_media_ms;
        if (s->ear)
            json_array_append_new(recs, receiver_json(r, s, now_ms));
    }
    json_t *fd = load_dist(first, n_first);
    json_object_set_new(rep, "first_media_ms", fd);
    json_object_set_new(rep, "media_ms", load_dist(media_ms, n_media));
    json_object_set_new(rep, "sites", sites);
    json_object_set_new(rep, "receivers", recs);
    if (r->o.json_path && json_dump_file(rep, r->o.json_path, JSON_INDENT(2)) < 0)
        fprintf(stderr, "mcu-load: cannot write %s\n", r->o.json_path);
    json_t *t = json_object_get(rep, "totals");
    fprintf(stderr, "mcu-load: rooms: %d sites, %lld signed in and %lld in media at the end; %lld signins, "
            "%lld joins, %lld drops; first media p50 %.0f ms over %d sites, in %.1f s\n", r->n,
            json_integer_value(json_object_get(t, "signed_in")), json_integer_value(json_object_get(t, "media")),
            json_integer_value(json_object_get(t, "signins")), json_integer_value(json_object_get(t, "joins")),
            json_integer_value(json_object_get(t, "drops")), json_real_value(json_object_get(fd, "p50")),
            n_first, (double)r->room_end_ms / 1000.0);
    free(first);
    free(media_ms);
    json_decref(rep);
    return fatal[0] ? 2 : 0;
}

/* ---- the loop ---- */

static void tick(struct load_run *r, uint64_t t, int *next_open, int64_t now_ms)
{
    struct load_env *env = &r->env;
    while (*next_open < r->n && env->in_flight < r->o.join_concurrency)
        lroom_open(&r->sites[(*next_open)++], env, now_ms);
    for (int i = (int)(t % PHASES); i < r->n; i += PHASES)
        site_send(&r->sites[i], env);
    if (env->impair)
        impair_flush(env->impair);
    bool slow = t % (100 / TICK_MS) == 0;
    for (int i = 0; i < r->n && !r->room.fatal[0]; i++)
        lroom_tick(&r->sites[i], env, now_ms, slow);
}

static int open_clock(struct load_env *env)
{
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {.it_interval = {0, TICK_MS * 1000000}, .it_value = {0, TICK_MS * 1000000}};
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_TIMER};
    if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0 || epoll_ctl(env->epfd, EPOLL_CTL_ADD, tfd, &ev) < 0) {
        fprintf(stderr, "mcu-load: timerfd: %s\n", strerror(errno));
        if (tfd >= 0)
            close(tfd);
        return -1;
    }
    return tfd;
}

int load_room_run(struct load_run *r, volatile sig_atomic_t *stop)
{
    struct load_env *env = &r->env;
    int tfd = open_clock(env);
    if (tfd < 0)
        return 2;
    /* stdin commands; a file or /dev/null cannot be polled and is simply not read */
    struct line_buf lb = {.n = 0};
    struct epoll_event sev = {.events = EPOLLIN, .data.u64 = TAG_STDIN};
    lb.open = epoll_ctl(env->epfd, EPOLL_CTL_ADD, 0, &sev) == 0;
    int64_t t0 = mono_ms(), end = t0 + (int64_t)r->o.seconds * 1000, next_status = t0 + 1000, now = t0;
    uint64_t t = 0, last_out = 0, last_in = 0;
    int next_open = 0;
    r->room.t0_ms = t0;
    static struct epoll_event evs[1024];
    while (!*stop && !r->room_quit && !r->room.fatal[0] && now < end) {
        int n = epoll_wait(env->epfd, evs, 1024, 100);
        if (n < 0 && errno != EINTR)
            break;
        now = mono_ms();
        for (int k = 0; k < n && !r->room_quit && !r->room.fatal[0]; k++) {
            uint64_t tg = evs[k].data.u64;
            struct site *s = &r->sites[tg >> 2];
            if ((tg & 3) == TAG_TIMER) {
                uint64_t exp = 0;
                if (read(tfd, &exp, sizeof exp) != sizeof exp)
                    continue;
                for (uint64_t j = 0; j < exp && j < MAX_CATCHUP; j++)
                    tick(r, t++, &next_open, now);
            } else if ((tg & 3) == TAG_STDIN) {
                on_stdin(r, &lb, now);
            } else if ((tg & 3) == TAG_TCP) {
                lroom_on_tcp(s, env, evs[k].events, now);
            } else {
                site_on_udp(s, env, now);
            }
        }
        if (now >= next_status) {
            if (r->o.status_lines)
                status_line(r, now);
            if (!r->o.quiet)
                progress(r, now, &last_out, &last_in);
            next_status += 1000;
        }
    }
    if (!r->o.quiet && isatty(2))
        fputc('\n', stderr);
    if (r->room.fatal[0])
        fprintf(stderr, "mcu-load: %s\n", r->room.fatal);
    r->room_end_ms = now - t0;
    r->interrupted = *stop;
    int code = room_report(r, now);
    r->room.finishing = env->stopping = true;
    for (int i = 0; i < r->n; i++)
        lroom_finish(&r->sites[i], env);
    if (lb.open)
        epoll_ctl(env->epfd, EPOLL_CTL_DEL, 0, NULL);
    close(tfd);
    return code;
}
