/* Configuration sources and their single key table. */
#include "mcu/config.h"
#include "mcu/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MCU_VERSION
#define MCU_VERSION "0.0.0-dev"
#endif

typedef int (*setter_fn)(struct mcu_config *c, const char *v, char *err, size_t errlen);

struct key {
    const char *name;  /* file key; the flag is --name with '_' as '-' */
    const char *env;   /* environment variable */
    const char *arg;   /* placeholder in --help */
    setter_fn set;
    const char *help;
};

static int parse_int(const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return -1;
    *out = (int)n;
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *v, const char *what, char *err, size_t errlen)
{
    if (strlen(v) >= cap) {
        snprintf(err, errlen, "%s is too long (max %zu characters)", what, cap - 1);
        return -1;
    }
    strcpy(dst, v);
    return 0;
}

static int set_listen(struct mcu_config *c, const char *v, char *err, size_t errlen)
{
    /* ADDR:PORT, [IPv6]:PORT, or :PORT for every address. */
    const char *colon = strrchr(v, ':');
    char host[64];
    if (!colon || colon - v >= (long)sizeof host) {
        snprintf(err, errlen, "listen: expected ADDR:PORT, got '%s'", v);
        return -1;
    }
    size_t hl = (size_t)(colon - v);
    memcpy(host, v, hl);
    host[hl] = 0;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    int port;
    if (parse_int(colon + 1, 0, 65535, &port) < 0) {
        snprintf(err, errlen, "listen: bad port in '%s'", v);
        return -1;
    }
    strcpy(c->listen_host, host);
    c->listen_port = port;
    return 0;
}

static int set_media_addr(struct mcu_config *c, const char *v, char *err, size_t errlen)
{
    /* A comma-separated list, so one environment variable can carry IPv4 and IPv6. */
    char buf[CONFIG_MAX_MEDIA_ADDRS * 64 + 8];
    if (copy_str(buf, sizeof buf, v, "media_addr", err, errlen) < 0)
        return -1;
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        if (c->n_media_addrs == CONFIG_MAX_MEDIA_ADDRS) {
            snprintf(err, errlen, "media_addr: at most %d addresses", CONFIG_MAX_MEDIA_ADDRS);
            return -1;
        }
        if (copy_str(c->media_addrs[c->n_media_addrs], 64, tok, "media_addr", err, errlen) < 0)
            return -1;
        c->n_media_addrs++;
    }
    return 0;
}

#define INT_SETTER(fn, field, lo, hi)                                                    \
    static int fn(struct mcu_config *c, const char *v, char *err, size_t errlen)         \
    {                                                                                    \
        if (parse_int(v, lo, hi, &c->field) < 0) {                                       \
            snprintf(err, errlen, #field ": expected an integer in %d..%d, got '%s'", lo, \
                     hi, v);                                                             \
            return -1;                                                                   \
        }                                                                                \
        return 0;                                                                        \
    }
#define STR_SETTER(fn, field)                                                     \
    static int fn(struct mcu_config *c, const char *v, char *err, size_t errlen)  \
    {                                                                             \
        return copy_str(c->field, sizeof c->field, v, #field, err, errlen);       \
    }

INT_SETTER(set_media_port, media_port, 0, 65535)
INT_SETTER(set_workers, workers, 0, 256)
INT_SETTER(set_queue_depth, queue_depth, 16, 1 << 20)
INT_SETTER(set_consent_timeout, consent_timeout_ms, 200, 600000)
INT_SETTER(set_mix_talkers, mix_talkers, 1, 8)
INT_SETTER(set_mix_bitrate, mix_bitrate, 6000, 510000)
INT_SETTER(set_mix_complexity, mix_complexity, 0, 10)
INT_SETTER(set_mix_dominant, mix_dominant_ms, 0, 60000)
INT_SETTER(set_end_warning, end_warning_s, 0, 86400)
INT_SETTER(set_session_idle, session_idle_s, 1, 86400 * 30)
INT_SETTER(set_session_max, session_max_s, 1, 86400 * 365)
INT_SETTER(set_monitor_sample, monitor_sample_s, 1, 3600)
INT_SETTER(set_monitor_retention, monitor_retention_days, 100, 3650)
INT_SETTER(set_max_conns, max_conns_per_addr, 0, 1000000)
INT_SETTER(set_rec_retention, recording_retention_days, 0, 36500)
INT_SETTER(set_rec_min_free, recording_min_free_mb, 0, 1 << 30)
INT_SETTER(set_live_viewers, live_max_viewers, 1, 100000)

static int set_mix_rate(struct mcu_config *c, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "48000") && strcmp(v, "16000")) {
        snprintf(err, errlen, "mix_sample_rate: expected 48000 or 16000, got '%s'", v);
        return -1;
    }
    c->mix_sample_rate = atoi(v);
    return 0;
}
STR_SETTER(set_announce, announce_addr)
STR_SETTER(set_db, db_path)
STR_SETTER(set_web_root, web_root)
STR_SETTER(set_units_file, units_file)
STR_SETTER(set_rec_dir, recording_dir)
STR_SETTER(set_demo_province, demo_province)
STR_SETTER(set_tls_cert, tls_cert)
STR_SETTER(set_tls_key, tls_key)
STR_SETTER(set_admin_password, admin_password)

static int set_conn_exempt(struct mcu_config *c, const char *v, char *err, size_t errlen)
{
    char buf[CONFIG_STR];
    if (copy_str(buf, sizeof buf, v, "conn_limit_exempt", err, errlen) < 0)
        return -1;
    int n = 0;
    for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save), n++) {
        unsigned char a[16];
        if (strcmp(t, "none") && inet_pton(AF_INET, t, a) != 1 && inet_pton(AF_INET6, t, a) != 1) {
            snprintf(err, errlen, "conn_limit_exempt: '%s' is not an IP address", t);
            return -1;
        }
        if (n == 16) {
            snprintf(err, errlen, "conn_limit_exempt: at most 16 addresses");
            return -1;
        }
    }
    strcpy(c->conn_limit_exempt, v);
    return 0;
}

static int set_log_level(struct mcu_config *c, const char *v, char *err, size_t errlen)
{
    int l = log_level_parse(v);
    if (l < 0) {
        snprintf(err, errlen, "log_level: expected error|warn|info|debug, got '%s'", v);
        return -1;
    }
    c->log_level = l;
    return 0;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on"))
        *out = true;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off"))
        *out = false;
    else
        return -1;
    return 0;
}

#define BOOL_SETTER(fn, field)                                                          \
    static int fn(struct mcu_config *c, const char *v, char *err, size_t errlen)        \
    {                                                                                   \
        if (parse_bool(v, &c->field) < 0) {                                             \
            snprintf(err, errlen, #field ": expected true or false, got '%s'", v);      \
            return -1;                                                                  \
        }                                                                               \
        return 0;                                                                       \
    }

BOOL_SETTER(set_syslog, syslog)
BOOL_SETTER(set_insecure_http, insecure_http)
BOOL_SETTER(set_mix_dtx, mix_dtx)
BOOL_SETTER(set_test_conferences, test_conferences)
BOOL_SETTER(set_tls_self_signed, tls_self_signed)

static const struct key keys[] = {
    {"listen", "MCU_LISTEN", "ADDR:PORT", set_listen,
     "HTTP/WebSocket address (default 127.0.0.1:8080; [::1]:8080 for IPv6)"},
    {"media_addr", "MCU_MEDIA_ADDR", "ADDR", set_media_addr,
     "address bound and announced for media; repeatable, or comma-separated "
     "(default 127.0.0.1 and ::1; '::' = one dual-stack socket on every address)"},
    {"announce_addr", "MCU_ANNOUNCE_ADDR", "ADDR", set_announce,
     "extra address announced as a candidate, for a server behind NAT (default none)"},
    {"media_port", "MCU_MEDIA_PORT", "BASE", set_media_port,
     "UDP port of worker 0; worker i uses BASE+i; 0 = ephemeral ports (default 10000)"},
    {"workers", "MCU_WORKERS", "N", set_workers, "media worker threads, 0 = one per core (default 0)"},
    {"db", "MCU_DB", "PATH", set_db, "SQLite database file (default var/mcu.db)"},
    {"web_root", "MCU_WEB_ROOT", "DIR", set_web_root, "directory served as static files (default web)"},
    {"units_file", "MCU_UNITS_FILE", "FILE", set_units_file,
     "national list of administrative units (default ../shared/data/vn-admin-units-2025-03.json)"},
    {"demo_province", "MCU_DEMO_PROVINCE", "CODE", set_demo_province,
     "import this province's units (e.g. 89, An Giang) at start if missing (default none)"},
    {"tls_cert", "MCU_TLS_CERT", "FILE", set_tls_cert, "PEM certificate; enables HTTPS/WSS (default none)"},
    {"tls_key", "MCU_TLS_KEY", "FILE", set_tls_key, "PEM private key for tls_cert"},
    {"tls_self_signed", "MCU_TLS_SELF_SIGNED", "BOOL", set_tls_self_signed,
     "serve HTTPS/WSS with a self-signed certificate made at first start and kept next to the database "
     "(default false)"},
    {"max_conns_per_addr", "MCU_MAX_CONNS_PER_ADDR", "N", set_max_conns,
     "open HTTP/WebSocket connections allowed from one address, 0 = no limit (default 64)"},
    {"conn_limit_exempt", "MCU_CONN_LIMIT_EXEMPT", "ADDRS", set_conn_exempt,
     "addresses max_conns_per_addr does not count, comma-separated, or none (default 127.0.0.1,::1)"},
    {"log_level", "MCU_LOG_LEVEL", "LEVEL", set_log_level, "error, warn, info or debug (default info)"},
    {"syslog", "MCU_SYSLOG", "BOOL", set_syslog, "also log to syslog (default false)"},
    {"insecure_http", "MCU_INSECURE_HTTP", "BOOL", set_insecure_http,
     "allow plain HTTP on a non-loopback address, e.g. behind a TLS proxy (default false)"},
    {"queue_depth", "MCU_QUEUE_DEPTH", "N", set_queue_depth,
     "slots in each signaling<->worker queue (default 4096)"},
    {"mix_talkers", "MCU_MIX_TALKERS", "K", set_mix_talkers,
     "audio conferences mix the K loudest participants (default 3)"},
    {"mix_sample_rate", "MCU_MIX_SAMPLE_RATE", "HZ", set_mix_rate,
     "mixing rate of a new audio conference, 48000 or 16000 (default 48000)"},
    {"mix_bitrate", "MCU_MIX_BITRATE", "BPS", set_mix_bitrate, "Opus bitrate of the mix (default 32000)"},
    {"mix_complexity", "MCU_MIX_COMPLEXITY", "N", set_mix_complexity,
     "Opus encoder complexity of the mix, 0..10 (default 5)"},
    {"mix_dtx", "MCU_MIX_DTX", "BOOL", set_mix_dtx, "Opus DTX on the mix (default false)"},
    {"mix_dominant_ms", "MCU_MIX_DOMINANT_MS", "MS", set_mix_dominant,
     "a new dominant speaker must lead this long (default 1500)"},
    {"consent_timeout_ms", "MCU_CONSENT_TIMEOUT_MS", "MS", set_consent_timeout,
     "a session with no ICE check for this long is closed (RFC 7675; default 30000)"},
    {"admin_password", "MCU_ADMIN_PASSWORD", "PASSWORD", set_admin_password,
     "password of the 'admin' account created on first start (default: generated and printed once)"},
    {"test_conferences", "MCU_TEST_CONFERENCES", "BOOL", set_test_conferences,
     "let anyone join the test conferences echo, mix and mix-<name> without signing in (default false)"},
    {"end_warning_s", "MCU_END_WARNING_S", "S", set_end_warning,
     "sites are warned this long before a scheduled conference ends (default 60)"},
    {"session_idle_s", "MCU_SESSION_IDLE_S", "S", set_session_idle,
     "an admin sign-in unused this long expires (default 1800)"},
    {"session_max_s", "MCU_SESSION_MAX_S", "S", set_session_max,
     "an admin sign-in expires this long after it began, used or not (default 43200)"},
    {"monitor_sample_s", "MCU_MONITOR_SAMPLE_S", "S", set_monitor_sample,
     "link-utilisation sample window, 1..3600 (default 300, the regulation's 5 minutes)"},
    {"monitor_retention_days", "MCU_MONITOR_RETENTION_DAYS", "DAYS", set_monitor_retention,
     "link-utilisation samples are kept this long, 100..3650 (default 400)"},
    {"recording_dir", "MCU_RECORDING_DIR", "DIR", set_rec_dir,
     "where recordings (WebM) and live streams (HLS) are written (default: recordings/ beside db_path)"},
    {"recording_retention_days", "MCU_RECORDING_RETENTION_DAYS", "DAYS", set_rec_retention,
     "finished recordings are deleted this long after they end; 0 keeps them (default 365)"},
    {"recording_min_free_mb", "MCU_RECORDING_MIN_FREE_MB", "MB", set_rec_min_free,
     "a recording does not start, or stops, when the disk has less free space (default 200)"},
    {"live_max_viewers", "MCU_LIVE_MAX_VIEWERS", "N", set_live_viewers,
     "viewers of one conference's live stream at once (default 50)"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

void config_defaults(struct mcu_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    strcpy(c->media_addrs[0], "127.0.0.1");
    strcpy(c->media_addrs[1], "::1");
    c->n_media_addrs = 2;
    c->media_port = 10000;
    strcpy(c->db_path, "var/mcu.db");
    strcpy(c->web_root, "web");
    strcpy(c->units_file, "../shared/data/vn-admin-units-2025-03.json");
    c->log_level = LOG_LVL_INFO;
    c->queue_depth = 4096;
    c->consent_timeout_ms = 30000;
    c->mix_talkers = 3;
    c->mix_sample_rate = 48000;
    c->mix_bitrate = 32000;
    c->mix_complexity = 5;
    c->mix_dominant_ms = 1500;
    c->end_warning_s = 60;
    c->session_idle_s = 1800;
    c->session_max_s = 43200;
    c->monitor_sample_s = 300;
    c->monitor_retention_days = 400;
    c->max_conns_per_addr = 64;
    c->recording_retention_days = 365;
    c->recording_min_free_mb = 200;
    c->live_max_viewers = 50;
    strcpy(c->conn_limit_exempt, "127.0.0.1,::1");
}

static const struct key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

int config_set(struct mcu_config *c, const char *key, const char *value, char *err, size_t errlen)
{
    const struct key *k = find_key(key);
    if (!k) {
        snprintf(err, errlen, "unknown configuration key '%s'", key);
        return -1;
    }
    return k->set(c, value, err, errlen);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

static int load_file(struct mcu_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024], msg[512];
    int lineno = 0, rc = 0;
    bool addrs_reset = false;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        if (!strcmp(k, "media_addr") && !addrs_reset) {
            c->n_media_addrs = 0; /* the file's addresses replace the defaults */
            addrs_reset = true;
        }
        if (config_set(c, k, v, msg, sizeof msg) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

static int load_env(struct mcu_config *c, char *err, size_t errlen)
{
    char msg[512];
    for (size_t i = 0; i < NKEYS; i++) {
        const char *v = getenv(keys[i].env);
        if (!v || !*v)
            continue;
        if (keys[i].set == set_media_addr)
            c->n_media_addrs = 0;
        if (keys[i].set(c, v, msg, sizeof msg) < 0) {
            snprintf(err, errlen, "%s: %s", keys[i].env, msg);
            return -1;
        }
    }
    return 0;
}

/* Maps "--media-addr" or "--media_addr" to the key "media_addr". */
static const struct key *flag_key(const char *flag)
{
    char name[64];
    size_t n = strlen(flag);
    if (n >= sizeof name)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        name[i] = flag[i] == '-' ? '_' : flag[i];
    return find_key(name);
}

void config_usage(FILE *out)
{
    fprintf(out,
            "Usage: mcu [--config FILE] [--KEY VALUE]...\n"
            "Multipoint control unit for province-district-commune video conferences.\n\n"
            "Each setting comes from, in increasing priority: its default, the config file\n"
            "(lines 'key = value', '#' comments), the environment variable, the flag.\n\n"
            "  --config FILE             read settings from FILE (env MCU_CONFIG)\n");
    for (size_t i = 0; i < NKEYS; i++) {
        char flag[64];
        snprintf(flag, sizeof flag, "--%s %s", keys[i].name, keys[i].arg);
        for (char *p = flag + 2; *p && *p != ' '; p++)
            if (*p == '_')
                *p = '-';
        fprintf(out, "  %-25s %s\n  %-25s   env %s, file key %s\n", flag, keys[i].help, "",
                keys[i].env, keys[i].name);
    }
    fprintf(out, "  --help                    this text\n  --version                 print the version\n");
}

int config_worker_count(const struct mcu_config *c)
{
    if (c->workers > 0)
        return c->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* tls_self_signed: the certificate and key live next to the database (the data directory),
 * so a restart presents the same certificate and browsers' exceptions keep working. */
static int resolve_self_signed(struct mcu_config *c, char *err, size_t errlen)
{
    if (c->tls_cert[0] || c->tls_key[0]) {
        snprintf(err, errlen, "tls_self_signed cannot be combined with tls_cert or tls_key");
        return -1;
    }
    const char *slash = strrchr(c->db_path, '/');
    int dir = slash ? (int)(slash - c->db_path + 1) : 0;
    if (snprintf(c->tls_cert, sizeof c->tls_cert, "%.*stls-self-signed.crt", dir, c->db_path) >= (int)sizeof c->tls_cert ||
        snprintf(c->tls_key, sizeof c->tls_key, "%.*stls-self-signed.key", dir, c->db_path) >= (int)sizeof c->tls_key) {
        snprintf(err, errlen, "tls_self_signed: the database path is too long to put the certificate beside it");
        return -1;
    }
    return 0;
}

int config_load(struct mcu_config *c, int argc, char **argv, FILE *out, char *err, size_t errlen)
{
    const char *file = getenv("MCU_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            config_usage(out);
            return 1;
        }
        if (!strcmp(argv[i], "--version")) {
            fprintf(out, "mcu %s\n", MCU_VERSION);
            return 1;
        }
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--config needs a file");
                return -1;
            }
            file = argv[++i];
        }
    }
    if (file && *file && load_file(c, file, err, errlen) < 0)
        return -1;
    if (load_env(c, err, errlen) < 0)
        return -1;

    char msg[512];
    bool addrs_reset = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config")) {
            i++;
            continue;
        }
        const char *a = argv[i];
        if (strncmp(a, "--", 2)) {
            snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
            return -1;
        }
        const char *val = strchr(a, '=');
        char name[64];
        size_t nl = val ? (size_t)(val - a - 2) : strlen(a + 2);
        if (nl >= sizeof name) {
            snprintf(err, errlen, "unknown flag '%s' (see --help)", a);
            return -1;
        }
        memcpy(name, a + 2, nl);
        name[nl] = 0;
        const struct key *k = flag_key(name);
        if (!k) {
            snprintf(err, errlen, "unknown flag '%s' (see --help)", a);
            return -1;
        }
        if (val)
            val++;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            snprintf(err, errlen, "flag --%s needs a value", name);
            return -1;
        }
        if (k->set == set_media_addr && !addrs_reset) {
            c->n_media_addrs = 0;
            addrs_reset = true;
        }
        if (k->set(c, val, msg, sizeof msg) < 0) {
            snprintf(err, errlen, "--%s: %s", name, msg);
            return -1;
        }
    }
    if (c->n_media_addrs == 0) {
        snprintf(err, errlen, "no media address configured");
        return -1;
    }
    if (c->tls_self_signed && resolve_self_signed(c, err, errlen) < 0)
        return -1;
    bool loopback = !strncmp(c->listen_host, "127.", 4) || !strcmp(c->listen_host, "::1") ||
                    !strcmp(c->listen_host, "localhost");
    if (!loopback && !c->tls_cert[0] && !c->insecure_http) {
        snprintf(err, errlen,
                 "refusing plain HTTP on %s: set tls_cert and tls_key, or insecure_http = true "
                 "when a TLS proxy stands in front",
                 c->listen_host[0] ? c->listen_host : "every address");
        return -1;
    }
    if (!!c->tls_cert[0] != !!c->tls_key[0]) {
        snprintf(err, errlen, "tls_cert and tls_key must be set together");
        return -1;
    }
    return 0;
}
