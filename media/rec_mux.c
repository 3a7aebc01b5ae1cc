/* The recorder's work (see rec_mux.h, policies in rec.h). Time 0 is t_ms of the first input;
 * audio pts are sample counts from there (48 kHz), video pts 90 kHz ticks. Until the outputs
 * exist (header delay) encoded packets wait in a list, in arrival order. */
#include "media/rec_mux.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus.h>

#include "media/rec_depack.h"
#include "media/rec_out.h"
#include "media/rec_tc.h"

#define FRAME          960        /* 20 ms at 48 kHz */
#define GAP_SAMPLES    (3 * FRAME)/* a later first sample than this is a gap to fill */
#define MAX_FILL       (5 * 48000)/* longer gaps move the timestamps instead */
#define MAX_AHEAD      (48 * 200) /* audio this far ahead of its arrival times drops input */
#define REANCHOR_TICKS (2 * 90000)/* video drifting this far from arrival times re-anchors */
#define WAIT_MS        300        /* a missing video packet is waited for this long */
#define KEY_RETRY_MS   500        /* keyframe requests while waiting for one */
#define HLS_MAX_W      640        /* transcoded HLS video (VP8 sources) fits in this */
#define HLS_MAX_H      360
#define PLACEHOLDER_W  640        /* a video track declared before any keyframe came */
#define PLACEHOLDER_H  360
#define MAX_OPUS       1500

struct pend {                     /* an encoded packet waiting for the header */
    struct pend *next;
    bool video, key;
    int64_t pts, dur;
    size_t len;
    uint8_t data[];
};

struct rec_mux {
    char *webm_path, *hls_dir;    /* own copies */
    int seg_ms, list_size, wait_ms, video_hint, hls_kbps;
    /* clock */
    bool have_t0;
    int64_t t0, now;              /* first and newest t_ms */
    /* audio */
    OpusEncoder *opus;
    uint8_t head[19];             /* OpusHead */
    int preskip;
    int16_t fifo[FRAME];
    int fifo_n;
    int64_t fifo_pts;             /* sample position of fifo[0] */
    bool a_started;
    /* video */
    struct rec_depack *dp;
    int vcodec, vw, vh;           /* the video track; vcodec 0: none */
    bool v_started;               /* a video frame was written */
    bool have_ts;
    int64_t ts_ext;               /* newest RTP timestamp, unwrapped */
    int64_t anchor_ext, anchor_pts, last_vpts;
    struct rec_tc *tc;            /* VP8 -> VP9 for HLS */
    /* outputs */
    bool header;
    struct pend *pend, **pend_tail;
    struct rec_out *webm, *hls;
    bool finished;
    /* status */
    int error;
    char msg[128];
    int64_t bytes, dur_ms;
    uint64_t vframes, vignored;
    /* keyframe requests */
    bool want_key;
    int64_t last_key_req, last_key_seen;
};

static void make_head(struct rec_mux *m)
{
    static const uint8_t magic[8] = { 'O', 'p', 'u', 's', 'H', 'e', 'a', 'd' };
    memcpy(m->head, magic, 8);
    m->head[8] = 1;                           /* version */
    m->head[9] = 1;                           /* channels */
    m->head[10] = (uint8_t)m->preskip;
    m->head[11] = (uint8_t)(m->preskip >> 8);
    uint32_t rate = 48000;
    for (int i = 0; i < 4; i++)
        m->head[12 + i] = (uint8_t)(rate >> (8 * i));
    m->head[16] = m->head[17] = 0;            /* output gain */
    m->head[18] = 0;                          /* mapping family: mono/stereo */
}

static int open_opus(struct rec_mux *m, int kbps)
{
    int err;
    opus_int32 la = 0;
    m->opus = opus_encoder_create(48000, 1, OPUS_APPLICATION_AUDIO, &err);
    if (!m->opus)
        return -1;
    opus_encoder_ctl(m->opus, OPUS_SET_BITRATE(kbps * 1000));
    opus_encoder_ctl(m->opus, OPUS_GET_LOOKAHEAD(&la));
    m->preskip = la;
    make_head(m);
    return 0;
}

struct rec_mux *rec_mux_new(const struct rec_opts *o, char *err, size_t errlen)
{
    struct rec_mux *m = calloc(1, sizeof(*m));
    if (!m)
        goto out_oom;
    m->pend_tail = &m->pend;
    m->seg_ms = o->hls_segment_ms > 0 ? o->hls_segment_ms : 2000;
    m->list_size = o->hls_list_size > 0 ? o->hls_list_size : 6;
    m->wait_ms = o->header_wait_ms > 0 ? o->header_wait_ms : 2000;
    m->hls_kbps = o->hls_vp9_kbps > 0 ? o->hls_vp9_kbps : 600;
    m->video_hint = o->video_codec;
    m->last_key_req = INT64_MIN / 2;
    if ((o->webm_path && !(m->webm_path = strdup(o->webm_path))) ||
        (o->hls_dir && !(m->hls_dir = strdup(o->hls_dir))) ||
        !(m->dp = malloc(sizeof(*m->dp))))
        goto out_oom;
    rec_depack_init(m->dp, WAIT_MS);
    if (open_opus(m, o->opus_kbps > 0 ? o->opus_kbps : 48) < 0) {
        snprintf(err, errlen, "opus encoder");
        rec_mux_free(m);
        return NULL;
    }
    return m;
out_oom:
    snprintf(err, errlen, "out of memory");
    rec_mux_free(m);
    return NULL;
}

/* ---- failures and writing ---- */

/* Stops everything after a write error: the failing output is dropped as it is (like after a
 * kill, what it holds still plays), the others get their trailer. */
static void fail(struct rec_mux *m, struct rec_out **bad, int rc, const char *what)
{
    if (!m->error) {
        m->error = rc < 0 ? rc : -EIO;
        if (m->error > -4096)                  /* an errno; other AVERRORs are tags */
            snprintf(m->msg, sizeof(m->msg), "%s: %s", what, strerror(-m->error));
        else
            snprintf(m->msg, sizeof(m->msg), "%s: libav error %d", what, m->error);
    }
    if (bad) {
        rec_out_close(*bad, false);
        *bad = NULL;
    }
    rec_out_close(m->webm, true);
    rec_out_close(m->hls, true);
    m->webm = m->hls = NULL;
    m->finished = true;
}

static int hls_video_out(void *arg, const uint8_t *data, size_t len, int64_t pts90, bool key)
{
    struct rec_mux *m = arg;
    return rec_out_write(m->hls, true, data, len, pts90, 0, key);
}

static void write_hls(struct rec_mux *m, bool video, const uint8_t *d, size_t len, int64_t pts,
                      int64_t dur, bool key)
{
    int rc;
    if (video && m->tc)
        rc = rec_tc_frame(m->tc, d, len, pts, hls_video_out, m);
    else
        rc = rec_out_write(m->hls, video, d, len, pts, dur, key);
    if (rc < 0)
        fail(m, &m->hls, rc, "hls");
}

/* One encoded packet to every output (pts: 1/48000 s audio, 1/90000 s video). */
static void write_all(struct rec_mux *m, bool video, const uint8_t *d, size_t len, int64_t pts,
                      int64_t dur, bool key)
{
    int rc;
    if (m->webm && (rc = rec_out_write(m->webm, video, d, len, pts, dur, key)) < 0)
        fail(m, &m->webm, rc, m->webm_path);
    if (m->hls)
        write_hls(m, video, d, len, pts, dur, key);
    if (m->finished)
        return;
    int64_t ms = video ? pts / 90 : (pts + dur) / 48;
    if (ms > m->dur_ms)
        m->dur_ms = ms;
    m->vframes += video;
    if (m->webm)
        m->bytes = rec_out_bytes(m->webm);
    else if (m->hls)
        m->bytes = rec_out_bytes(m->hls);
}

static void emit(struct rec_mux *m, bool video, const uint8_t *d, size_t len, int64_t pts,
                 int64_t dur, bool key)
{
    if (m->finished)
        return;
    if (m->header) {
        write_all(m, video, d, len, pts, dur, key);
        return;
    }
    struct pend *p = malloc(sizeof(*p) + len);
    if (!p) {
        fail(m, NULL, -ENOMEM, "buffering before the header");
        return;
    }
    *p = (struct pend){ .video = video, .key = key, .pts = pts, .dur = dur, .len = len };
    memcpy(p->data, d, len);
    *m->pend_tail = p;
    m->pend_tail = &p->next;
}

static void free_pending(struct rec_mux *m)
{
    while (m->pend) {
        struct pend *p = m->pend;
        m->pend = p->next;
        free(p);
    }
    m->pend_tail = &m->pend;
}

/* ---- the header ---- */

static int open_webm(struct rec_mux *m, struct rec_out_spec *s, char *err, size_t errlen)
{
    static const char *const opts[] = { "cluster_time_limit", "1000", "write_crc32", "0", NULL };
    s->format = "webm";
    s->url = m->webm_path;
    s->opts = opts;
    s->flush_packets = true;
    return rec_out_open(&m->webm, s, err, errlen);
}

static int open_hls(struct rec_mux *m, struct rec_out_spec *s, char *err, size_t errlen)
{
    char url[4096], seg[4096], t[32], n[16];
    snprintf(url, sizeof(url), "%s/index.m3u8", m->hls_dir);
    snprintf(seg, sizeof(seg), "%s/seg%%06d.m4s", m->hls_dir);
    snprintf(t, sizeof(t), "%d.%03d", m->seg_ms / 1000, m->seg_ms % 1000);
    snprintf(n, sizeof(n), "%d", m->list_size);
    const char *const opts[] = {
        "hls_time", t, "hls_list_size", n, "hls_segment_type", "fmp4",
        "hls_segment_filename", seg,
        "hls_flags", "delete_segments+temp_file+independent_segments", NULL,
    };
    s->format = "hls";
    s->url = url;
    s->opts = opts;
    s->flush_packets = false;
    if (s->video_codec == VPX_VP8) {          /* see rec_tc.h */
        if (!(m->tc = rec_tc_new(HLS_MAX_W, HLS_MAX_H, m->hls_kbps, m->seg_ms))) {
            snprintf(err, errlen, "hls: VP8 transcoder");
            return -ENOMEM;
        }
        s->video_codec = VPX_VP9;
        rec_tc_size(s->width, s->height, HLS_MAX_W, HLS_MAX_H, &s->width, &s->height);
    }
    return rec_out_open(&m->hls, s, err, errlen);
}

/* Declares the tracks, opens the outputs, writes what waited. */
static void write_header(struct rec_mux *m)
{
    char err[sizeof(m->msg)] = "";
    if (!m->vcodec && m->video_hint) {
        m->vcodec = m->video_hint;
        m->vw = PLACEHOLDER_W;
        m->vh = PLACEHOLDER_H;
    }
    struct rec_out_spec s = { .opus_head = m->head, .opus_head_len = sizeof(m->head),
                              .opus_preskip = m->preskip, .video_codec = m->vcodec,
                              .width = m->vw, .height = m->vh };
    m->header = true;
    int rc = m->webm_path ? open_webm(m, &s, err, sizeof(err)) : 0;
    struct rec_out_spec hs = s;
    if (rc == 0 && m->hls_dir)
        rc = open_hls(m, &hs, err, sizeof(err));
    if (rc < 0) {
        fail(m, NULL, rc, "open");
        snprintf(m->msg, sizeof(m->msg), "%s", err);
        free_pending(m);
        return;
    }
    for (struct pend *p = m->pend; p && !m->finished; p = p->next)
        write_all(m, p->video, p->data, p->len, p->pts, p->dur, p->key);
    free_pending(m);
}

/* ---- audio ---- */

static void encode_frame(struct rec_mux *m)
{
    uint8_t pkt[MAX_OPUS];
    opus_int32 n = opus_encode(m->opus, m->fifo, FRAME, pkt, sizeof(pkt));
    if (n > 0)
        emit(m, false, pkt, (size_t)n, m->fifo_pts, FRAME, true);
    m->fifo_pts += FRAME;
    m->fifo_n = 0;
}

/* pcm NULL: n samples of silence. */
static void feed(struct rec_mux *m, const int16_t *pcm, int64_t n)
{
    while (n > 0) {
        int k = FRAME - m->fifo_n < n ? FRAME - m->fifo_n : (int)n;
        if (pcm) {
            memcpy(m->fifo + m->fifo_n, pcm, (size_t)k * sizeof(*pcm));
            pcm += k;
        } else {
            memset(m->fifo + m->fifo_n, 0, (size_t)k * sizeof(*pcm));
        }
        m->fifo_n += k;
        n -= k;
        if (m->fifo_n == FRAME)
            encode_frame(m);
    }
}

/* Lines the next sample up with its arrival time: a gap before it is filled with silence
 * (or skipped in the timestamps when long). Jitter below GAP_SAMPLES is ignored; since a late
 * push followed by a burst would leave the audio late by the silence inserted, audio that got
 * MAX_AHEAD ahead of its arrival times drops input. Returns how many samples to drop. */
static int64_t align_audio(struct rec_mux *m, int64_t t_ms)
{
    int64_t at = (t_ms - m->t0) * 48;
    if (at < 0)
        at = 0;
    if (!m->a_started) {
        m->a_started = true;
        m->fifo_pts = at;
        return 0;
    }
    int64_t gap = at - (m->fifo_pts + m->fifo_n);
    if (gap < -MAX_AHEAD)
        return -gap;
    if (gap <= GAP_SAMPLES)
        return 0;
    if (gap <= MAX_FILL) {
        feed(m, NULL, gap);
        return 0;
    }
    if (m->fifo_n)
        feed(m, NULL, FRAME - m->fifo_n);
    m->fifo_pts = at;
    return 0;
}

/* ---- video ---- */

/* 90 kHz pts of a frame: its RTP timestamp on the audio clock. */
static int64_t video_pts(struct rec_mux *m, const struct rec_dp_frame *f)
{
    if (!m->have_ts) {
        m->ts_ext = f->rtp_ts;
        m->have_ts = true;
    } else {
        m->ts_ext += (int32_t)(f->rtp_ts - (uint32_t)m->ts_ext);
    }
    int64_t wall = (f->t_ms - m->t0) * 90;
    int64_t pts = m->anchor_pts + (m->ts_ext - m->anchor_ext);
    if (!m->v_started || llabs(pts - wall) > REANCHOR_TICKS) {
        m->anchor_ext = m->ts_ext;
        m->anchor_pts = pts = wall;
    }
    if (m->v_started && pts < m->last_vpts + 90) /* WebM counts in ms: at least 1 ms apart */
        pts = m->last_vpts + 90;
    if (pts < 0)
        pts = 0;
    m->last_vpts = pts;
    m->v_started = true;
    return pts;
}

static void video_frame(struct rec_mux *m, const struct rec_dp_frame *f)
{
    if (f->keyframe)
        m->last_key_seen = m->now;
    if (!m->header && f->keyframe) {
        m->vcodec = f->codec;                  /* this keyframe opens the outputs */
        m->vw = f->width ? f->width : PLACEHOLDER_W;
        m->vh = f->height ? f->height : PLACEHOLDER_H;
    }
    if (!m->vcodec || f->codec != m->vcodec || (!m->v_started && !f->keyframe)) {
        m->vignored++;
        return;
    }
    int64_t pts = video_pts(m, f);
    emit(m, true, f->data, f->len, pts, 0, f->keyframe);
    if (!m->header)
        write_header(m);
}

static void pump_video(struct rec_mux *m, bool flush)
{
    struct rec_dp_frame f;
    while (!m->finished && rec_depack_pop(m->dp, m->now, flush, &f) == 1)
        video_frame(m, &f);
}

/* ---- per input ---- */

static void clock_at(struct rec_mux *m, int64_t t_ms)
{
    if (!m->have_t0) {
        m->have_t0 = true;
        m->t0 = m->now = t_ms;
    }
    if (t_ms > m->now)
        m->now = t_ms;
}

/* Keyframe requests: while the depacketizer waits for one, and for HLS segments of VP9. */
static void key_requests(struct rec_mux *m)
{
    bool waiting = m->dp->have_seq && m->dp->need_key;
    bool hls_due = m->hls && !m->tc && m->vcodec == VPX_VP9 &&
                   m->now - m->last_key_seen >= m->seg_ms;
    if ((waiting || hls_due) && m->now - m->last_key_req >= KEY_RETRY_MS) {
        m->want_key = true;
        m->last_key_req = m->now;
    }
}

static void after_input(struct rec_mux *m)
{
    pump_video(m, false);
    if (!m->header && !m->finished && m->now - m->t0 >= m->wait_ms)
        write_header(m);
    key_requests(m);
}

void rec_mux_audio(struct rec_mux *m, const int16_t *pcm, int n, int64_t t_ms)
{
    if (m->finished || n <= 0)
        return;
    clock_at(m, t_ms);
    int64_t skip = align_audio(m, t_ms);
    if (skip < n)
        feed(m, pcm + skip, n - skip);
    after_input(m);
}

void rec_mux_video(struct rec_mux *m, enum vpx_codec codec, const uint8_t *rtp, size_t len,
                   int64_t t_ms)
{
    if (m->finished)
        return;
    clock_at(m, t_ms);
    rec_depack_push(m->dp, codec, rtp, len, t_ms);   /* refusals are counted in its stats */
    after_input(m);
}

void rec_mux_finish(struct rec_mux *m)
{
    if (m->finished)
        return;
    pump_video(m, true);
    if (m->fifo_n && !m->finished)
        feed(m, NULL, FRAME - m->fifo_n);
    if (!m->header && m->have_t0 && !m->finished)
        write_header(m);
    if (m->finished)
        return;
    int rc;
    if ((rc = rec_out_close(m->webm, true)) < 0)
        fail(m, NULL, rc, m->webm_path);
    m->webm = NULL;
    if ((rc = rec_out_close(m->hls, true)) < 0)
        fail(m, NULL, rc, "hls");
    m->hls = NULL;
    m->finished = true;
}

bool rec_mux_failed(const struct rec_mux *m)
{
    return m->error != 0;
}

bool rec_mux_take_key_request(struct rec_mux *m)
{
    bool w = m->want_key;
    m->want_key = false;
    return w;
}

void rec_mux_status(const struct rec_mux *m, struct rec_status *st)
{
    struct rec_dp_stats d = rec_depack_stats(m->dp);
    st->bytes = m->bytes;
    st->duration_ms = m->dur_ms;
    st->error = m->error;
    snprintf(st->msg, sizeof(st->msg), "%s", m->msg);
    st->video_frames = m->vframes;
    st->video_lost = d.dropped_frames;
    st->video_ignored = m->vignored;
}

void rec_mux_free(struct rec_mux *m)
{
    if (!m)
        return;
    rec_out_close(m->webm, false);
    rec_out_close(m->hls, false);
    rec_tc_free(m->tc);
    free_pending(m);
    if (m->opus)
        opus_encoder_destroy(m->opus);
    free(m->dp);
    free(m->webm_path);
    free(m->hls_dir);
    free(m);
}
