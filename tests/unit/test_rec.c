/* Unit tests of the recorder (media/rec*.c): the depacketizer on synthetic packets, on libvpx
 * SVC fixtures and on a Chromium capture (one decoded frame per picture, identical to what the
 * original layer frames give); whole recordings fed from libvpx encoders through a small RTP
 * packetizer (440 Hz tone, a source switch with another size, losses, reordering) read back
 * with libavformat/libavcodec; a recorder killed with SIGKILL; HLS read by the ffmpeg CLI
 * while recording; ENOSPC on a tiny tmpfs and on /dev/full. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#include "media/rec.h"

#define MTU 600

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- RTP packetizer: one continuous stream, like the server's rewriter sends ---- */

struct pk {
    uint8_t b[MTU + 64];
    size_t len;
};

struct tx {
    uint16_t seq;
    uint32_t ts;
    uint16_t pid;
    uint8_t tl0;
};

static size_t put_rtp(uint8_t *b, struct tx *t, bool marker, uint8_t pt)
{
    b[0] = 0x80;
    b[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
    b[2] = (uint8_t)(t->seq >> 8), b[3] = (uint8_t)t->seq;
    for (int i = 0; i < 4; i++) {
        b[4 + i] = (uint8_t)(t->ts >> (24 - 8 * i));
        b[8 + i] = (uint8_t)(0x1234567u >> (24 - 8 * i));
    }
    t->seq++;
    return 12;
}

/* Packetizes one picture (nl layer frames of sizes lw x lh) into out[]; returns the count. */
static int packetize(struct tx *t, int codec, const uint8_t *const *fr, const size_t *sz, int nl,
                     bool key, const int *lw, const int *lh, struct pk *out, int max)
{
    int n = 0;
    for (int l = 0; l < nl; l++)
        for (size_t off = 0; off < sz[l]; n++) {
            assert_true(n < max);
            size_t chunk = sz[l] - off < MTU ? sz[l] - off : MTU;
            bool first = off == 0, last = off + chunk == sz[l];
            uint8_t *b = out[n].b;
            size_t o = put_rtp(b, t, last && l == nl - 1, codec == VPX_VP8 ? 96 : 98);
            if (codec == VPX_VP8) {
                b[o++] = (uint8_t)(0x80 | (first ? 0x10 : 0));
                b[o++] = 0x80;
            } else {
                bool ss = key && l == 0 && first;
                b[o++] = (uint8_t)(0x80 | (key ? 0 : 0x40) | (nl > 1 ? 0x20 : 0) |
                                   (first ? 0x08 : 0) | (last ? 0x04 : 0) | (ss ? 0x02 : 0));
            }
            b[o++] = (uint8_t)(0x80 | t->pid >> 8), b[o++] = (uint8_t)t->pid;
            if (codec == VPX_VP9 && nl > 1) {
                b[o++] = (uint8_t)(l << 1 | (key && l > 0 ? 1 : 0));
                b[o++] = t->tl0;
            }
            if (codec == VPX_VP9 && key && l == 0 && first) {
                b[o++] = (uint8_t)((nl - 1) << 5 | 0x10);
                for (int i = 0; i < nl; i++) {
                    b[o++] = (uint8_t)(lw[i] >> 8), b[o++] = (uint8_t)lw[i];
                    b[o++] = (uint8_t)(lh[i] >> 8), b[o++] = (uint8_t)lh[i];
                }
            }
            memcpy(b + o, fr[l] + off, chunk);
            out[n].len = o + chunk;
            off += chunk;
        }
    t->pid = (t->pid + 1) & 0x7FFF;
    t->tl0++;
    return n;
}

/* ---- libvpx encoders: VP8, VP9, VP9 with spatial layers ---- */

struct enc {
    vpx_codec_ctx_t c;
    vpx_image_t img;
    int codec, w, h, nl, n;
};

static void enc_open(struct enc *e, int codec, int w, int h, int nl)
{
    vpx_codec_iface_t *cx = codec == VPX_VP8 ? vpx_codec_vp8_cx() : vpx_codec_vp9_cx();
    vpx_codec_enc_cfg_t cfg;
    memset(e, 0, sizeof(*e));
    assert_int_equal(vpx_codec_enc_config_default(cx, &cfg, 0), VPX_CODEC_OK);
    cfg.g_w = (unsigned)w, cfg.g_h = (unsigned)h;
    cfg.g_timebase.num = 1, cfg.g_timebase.den = 90000;
    cfg.rc_end_usage = VPX_CBR;
    cfg.rc_target_bitrate = 300;
    cfg.g_lag_in_frames = 0;
    cfg.kf_mode = VPX_KF_DISABLED;
    cfg.g_threads = 1;
    cfg.rc_dropframe_thresh = 0;
    if (nl > 1) {
        cfg.ss_number_layers = (unsigned)nl;
        cfg.ts_number_layers = 1;
        cfg.g_error_resilient = 1;
        for (int s = 0; s < nl; s++)
            cfg.layer_target_bitrate[s] = 100u * (unsigned)(s + 1);
    }
    assert_int_equal(vpx_codec_enc_init(&e->c, cx, &cfg, 0), VPX_CODEC_OK);
    vpx_codec_control(&e->c, VP8E_SET_CPUUSED, 8);
    if (nl > 1) {
        vpx_svc_extra_cfg_t sp;
        memset(&sp, 0, sizeof sp);
        for (int s = 0; s < nl; s++) {
            sp.max_quantizers[s] = 56, sp.min_quantizers[s] = 4;
            sp.scaling_factor_num[s] = 1, sp.scaling_factor_den[s] = 1 << (nl - 1 - s);
            sp.speed_per_layer[s] = 8;
        }
        vpx_codec_control(&e->c, VP9E_SET_SVC, 1);
        assert_int_equal(vpx_codec_control(&e->c, VP9E_SET_SVC_PARAMETERS, &sp), VPX_CODEC_OK);
        vpx_codec_control(&e->c, VP9E_SET_SVC_INTER_LAYER_PRED, 2);  /* on key pictures */
    }
    assert_non_null(vpx_img_alloc(&e->img, VPX_IMG_FMT_I420, (unsigned)w, (unsigned)h, 16));
    e->codec = codec, e->w = w, e->h = h, e->nl = nl;
}

static void enc_close(struct enc *e)
{
    vpx_img_free(&e->img);
    vpx_codec_destroy(&e->c);
}

/* Encodes the next picture, split into its layer frames (valid until the next call). */
static int enc_frame(struct enc *e, bool key, const uint8_t **fr, size_t *sz, int *lw, int *lh)
{
    for (int y = 0; y < e->h; y++)
        for (int x = 0; x < e->w; x++)
            e->img.planes[0][y * e->img.stride[0] + x] = (uint8_t)(x + 2 * y + 4 * e->n);
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < (e->h + 1) / 2; y++)
            memset(e->img.planes[p] + y * e->img.stride[p], 100 + 20 * p, (size_t)(e->w + 1) / 2);
    assert_int_equal(vpx_codec_encode(&e->c, &e->img, e->n * 3000, 3000,
                                      key ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME), 0);
    e->n++;
    const vpx_codec_cx_pkt_t *p;
    vpx_codec_iter_t it = NULL;
    int nl = 0;
    while ((p = vpx_codec_get_cx_data(&e->c, &it))) {
        if (p->kind != VPX_CODEC_CX_FRAME_PKT)
            continue;
        const uint8_t *b = p->data.frame.buf;
        size_t n = p->data.frame.sz;
        uint8_t m = b[n - 1];
        size_t cnt = (m & 7) + 1u, mag = ((m >> 3) & 3) + 1u, idx = 2 + mag * cnt;
        if (e->nl > 1 && (m & 0xE0) == 0xC0 && n > idx && b[n - idx] == m) {
            const uint8_t *q = b + n - idx + 1;
            for (size_t i = 0; i < cnt; i++, q += mag) {
                size_t s = 0;
                for (size_t k = 0; k < mag; k++)
                    s |= (size_t)q[k] << (8 * k);
                fr[nl] = b, sz[nl++] = s;
                b += s;
            }
        } else {
            fr[nl] = b, sz[nl++] = n;
        }
    }
    for (int l = 0; l < nl; l++)
        lw[l] = e->w >> (nl - 1 - l), lh[l] = e->h >> (nl - 1 - l);
    return nl;
}

/* ---- feeding a recorder ---- */

struct feed {
    struct rec *r;
    struct tx tx;
    double phase;
    int key_in;               /* force a keyframe in this many frames (0: now, <0: no) */
    bool swap_due;            /* swap the first two packets of the next frame that has two */
    int lost, reordered;      /* packets the feeder dropped / swapped */
    bool key_requested;       /* rec_keyframe_wanted said so */
};

static void feed_audio(struct feed *f, int64_t t)
{
    int16_t pcm[960];
    for (int i = 0; i < 960; i++) {
        pcm[i] = (int16_t)(8000 * sin(f->phase));
        f->phase += 2 * M_PI * 440 / 48000;
    }
    rec_push_audio(f->r, pcm, 960, t);
}

/* One picture from e: drop_pkt drops that packet (1-based; 0: none); f->swap_due reorders
 * the first two packets. */
static void feed_picture(struct feed *f, struct enc *e, int64_t t, int drop_pkt)
{
    static struct pk pk[256];
    const uint8_t *fr[8];
    size_t sz[8];
    int lw[8], lh[8];
    if (rec_keyframe_wanted(f->r))
        f->key_requested = true;
    bool key = f->key_in == 0;
    f->key_in = f->key_in > 0 ? f->key_in - 1 : -1;
    int nl = enc_frame(e, key, fr, sz, lw, lh);
    int n = packetize(&f->tx, e->codec, fr, sz, nl, key, lw, lh, pk, 256);
    bool swap = f->swap_due && n > 1;
    f->swap_due &= !swap;
    for (int i = 0; i < n; i++) {
        int k = swap && n > 1 && i < 2 ? 1 - i : i;
        if (k + 1 == drop_pkt) {
            f->lost++;
            continue;
        }
        f->reordered += k != i;
        rec_push_video(f->r, e->codec, pk[k].b, pk[k].len, t);
    }
    f->tx.ts += 3000;
}

struct av_plan {
    int start_ms, total_ms;   /* media time fed: [start_ms, total_ms) */
    int switch_ms;            /* second source from switch_ms (<0: never) */
    int drop_frame;           /* frame losing its 2nd packet, keyframe 5 frames later; -1 none */
    int key_every;            /* frames between forced keyframes, 0: none */
    int video_from_ms;        /* no video before */
    int pace_us;              /* sleep per 10 ms of media (0: none) */
    bool realtime;            /* push at t0 + media time on the wall clock */
    int64_t t0;
};

static void sleep_until(int64_t ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* 440 Hz audio every 20 ms, 30 fps video from a then b, arrival times t0 + media time. */
static void feed_av(struct feed *f, struct enc *a, struct enc *b, const struct av_plan *p)
{
    int from = p->start_ms > p->video_from_ms ? p->start_ms : p->video_from_ms;
    int frame = (from * 3 + 99) / 100;
    if (p->start_ms == 0)
        f->key_in = 0;
    for (int ms = p->start_ms; ms < p->total_ms; ms += 10) {
        if (p->realtime)
            sleep_until(p->t0 + ms);
        if (ms % 20 == 0)
            feed_audio(f, p->t0 + ms);
        while (frame * 100 / 3 <= ms) {
            bool second = p->switch_ms >= 0 && ms >= p->switch_ms;
            if (second && frame * 100 / 3 - 34 < p->switch_ms)
                f->key_in = 0;                 /* the new source starts with a keyframe */
            if (frame == p->drop_frame)
                f->key_in = 5;                 /* the PLI's answer */
            if (p->key_every && frame % p->key_every == 0)
                f->key_in = 0;
            f->swap_due |= frame == 7;
            feed_picture(f, second ? b : a, p->t0 + ms, frame == p->drop_frame ? 2 : 0);
            frame++;
        }
        if (p->pace_us)
            usleep((useconds_t)p->pace_us);
    }
}

/* ---- reading a recording back ---- */

struct rb {
    int n_audio, n_video;
    enum AVCodecID vcodec;
    int track_w, track_h;     /* the video track's size in the header */
    double duration;          /* container's, seconds */
    int v_frames, errors;
    int sizes[4][2], n_sizes; /* distinct decoded sizes, in order */
    double v_first, v_end;    /* pts of the first and last decoded video frames, seconds */
    int v_pkts;
    bool first_v_key;         /* the first video packet is a keyframe */
    float *pcm;               /* decoded audio, mono */
    size_t pcm_n, pcm_cap;
};

static void take_frame(struct rb *o, AVCodecContext *c, AVFrame *fr, AVRational tb)
{
    if (fr->decode_error_flags)
        o->errors++;
    if (c->codec_type == AVMEDIA_TYPE_VIDEO) {
        o->v_end = fr->best_effort_timestamp * av_q2d(tb);
        if (!o->v_frames++)
            o->v_first = o->v_end;
        if (!o->n_sizes || o->sizes[o->n_sizes - 1][0] != fr->width) {
            assert_true(o->n_sizes < 4);
            o->sizes[o->n_sizes][0] = fr->width, o->sizes[o->n_sizes++][1] = fr->height;
        }
        return;
    }
    assert_int_equal(fr->format, AV_SAMPLE_FMT_FLTP);
    if (o->pcm_n + (size_t)fr->nb_samples > o->pcm_cap) {
        o->pcm_cap = (o->pcm_n + (size_t)fr->nb_samples) * 2;
        o->pcm = realloc(o->pcm, o->pcm_cap * sizeof(float));
        assert_non_null(o->pcm);
    }
    memcpy(o->pcm + o->pcm_n, fr->data[0], (size_t)fr->nb_samples * sizeof(float));
    o->pcm_n += (size_t)fr->nb_samples;
}

static void decode(struct rb *o, AVCodecContext *c, const AVPacket *p, AVFrame *fr, AVRational tb)
{
    int rc = avcodec_send_packet(c, p);
    if (rc < 0 && rc != AVERROR_EOF) {
        o->errors++;
        return;
    }
    while ((rc = avcodec_receive_frame(c, fr)) >= 0)
        take_frame(o, c, fr, tb);
    if (rc != AVERROR(EAGAIN) && rc != AVERROR_EOF)
        o->errors++;
}

/* Decodes every packet of url. A truncated end (a killed recorder) just ends the reading. */
static void read_back(const char *url, struct rb *o)
{
    AVFormatContext *fc = NULL;
    AVCodecContext *dec[8] = { 0 };
    memset(o, 0, sizeof(*o));
    assert_int_equal(avformat_open_input(&fc, url, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(fc, NULL) >= 0);
    assert_true(fc->nb_streams <= 8);
    o->duration = fc->duration > 0 ? fc->duration / 1e6 : 0;
    for (unsigned i = 0; i < fc->nb_streams; i++) {
        AVCodecParameters *par = fc->streams[i]->codecpar;
        o->n_audio += par->codec_type == AVMEDIA_TYPE_AUDIO;
        o->n_video += par->codec_type == AVMEDIA_TYPE_VIDEO;
        if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
            o->vcodec = par->codec_id;
            o->track_w = par->width, o->track_h = par->height;
        }
        const AVCodec *codec = avcodec_find_decoder(par->codec_id);
        assert_non_null(codec);
        dec[i] = avcodec_alloc_context3(codec);
        avcodec_parameters_to_context(dec[i], par);
        dec[i]->err_recognition = AV_EF_EXPLODE;
        assert_int_equal(avcodec_open2(dec[i], codec, NULL), 0);
    }
    AVPacket *p = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    while (av_read_frame(fc, p) >= 0) {
        if (fc->streams[p->stream_index]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !o->v_pkts++)
            o->first_v_key = p->flags & AV_PKT_FLAG_KEY;
        decode(o, dec[p->stream_index], p, fr, fc->streams[p->stream_index]->time_base);
        av_packet_unref(p);
    }
    for (unsigned i = 0; i < fc->nb_streams; i++) {
        decode(o, dec[i], NULL, fr, fc->streams[i]->time_base);
        avcodec_free_context(&dec[i]);
    }
    av_frame_free(&fr);
    av_packet_free(&p);
    avformat_close_input(&fc);
}

/* Share of the signal's power at f (Goertzel), 1.0 for a pure tone of whole cycles. */
static double tone_share(const float *x, size_t n, double f)
{
    double c = 2 * cos(2 * M_PI * f / 48000), s1 = 0, s2 = 0, e = 0;
    for (size_t i = 0; i < n; i++) {
        double s = x[i] + c * s1 - s2;
        s2 = s1, s1 = s;
        e += (double)x[i] * x[i];
    }
    return e > 0 ? 2 * (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n * e) : 0;
}

static char g_dir[64];           /* this run's files, removed at the end */

static char *tmp_path(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", g_dir, name);
    return buf;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    av_log_set_level(AV_LOG_ERROR);
    snprintf(g_dir, sizeof g_dir, "/tmp/test_rec.XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    if (!getenv("MCU_KEEP_REC"))              /* set it to look at the recordings */
        nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static struct rec *start(const struct rec_opts *o)
{
    char err[256] = "";
    struct rec *r = rec_start(o, err, sizeof err);
    if (!r)
        fail_msg("rec_start: %s", err);
    return r;
}

/* Polls until the recorder wrote up to ms of media (or failed); its status then. */
static struct rec_status wait_written(struct rec *r, int64_t ms)
{
    struct rec_status st;
    for (int i = 0; i < 1000; i++) {
        rec_status(r, &st);
        if (st.duration_ms >= ms || st.error)
            break;
        usleep(10000);
    }
    return st;
}

/* One audio and one video track of vcodec, secs long, every frame decoding, the tone at
 * 440 Hz. Returns the video frames. */
static int check_av(const char *url, double secs, enum AVCodecID vcodec, int min_sizes)
{
    struct rb o;
    read_back(url, &o);
    assert_int_equal(o.n_audio, 1);
    assert_int_equal(o.n_video, 1);
    assert_int_equal(o.vcodec, vcodec);
    assert_int_equal(o.errors, 0);
    assert_true(o.first_v_key);
    if (secs > 0)
        assert_true(fabs(o.duration - secs) <= 0.2);
    assert_true(o.n_sizes >= min_sizes);
    assert_true(o.pcm_n >= 48000 * 2);
    size_t mid = o.pcm_n / 2 - 24000;
    assert_true(tone_share(o.pcm + mid, 48000, 440) > 0.8);
    assert_true(tone_share(o.pcm + mid, 48000, 880) < 0.05);
    free(o.pcm);
    return o.v_frames;
}

static void test_options(void **state)
{
    (void)state;
    char err[256];
    struct rec_opts rtmp = { .webm_path = "/tmp/x.webm", .rtmp_url = "rtmp://127.0.0.1/live" };
    assert_null(rec_start(&rtmp, err, sizeof err));
    assert_non_null(strstr(err, "rtmp"));
    struct rec_opts none = { 0 };
    assert_null(rec_start(&none, err, sizeof err));
    struct rec_opts bad = { .hls_dir = "/nonexistent/a/b" };
    assert_null(rec_start(&bad, err, sizeof err));
    assert_non_null(strstr(err, "hls_dir"));
}

/* VP8 320x180, then at 2.5 s another source at 480x270; frame 40 loses a packet (the next
 * keyframe is 5 frames later), frame 7 arrives reordered. */
static void test_record_vp8_switch_loss(void **state)
{
    (void)state;
    char path[256];
    struct rec_opts o = { .webm_path = tmp_path(path, sizeof path, "vp8.webm") };
    struct feed f = { .r = start(&o), .tx = { .seq = 65400, .ts = 0xFFFF0000u, .pid = 32700 } };
    struct enc a, b;
    enc_open(&a, VPX_VP8, 320, 180, 1);
    enc_open(&b, VPX_VP8, 480, 270, 1);
    struct av_plan p = { .total_ms = 5000, .switch_ms = 2500, .drop_frame = 40, .pace_us = 1000,
                         .t0 = now_ms() };
    feed_av(&f, &a, &b, &p);
    struct rec_status st = wait_written(f.r, 4900);
    rec_stop(f.r);
    enc_close(&a);
    enc_close(&b);
    assert_int_equal(st.error, 0);
    assert_int_equal(st.dropped, 0);
    assert_true(f.lost == 1 && f.reordered == 2);
    assert_true(st.video_lost >= 5);
    assert_true(f.key_requested);
    print_message("webm VP8: %lld ms of recorder CPU for 5 s\n", (long long)st.cpu_ms);
    int frames = check_av(path, 5.0, AV_CODEC_ID_VP8, 2);
    assert_true(frames >= 140 && frames <= 145);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -xerror -i %s -f null - 2>&1", path);
    FILE *ff = popen(cmd, "r");
    assert_non_null(ff);
    assert_int_equal(fgetc(ff), EOF);          /* the CLI says nothing across the switch */
    assert_int_equal(pclose(ff), 0);
}

/* VP9 with 3 spatial layers (640x360 on top) from 0.5 s, then a plain VP9 source at 320x240:
 * one frame per picture at the top layer's size (the lower layers are hidden); the file
 * starts with audio alone. */
static void test_record_vp9_svc_switch(void **state)
{
    (void)state;
    char path[256];
    struct rec_opts o = { .webm_path = tmp_path(path, sizeof path, "vp9.webm") };
    struct feed f = { .r = start(&o), .tx = { .seq = 100, .ts = 5000, .pid = 5 } };
    struct enc a, b;
    enc_open(&a, VPX_VP9, 640, 360, 3);
    enc_open(&b, VPX_VP9, 320, 240, 1);
    struct av_plan p = { .total_ms = 5000, .switch_ms = 2500, .drop_frame = 40, .pace_us = 1000,
                         .video_from_ms = 500, .t0 = now_ms() };
    feed_av(&f, &a, &b, &p);
    struct rec_status st = wait_written(f.r, 4900);
    rec_stop(f.r);
    enc_close(&a);
    enc_close(&b);
    assert_int_equal(st.error, 0);
    assert_int_equal(st.dropped, 0);
    struct rb o2;
    read_back(path, &o2);
    free(o2.pcm);
    assert_int_equal(o2.track_w, 640);         /* the top layer of the first keyframe */
    assert_int_equal(o2.track_h, 360);
    assert_true(o2.v_first >= 0.49 && o2.v_first <= 0.55);   /* on the audio clock */
    assert_int_equal(o2.sizes[0][0], 640);
    assert_int_equal(o2.sizes[0][1], 360);
    assert_int_equal(o2.sizes[1][0], 320);
    int frames = check_av(path, 5.0, AV_CODEC_ID_VP9, 2);
    assert_true(frames >= 130 && frames <= 135);   /* 135 pictures from 0.5 s, 5 lost */
}

/* No video at all, and one second without audio: an audio-only file with silence there. */
static void test_audio_only_with_gap(void **state)
{
    (void)state;
    char path[256];
    struct rec_opts o = { .webm_path = tmp_path(path, sizeof path, "audio.webm"),
                          .header_wait_ms = 500 };
    struct feed f = { .r = start(&o) };
    int64_t t0 = now_ms();
    for (int ms = 0; ms < 3000; ms += 20)
        if (ms < 1000 || ms >= 2000)
            feed_audio(&f, t0 + ms);
    rec_stop(f.r);
    struct rb rb;
    read_back(path, &rb);
    assert_int_equal(rb.n_audio, 1);
    assert_int_equal(rb.n_video, 0);
    assert_int_equal(rb.errors, 0);
    assert_true(fabs(rb.duration - 3.0) <= 0.2);
    assert_true(labs((long)rb.pcm_n - 3 * 48000) <= 4800);
    double quiet = 0;
    for (size_t i = 1200 * 48; i < 1800 * 48; i++)
        quiet += (double)rb.pcm[i] * rb.pcm[i];
    assert_true(quiet < 1e-3);
    assert_true(tone_share(rb.pcm + 2100 * 48, 48000 / 2, 440) > 0.8);
    free(rb.pcm);
}

/* The child records in real time until it is killed; returns never. */
static void child_record(const char *path, int fd)
{
    struct rec_opts o = { .webm_path = path };
    char err[256];
    struct feed f = { .r = rec_start(&o, err, sizeof err) };
    struct enc a;
    if (!f.r)
        _exit(2);
    enc_open(&a, VPX_VP8, 320, 180, 1);
    struct av_plan p = { .total_ms = 60000, .switch_ms = -1, .drop_frame = -1, .realtime = true,
                         .t0 = now_ms() };
    if (write(fd, &p.t0, sizeof p.t0) != sizeof p.t0)
        _exit(3);
    feed_av(&f, &a, &a, &p);
    _exit(4);
}

/* SIGKILL after 4 s: all but the last 2 s of audio and video decode. */
static void test_sigkill(void **state)
{
    (void)state;
    char path[256];
    int fds[2];
    int64_t t_start;
    tmp_path(path, sizeof path, "killed.webm");
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_record(path, fds[1]);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &t_start, sizeof t_start), sizeof t_start);
    close(fds[0]);
    sleep_until(t_start + 4000);
    int64_t elapsed = now_ms() - t_start;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    struct rb o;
    read_back(path, &o);
    free(o.pcm);
    print_message("killed after %lld ms: %.2f s of audio, video up to %.2f s\n",
                  (long long)elapsed, o.pcm_n / 48000.0, o.v_end);
    assert_int_equal(o.n_audio, 1);
    assert_int_equal(o.n_video, 1);
    assert_int_equal(o.errors, 0);
    assert_true(o.pcm_n >= (size_t)(elapsed - 2000) * 48);
    assert_true(o.v_end * 1000 >= (double)(elapsed - 2000));
}

static int count_segments(const char *dir, bool *first_there)
{
    char path[512], line[256];
    snprintf(path, sizeof path, "%s/index.m3u8", dir);
    FILE *f = fopen(path, "r");
    int n = 0;
    *first_there = false;
    while (f && fgets(line, sizeof line, f)) {
        n += strstr(line, ".m4s") != NULL;
        *first_there |= strstr(line, "seg000000.m4s") != NULL;
    }
    if (f)
        fclose(f);
    return n;
}

static bool file_has(const char *path, const char *what)
{
    char buf[4096] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strstr(buf, what) != NULL;
}

/* 6 s into HLS with 1 s segments, the ffmpeg CLI plays the live playlist; 3 s later the
 * recording stops: the oldest segments are gone and the playlist is complete. */
static void hls_case(int codec, int w, int h, const char *name)
{
    char dir[256], path[512], cmd[1200];
    bool first;
    tmp_path(dir, sizeof dir, name);
    struct rec_opts o = { .hls_dir = dir, .hls_segment_ms = 1000, .hls_list_size = 3 };
    struct feed f = { .r = start(&o), .tx = { .seq = 1, .ts = 1, .pid = 1 } };
    struct enc a;
    enc_open(&a, codec, w, h, 1);
    struct av_plan p = { .total_ms = 6000, .switch_ms = -1, .drop_frame = -1, .pace_us = 1000,
                         .key_every = codec == VPX_VP9 ? 30 : 0, .t0 = now_ms() };
    feed_av(&f, &a, &a, &p);
    struct rec_status st = wait_written(f.r, 5500);
    assert_int_equal(st.error, 0);
    for (int i = 0; i < 100 && count_segments(dir, &first) < 3; i++)
        usleep(20000);
    assert_true(count_segments(dir, &first) >= 3);
    snprintf(cmd, sizeof cmd, "timeout 30 ffmpeg -nostdin -v error -i %s/index.m3u8 -t 1.5 "
             "-map 0:v:0 -f framecrc - 2>%s/ffmpeg.err | grep -c '^0,'", dir, dir);
    FILE *ff = popen(cmd, "r");
    int decoded = 0;
    assert_non_null(ff);
    assert_int_equal(fscanf(ff, "%d", &decoded), 1);
    pclose(ff);
    assert_true(decoded >= 40);                /* 1.5 s of 30 fps */
    snprintf(path, sizeof path, "%s/ffmpeg.err", dir);
    assert_false(file_has(path, "rror"));
    p.start_ms = 6000, p.total_ms = 9000;
    feed_av(&f, &a, &a, &p);
    st = wait_written(f.r, 8500);
    print_message("HLS %s: %lld ms of recorder CPU for %.1f s\n", name, (long long)st.cpu_ms,
                  st.duration_ms / 1000.0);
    rec_stop(f.r);
    enc_close(&a);
    assert_true(codec == VPX_VP8 || f.key_requested);
    snprintf(path, sizeof path, "%s/index.m3u8", dir);
    assert_true(file_has(path, "#EXT-X-ENDLIST"));
    assert_true(count_segments(dir, &first) <= 4);
    assert_false(first);
    snprintf(path, sizeof path, "%s/seg000000.m4s", dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof path, "%s/index.m3u8", dir);
    assert_true(check_av(path, 0, AV_CODEC_ID_VP9, 1) >= 60);
}

static void test_hls_vp9(void **state)
{
    (void)state;
    hls_case(VPX_VP9, 320, 180, "hls_vp9");
}

static void test_hls_vp8_transcoded(void **state)
{
    (void)state;
    hls_case(VPX_VP8, 640, 360, "hls_vp8");
}

/* Synthetic VP8 frames of 20 kB (the muxer does not decode them) and audio, until the
 * recorder fails or 5 s of media went in. */
static struct rec_status fill_until_error(struct rec *r)
{
    static uint8_t fr[20000];
    static struct pk pk[64];
    struct tx tx = { .seq = 1 };
    struct feed f = { .r = r };
    struct rec_status st = { 0 };
    int64_t t0 = now_ms();
    for (int ms = 0; ms < 5000 && !st.error; ms += 20) {
        feed_audio(&f, t0 + ms);
        memset(fr, ms & 0xFF, sizeof fr);
        static const uint8_t kf[10] = { 0x00, 0, 0, 0x9D, 0x01, 0x2A, 64, 1, 180, 0 };
        memcpy(fr, kf, sizeof kf);
        const uint8_t *l[1] = { fr };
        size_t sz[1] = { sizeof fr };
        int lw[1] = { 320 }, lh[1] = { 180 };
        int n = packetize(&tx, VPX_VP8, l, sz, 1, true, lw, lh, pk, 64);
        for (int i = 0; i < n; i++)
            rec_push_video(r, VPX_VP8, pk[i].b, pk[i].len, t0 + ms);
        tx.ts += 1800;
        usleep(2000);
        rec_status(r, &st);
    }
    for (int i = 0; i < 200 && !st.error; i++) {
        usleep(10000);
        rec_status(r, &st);
    }
    return st;
}

static void test_dev_full(void **state)
{
    (void)state;
    struct rec_opts o = { .webm_path = "/dev/full", .header_wait_ms = 200 };
    struct rec *r = start(&o);
    struct rec_status st = fill_until_error(r);
    assert_int_equal(st.error, -ENOSPC);
    assert_non_null(strstr(st.msg, "/dev/full"));
    struct feed f = { .r = r };
    feed_audio(&f, now_ms());                  /* ignored, no crash */
    rec_stop(r);
}

/* A real full disk: a 200 kB tmpfs (root only), mounted and removed around the test. */
static int mount_tiny(void **state)
{
    static char dir[256];
    tmp_path(dir, sizeof dir, "full");
    *state = NULL;
    if (geteuid() != 0 || mkdir(dir, 0755) < 0)
        return 0;
    if (mount("tmpfs", dir, "tmpfs", 0, "size=200k") < 0) {
        rmdir(dir);
        return 0;
    }
    *state = dir;
    return 0;
}

static int unmount_tiny(void **state)
{
    if (*state) {
        umount(*state);
        rmdir(*state);
    }
    return 0;
}

static void test_enospc_tmpfs(void **state)
{
    char path[512];
    if (!*state)
        skip();                                /* not root, or no tmpfs */
    snprintf(path, sizeof path, "%s/x.webm", (const char *)*state);
    struct rec_opts o = { .webm_path = path };
    struct rec *r = start(&o);
    struct rec_status st = fill_until_error(r);
    rec_stop(r);
    assert_int_equal(st.error, -ENOSPC);
    assert_non_null(strstr(st.msg, "No space"));
    assert_true(st.bytes > 100000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_record_vp8_switch_loss),
        cmocka_unit_test(test_record_vp9_svc_switch),
        cmocka_unit_test(test_audio_only_with_gap),
        cmocka_unit_test(test_sigkill),
        cmocka_unit_test(test_hls_vp9),
        cmocka_unit_test(test_hls_vp8_transcoded),
        cmocka_unit_test(test_dev_full),
        cmocka_unit_test_setup_teardown(test_enospc_tmpfs, mount_tiny, unmount_tiny),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
