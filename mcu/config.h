/* Daemon configuration: defaults, then a `key = value` file, then MCU_* environment
 * variables, then command-line flags — each later source overrides the earlier ones.
 * One table (config.c) names every key once for all three sources and for --help. */
#ifndef MCU_CONFIG_H
#define MCU_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#define CONFIG_MAX_MEDIA_ADDRS 4
#define CONFIG_STR 256

struct mcu_config {
    char listen_host[64];                                 /* HTTP/WebSocket bind address */
    int listen_port;                                      /* HTTP/WebSocket port */
    char media_addrs[CONFIG_MAX_MEDIA_ADDRS][64];         /* bound and announced for media */
    int n_media_addrs;                                    /* entries used in media_addrs */
    char announce_addr[64];                               /* extra candidate, for NAT; "" = none */
    int media_port;                                       /* worker i binds media_port + i */
    int workers;                                          /* media worker threads; 0 = one per core */
    char db_path[CONFIG_STR];                             /* SQLite database file */
    char web_root[CONFIG_STR];                            /* static files served under / */
    char units_file[CONFIG_STR];                          /* national administrative-unit list */
    char demo_province[16];                               /* province code imported at start */
    char tls_cert[CONFIG_STR];                            /* PEM certificate; "" = plain HTTP */
    char tls_key[CONFIG_STR];                             /* PEM private key */
    bool tls_self_signed;                                 /* tls_cert/tls_key generated in the data dir */
    int max_conns_per_addr;                               /* open connections per peer address; 0 = any */
    char conn_limit_exempt[CONFIG_STR];                   /* addresses max_conns_per_addr ignores */
    int log_level;                                        /* enum log_level */
    bool syslog;                                          /* also log to syslog */
    bool insecure_http;                                   /* allow plain HTTP off loopback */
    int queue_depth;                                      /* slots in each thread queue */
    int consent_timeout_ms;                               /* ICE consent lifetime (RFC 7675) */
    int mix_talkers;                                      /* K loudest mixed */
    int mix_sample_rate;                                  /* 48000 or 16000 */
    int mix_bitrate;                                      /* Opus bits/s of the mix */
    int mix_complexity;                                   /* Opus encoder complexity 0..10 */
    bool mix_dtx;                                         /* Opus DTX on the mix */
    int mix_dominant_ms;                                  /* dominant-speaker switch threshold */
    char admin_password[128];                             /* the first admin's password; "" = generate */
    bool test_conferences;                                /* echo, mix, mix-* without signing in */
    int end_warning_s;                                    /* warning before a scheduled end */
    int session_idle_s, session_max_s;                    /* admin sign-in expiry */
    int monitor_sample_s;                                 /* link-utilisation window */
    int monitor_retention_days;                           /* how long samples are kept */
    char recording_dir[CONFIG_STR];                       /* recordings and live streams; "" = beside db_path */
    int recording_retention_days;                         /* finished recordings are deleted after; 0 = never */
    int recording_min_free_mb;                            /* a recording stops below this much free disk */
    int live_max_viewers;                                 /* HLS viewers per conference */
};

void config_defaults(struct mcu_config *c);

/* Applies file, environment and argv in that order. On error writes a message to `err`
 * (a caller buffer) and returns -1; returns 1 when --help or --version was printed to
 * `out` (the caller should exit 0), 0 otherwise. */
int config_load(struct mcu_config *c, int argc, char **argv, FILE *out, char *err, size_t errlen);

/* Sets one key from text, as the file would; used by tests and by config_load. */
int config_set(struct mcu_config *c, const char *key, const char *value, char *err, size_t errlen);

void config_usage(FILE *out);
int config_worker_count(const struct mcu_config *c); /* resolves workers = 0 */

#endif
