/* A load run as main (tools/mcu-load.c) sets it up and drives it, and as the report
 * (tools/load/report.c) judges it. */
#ifndef LOAD_RUN_H
#define LOAD_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "tools/load/room.h"
#include "tools/load/site.h"

#define LOAD_MAX_ID_LIST 1000     /* ids in --talker-sites or --verify-sites */

struct load_opts {
    const char *url, *conference, *sites_file, *json_path, *bind_addr;
    int rooms;                  /* conferences: ID (one) or ID-0..ID-(M-1) */
    int sites;                  /* in all */
    int talkers;                /* per room */
    int server_k;               /* how many talkers the server mixes (K of amix) */
    int seconds;                /* measurement window, after the joins */
    int settle_s;               /* wait between the last join and the window */
    int verify;                 /* sampled receivers */
    int verify_seconds;         /* audio judged at the end */
    int mute_talker;            /* -1 none */
    int join_concurrency;
    int join_timeout_s;
    int family;                 /* AF_INET or AF_INET6 */
    double max_loss_pct;
    double max_latency_ms;      /* 0: not checked */
    double min_delivery_pct;    /* mix packets received vs 50/s per joined site */
    double present_dbfs;        /* a talker's tone must be at least this loud */
    double absent_dbfs;         /* one's own tone must be at most this loud */
    bool video, quiet;
    bool libsrtp;               /* --srtp libsrtp: all SRTP through libsrtp2 */
    bool janus;                 /* --janus: url is Janus's WebSocket API, not ours */
    bool janus_video;           /* --janus-plugin videoroom: Janus's VideoRoom, not its AudioBridge */
    long long janus_room;       /* --janus-room: the AudioBridge or VideoRoom room (of room 0) */
    int video_publishers;       /* --video-publishers: the first N sites send video; -1 all */
    int video_thumbs;           /* --video-thumbnails: extra video tracks each receiver asks for */
    int video_check;            /* --video-check: decrypt one received video packet in N */
    int video_nack;             /* --video-nack: receivers drop and NACK one video packet in N */
    bool no_listener_audio;     /* --no-listener-audio: listeners send no audio */
    int cpu_pid;                /* --cpu-pid: the server process to measure, 0 none */
    const char *netns;          /* --netns: run the sites from this namespace, NULL none */
    double netem_loss_pct;      /* --loss, --delay, --jitter: netem on the namespace's link */
    int netem_delay_ms, netem_jitter_ms;
    /* room mode */
    const char *credentials;    /* --credentials FILE: room mode; NULL: the default mode */
    long long *talker_ids;      /* --talker-sites, owned; talker k is talker_ids[k] */
    int n_talker_ids;
    long long *verify_ids;      /* --verify-sites, owned; NULL: the default choice */
    int n_verify_ids;
    bool status_lines;          /* --status-lines: JSON lines on stdout */
};

struct load_run {
    struct load_opts o;
    struct load_env env;
    struct site *sites;
    int n;
    char **names;               /* from --sites-file, may be NULL */
    int n_names;
    /* the measurement window */
    int64_t window_start_ms, window_end_ms;
    double cpu_window_s;        /* our user + system CPU during it */
    double cpu_join_s;          /* ... and during the joins */
    uint64_t out0, in0, out1, in1;  /* packet counters at its start and end */
    uint64_t audio_in0, audio_in1;  /* mix (Opus RTP) packets received, at its start and end */
    uint64_t audio_bytes0, audio_bytes1; /* ... their RTP bytes */
    uint64_t video_in0, video_in1;  /* VP8 RTP packets received, at its start and end */
    uint64_t video_bytes0, video_bytes1, video_rtp_bytes0, video_rtp_bytes1; /* ... their bytes */
    uint64_t late_ticks;        /* 5 ms ticks the loop fell behind by */
    int64_t join_phase_ms;      /* first open to the last site joined (or failed) */
    int publishers_up;          /* video publishers known to be in media or failed (they open first) */
    /* --cpu-pid: the server's utime + stime from /proc over the window */
    double srv_cpu0_s, srv_cpu_window_s;
    bool srv_cpu_ok;            /* both samples were read */
    bool interrupted;
    /* room mode (tools/load/roomrun.c) */
    struct lroom_cred *creds;   /* from --credentials, owned */
    int n_creds;
    struct lroom room;
    int talker_site[LA_MAX_TALKERS]; /* site index of talker k */
    int64_t room_end_ms;        /* when the run stopped, ms after its start */
    bool room_quit;             /* `quit` was read */
};

/* Judges the run: prints each failed check to stderr, writes the JSON report when asked.
 * Returns the exit code: 0 when every check passed, 1 otherwise. */
int load_report(struct load_run *r);

/* {"n", "p50", "p95", "max"} of v[0..n) (sorted in place; nearest-rank percentiles). */
struct json_t *load_dist(double *v, int n);

/* Room mode (--credentials). load_room_setup reads the credentials and checks the site
 * lists (0, or -1 after printing why); load_room_make_sites makes one site per credential
 * once the content is encoded (0 or -1); load_room_run runs them until --seconds, `quit` on
 * stdin or *stop, closes them, writes the report and returns the exit code. */
int load_room_setup(struct load_run *r);
int load_room_make_sites(struct load_run *r);
int load_room_run(struct load_run *r, volatile sig_atomic_t *stop);

#endif
