/* The end of a load run: every check, with a message that names the site and the measured
 * value when it fails, and the JSON report (docs/load.md describes its fields). */
#include "tools/load/impair.h"
#include "tools/load/run.h"
#include "tools/load/video.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAILURE_LINES 25   /* on stderr; the JSON has them all */

/* One talker missing from sampled mixes: reported once, with an example. */
struct miss {
    int receivers;             /* mixes that lack it */
    int judged;                /* mixes that should hold it */
    int example;               /* a receiver site that lacks it */
    double level;              /* what that receiver measured */
};

struct judge {
    json_t *failures;          /* array of strings */
    int printed;
    struct miss *miss;         /* [room * LA_MAX_TALKERS + talker] */
};

static void failure(struct judge *j, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_array_append_new(j->failures, json_string(buf));
    if (j->printed++ < MAX_FAILURE_LINES)
        fprintf(stderr, "mcu-load: FAIL: %s\n", buf);
}

static double r1(double x)
{
    return round(x * 100) / 100;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* {"n", "p50", "p95", "max"} of v[0..n) (sorted in place); nearest-rank percentiles. */
static json_t *dist(double *v, int n)
{
    if (n == 0)
        return json_pack("{s:i}", "n", 0);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double p50 = v[(int)ceil(0.50 * n) - 1], p95 = v[(int)ceil(0.95 * n) - 1];
    return json_pack("{s:i,s:f,s:f,s:f}", "n", n, "p50", r1(p50),
                     "p95", r1(p95), "max", r1(v[n - 1]));
}

json_t *load_dist(double *v, int n)
{
    return dist(v, n);
}

static int talker_site(const struct load_run *r, int room, int t)
{
    int i = t * r->o.rooms + room;
    return i < r->n ? i : -1;
}

/* One sampled receiver: every other talker's signature present, its own absent. */
static json_t *judge_receiver(struct load_run *r, struct judge *j, struct site *s)
{
    const struct load_opts *o = &r->o;
    json_t *levels = json_object();
    json_t *rec = json_pack("{s:i,s:s,s:s,s:b,s:i}", "site", s->index, "name", s->name, "conference",
                            s->conference, "talker", s->talker >= 0, "talker_index", s->talker);
    json_object_set_new(rec, "levels_dbfs", levels);
    if (s->stage != SITE_MEDIA) {
        json_object_set_new(rec, "ok", json_false());
        return rec; /* its not joining is a failure already */
    }
    double secs = 0, lv[LA_MAX_TALKERS];
    for (int t = 0; t < o->talkers; t++) {
        lv[t] = lv_ear_tone_dbfs(s->ear, la_talker_hz(t), &secs);
        char key[16];
        snprintf(key, sizeof key, "%.0f", la_talker_hz(t));
        json_object_set_new(levels, key, json_real(r1(lv[t])));
    }
    json_object_set_new(rec, "seconds_judged", json_real(r1(secs)));
    int before = (int)json_array_size(j->failures);
    bool ok = true;
    if (secs < 1.0 && o->talkers > 0) {
        failure(j, "receiver %s (site %d) decoded only %.1f s of audio", s->name, s->index, secs);
    } else {
        int others = 0, heard = 0;
        for (int t = 0; t < o->talkers; t++) {
            if (t == s->talker)
                continue;
            others++;
            heard += lv[t] >= o->present_dbfs;
        }
        bool all_needed = o->talkers <= o->server_k;
        int need = all_needed ? others : (o->server_k - (s->talker >= 0) < others ? o->server_k - (s->talker >= 0) : others);
        for (int t = 0; t < o->talkers && all_needed && j->miss; t++) {
            struct miss *m = &j->miss[s->room * LA_MAX_TALKERS + t];
            if (t == s->talker)
                continue;
            m->judged++;
            if (lv[t] >= o->present_dbfs)
                continue;
            if (m->receivers++ == 0) {
                m->example = s->index;
                m->level = lv[t];
            }
            ok = false;
        }
        if (!all_needed && heard < need)
            failure(j, "receiver %s (site %d) hears %d talkers' signatures, need %d of %d",
                    s->name, s->index, heard, need, others);
        if (s->talker >= 0 && lv[s->talker] > o->absent_dbfs)
            failure(j, "receiver %s (site %d) is talker %d and hears its own signature (%.0f Hz) at "
                    "%.1f dBFS: the mix-minus should remove it (need <= %.0f dBFS)", s->name, s->index,
                    s->talker, la_talker_hz(s->talker), lv[s->talker], o->absent_dbfs);
    }
    json_object_set_new(rec, "ok", json_boolean(ok && (int)json_array_size(j->failures) == before));
    json_object_set_new(rec, "decoded", json_integer((json_int_t)s->ear->decoded));
    json_object_set_new(rec, "concealed", json_integer((json_int_t)s->ear->concealed));
    return rec;
}

/* Latency of each marker beep heard: onset in the decoded mix minus onset sent. */
static int latencies(struct load_run *r, double *out, int cap)
{
    int n = 0;
    for (int i = 0; i < r->n; i++) {
        struct site *s = &r->sites[i];
        if (!s->ear || s->marker)
            continue;
        const struct load_room *room = &r->env.rooms[s->room];
        for (int k = 0; k < s->ear->n_onsets && n < cap; k++) {
            int64_t rx = s->ear->onset_ns[k], best = -1;
            for (int b = 0; b < room->n_beep; b++) {
                int64_t d = rx - room->beep_tx_ns[b];
                if (d >= -2000000 && d < 1000000000 && (best < 0 || d < best))
                    best = d < 0 ? 0 : d;
            }
            if (best >= 0)
                out[n++] = (double)best / 1e6;
        }
    }
    return n;
}

/* What a site did with video: its role, and the streams it received. */
static json_t *site_video_json(const struct site *s)
{
    json_t *streams = json_array();
    for (int i = 0; i < s->n_vstreams; i++)
    {
        const struct site_vstream *v = &s->vstreams[i];
        json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:i}", "ssrc", (json_int_t)v->ssrc, "packets", (json_int_t)v->packets,
                              "frames", (json_int_t)v->frames, "bytes", (json_int_t)v->bytes, "keyframes",
                              (int)v->keyframes);
        if (v->width) { /* the layer of its last keyframe, by size */
            json_object_set_new(o, "width", json_integer(v->width));
            json_object_set_new(o, "height", json_integer(v->height));
            int l = lvid_layer_of_width(v->width);
            json_object_set_new(o, "layer", l >= 0 ? json_integer(l) : json_null());
        }
        json_array_append_new(streams, o);
    }
    return json_pack("{s:b,s:b,s:i,s:I,s:I,s:I,s:i,s:o}", "publishes", s->vpub, "expects", s->expect_video,
                     "tracks_asked", s->jan.role == LJANUS_VR_PUBLISHER ? 0 : 1 + s->vthumbs,
                     "packets_received", (json_int_t)s->video_pkts_in, "frames_received",
                     (json_int_t)s->video_frames_in, "bytes_received", (json_int_t)s->video_bytes_in,
                     "ssrcs_received", s->n_vstreams, "streams", streams);
}

static json_t *site_json(const struct site *s)
{
    uint64_t exp, lost;
    site_rx_loss(&s->rx, &exp, &lost);
    json_t *o = json_pack("{s:i,s:s,s:s,s:s}", "site", s->index, "name", s->name, "conference",
                          s->conference, "stage", site_stage_name(s->stage));
    if (s->talker >= 0)
        json_object_set_new(o, "talker", json_integer(s->talker));
    if (s->stage == SITE_FAILED) {
        json_object_set_new(o, "failed_at", json_string(site_stage_name(s->failed_at)));
        json_object_set_new(o, "error", json_string(s->why));
    }
    if (s->t_first_ms)
        json_object_set_new(o, "join_ms", json_integer(s->t_first_ms - s->t_open_ms));
    json_object_set_new(o, "sent", json_integer((json_int_t)s->sent));
    json_object_set_new(o, "received", json_integer((json_int_t)s->rx.received));
    json_object_set_new(o, "lost", json_integer((json_int_t)lost));
    json_object_set_new(o, "jitter_ms", json_real(r1(s->rx.jitter / 48.0)));
    if (s->vpub || s->expect_video || s->video_pkts_in)
        json_object_set_new(o, "video", site_video_json(s));
    return o;
}

/* What the talkers send: signature, Opus bytes and RFC 6464 level per packet. */
static json_t *ring_json(const struct la_ring *g, double hz)
{
    double bytes = 0, level = 0;
    for (int f = 0; f < LA_RING_FRAMES; f++) {
        bytes += g->len[f];
        level += g->level[f];
    }
    return json_pack("{s:f,s:f,s:f,s:i}", "hz", hz, "avg_bytes", r1(bytes / LA_RING_FRAMES),
                     "avg_level", r1(level / LA_RING_FRAMES), "beeps", g->n_onsets);
}

static json_t *content_json(const struct load_run *r)
{
    json_t *t = json_array();
    for (int i = 0; i < r->o.talkers; i++) {
        bool marker = r->env.marker_ring && r->env.marker_ring->n_onsets > 0 &&
                      i == (r->o.mute_talker == 0 ? 1 : 0);
        json_array_append_new(t, ring_json(marker ? r->env.marker_ring : r->env.talker_ring[i],
                                           la_talker_hz(i)));
    }
    json_t *c = json_pack("{s:o,s:o}", "talkers", t, "silence", ring_json(r->env.silence, 0));
    if (r->env.vid) {
        json_t *v = json_array();
        for (int l = 0; l < LVID_LAYERS; l++)
            json_array_append_new(v, json_pack("{s:s,s:f}", "rid", lvid_rid(l), "kbps",
                r1((double)lvid_layer_bytes(r->env.vid, l) * 8 / 1000 / (LVID_FRAMES / (double)LVID_FPS))));
        json_object_set_new(c, "video_layers", v);
    }
    return c;
}

static json_t *config_json(const struct load_run *r)
{
    const struct load_opts *o = &r->o;
    json_t *c = json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:b,s:i,s:i,s:f,s:f,s:i,s:f,s:f}", "url", o->url,
                     "conference", o->conference, "rooms", o->rooms, "sites", o->sites, "talkers",
                     o->talkers, "server_k", o->server_k, "seconds", o->seconds, "video", o->video,
                     "verify", o->verify, "mute_talker", o->mute_talker, "max_loss_pct", o->max_loss_pct,
                     "max_latency_ms", o->max_latency_ms, "join_concurrency", o->join_concurrency,
                     "present_dbfs", o->present_dbfs, "absent_dbfs", o->absent_dbfs);
    json_object_set_new(c, "min_delivery_pct", json_real(o->min_delivery_pct));
    json_object_set_new(c, "settle_s", json_integer(o->settle_s));
    json_object_set_new(c, "server", json_string(o->janus ? "janus" : "mcu"));
    if (o->janus)
        json_object_set_new(c, "janus_room", json_integer(o->janus_room));
    if (o->cpu_pid)
        json_object_set_new(c, "cpu_pid", json_integer(o->cpu_pid));
    json_object_set_new(c, "bind", json_string(r->env.bind_addr ? r->env.bind_addr : ""));
    if (o->video) {
        json_object_set_new(c, "video_publishers", json_integer(o->video_publishers));
        json_object_set_new(c, "video_thumbnails", json_integer(o->video_thumbs));
        json_object_set_new(c, "video_check", json_integer(o->video_check));
    }
    json_object_set_new(c, "no_listener_audio", json_boolean(o->no_listener_audio));
    if (o->janus)
        json_object_set_new(c, "janus_plugin", json_string(o->janus_video ? "videoroom" : "audiobridge"));
    return c;
}

/* Joins, loss and jitter over all sites; fills the report and judges. */
static void judge_sites(struct load_run *r, struct judge *j, json_t *rep)
{
    double *join = calloc((size_t)r->n + 1, sizeof(double));
    double *jit = calloc((size_t)r->n + 1, sizeof(double));
    int nj = 0, nm = 0, never = 0, dropped = 0;
    uint64_t exp = 0, lost = 0, recv = 0;
    json_t *sites = json_array();
    for (int i = 0; i < r->n; i++) {
        struct site *s = &r->sites[i];
        json_array_append_new(sites, site_json(s));
        if (s->t_first_ms && join)
            join[nj++] = (double)(s->t_first_ms - s->t_open_ms);
        if (s->stage == SITE_MEDIA && jit)
            jit[nm++] = s->rx.jitter / 48.0;
        uint64_t e, l;
        site_rx_loss(&s->rx, &e, &l);
        exp += e;
        lost += l;
        recv += s->rx.received;
        if (s->stage == SITE_FAILED && !s->t_first_ms && never++ < 10)
            failure(j, "site %s (%d) never joined: %s (at stage %s)", s->name, i, s->why,
                    site_stage_name(s->failed_at));
        else if (s->stage == SITE_FAILED && s->t_first_ms && dropped++ < 10)
            failure(j, "site %s (%d) dropped out after joining: %s", s->name, i, s->why);
    }
    if (never > 10)
        failure(j, "... %d sites never joined in all", never);
    if (dropped > 10)
        failure(j, "... %d sites dropped out in all", dropped);
    double loss = exp ? 100.0 * (double)lost / (double)exp : 0.0;
    if (loss > r->o.max_loss_pct)
        failure(j, "loss %.2f%% (%llu of %llu packets) is above --max-loss %.2f%%", loss,
                (unsigned long long)lost, (unsigned long long)exp, r->o.max_loss_pct);
    if (r->env.joined == 0)
        failure(j, "no site joined");
    json_object_set_new(rep, "joined", json_integer(r->env.joined));
    json_object_set_new(rep, "failed", json_integer(r->env.failed));
    json_object_set_new(rep, "join_ms", dist(join, nj));
    json_object_set_new(rep, "loss", json_pack("{s:I,s:I,s:I,s:f}", "expected", (json_int_t)exp,
                        "received", (json_int_t)recv, "lost", (json_int_t)lost, "pct", r1(loss)));
    json_t *jd = dist(jit, nm);
    json_object_set_new(rep, "jitter_ms", jd);
    json_object_set_new(rep, "sites", sites);
    free(join);
    free(jit);
}

/* Did the server keep up? It sends each member one packet per 20 ms tick with continuous
 * sequence numbers, so a tick it skips is no seq gap: count packets against the clock. */
static void judge_delivery(struct load_run *r, struct judge *j, json_t *rep)
{
    double win = (double)(r->window_end_ms - r->window_start_ms) / 1000.0;
    int media = 0;
    for (int i = 0; i < r->n; i++) /* a VideoRoom publisher gets no audio */
        media += r->sites[i].stage == SITE_MEDIA && r->sites[i].jan.role != LJANUS_VR_PUBLISHER;
    if (win < 1.0 || media == 0)
        return;
    /* Opus RTP only: Janus, for one, sends SRTCP too */
    double want = 50.0 * media, got = (double)(r->audio_in1 - r->audio_in0) / win, pct = 100.0 * got / want;
    uint64_t np = r->audio_in1 - r->audio_in0;
    json_object_set_new(rep, "delivery", json_pack("{s:f,s:f,s:f,s:f}", "expected_pps", want,
                        "received_pps", r1(got), "pct", r1(pct), "mean_rtp_bytes",
                        np ? r1((double)(r->audio_bytes1 - r->audio_bytes0) / (double)np) : 0.0));
    if (pct < r->o.min_delivery_pct)
        failure(j, "the server delivered %.1f%% of the mix packets due (%.0f of %.0f pkt/s for %d "
                "sites): it did not keep up (--min-delivery %.0f%%)", pct, got, want, media,
                r->o.min_delivery_pct);
}

static void perf_json(struct load_run *r, json_t *rep)
{
    double win = (double)(r->window_end_ms - r->window_start_ms) / 1000.0;
    int joined = r->env.joined > 0 ? r->env.joined : 1;
    double cpu_pct = win > 0 ? 100.0 * r->cpu_window_s / win : 0;
    json_object_set_new(rep, "window_s", json_real(r1(win)));
    json_object_set_new(rep, "join_phase_s", json_real(r1((double)r->join_phase_ms / 1000.0)));
    json_object_set_new(rep, "packets", json_pack("{s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I}",
        "sent", (json_int_t)r->env.pkts_out, "received", (json_int_t)r->env.pkts_in,
        "out_pps", win > 0 ? r1((double)(r->out1 - r->out0) / win) : 0.0,
        "in_pps", win > 0 ? r1((double)(r->in1 - r->in0) / win) : 0.0,
        "video_sent", (json_int_t)r->env.video_pkts_out, "send_errors", (json_int_t)r->env.send_errors,
        "unprotect_errors", (json_int_t)r->env.unprotect_errors, "rtcp_received", (json_int_t)r->env.rtcp_in));
    int gcm = 0, cm = 0;
    for (int i = 0; i < r->n; i++) {
        gcm += r->sites[i].wc.srtp_profile == SRTPX_AEAD_AES_128_GCM;
        cm += r->sites[i].wc.srtp_profile == SRTPX_AES128_CM_SHA1_80;
    }
    if (r->o.netns)
        json_object_set_new(rep, "netns", json_string(r->o.netns));
    if (r->env.impair)
        json_object_set_new(rep, "impairment",
                            json_pack("{s:f,s:i,s:i,s:I,s:I}", "loss_pct", r->o.netem_loss_pct,
                                      "delay_ms", r->o.netem_delay_ms, "jitter_ms", r->o.netem_jitter_ms,
                                      "dropped", (json_int_t)r->env.impair->dropped,
                                      "delayed", (json_int_t)r->env.impair->delayed));
    json_object_set_new(rep, "srtp", json_pack("{s:s,s:i,s:i}", "rtp_by", r->env.own_gcm ? "openssl_gcm" : "libsrtp2",
                        "aead_aes_128_gcm", gcm, "aes128_cm_sha1_80", cm));
    json_object_set_new(rep, "cpu", json_pack("{s:f,s:f,s:f,s:f,s:I}",
        "window_cpu_s", r1(r->cpu_window_s), "pct_of_one_core", r1(cpu_pct),
        "us_per_site_per_s", win > 0 ? r1(r->cpu_window_s * 1e6 / win / joined) : 0.0,
        "join_phase_cpu_s", r1(r->cpu_join_s), "late_ticks", (json_int_t)r->late_ticks));
}

/* --cpu-pid: the server's CPU over the window, in all and per participant (the sites in
 * media at the end). Returns the participants, 0 when not measured. */
static int server_cpu_json(struct load_run *r, struct judge *j, json_t *rep)
{
    if (!r->o.cpu_pid)
        return 0;
    if (!r->srv_cpu_ok) {
        failure(j, "cannot read the CPU time of --cpu-pid %d at the end of the window (did it exit?)",
                r->o.cpu_pid);
        return 0;
    }
    double win = (double)(r->window_end_ms - r->window_start_ms) / 1000.0;
    int media = 0;
    for (int i = 0; i < r->n; i++)
        media += r->sites[i].stage == SITE_MEDIA;
    double pct = win > 0 ? 100.0 * r->srv_cpu_window_s / win : 0;
    json_object_set_new(rep, "server_cpu", json_pack("{s:i,s:f,s:i}", "pid", r->o.cpu_pid,
                        "window_cpu_s", r1(r->srv_cpu_window_s), "participants", media));
    json_object_set_new(rep, "server_cpu_pct", json_real(r1(pct)));
    /* 4 decimals: 0.05 % of a core per participant is the kind of value compared */
    json_object_set_new(rep, "server_cpu_pct_per_participant",
                        json_real(media ? round(pct / media * 1e4) / 1e4 : 0.0));
    return media;
}

/* Video: what was sent and received in all, and in the window (what a bench divides the
 * server's CPU by). Every site that expects video (another site publishes) must get some. */
static json_t *judge_video(struct load_run *r, struct judge *j)
{
    const struct load_env *env = &r->env;
    double win = (double)(r->window_end_ms - r->window_start_ms) / 1000.0;
    int expecting = 0, with_video = 0, without = 0, streams = 0;
    for (int i = 0; i < r->n; i++) {
        const struct site *s = &r->sites[i];
        streams += s->n_vstreams;
        if (!s->expect_video || s->stage != SITE_MEDIA)
            continue;
        expecting++;
        with_video += s->video_pkts_in > 0;
        if (s->video_pkts_in == 0 && without++ < 10)
            failure(j, "site %s (%d) received no video, though %d site(s) publish", s->name, i,
                    r->o.video_publishers);
    }
    if (without > 10)
        failure(j, "... %d of %d sites that expect video received none", without, expecting);
    uint64_t wp = r->video_in1 - r->video_in0, wb = r->video_bytes1 - r->video_bytes0;
    uint64_t wrtp = r->video_rtp_bytes1 - r->video_rtp_bytes0;
    json_t *w = json_pack("{s:I,s:f,s:I,s:f,s:f}", "packets", (json_int_t)wp, "pps", win > 0 ? r1((double)wp / win) : 0.0,
                          "bytes", (json_int_t)wb, "mean_packet_bytes", wp ? r1((double)wb / (double)wp) : 0.0,
                          "mean_rtp_bytes", wp ? r1((double)wrtp / (double)wp) : 0.0);
    if (r->o.video_nack) {
        if (env->nack_mismatched)
            failure(j, "%llu of the server's resends answering a NACK differed from the packet lost",
                    (unsigned long long)env->nack_mismatched);
        if (env->nacks_sent < 10 || env->nack_repaired * 10 < env->nacks_sent * 9)
            failure(j, "NACKs: %llu sent, only %llu answered with the lost packet (%llu unanswered)",
                    (unsigned long long)env->nacks_sent, (unsigned long long)env->nack_repaired,
                    (unsigned long long)env->nack_unanswered);
    }
    int by_layer[LVID_LAYERS] = {0}, unknown = 0, paused = 0;
    for (int i = 0; i < r->n; i++) {
        const struct site *s = &r->sites[i];
        for (int k = 0; k < s->n_vstreams; k++) {
            int l = s->vstreams[k].width ? lvid_layer_of_width(s->vstreams[k].width) : -1;
            if (l >= 0)
                by_layer[l]++;
            else
                unknown++;
        }
        if (s->vpub)
            paused += LVID_LAYERS - __builtin_popcount(s->vactive);
    }
    return json_pack("{s:i,s:i,s:i,s:i,s:I,s:I,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:i,s:o,s:o,s:o}", "publishers", r->o.video_publishers,
                     "thumbnails", r->o.video_thumbs, "layers_sent", LVID_LAYERS, "layers_paused_at_end", paused,
                     "layers_messages", (json_int_t)env->layers_msgs, "packets_sent",
                     (json_int_t)env->video_pkts_out, "receivers", expecting, "receivers_with_video", with_video,
                     "ssrcs_received", streams, "packets_received", (json_int_t)env->video_in, "frames_received",
                     (json_int_t)env->video_frames_in, "bytes_received", (json_int_t)env->video_bytes_in,
                     "decrypted", (json_int_t)env->video_decrypted, "check_every", r->o.video_check, "window", w,
                     "nack", json_pack("{s:i,s:I,s:I,s:I,s:I}", "every", r->o.video_nack, "sent",
                                       (json_int_t)env->nacks_sent, "repaired", (json_int_t)env->nack_repaired,
                                       "mismatched", (json_int_t)env->nack_mismatched, "unanswered",
                                       (json_int_t)env->nack_unanswered),
                     "streams_by_layer", json_pack("{s:i,s:i,s:i,s:i}", "0", by_layer[0], "1", by_layer[1], "2",
                                                   by_layer[2], "unknown", unknown));
}

/* One line per talker that some sampled mix lacks. */
static void report_missing(struct load_run *r, struct judge *j)
{
    for (int room = 0; room < r->o.rooms && j->miss; room++)
        for (int t = 0; t < r->o.talkers; t++) {
            const struct miss *m = &j->miss[room * LA_MAX_TALKERS + t];
            if (!m->receivers)
                continue;
            int ts = talker_site(r, room, t);
            const struct site *ex = &r->sites[m->example];
            failure(j, "talker %d (%s, %.0f Hz%s%s) is missing from %d of %d sampled mixes in %s: e.g. "
                    "receiver %s (site %d) measured %.1f dBFS, need >= %.0f dBFS", t,
                    ts >= 0 ? r->sites[ts].name : "no such site", la_talker_hz(t),
                    ts >= 0 && r->sites[ts].muted ? ", muted by --mute-talker" : "",
                    ts >= 0 && r->sites[ts].stage != SITE_MEDIA ? ", not joined" : "", m->receivers,
                    m->judged, ex->conference, ex->name, ex->index, m->level, r->o.present_dbfs);
        }
}

int load_report(struct load_run *r)
{
    struct judge j = {.failures = json_array()};
    json_t *rep = json_object();
    json_object_set_new(rep, "tool", json_string("mcu-load"));
    json_object_set_new(rep, "config", config_json(r));
    json_object_set_new(rep, "content", content_json(r));
    judge_sites(r, &j, rep);
    json_t *recs = json_array();
    j.miss = calloc((size_t)r->o.rooms * LA_MAX_TALKERS, sizeof *j.miss);
    for (int i = 0; i < r->n; i++)
        if (r->sites[i].ear)
            json_array_append_new(recs, judge_receiver(r, &j, &r->sites[i]));
    json_object_set_new(rep, "receivers", recs);
    report_missing(r, &j);
    free(j.miss);
    int cap = 4096, nl;
    double *lat = calloc((size_t)cap, sizeof *lat);
    nl = lat ? latencies(r, lat, cap) : 0;
    bool want_lat = false; /* some room has a beeping talker, and the window holds two beeps */
    for (int k = 0; k < r->env.nrooms; k++)
        want_lat |= r->env.rooms[k].marker_site >= 0 && r->o.seconds >= 4;
    bool listener_ear = false;
    for (int i = 0; i < r->n; i++)
        listener_ear |= r->sites[i].ear && !r->sites[i].marker && r->sites[i].stage == SITE_MEDIA;
    if (want_lat && listener_ear && nl == 0)
        failure(&j, "no marker beep was heard by any sampled receiver (latency not measured)");
    json_t *ld = dist(lat, nl);
    double p95 = nl ? json_real_value(json_object_get(ld, "p95")) : 0;
    if (r->o.max_latency_ms > 0 && nl && p95 > r->o.max_latency_ms)
        failure(&j, "latency p95 %.1f ms is above --max-latency %.1f ms", p95, r->o.max_latency_ms);
    json_object_set_new(rep, "latency_ms", ld);
    free(lat);
    perf_json(r, rep);
    int participants = server_cpu_json(r, &j, rep);
    judge_delivery(r, &j, rep);
    if (r->o.video)
        json_object_set_new(rep, "video", judge_video(r, &j));
    if (r->interrupted)
        failure(&j, "interrupted before the end of the run");
    bool ok = json_array_size(j.failures) == 0;
    json_object_set_new(rep, "ok", json_boolean(ok));
    json_object_set_new(rep, "failures", j.failures);
    if (r->o.json_path && json_dump_file(rep, r->o.json_path, JSON_INDENT(2)) < 0)
        fprintf(stderr, "mcu-load: cannot write %s\n", r->o.json_path);
    json_t *c = json_object_get(rep, "cpu");
    char srv[160] = "";
    if (participants)
        snprintf(srv, sizeof srv, ", server cpu %.1f%% of a core = %.4f%% per participant",
                 json_real_value(json_object_get(rep, "server_cpu_pct")),
                 json_real_value(json_object_get(rep, "server_cpu_pct_per_participant")));
    fprintf(stderr, "mcu-load: %s: %d/%d sites joined (join p50 %.0f ms), loss %.2f%%, latency p50 %.1f ms "
            "p95 %.1f ms (%d beeps), cpu %.1f%% of a core = %.0f us/site/s%s\n", ok ? "PASS" : "FAIL",
            r->env.joined, r->n, json_real_value(json_object_get(json_object_get(rep, "join_ms"), "p50")),
            json_real_value(json_object_get(json_object_get(rep, "loss"), "pct")),
            nl ? json_real_value(json_object_get(ld, "p50")) : 0.0, p95, nl,
            json_real_value(json_object_get(c, "pct_of_one_core")),
            json_real_value(json_object_get(c, "us_per_site_per_s")), srv);
    json_decref(rep);
    return ok ? 0 : 1;
}
