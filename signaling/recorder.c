/* Recording and live streaming of room conferences, on the signaling thread. Each output (a
 * WebM recording, an HLS stream) is a recorder (media/rec.h) that this file opens, attaches
 * to the conference on its media worker (CMD_REC_START: the worker pushes the mix and the
 * main view into it), watches (size, duration, write errors, free disk), and finishes when
 * the worker hands it back (EV_REC_STOPPED). Streams are served under /live/<conference>/<key>/
 * (the key is random per stream, so a stream cannot be found by trying conference ids)
 * to a limited number of viewers. */
#include "signaling/internal.h"
#include "mcu/log.h"
#include "mcu/msg.h"
#include "mcu/server.h"
#include "mcu/worker.h"
#include "media/rec.h"
#include "media/session.h"
#include "rooms/live.h"
#include "rooms/recstore.h"
#include "rooms/store.h"

#include <dirent.h>
#include <sodium.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define CHECK_MS 1000          /* status, free disk */
#define SAVE_MS 5000           /* duration and size into the store */
#define SWEEP_MS (3600 * 1000) /* retention */
#define VIEWER_MS 15000        /* a viewer that fetched nothing for this long has left */
#define VIEWERS_MAX 1024
#define HLS_SEGMENT_MS 2000
#define HLS_LIST 6
#define CLOSERS 32

struct out {
    int64_t conf;
    bool stream;               /* HLS, else a WebM recording */
    int64_t id;                /* the recording's row */
    struct rec *rec;
    char media[64];            /* the conference's name on the worker */
    int worker;
    bool stopping;             /* CMD_REC_STOP sent */
    bool stop_pending;         /* CMD_REC_STOP could not be queued yet */
    char hls_dir[CONFIG_STR + 64]; /* a stream's files (one directory per stream) */
    char key[33];              /* a stream's address: /live/<conf>/<key>/, random per stream */
    int64_t started_at, saved_at;
    char error[160];           /* why it stopped early, "" = it did not */
    struct rec_status last;
    struct out *next;
};

struct viewer {
    int64_t conf, seen;
    char addr[48];
};

struct recorder {
    struct signaling *sig;
    struct out *outs;
    char dir[CONFIG_STR], live_dir[CONFIG_STR + 8];
    int64_t checked, swept;
    bool closing;              /* the server stops: no more messages */
    pthread_t closers[CLOSERS]; /* threads finishing stopped recorders */
    int nclosers;
    int64_t pending[64];       /* conferences that went live, to start automatically */
    int npending;
    struct viewer viewers[VIEWERS_MAX];
};

static struct db *db_of(struct recorder *r)
{
    return &r->sig->srv->db;
}

static struct out *find_out(struct recorder *r, int64_t conf, bool stream)
{
    for (struct out *o = r->outs; o; o = o->next)
        if (o->conf == conf && o->stream == stream)
            return o;
    return NULL;
}

static int mkdirs(const char *path)
{
    char p[CONFIG_STR + 16];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0750) < 0 && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(p, 0750) < 0 && errno != EEXIST ? -1 : 0;
}

static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    char f[CONFIG_STR + 300];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(f, sizeof f, "%s/%s", path, e->d_name);
            unlink(f);
        }
    closedir(d);
    rmdir(path);
}

static int64_t free_mb(const char *dir)
{
    struct statvfs vs;
    return statvfs(dir, &vs) < 0 ? -1 : (int64_t)((uint64_t)vs.f_bavail * vs.f_frsize / (1024 * 1024));
}

static struct rec_cmd *new_cmd(struct signaling *sig, const struct out *o, int64_t view)
{
    const struct mcu_config *cfg = &sig->srv->cfg;
    struct rec_cmd *cmd = calloc(1, sizeof *cmd);
    if (!cmd)
        return NULL;
    snprintf(cmd->conference, sizeof cmd->conference, "%s", o->media);
    cmd->rec = o->rec;
    cmd->view = rooms_session_of(sig, o->conf, view);
    cmd->mix_talkers = cfg->mix_talkers;
    cmd->mix_sample_rate = cfg->mix_sample_rate;
    cmd->mix_bitrate = cfg->mix_bitrate;
    cmd->mix_complexity = cfg->mix_complexity;
    cmd->mix_dtx = cfg->mix_dtx;
    cmd->mix_dominant_ms = cfg->mix_dominant_ms;
    return cmd;
}

static bool send_cmd(struct signaling *sig, int worker, uint32_t type, struct rec_cmd *cmd)
{
    struct mcu_msg m = {.type = type, .worker = (uint32_t)worker, .ptr = cmd};
    if (cmd && worker_send_cmd(&sig->srv->workers[worker], &m))
        return true;
    free(cmd);
    return false;
}

/* A `recording` event for the conference's watchers and sites, and a new live state. */
static void announce(struct recorder *r, const struct out *o, const char *state)
{
    if (r->closing)
        return;
    char conf[24];
    snprintf(conf, sizeof conf, "%lld", (long long)o->conf);
    json_t *ev = json_pack("{s:s,s:s,s:s,s:s}", "type", o->stream ? "streaming" : "recording", "conference", conf,
                           "state", state, "error", o->error);
    if (!o->stream)
        json_object_set_new(ev, "recording", json_integer(o->id));
    live_broadcast(r->sig->live, o->conf, ev);
    json_decref(ev);
    live_touch(r->sig->live, o->conf);
}

static void audit(struct recorder *r, const struct out *o, const char *action, const char *result,
                  const char *detail)
{
    struct store_conf c;
    char target[40];
    snprintf(target, sizeof target, "conference:%lld", (long long)o->conf);
    bool have = store_conf_get(db_of(r), o->conf, &c) == 0;
    store_audit(db_of(r), "server", action, target, "", result, detail, have ? c.host_unit : "");
}

/* ---- start and stop */

static const char *start_out(struct recorder *r, int64_t conf, bool stream, const char *by, char *err,
                             size_t errlen)
{
    struct signaling *sig = r->sig;
    struct store_conf c;
    if (!live_is_live(sig->live, conf) || store_conf_get(db_of(r), conf, &c) < 0) {
        snprintf(err, errlen, "the conference is not live");
        return "not_live";
    }
    if (find_out(r, conf, stream)) {
        snprintf(err, errlen, stream ? "the conference is already streamed" : "the conference is already recorded");
        return stream ? "already_streaming" : "already_recording";
    }
    int64_t mb = free_mb(r->dir), min = sig->srv->cfg.recording_min_free_mb;
    if (mb >= 0 && mb < min) {
        snprintf(err, errlen, "only %lld MB free for recordings (at least %lld needed)", (long long)mb,
                 (long long)min);
        return "disk_full";
    }
    struct out *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return "internal";
    }
    o->conf = conf;
    o->stream = stream;
    o->started_at = o->saved_at = store_now_ms();
    snprintf(o->media, sizeof o->media, "room-%lld", (long long)conf);
    char path[CONFIG_STR + 100];
    struct rec_opts opts = {.hls_segment_ms = HLS_SEGMENT_MS, .hls_list_size = HLS_LIST, .header_wait_ms = 4000};
    if (stream) {
        uint8_t raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(o->key, sizeof o->key, raw, sizeof raw);
        snprintf(o->hls_dir, sizeof o->hls_dir, "%s/%lld-%lld", r->live_dir, (long long)conf,
                 (long long)o->started_at);
        snprintf(path, sizeof path, "%s", o->hls_dir);
        if (mkdirs(path) < 0)
            goto io_error;
        opts.hls_dir = path;
    } else {
        char file[64];
        if ((o->id = recstore_create(db_of(r), conf, c.host_unit, c.title, o->started_at, by)) < 0)
            goto io_error;
        recstore_file_name(conf, o->id, file, sizeof file);
        snprintf(path, sizeof path, "%s/%s", r->dir, file);
        opts.webm_path = path;
    }
    char rerr[160] = "";
    if (!(o->rec = rec_start(&opts, rerr, sizeof rerr))) {
        snprintf(o->error, sizeof o->error, "%s", rerr);
        goto io_error;
    }
    if ((o->worker = ws_place_conf(sig, o->media)) < 0 ||
        !send_cmd(sig, o->worker, CMD_REC_START, new_cmd(sig, o, live_main_site(sig->live, conf)))) {
        if (o->worker >= 0)
            ws_unplace_conf(sig, o->media);
        rec_stop(o->rec);
        if (o->id)
            recstore_finish(db_of(r), o->id, "failed", "the media worker is busy", store_now_ms(), 0, 0);
        free(o);
        snprintf(err, errlen, "the media worker is busy; try again");
        return "busy";
    }
    o->next = r->outs;
    r->outs = o;
    log_info("recorder", "conference %lld: %s started%s%s", (long long)conf, stream ? "live stream" : "recording",
             stream ? " in " : " into ", path);
    announce(r, o, "started");
    return NULL;
io_error:
    log_error("recorder", "conference %lld: cannot start %s in %s: %s", (long long)conf,
              stream ? "the live stream" : "the recording", path, o->error[0] ? o->error : strerror(errno));
    if (o->id)
        recstore_finish(db_of(r), o->id, "failed", o->error[0] ? o->error : "cannot write the file",
                        store_now_ms(), 0, 0);
    snprintf(err, errlen, "cannot write %s: %s", stream ? "the live stream" : "the recording",
             o->error[0] ? o->error : strerror(errno));
    free(o);
    return "io_error";
}

/* Asks the worker for the recorder back; recorder_on_stopped finishes it. */
static void stop_out(struct recorder *r, struct out *o, const char *error)
{
    if (error && !o->error[0])
        snprintf(o->error, sizeof o->error, "%s", error);
    if (o->stopping)
        return;
    o->stopping = true;
    struct rec_cmd *cmd = new_cmd(r->sig, o, 0);
    o->stop_pending = !send_cmd(r->sig, o->worker, CMD_REC_STOP, cmd);
    announce(r, o, "stopping");
}

static void unlink_out(struct recorder *r, struct out *o)
{
    for (struct out **pp = &r->outs; *pp; pp = &(*pp)->next)
        if (*pp == o) {
            *pp = o->next;
            return;
        }
}

struct closer {
    struct rec *rec;
    char dir[CONFIG_STR + 64]; /* a stream's directory to remove after, "" none */
};

/* A stream's queue can take a while to drain (VP8 is transcoded for HLS): off the signaling
 * thread. A recording (muxing only) is finished in place, so 'done' means complete. */
static void *closer_main(void *arg)
{
    struct closer *c = arg;
    rec_stop(c->rec);
    if (c->dir[0])
        remove_dir(c->dir);
    free(c);
    return NULL;
}

static void close_rec(struct recorder *r, struct rec *rec, const char *dir)
{
    struct closer *c = calloc(1, sizeof *c);
    if (c) {
        c->rec = rec;
        snprintf(c->dir, sizeof c->dir, "%s", dir);
    }
    if (c && r->nclosers < CLOSERS && !r->closing &&
        pthread_create(&r->closers[r->nclosers], NULL, closer_main, c) == 0) {
        r->nclosers++;
        return;
    }
    if (c)
        closer_main(c); /* shutting down, or too many at once: here */
    else
        rec_stop(rec);
}

static void reap_closers(struct recorder *r, bool wait)
{
    for (int i = 0; i < r->nclosers;) {
        if (wait ? pthread_join(r->closers[i], NULL) == 0 : pthread_tryjoin_np(r->closers[i], NULL) == 0)
            r->closers[i] = r->closers[--r->nclosers];
        else
            i++;
    }
}

/* The worker let go of it (or never took it): close the file and record the outcome. */
static void finish_out(struct recorder *r, struct out *o)
{
    rec_status(o->rec, &o->last);
    if (o->last.error && !o->error[0])
        snprintf(o->error, sizeof o->error, "%s", o->last.msg);
    if (o->stream)
        close_rec(r, o->rec, o->hls_dir);
    else
        rec_stop(o->rec);
    o->rec = NULL;
    ws_unplace_conf(r->sig, o->media);
    unlink_out(r, o);
    if (!o->stream) {
        char file[64], path[CONFIG_STR + 80];
        recstore_file_name(o->conf, o->id, file, sizeof file);
        snprintf(path, sizeof path, "%s/%s", r->dir, file);
        struct stat st; /* the trailer (a few kB of index) may still be on its way */
        int64_t bytes = stat(path, &st) == 0 ? st.st_size : o->last.bytes;
        recstore_finish(db_of(r), o->id, o->error[0] ? "failed" : "done", o->error, store_now_ms(),
                        o->last.duration_ms, bytes);
    }
    log_info("recorder", "conference %lld: %s stopped after %lld ms, %lld bytes%s%s", (long long)o->conf,
             o->stream ? "live stream" : "recording", (long long)o->last.duration_ms, (long long)o->last.bytes,
             o->error[0] ? ": " : "", o->error);
    announce(r, o, o->error[0] ? "failed" : "stopped");
    free(o);
}

void recorder_on_stopped(struct signaling *sig, struct rec *rec)
{
    struct recorder *r = sig->recorder;
    for (struct out *o = r ? r->outs : NULL; o; o = o->next)
        if (o->rec == rec) {
            if (!o->stopping && !o->error[0]) /* refused by the worker */
                snprintf(o->error, sizeof o->error, "the media worker could not take the recorder");
            return finish_out(r, o);
        }
    log_warn("recorder", "a recorder came back that is not ours any more; left alone");
}

/* ---- live hooks */

/* Started on the next tick, not here: conferences restored at start-up go live before the
 * media workers exist. */
void recorder_started(void *ctx, int64_t conf)
{
    struct signaling *sig = ctx;
    struct recorder *r = sig->recorder;
    if (r && r->npending < (int)(sizeof r->pending / sizeof r->pending[0]))
        r->pending[r->npending++] = conf;
    else if (r)
        log_warn("recorder", "conference %lld: too many conferences started at once to record it", (long long)conf);
}

static void start_auto(struct recorder *r, int64_t conf)
{
    struct store_conf c;
    char err[160];
    const char *e;
    if (!live_is_live(r->sig->live, conf) || store_conf_get(db_of(r), conf, &c) < 0)
        return;
    if (c.record && !find_out(r, conf, false) && (e = start_out(r, conf, false, "auto", err, sizeof err)))
        log_warn("recorder", "conference %lld: no automatic recording: %s (%s)", (long long)conf, err, e);
    if (c.stream && !find_out(r, conf, true) && (e = start_out(r, conf, true, "auto", err, sizeof err)))
        log_warn("recorder", "conference %lld: no automatic live stream: %s (%s)", (long long)conf, err, e);
}

void recorder_ended(void *ctx, int64_t conf)
{
    struct signaling *sig = ctx;
    for (struct out *o = sig->recorder ? sig->recorder->outs : NULL; o; o = o->next)
        if (o->conf == conf)
            stop_out(sig->recorder, o, NULL);
}

void recorder_set_main(void *ctx, int64_t conf, int64_t view)
{
    struct signaling *sig = ctx;
    for (struct out *o = sig->recorder ? sig->recorder->outs : NULL; o; o = o->next)
        if (o->conf == conf && !o->stopping) {
            send_cmd(sig, o->worker, CMD_REC_VIEW, new_cmd(sig, o, view));
            return; /* both outputs share the conference's recorder view */
        }
}

static int viewers(struct recorder *r, int64_t conf, int64_t now)
{
    int n = 0;
    for (int i = 0; i < VIEWERS_MAX; i++)
        n += r->viewers[i].conf == conf && now - r->viewers[i].seen < VIEWER_MS;
    return n;
}

json_t *recorder_state(void *ctx, int64_t conf)
{
    struct signaling *sig = ctx;
    struct recorder *r = sig->recorder;
    if (!r)
        return NULL;
    struct out *rec = find_out(r, conf, false), *st = find_out(r, conf, true);
    int64_t now = store_now_ms();
    json_t *j = json_object();
    json_object_set_new(j, "recording", rec ? json_pack("{s:I,s:I,s:I,s:I}", "id", (json_int_t)rec->id,
                                                      "started_at", (json_int_t)rec->started_at, "duration_ms",
                                                      (json_int_t)rec->last.duration_ms, "bytes",
                                                      (json_int_t)rec->last.bytes)
                                            : json_null());
    char url[96];
    snprintf(url, sizeof url, "/live/%lld/%s/index.m3u8", (long long)conf, st ? st->key : "");
    json_object_set_new(j, "streaming", st ? json_pack("{s:s,s:I,s:i,s:i}", "url", url, "started_at",
                                                     (json_int_t)st->started_at, "viewers", viewers(r, conf, now),
                                                     "max_viewers", sig->srv->cfg.live_max_viewers)
                                           : json_null());
    return j;
}

const char *recorder_control(void *ctx, int64_t conf, int64_t actor_site, const char *action, char *err,
                             size_t errlen)
{
    struct signaling *sig = ctx;
    struct recorder *r = sig->recorder;
    bool stream = !strncmp(action, "stream_", 7);
    if (!r || (strcmp(action, "record_start") && strcmp(action, "record_stop") && strcmp(action, "stream_start") &&
               strcmp(action, "stream_stop")))
        return "bad_action";
    if (!strcmp(action + 7, "start")) { /* record_ and stream_ are both 7 long */
        char by[32];
        snprintf(by, sizeof by, actor_site ? "site:%lld" : "operator", (long long)actor_site);
        return start_out(r, conf, stream, by, err, errlen);
    }
    struct out *o = find_out(r, conf, stream);
    if (!o || o->stopping) {
        snprintf(err, errlen, stream ? "the conference is not streamed" : "the conference is not recorded");
        return stream ? "not_streaming" : "not_recording";
    }
    stop_out(r, o, NULL);
    return NULL;
}

/* ---- the tick: health of every output, retention */

static void check_out(struct recorder *r, struct out *o, int64_t now)
{
    if (o->stop_pending) {
        o->stop_pending = !send_cmd(r->sig, o->worker, CMD_REC_STOP, new_cmd(r->sig, o, 0));
        return;
    }
    if (o->stopping)
        return;
    rec_status(o->rec, &o->last);
    int64_t mb = free_mb(r->dir), min = r->sig->srv->cfg.recording_min_free_mb;
    if (o->last.error || (mb >= 0 && mb < min / 2)) {
        char why[160];
        if (o->last.error)
            snprintf(why, sizeof why, "%s", o->last.msg[0] ? o->last.msg : "write error");
        else
            snprintf(why, sizeof why, "the disk is full (%lld MB free)", (long long)mb);
        log_error("recorder", "conference %lld: %s stops: %s; the conference goes on", (long long)o->conf,
                  o->stream ? "the live stream" : "the recording", why);
        audit(r, o, o->stream ? "conference.stream" : "conference.record", "failed", why);
        return stop_out(r, o, why);
    }
    if (!o->stream && now - o->saved_at >= SAVE_MS) {
        o->saved_at = now;
        recstore_progress(db_of(r), o->id, o->last.duration_ms, o->last.bytes);
    }
}

static void sweep(struct recorder *r, int64_t now)
{
    int days = r->sig->srv->cfg.recording_retention_days;
    if (!days)
        return;
    int64_t *ids = NULL;
    int n = recstore_older_than(db_of(r), now - (int64_t)days * 86400000, &ids);
    for (int i = 0; i < n; i++) {
        struct recstore_row row;
        if (recstore_get(db_of(r), ids[i], &row) < 0)
            continue;
        char path[CONFIG_STR + 80];
        snprintf(path, sizeof path, "%s/%s", r->dir, row.file);
        unlink(path);
        recstore_delete(db_of(r), ids[i]);
        log_info("recorder", "recording %lld of conference %lld deleted after %d days", (long long)row.id,
                 (long long)row.conference, days);
    }
    free(ids);
}

void recorder_tick(struct recorder *r, int64_t now)
{
    if (!r)
        return;
    for (int i = 0; i < r->npending; i++)
        start_auto(r, r->pending[i]);
    r->npending = 0;
    reap_closers(r, false);
    if (now - r->checked < CHECK_MS)
        return;
    r->checked = now;
    for (struct out *o = r->outs, *next; o; o = next) {
        next = o->next;
        check_out(r, o, now);
    }
    if (now - r->swept >= SWEEP_MS) {
        r->swept = now;
        sweep(r, now);
    }
}

/* ---- HTTP: /live/<conference>/<key>/<file> */

static bool safe_name(const char *s)
{
    if (!*s || *s == '.' || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

/* Counts the address as a viewer of conf; false when that would pass the limit. */
static bool admit_viewer(struct recorder *r, int64_t conf, const char *addr, int64_t now)
{
    int free_slot = -1;
    for (int i = 0; i < VIEWERS_MAX; i++) {
        struct viewer *v = &r->viewers[i];
        if (v->conf == conf && !strcmp(v->addr, addr) && now - v->seen < VIEWER_MS) {
            v->seen = now;
            return true;
        }
        if (free_slot < 0 && (!v->conf || now - v->seen >= VIEWER_MS))
            free_slot = i;
    }
    if (free_slot < 0 || viewers(r, conf, now) >= r->sig->srv->cfg.live_max_viewers)
        return false;
    struct viewer *v = &r->viewers[free_slot];
    v->conf = conf;
    v->seen = now;
    snprintf(v->addr, sizeof v->addr, "%s", addr);
    return true;
}

int recorder_http_live(struct conn *c)
{
    struct recorder *r = c->sig->recorder;
    char *end;
    long long conf = strtoll(c->path + 6, &end, 10);
    const char *key = *end == '/' ? end + 1 : "", *slash = strchr(key, '/');
    const char *file = slash ? slash + 1 : "";
    if (strcmp(c->method, "GET") && strcmp(c->method, "HEAD")) {
        http_error(c, 405, "method_not_allowed", "live streams are read-only");
        return 0;
    }
    struct out *o = r && conf > 0 ? find_out(r, conf, true) : NULL;
    if (!o || o->stopping || !slash || (size_t)(slash - key) != strlen(o->key) ||
        sodium_memcmp(key, o->key, strlen(o->key)) != 0) { /* a wrong key looks like no stream */
        http_error(c, 404, "not_streaming", "this conference is not streamed live now");
        return 0;
    }
    if (!safe_name(file)) {
        http_error(c, 404, "not_found", "no such file in the live stream");
        return 0;
    }
    if (!admit_viewer(r, conf, c->addr, store_now_ms())) {
        http_error(c, 503, "too_many_viewers", "the live stream has as many viewers as it may; try again later");
        return 0;
    }
    snprintf(c->send_file, sizeof c->send_file, "%s/%s", o->hls_dir, file);
    struct stat st;
    if (stat(c->send_file, &st) < 0 || !S_ISREG(st.st_mode)) {
        c->send_file[0] = 0;
        http_error(c, 404, "not_found", "no such file in the live stream (yet)");
    }
    return 0;
}

const char *recorder_dir(struct signaling *sig)
{
    return sig->recorder ? sig->recorder->dir : ".";
}

/* ---- life */

struct recorder *recorder_new(struct signaling *sig, char *err, size_t errlen)
{
    struct recorder *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->sig = sig;
    const struct mcu_config *cfg = &sig->srv->cfg;
    if (cfg->recording_dir[0]) {
        snprintf(r->dir, sizeof r->dir, "%s", cfg->recording_dir);
    } else {
        const char *slash = strrchr(cfg->db_path, '/');
        int n = slash ? (int)(slash - cfg->db_path) : 0;
        snprintf(r->dir, sizeof r->dir, "%.*s%srecordings", n, cfg->db_path, n ? "/" : "");
    }
    snprintf(r->live_dir, sizeof r->live_dir, "%s/live", r->dir);
    if (mkdirs(r->dir) < 0 || mkdirs(r->live_dir) < 0) {
        snprintf(err, errlen, "recording_dir %s: %s", r->dir, strerror(errno));
        free(r);
        return NULL;
    }
    DIR *d = opendir(r->live_dir); /* streams of a server that died */
    for (struct dirent *e; d && (e = readdir(d));)
        if (e->d_name[0] != '.') {
            char sub[CONFIG_STR + 300];
            snprintf(sub, sizeof sub, "%s/%s", r->live_dir, e->d_name);
            remove_dir(sub);
        }
    if (d)
        closedir(d);
    int n = recstore_interrupted(&sig->srv->db);
    if (n > 0)
        log_warn("recorder", "%d recording%s interrupted by the last stop; what was written is kept", n,
                 n == 1 ? " was" : "s were");
    r->swept = 0; /* the first sweep at the first tick, then hourly */
    return r;
}

void recorder_free(struct recorder *r)
{
    if (!r)
        return;
    r->closing = true;
    reap_closers(r, true);
    while (r->outs) { /* the workers have stopped: nobody pushes into these any more */
        struct out *o = r->outs;
        o->stopping = true;
        finish_out(r, o);
    }
    free(r);
}
