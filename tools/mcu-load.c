/* mcu-load: plays N meeting-room sites against the server's `mix` conferences from one
 * thread. Each site signs in over the WebSocket protocol, connects ICE/DTLS-SRTP and sends
 * real Opus in real time; a sample of receivers decodes its mix to check that every talker
 * is heard (and not oneself); loss, jitter, join time and latency through the server are
 * measured. With --janus the same sites join Janus's AudioBridge (or VideoRoom) instead, so
 * both servers take the identical load; --cpu-pid measures a server's CPU over the window
 * from /proc. With --video, sites publish VP8 simulcast and count the video they receive.
 * With --credentials the sites are meeting rooms that sign in and wait to be invited
 * (room mode, tools/load/roomrun.c). docs/load.md describes the options, the checks and
 * the report. */
#include "tools/load/impair.h"
#include "tools/load/netns.h"
#include "tools/load/run.h"
#include "tools/load/video.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 5              /* the loop's clock; each site sends on one tick in four */
#define PHASES (20 / TICK_MS)
#define MAX_CATCHUP 20         /* ticks replayed at once after a stall */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime (clock ticks) from the text of /proc/PID/stat. The command name (field 2)
 * may hold spaces and parentheses, so the fields are counted from its last ')'. 0 or -1. */
static int parse_proc_stat(const char *buf, unsigned long long *ticks)
{
    const char *p = strrchr(buf, ')');
    unsigned long long ut, st;
    /* after ")": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    *ticks = ut + st;
    return 0;
}

/* CPU seconds process pid has used so far (all its threads); -1 when it cannot be read. */
static double proc_cpu_s(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    unsigned long long ticks;
    long hz = sysconf(_SC_CLK_TCK);
    if (parse_proc_stat(buf, &ticks) < 0 || hz <= 0)
        return -1;
    return (double)ticks / (double)hz;
}

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: mcu-load --url ws://HOST:PORT/ws [options]\n"
        "       mcu-load --janus ws://HOST:PORT [--janus-room N] [options]\n"
        "       mcu-load --url ws://HOST:PORT/ws --credentials FILE [room options]\n"
        "Plays many meeting-room sites against the MCU's mix conferences (or Janus's\n"
        "AudioBridge or VideoRoom) and checks the mix and the video it receives.\n\n"
        "  --url URL              the server's WebSocket endpoint (ws:// only)\n"
        "  --janus URL            join Janus (AudioBridge or VideoRoom) through its WebSocket API instead\n"
        "  --janus-room N         the Janus room (default 1234; with --rooms M, N..N+M-1)\n"
        "  --cpu-pid PID          report that process's CPU over the window (from /proc)\n"
        "  --conference ID        conference to join (default mix-load)\n"
        "  --rooms M              spread the sites over M conferences ID-0..ID-(M-1) (default 1)\n"
        "  --sites N              sites in all (default 20, or the lines of --sites-file)\n"
        "  --sites-file FILE      site names, one a line, to label the sites\n"
        "  --talkers K            talking sites per room (default 3; the server mixes 3)\n"
        "  --server-k K           talkers the server mixes at once (default 3)\n"
        "  --seconds S            measurement time after the joins (default 10)\n"
        "  --settle S             wait between the last join and the window (default 2)\n"
        "  --video                also send VP8 simulcast (3 layers) from every site\n"
        "  --video-publishers N   with --video, only the first N sites send video (default all)\n"
        "  --video-thumbnails K   with --video, each site asks for K more video tracks (0-6)\n"
        "  --video-nack N         receivers treat one video packet in N as lost and NACK it;\n"
        "                         the server's resend must be that very packet (not with --janus)\n"
        "  --video-check N        decrypt one received video packet in N, count the rest from\n"
        "                         their clear RTP headers (default 1: decrypt all)\n"
        "  --no-listener-audio    sites that neither talk nor send video send no audio\n"
        "  --janus-plugin P       audiobridge (default) or videoroom (needs --video)\n"
        "  --verify N             receivers that decode and check their mix (default 20)\n"
        "  --verify-seconds V     audio judged at the end, per receiver (default 3)\n"
        "  --mute-talker I        talker I sends silence; the checks still expect it\n"
        "  --max-loss PCT         fail above this packet loss (default 1)\n"
        "  --max-latency MS       fail when the p95 latency is above this (default: no check)\n"
        "  --min-delivery PCT     fail when fewer mix packets arrive than this share of 50/s per\n"
        "                         site (default 95): a server that skips ticks loses no seq\n"
        "  --join-concurrency C   sites signing in at once (default 64)\n"
        "  --join-timeout S       a site not receiving media S s after it started fails (default 20)\n"
        "  --srtp own|libsrtp     RTP protection: AES-GCM over OpenSSL as the server does it\n"
        "                         (media/srtp_gcm.c, default) or libsrtp2 for everything\n"
        "  --family 4|6           server candidate and local address family (default 4)\n"
        "  --bind ADDR            local UDP address (default 127.0.0.1 or ::1; with --janus,\n"
        "                         the address the kernel would send from to Janus)\n"
        "  --netns NAME           run the sites from this network namespace (bench/netns.sh up)\n"
        "  --loss PCT, --delay MS, --jitter MS\n"
        "                         impair the media the sites send: random loss, delay +- jitter\n"
        "  --json FILE            write the report there\n"
        "  --quiet                no progress line\n\n"
        "Room mode: the sites sign in with credentials and join when invited\n"
        "  --credentials FILE     JSON from POST /api/v1/sites/provision: one site per entry\n"
        "  --talker-sites ID,...  the sites that talk (talker index = position); default none\n"
        "  --verify-sites ID,...  the sites that decode their mix (default: talkers, then others)\n"
        "  --status-lines         JSON lines on stdout: a status every second, and events\n"
        "  --seconds S            the whole run (default 10); stdin takes `drop SITE` and `quit`\n\n"
        "Exit status: 0 all checks passed (room mode: the run ended), 1 a check failed,\n"
        "2 bad usage or setup (room mode: also a refused credential).\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == 0 || *end || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Reads --sites-file: one name a line; blank lines and '#' comments skipped. */
static int read_names(struct load_run *r)
{
    FILE *f = fopen(r->o.sites_file, "r");
    if (!f)
        return -1;
    char line[256];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line, *e;
        while (*p == ' ' || *p == '\t')
            p++;
        e = p + strlen(p);
        while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            *--e = 0;
        if (!*p || *p == '#')
            continue;
        if (r->n_names == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(r->names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            r->names = nn;
        }
        r->names[r->n_names] = strdup(p);
        if (r->names[r->n_names])
            r->n_names++;
    }
    fclose(f);
    return 0;
}

/* --talker-sites, --verify-sites: a list of site ids into a new array. */
static int parse_id_list(const char *s, long long **ids, int *n)
{
    free(*ids);
    *ids = malloc(LOAD_MAX_ID_LIST * sizeof **ids);
    if (!*ids)
        return -1;
    *n = lroom_parse_ids(s, *ids, LOAD_MAX_ID_LIST);
    return *n < 0 ? -1 : 0;
}

/* Room mode takes its sites, names and talkers from the credentials: the options that
 * choose them for the default mode do not apply. given[] is indexed by option - O_URL. */
static int check_room_opts(const struct load_opts *o, const bool *given, const struct option *opts,
                           const int *only_default, const int *only_room)
{
    for (int k = 0; only_default[k]; k++)
        if (o->credentials && given[only_default[k]]) {
            fprintf(stderr, "mcu-load: --%s does not apply in room mode (--credentials)\n",
                    opts[only_default[k]].name);
            return -1;
        }
    for (int k = 0; only_room[k]; k++)
        if (!o->credentials && given[only_room[k]]) {
            fprintf(stderr, "mcu-load: --%s needs --credentials (room mode)\n", opts[only_room[k]].name);
            return -1;
        }
    return 0;
}

/* The video roles need --video; the VideoRoom needs --janus and --video, and has no mix
 * to check (a subscriber hears only the feed it subscribed to), so nobody is sampled. */
static int check_video_opts(struct load_opts *o, bool verify_given)
{
    if (!o->video && (o->video_publishers >= 0 || o->video_thumbs > 0 || o->video_check > 1 || o->video_nack)) {
        fprintf(stderr, "mcu-load: --video-publishers, --video-thumbnails, --video-check and --video-nack need --video\n");
        return -1;
    }
    if (o->janus_video && (!o->janus || !o->video)) {
        fprintf(stderr, "mcu-load: --janus-plugin videoroom needs --janus and --video\n");
        return -1;
    }
    if (o->janus_video && o->video_publishers < 1) {
        fprintf(stderr, "mcu-load: --janus-plugin videoroom needs --video-publishers N >= 1 (the "
                "other sites subscribe)\n");
        return -1;
    }
    if (o->janus_video && verify_given && o->verify > 0)
        fprintf(stderr, "mcu-load: note: no mix to verify in the VideoRoom: --verify is ignored\n");
    if (o->janus_video)
        o->verify = 0;
    return 0;
}

static int parse_args(struct load_run *r, int argc, char **argv)
{
    struct load_opts *o = &r->o;
    *o = (struct load_opts){.conference = "mix-load", .rooms = 1, .sites = -1, .talkers = 3,
                            .server_k = 3, .seconds = 10, .verify = 20, .verify_seconds = 3,
                            .mute_talker = -1, .join_concurrency = 64, .join_timeout_s = 20,
                            .family = AF_INET, .max_loss_pct = 1.0, .min_delivery_pct = 95.0, .present_dbfs = -40.0,
                            .absent_dbfs = -50.0, .settle_s = 2, .janus_room = 1234,
                            .video_publishers = -1, .video_check = 1};
    enum { O_URL = 256, O_CONF, O_ROOMS, O_SITES, O_SFILE, O_TALK, O_SK, O_SEC, O_VIDEO, O_VER,
           O_VSEC, O_MUTE, O_LOSS, O_LAT, O_JC, O_JT, O_FAM, O_BIND, O_JSON, O_QUIET, O_HELP, O_SRTP, O_DELIV,
           O_JANUS, O_JROOM, O_CPUPID, O_SETTLE, O_NETNS, O_NLOSS, O_NDELAY, O_NJITTER, O_CREDS,
           O_TSITES, O_VSITES, O_STATUS, O_VPUB, O_VTHUMB, O_VCHECK, O_VNACK, O_NOLISTEN, O_JPLUGIN, O_END };
    static const struct option opts[] = {
        {"url", 1, 0, O_URL}, {"conference", 1, 0, O_CONF}, {"rooms", 1, 0, O_ROOMS},
        {"sites", 1, 0, O_SITES}, {"sites-file", 1, 0, O_SFILE}, {"talkers", 1, 0, O_TALK},
        {"server-k", 1, 0, O_SK}, {"seconds", 1, 0, O_SEC}, {"video", 0, 0, O_VIDEO},
        {"verify", 1, 0, O_VER}, {"verify-seconds", 1, 0, O_VSEC}, {"mute-talker", 1, 0, O_MUTE},
        {"max-loss", 1, 0, O_LOSS}, {"max-latency", 1, 0, O_LAT}, {"join-concurrency", 1, 0, O_JC},
        {"join-timeout", 1, 0, O_JT}, {"family", 1, 0, O_FAM}, {"bind", 1, 0, O_BIND},
        {"json", 1, 0, O_JSON}, {"quiet", 0, 0, O_QUIET}, {"help", 0, 0, O_HELP}, {"srtp", 1, 0, O_SRTP}, {"min-delivery", 1, 0, O_DELIV},
        {"janus", 1, 0, O_JANUS}, {"janus-room", 1, 0, O_JROOM}, {"cpu-pid", 1, 0, O_CPUPID},
        {"settle", 1, 0, O_SETTLE}, {"netns", 1, 0, O_NETNS}, {"loss", 1, 0, O_NLOSS},
        {"delay", 1, 0, O_NDELAY}, {"jitter", 1, 0, O_NJITTER}, {"credentials", 1, 0, O_CREDS},
        {"talker-sites", 1, 0, O_TSITES}, {"verify-sites", 1, 0, O_VSITES},
        {"status-lines", 0, 0, O_STATUS}, {"video-publishers", 1, 0, O_VPUB},
        {"video-thumbnails", 1, 0, O_VTHUMB}, {"video-check", 1, 0, O_VCHECK},
        {"video-nack", 1, 0, O_VNACK},
        {"no-listener-audio", 0, 0, O_NOLISTEN}, {"janus-plugin", 1, 0, O_JPLUGIN}, {0, 0, 0, 0}};
    static const int only_default[] = {O_JANUS - O_URL, O_JROOM - O_URL, O_CONF - O_URL,
        O_ROOMS - O_URL, O_SFILE - O_URL, O_TALK - O_URL, O_MUTE - O_URL, O_SETTLE - O_URL,
        O_SK - O_URL, O_LOSS - O_URL, O_LAT - O_URL, O_DELIV - O_URL, O_CPUPID - O_URL,
        O_VPUB - O_URL, O_VTHUMB - O_URL, O_NOLISTEN - O_URL, O_JPLUGIN - O_URL, 0};
    static const int only_room[] = {O_TSITES - O_URL, O_VSITES - O_URL, O_STATUS - O_URL, 0};
    bool given[O_END - O_URL] = {0};
    int c, fam = 4, bad = 0, url_given = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c >= O_URL && c < O_END)
            given[c - O_URL] = true;
        switch (c) {
        case O_CREDS: o->credentials = optarg; break;
        case O_TSITES: bad |= parse_id_list(optarg, &o->talker_ids, &o->n_talker_ids); break;
        case O_VSITES: bad |= parse_id_list(optarg, &o->verify_ids, &o->n_verify_ids); break;
        case O_STATUS: o->status_lines = true; break;
        case O_VPUB: bad |= parse_int(optarg, 0, 100000, &o->video_publishers); break;
        case O_VTHUMB: bad |= parse_int(optarg, 0, 6, &o->video_thumbs); break;
        case O_VCHECK: bad |= parse_int(optarg, 1, 1000000, &o->video_check); break;
        case O_VNACK: bad |= parse_int(optarg, 2, 1000000, &o->video_nack); break;
        case O_NOLISTEN: o->no_listener_audio = true; break;
        case O_JPLUGIN:
            bad |= strcmp(optarg, "audiobridge") && strcmp(optarg, "videoroom") ? -1 : 0;
            o->janus_video = !strcmp(optarg, "videoroom");
            break;
        case O_URL: o->url = optarg; url_given |= 1; break;
        case O_JANUS: o->url = optarg; o->janus = true; url_given |= 2; break;
        case O_JROOM: {
            char *end;
            o->janus_room = strtoll(optarg, &end, 10);
            bad |= *optarg == 0 || *end || o->janus_room < 1 ? -1 : 0;
            break;
        }
        case O_CPUPID: bad |= parse_int(optarg, 1, 1 << 30, &o->cpu_pid); break;
        case O_SETTLE: bad |= parse_int(optarg, 0, 3600, &o->settle_s); break;
        case O_NETNS: o->netns = optarg; break;
        case O_NLOSS:
            o->netem_loss_pct = atof(optarg);
            bad |= o->netem_loss_pct < 0 || o->netem_loss_pct > 100 ? -1 : 0;
            break;
        case O_NDELAY: bad |= parse_int(optarg, 0, 10000, &o->netem_delay_ms); break;
        case O_NJITTER: bad |= parse_int(optarg, 0, 10000, &o->netem_jitter_ms); break;
        case O_CONF: o->conference = optarg; break;
        case O_ROOMS: bad |= parse_int(optarg, 1, 1000, &o->rooms); break;
        case O_SITES: bad |= parse_int(optarg, 1, 100000, &o->sites); break;
        case O_SFILE: o->sites_file = optarg; break;
        case O_TALK: bad |= parse_int(optarg, 0, LA_MAX_TALKERS, &o->talkers); break;
        case O_SK: bad |= parse_int(optarg, 1, LA_MAX_TALKERS, &o->server_k); break;
        case O_SEC: bad |= parse_int(optarg, 1, 86400, &o->seconds); break;
        case O_VIDEO: o->video = true; break;
        case O_VER: bad |= parse_int(optarg, 0, 1000, &o->verify); break;
        case O_VSEC: bad |= parse_int(optarg, 1, 60, &o->verify_seconds); break;
        case O_MUTE: bad |= parse_int(optarg, 0, LA_MAX_TALKERS - 1, &o->mute_talker); break;
        case O_LOSS: o->max_loss_pct = atof(optarg); break;
        case O_LAT: o->max_latency_ms = atof(optarg); break;
        case O_DELIV: o->min_delivery_pct = atof(optarg); break;
        case O_JC: bad |= parse_int(optarg, 1, 100000, &o->join_concurrency); break;
        case O_JT: bad |= parse_int(optarg, 1, 3600, &o->join_timeout_s); break;
        case O_FAM: bad |= parse_int(optarg, 4, 6, &fam) | (fam == 5); break;
        case O_BIND: o->bind_addr = optarg; break;
        case O_JSON: o->json_path = optarg; break;
        case O_QUIET: o->quiet = true; break;
        case O_HELP: usage(stdout); exit(0);
        case O_SRTP:
            bad |= strcmp(optarg, "own") && strcmp(optarg, "libsrtp") ? -1 : 0;
            o->libsrtp = !strcmp(optarg, "libsrtp");
            break;
        default: return -1;
        }
        if (bad) {
            fprintf(stderr, "mcu-load: bad value for --%s: %s\n", opts[c - O_URL].name, optarg);
            return -1;
        }
    }
    o->family = fam == 6 ? AF_INET6 : AF_INET;
    if (check_room_opts(o, given, opts, only_default, only_room) < 0)
        return -1;
    if (o->netns) {
        char err[256];
        if (lnetns_enter(o->netns, err, sizeof err) < 0) {
            fprintf(stderr, "mcu-load: %s\n", err);
            return -1;
        }
    }
    /* Janus mode and --netns: the local address is found from the route, see main */
    if (!o->bind_addr && !o->janus && !o->netns)
        o->bind_addr = fam == 6 ? "::1" : "127.0.0.1";
    if (!o->url || optind < argc || url_given == 3) {
        fprintf(stderr, "mcu-load: %s\n", url_given == 3 ? "give --url or --janus, not both"
                                          : o->url ? "unexpected argument" : "--url is required");
        return -1;
    }
    if (o->cpu_pid && proc_cpu_s(o->cpu_pid) < 0) {
        fprintf(stderr, "mcu-load: --cpu-pid %d: cannot read /proc/%d/stat\n", o->cpu_pid, o->cpu_pid);
        return -1;
    }
    if (check_video_opts(o, given[O_VER - O_URL]) < 0)
        return -1;
    if (o->janus) /* AudioBridge mixes every participant: every talker must be heard */
        o->server_k = LA_MAX_TALKERS;
    if (o->sites_file && read_names(r) < 0) {
        fprintf(stderr, "mcu-load: cannot read %s: %s\n", o->sites_file, strerror(errno));
        return -1;
    }
    if (o->credentials)
        return 0; /* the sites and talkers come from the credentials: load_room_setup */
    if (o->sites < 0)
        o->sites = r->n_names > 0 ? r->n_names : 20;
    if (!o->video)
        o->video_publishers = 0;
    else if (o->video_publishers < 0 || o->video_publishers > o->sites)
        o->video_publishers = o->sites;
    if (o->talkers > o->server_k && !o->janus)
        fprintf(stderr, "mcu-load: note: %d talkers but the server mixes %d: the checks then only "
                "ask for %d of them in each mix\n", o->talkers, o->server_k, o->server_k);
    return 0;
}

/* ws://HOST:PORT/PATH (HOST may be [v6]); resolves HOST. */
static int parse_url(struct load_run *r, char *host_port, size_t hp_cap, char *path, size_t pcap)
{
    const char *u = r->o.url;
    if (strncmp(u, "ws://", 5)) {
        fprintf(stderr, "mcu-load: only ws:// URLs are supported (got %s)\n", u);
        return -1;
    }
    u += 5;
    const char *slash = strchr(u, '/');
    size_t hl = slash ? (size_t)(slash - u) : strlen(u);
    if (hl == 0 || hl >= hp_cap)
        return -1;
    memcpy(host_port, u, hl);
    host_port[hl] = 0;
    snprintf(path, pcap, "%s", slash ? slash : r->o.janus ? "/" : "/ws");
    char host[256], port[16] = "80";
    const char *colon = host_port[0] == '[' ? strstr(host_port, "]:") : strrchr(host_port, ':');
    size_t h0 = host_port[0] == '[' ? 1 : 0;
    size_t hend = colon ? (size_t)(colon - host_port) : strlen(host_port) - (h0 ? 1 : 0);
    if (hend - h0 >= sizeof host)
        return -1;
    memcpy(host, host_port + h0, hend - h0);
    host[hend - h0] = 0;
    if (colon)
        snprintf(port, sizeof port, "%s", colon + (h0 ? 2 : 1));
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc) {
        fprintf(stderr, "mcu-load: cannot resolve %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    memcpy(&r->env.ws_addr, ai->ai_addr, ai->ai_addrlen);
    r->env.ws_addr_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

/* The local address the kernel picks to reach `to` (a UDP connect sends nothing). Janus
 * never gathers loopback candidates, so it sits behind a veth pair, and our candidate must
 * be the address on our side of it. 0 or -1. */
static int route_source(const struct sockaddr_storage *to, socklen_t len, char *out, size_t cap)
{
    struct sockaddr_storage me;
    socklen_t ml = sizeof me;
    int fd = socket(to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (const struct sockaddr *)to, len) < 0 ||
             getsockname(fd, (struct sockaddr *)&me, &ml) < 0 ? -1 : 0;
    close(fd);
    if (rc == 0 && me.ss_family == AF_INET6)
        rc = inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&me)->sin6_addr, out, (socklen_t)cap) ? 0 : -1;
    else if (rc == 0)
        rc = inet_ntop(AF_INET, &((struct sockaddr_in *)&me)->sin_addr, out, (socklen_t)cap) ? 0 : -1;
    return rc;
}

/* The content: a ring per talker signature, one with the marker beeps, silence. */
static int encode_content(struct load_run *r)
{
    struct load_env *env = &r->env;
    for (int t = 0; t < r->o.talkers; t++) {
        env->talker_ring[t] = malloc(sizeof(struct la_ring));
        if (!env->talker_ring[t] || la_ring_talker(env->talker_ring[t], t, false) < 0)
            return -1;
    }
    int marker = r->o.mute_talker == 0 ? 1 : 0; /* the first unmuted talker beeps */
    if (r->o.credentials)
        marker = LA_MAX_TALKERS; /* room mode measures no latency: no beeps */
    env->marker_ring = malloc(sizeof(struct la_ring));
    env->silence = malloc(sizeof(struct la_ring));
    if (!env->marker_ring || !env->silence || la_ring_silence(env->silence) < 0)
        return -1;
    if (marker < r->o.talkers && la_ring_talker(env->marker_ring, marker, true) < 0)
        return -1;
    if (marker < r->o.talkers && env->marker_ring->n_onsets == 0) {
        fprintf(stderr, "mcu-load: the marker beeps are not detectable in their own encoding\n");
        return -1;
    }
    if (r->o.video) {
        char err[160];
        env->vid = lvid_new(err, sizeof err);
        if (!env->vid) {
            fprintf(stderr, "mcu-load: video: %s\n", err);
            return -1;
        }
    }
    return 0;
}

/* The first P sites publish video (Janus's VideoRoom: they only publish, and the others
 * subscribe). A site expects video when another site publishes some. */
static void set_video_role(struct load_run *r, struct site *s)
{
    const struct load_opts *o = &r->o;
    int P = o->video_publishers;
    s->vpub = s->index < P;
    s->vthumbs = o->video_thumbs;
    s->expect_video = o->video && (o->janus_video ? !s->vpub : !s->vpub || P >= 2);
    if (o->video_nack && s->expect_video && !o->janus && !s->nack)
        s->nack = calloc(1, sizeof *s->nack); /* without it, the site just does not check */
    if (o->janus)
        s->jan.role = !o->janus_video ? LJANUS_AUDIOBRIDGE : s->vpub ? LJANUS_VR_PUBLISHER : LJANUS_VR_SUBSCRIBER;
    if (s->jan.role == LJANUS_VR_SUBSCRIBER || (o->no_listener_audio && s->talker < 0 && !s->vpub))
        s->send_audio = false;
}

/* Sites in room order: site i is in room i % M, and the first K of a room talk. The sampled
 * receivers are every talker (the mix-minus check) and then listeners spread evenly. */
static int make_sites(struct load_run *r)
{
    struct load_opts *o = &r->o;
    r->n = o->sites;
    r->sites = calloc((size_t)r->n, sizeof *r->sites);
    r->env.nrooms = o->rooms;
    r->env.rooms = calloc((size_t)o->rooms, sizeof *r->env.rooms);
    if (!r->sites || !r->env.rooms)
        return -1;
    int marker_talker = o->mute_talker == 0 ? 1 : 0;
    int cap_beep = (o->seconds + o->join_timeout_s + 60) / 2 + 16;
    for (int k = 0; k < o->rooms; k++) {
        r->env.rooms[k].marker_site = -1;
        r->env.rooms[k].cap_beep = cap_beep;
        r->env.rooms[k].beep_tx_ns = calloc((size_t)cap_beep, sizeof(int64_t));
        if (!r->env.rooms[k].beep_tx_ns)
            return -1;
    }
    int listeners = 0, verify_left = o->verify;
    for (int i = 0; i < r->n; i++) {
        int room = i % o->rooms, rank = i / o->rooms;
        int talker = rank < o->talkers ? rank : -1;
        bool marker = talker >= 0 && talker == marker_talker;
        char name[64], conf[72];
        if (i < r->n_names)
            snprintf(name, sizeof name, "%s", r->names[i]);
        else
            snprintf(name, sizeof name, "site-%d", i);
        if (o->janus)
            snprintf(conf, sizeof conf, "janus-%lld", o->janus_room + room);
        else if (o->rooms == 1)
            snprintf(conf, sizeof conf, "%s", o->conference);
        else
            snprintf(conf, sizeof conf, "%s-%d", o->conference, room);
        site_init(&r->sites[i], i, room, talker, talker >= 0 && talker == o->mute_talker, marker,
                  name, conf, &r->env);
        set_video_role(r, &r->sites[i]);
        if (marker)
            r->env.rooms[room].marker_site = i;
        if (talker >= 0 && verify_left > 0) {
            r->sites[i].ear = calloc(1, sizeof(struct lv_ear));
            verify_left--;
        } else if (talker < 0) {
            listeners++;
        }
    }
    int stride = verify_left > 0 ? (listeners + verify_left - 1) / verify_left : 0, seen = 0;
    for (int i = 0; i < r->n && verify_left > 0; i++)
        if (r->sites[i].talker < 0 && seen++ % stride == 0) {
            r->sites[i].ear = calloc(1, sizeof(struct lv_ear));
            verify_left--;
        }
    for (int i = 0; i < r->n; i++)
        if (r->sites[i].ear && lv_ear_init(r->sites[i].ear, o->verify_seconds) < 0)
            return -1;
    return 0;
}

static void progress(struct load_run *r, int64_t now, int64_t t0, uint64_t *last_out,
                     uint64_t *last_in, double *last_cpu, int64_t *last_t)
{
    struct load_env *env = &r->env;
    double dt = (double)(now - *last_t) / 1000.0, cpu = cpu_s();
    uint64_t exp = 0, lost = 0;
    for (int i = 0; i < r->n; i++) {
        uint64_t e, l;
        site_rx_loss(&r->sites[i].rx, &e, &l);
        exp += e;
        lost += l;
    }
    if (!r->o.quiet && dt > 0) {
        bool tty = isatty(2);
        fprintf(stderr, "%s[%6.1fs] joined %d/%d (%d failed, %d joining)  out %.0f pkt/s  in %.0f pkt/s"
                "  loss %.2f%%  cpu %.0f%%%s", tty ? "\r\033[K" : "", (double)(now - t0) / 1000.0,
                env->joined, r->n, env->failed, env->in_flight, (double)(env->pkts_out - *last_out) / dt,
                (double)(env->pkts_in - *last_in) / dt, exp ? 100.0 * (double)lost / (double)exp : 0.0,
                100.0 * (cpu - *last_cpu) / dt, tty ? "" : "\n");
        fflush(stderr);
    }
    *last_out = env->pkts_out;
    *last_in = env->pkts_in;
    *last_cpu = cpu;
    *last_t = now;
}

/* The video publishers open first, and the other sites only once each publisher is in media
 * (or failed): a VideoRoom subscriber needs its feeds to exist, and both servers then see
 * the same order. */
static bool publishers_up(struct load_run *r)
{
    for (int i = r->publishers_up; i < r->o.video_publishers; i++, r->publishers_up++)
        if (r->sites[i].stage != SITE_MEDIA && r->sites[i].stage != SITE_FAILED)
            return false;
    return true;
}

/* One 5 ms tick: open sites while the join pipeline has room, send this phase's packets,
 * move handshakes on; every 100 ms the slow timers and the reaping of failed sites. */
static void tick(struct load_run *r, uint64_t t, int *next_open, int64_t now)
{
    struct load_env *env = &r->env;
    while (!env->stopping && *next_open < r->n && env->in_flight < r->o.join_concurrency &&
           (*next_open < r->o.video_publishers || publishers_up(r)))
        site_open(&r->sites[(*next_open)++], env, now);
    int64_t jt = (int64_t)r->o.join_timeout_s * 1000;
    for (int i = (int)(t % PHASES); i < r->n; i += PHASES)
        site_send(&r->sites[i], env);
    if (env->impair)
        impair_flush(env->impair);
    bool slow = t % (100 / TICK_MS) == 0;
    for (int i = 0; i < r->n; i++) {
        struct site *s = &r->sites[i];
        if (s->stage == SITE_CONNECTING || slow)
            site_tick(s, env, now, jt);
        if (slow && s->stage == SITE_FAILED)
            site_reap(s, env);
    }
}

static void start_window(struct load_run *r, int64_t now)
{
    r->window_start_ms = now;
    r->cpu_join_s = cpu_s();
    if (r->o.cpu_pid)
        r->srv_cpu0_s = proc_cpu_s(r->o.cpu_pid);
    r->out0 = r->env.pkts_out;
    r->in0 = r->env.pkts_in;
    r->audio_in0 = r->env.audio_in;
    r->audio_bytes0 = r->env.audio_rtp_bytes_in;
    r->video_in0 = r->env.video_in;
    r->video_bytes0 = r->env.video_bytes_in;
    r->video_rtp_bytes0 = r->env.video_rtp_bytes_in;
    for (int i = 0; i < r->n; i++)
        if (r->sites[i].ear)
            lv_ear_clear_onsets(r->sites[i].ear);
}

/* Every site has joined or failed: the measurement window can start. */
static bool all_settled(const struct load_run *r)
{
    for (int i = 0; i < r->n; i++)
        if (r->sites[i].stage != SITE_MEDIA && r->sites[i].stage != SITE_FAILED)
            return false;
    return true;
}

static int run_loop(struct load_run *r)
{
    struct load_env *env = &r->env;
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {.it_interval = {0, TICK_MS * 1000000}, .it_value = {0, TICK_MS * 1000000}};
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_TIMER};
    if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0 || epoll_ctl(env->epfd, EPOLL_CTL_ADD, tfd, &ev) < 0) {
        fprintf(stderr, "mcu-load: timerfd: %s\n", strerror(errno));
        return -1;
    }
    int64_t t0 = mono_ms(), last_t = t0, next_progress = t0 + 1000, settled_at = -1;
    uint64_t t = 0, last_out = 0, last_in = 0;
    double last_cpu = cpu_s(), cpu0 = last_cpu;
    int next_open = 0;
    bool window = false;
    static struct epoll_event evs[1024];
    while (!g_stop) {
        int n = epoll_wait(env->epfd, evs, 1024, 100);
        if (n < 0 && errno != EINTR)
            break;
        int64_t now = mono_ms();
        for (int k = 0; k < n; k++) {
            uint64_t tg = evs[k].data.u64;
            struct site *s = &r->sites[tg >> 2];
            if ((tg & 3) == TAG_TIMER) {
                uint64_t exp = 0;
                if (read(tfd, &exp, sizeof exp) != sizeof exp)
                    continue;
                if (exp > 1)
                    r->late_ticks += exp - 1;
                for (uint64_t j = 0; j < exp && j < MAX_CATCHUP; j++)
                    tick(r, t++, &next_open, now);
            } else if ((tg & 3) == TAG_TCP) {
                site_on_tcp(s, env, evs[k].events, now);
            } else {
                site_on_udp(s, env, now);
            }
        }
        if (settled_at < 0 && next_open == r->n && env->in_flight == 0 && all_settled(r)) {
            settled_at = now;
            r->join_phase_ms = now - t0;
        }
        /* The window opens --settle s later: Janus is still sending the last joins' N
         * events, and jitter buffers settle after the ramp. */
        if (!window && settled_at >= 0 && now - settled_at >= (int64_t)r->o.settle_s * 1000) {
            window = true;
            start_window(r, now);
            r->cpu_join_s -= cpu0;
        }
        if (window && now - r->window_start_ms >= (int64_t)r->o.seconds * 1000)
            break;
        if (now >= next_progress) {
            progress(r, now, t0, &last_out, &last_in, &last_cpu, &last_t);
            next_progress += 1000;
        }
    }
    int64_t now = mono_ms();
    if (!window) { /* interrupted during the joins: judge what there is */
        if (settled_at < 0)
            r->join_phase_ms = now - t0;
        start_window(r, now);
        r->cpu_join_s -= cpu0;
    }
    r->interrupted = g_stop;
    r->window_end_ms = now;
    if (r->o.cpu_pid) {
        double end = proc_cpu_s(r->o.cpu_pid);
        r->srv_cpu_ok = r->srv_cpu0_s >= 0 && end >= 0;
        r->srv_cpu_window_s = r->srv_cpu_ok ? end - r->srv_cpu0_s : 0;
    }
    r->cpu_window_s = cpu_s() - r->cpu_join_s - cpu0;
    r->out1 = env->pkts_out;
    r->in1 = env->pkts_in;
    r->audio_in1 = env->audio_in;
    r->audio_bytes1 = env->audio_rtp_bytes_in;
    r->video_in1 = env->video_in;
    r->video_bytes1 = env->video_bytes_in;
    r->video_rtp_bytes1 = env->video_rtp_bytes_in;
    if (!r->o.quiet && isatty(2))
        fputc('\n', stderr);
    close(tfd);
    return 0;
}

int main(int argc, char **argv)
{
    struct load_run run = {0};
    struct load_run *r = &run;
    if (parse_args(r, argc, argv) < 0) {
        usage(stderr);
        return 2;
    }
    char host_port[300], path[256];
    if (parse_url(r, host_port, sizeof host_port, path, sizeof path) < 0) {
        fprintf(stderr, "mcu-load: bad --url %s\n", r->o.url);
        return 2;
    }
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());
    struct load_env *env = &r->env;
    env->host_port = host_port;
    env->ws_path = path;
    env->family = r->o.family;
    env->bind_addr = r->o.bind_addr;
    env->video = r->o.video;
    env->epfd = epoll_create1(EPOLL_CLOEXEC);
    env->scratch = malloc(sizeof *env->scratch);
    env->janus = r->o.janus;
    env->janus_room = r->o.janus_room;
    env->janus_video = r->o.janus_video;
    env->video_publishers = r->o.video_publishers;
    env->video_thumbs = r->o.video_thumbs;
    env->video_check_every = r->o.video_check;
    env->video_nack_every = r->o.video_nack;
    char src[INET6_ADDRSTRLEN];
    if (!env->bind_addr) {
        if (route_source(&env->ws_addr, env->ws_addr_len, src, sizeof src) < 0) {
            fprintf(stderr, "mcu-load: no local address routes to %s: %s\n", host_port, strerror(errno));
            return 2;
        }
        env->bind_addr = src;
        env->family = env->ws_addr.ss_family;
    }
    env->own_gcm = !r->o.libsrtp;
    /* The OpenSSL GCM path covers only AEAD_AES_128_GCM: offer just that profile with it. */
    env->identity = env->own_gcm ? dtls_identity_new_with_profiles("SRTP_AEAD_AES_128_GCM")
                                 : dtls_identity_new();
    if (env->epfd < 0 || !env->scratch || !env->identity || srtpx_init() < 0) {
        fprintf(stderr, "mcu-load: setup failed (epoll, memory, DTLS identity or libsrtp)\n");
        return 2;
    }
    static struct impair impair;
    const struct load_opts *o = &r->o;
    if (o->netem_loss_pct > 0 || o->netem_delay_ms > 0 || o->netem_jitter_ms > 0) {
        impair_init(&impair, o->netem_loss_pct, o->netem_delay_ms, o->netem_jitter_ms);
        env->impair = &impair;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max; /* two sockets a site */
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    bool rooms = r->o.credentials != NULL;
    if (rooms && load_room_setup(r) < 0)
        return 2;
    if (encode_content(r) < 0 || (rooms ? load_room_make_sites(r) : make_sites(r)) < 0) {
        fprintf(stderr, "mcu-load: cannot prepare the media (encoder or memory)\n");
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    int code;
    if (rooms) {
        code = load_room_run(r, &g_stop);
    } else {
        if (run_loop(r) < 0)
            return 2;
        env->stopping = true;
        code = load_report(r);
    }
    for (int i = 0; i < r->n; i++) {
        site_close(&r->sites[i], env);
        lroom_site_free(&r->sites[i]);
    }
    lroom_creds_free(r->creds, r->n_creds);
    free(r->o.talker_ids);
    free(r->o.verify_ids);
    for (int k = 0; k < env->nrooms; k++)
        free(env->rooms[k].beep_tx_ns);
    for (int t = 0; t < LA_MAX_TALKERS; t++)
        free(env->talker_ring[t]);
    for (int i = 0; i < r->n_names; i++)
        free(r->names[i]);
    free(r->names);
    free(env->marker_ring);
    free(env->silence);
    free(env->rooms);
    free(r->sites);
    free(env->scratch);
    lvid_free(env->vid);
    if (env->impair)
        impair_free(env->impair);
    dtls_identity_free(env->identity);
    close(env->epfd);
    return code;
}
