/* VP8 -> VP9 for HLS (see rec_tc.h), on libvpx directly: the recorder already links it, and
 * its real-time VP9 mode (speed 8) is the cheapest VP9 encoder there is. A change of input
 * size (another site became the speaker) re-creates the encoder, which starts with a
 * keyframe of the new size; VP9 in MP4 allows that within one track. */
#include "media/rec_tc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#define DEFAULT_TICKS 3000    /* 30 fps in 90 kHz, for a duration not known yet */

struct rec_tc {
    vpx_codec_ctx_t dec, enc;
    bool dec_ok, enc_ok;      /* initialised */
    vpx_image_t small;        /* the scaled picture */
    bool small_ok;
    int enc_w, enc_h;         /* input size the encoder was made for */
    int factor;               /* the input is divided by it */
    int max_w, max_h, kbps, key_ms;
    bool need_key;            /* the decoder waits for a VP8 keyframe */
    bool have_key;            /* a VP9 keyframe was produced: last_key is set */
    int64_t last_key, last_pts;
    uint64_t skipped;
};

struct rec_tc *rec_tc_new(int max_w, int max_h, int kbps, int key_ms)
{
    struct rec_tc *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    vpx_codec_dec_cfg_t dc = { .threads = 1 };
    if (vpx_codec_dec_init(&t->dec, vpx_codec_vp8_dx(), &dc, 0) != VPX_CODEC_OK) {
        free(t);
        return NULL;
    }
    t->dec_ok = true;
    t->max_w = max_w;
    t->max_h = max_h;
    t->kbps = kbps;
    t->key_ms = key_ms;
    t->need_key = true;
    t->last_pts = -1;
    return t;
}

static int factor_for(int w, int h, int max_w, int max_h)
{
    int f = 1;
    while ((w / f > max_w || h / f > max_h) && w / f > 16 && h / f > 16)
        f *= 2;
    return f;
}

void rec_tc_size(int w, int h, int max_w, int max_h, int *ow, int *oh)
{
    int f = factor_for(w, h, max_w, max_h);
    *ow = w / f;
    *oh = h / f;
}

static void close_enc(struct rec_tc *t)
{
    if (t->enc_ok)
        vpx_codec_destroy(&t->enc);
    if (t->small_ok)
        vpx_img_free(&t->small);
    t->enc_ok = t->small_ok = false;
}

/* (Re)creates the encoder for a w x h input. */
static int open_enc(struct rec_tc *t, int w, int h)
{
    int ow, oh;
    vpx_codec_enc_cfg_t c;

    close_enc(t);
    rec_tc_size(w, h, t->max_w, t->max_h, &ow, &oh);
    if (vpx_codec_enc_config_default(vpx_codec_vp9_cx(), &c, 0) != VPX_CODEC_OK)
        return -1;
    c.g_w = (unsigned)ow;
    c.g_h = (unsigned)oh;
    c.g_timebase.num = 1;
    c.g_timebase.den = 90000;
    c.g_threads = 1;
    c.g_lag_in_frames = 0;                    /* one frame in, one frame out */
    c.rc_end_usage = VPX_CBR;
    c.rc_target_bitrate = (unsigned)t->kbps;
    c.rc_dropframe_thresh = 0;
    c.kf_mode = VPX_KF_DISABLED;              /* forced every key_ms instead */
    if (vpx_codec_enc_init(&t->enc, vpx_codec_vp9_cx(), &c, 0) != VPX_CODEC_OK)
        return -1;
    t->enc_ok = true;
    vpx_codec_control(&t->enc, VP8E_SET_CPUUSED, 8);
    if (ow != w || oh != h) {
        if (!vpx_img_alloc(&t->small, VPX_IMG_FMT_I420, (unsigned)ow, (unsigned)oh, 16))
            return -1;
        t->small_ok = true;
    }
    t->enc_w = w;
    t->enc_h = h;
    t->factor = factor_for(w, h, t->max_w, t->max_h);
    t->have_key = false;
    return 0;
}

/* Averages f x f blocks of one plane (src sw x sh) into dst (dw x dh). */
static void box_plane(const uint8_t *src, int ss, int sw, int sh, uint8_t *dst, int ds, int dw,
                      int dh, int f)
{
    if (f == 2 && sw >= 2 * dw && sh >= 2 * dh) {   /* the common 720p case, 4x faster */
        for (int y = 0; y < dh; y++) {
            const uint8_t *a = src + 2 * y * ss, *b = a + ss;
            for (int x = 0; x < dw; x++)
                dst[y * ds + x] =
                    (uint8_t)((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 2) >> 2);
        }
        return;
    }
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            unsigned sum = 0, n = 0;
            for (int j = y * f; j < (y + 1) * f && j < sh; j++)
                for (int i = x * f; i < (x + 1) * f && i < sw; i++, n++)
                    sum += src[j * ss + i];
            dst[y * ds + x] = (uint8_t)(n ? (sum + n / 2) / n : 0);
        }
}

static void downscale(const vpx_image_t *in, vpx_image_t *out, int f)
{
    for (int p = 0; p < 3; p++) {
        int sw = (int)in->d_w, sh = (int)in->d_h, dw = (int)out->d_w, dh = (int)out->d_h;
        if (p > 0)
            sw = (sw + 1) / 2, sh = (sh + 1) / 2, dw = (dw + 1) / 2, dh = (dh + 1) / 2;
        box_plane(in->planes[p], in->stride[p], sw, sh, out->planes[p], out->stride[p], dw, dh,
                  f);
    }
}

static int encode(struct rec_tc *t, const vpx_image_t *img, int64_t pts, rec_tc_out out,
                  void *arg)
{
    bool key = !t->have_key || pts - t->last_key >= (int64_t)t->key_ms * 90;
    int64_t dur = t->last_pts >= 0 && pts > t->last_pts ? pts - t->last_pts : DEFAULT_TICKS;
    if (vpx_codec_encode(&t->enc, img, pts, (unsigned long)dur, key ? VPX_EFLAG_FORCE_KF : 0,
                         VPX_DL_REALTIME) != VPX_CODEC_OK)
        return -EIO;
    t->last_pts = pts;
    const vpx_codec_cx_pkt_t *pkt;
    vpx_codec_iter_t it = NULL;
    while ((pkt = vpx_codec_get_cx_data(&t->enc, &it))) {
        if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
            continue;
        bool k = pkt->data.frame.flags & VPX_FRAME_IS_KEY;
        if (k) {
            t->have_key = true;
            t->last_key = pkt->data.frame.pts;
        }
        int rc = out(arg, pkt->data.frame.buf, pkt->data.frame.sz, pkt->data.frame.pts, k);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int rec_tc_frame(struct rec_tc *t, const uint8_t *vp8, size_t len, int64_t pts90,
                 rec_tc_out out, void *arg)
{
    bool key = len > 0 && !(vp8[0] & 1);
    if (len == 0 || len > UINT32_MAX || (t->need_key && !key)) {
        t->skipped++;
        return 0;
    }
    if (vpx_codec_decode(&t->dec, vp8, (unsigned)len, NULL, 0) != VPX_CODEC_OK) {
        t->skipped++;
        t->need_key = true;
        return 0;
    }
    t->need_key = false;
    vpx_codec_iter_t it = NULL;
    vpx_image_t *img = vpx_codec_get_frame(&t->dec, &it);
    if (!img || img->fmt != VPX_IMG_FMT_I420)
        return 0;
    if ((!t->enc_ok || t->enc_w != (int)img->d_w || t->enc_h != (int)img->d_h) &&
        open_enc(t, (int)img->d_w, (int)img->d_h) < 0) {
        close_enc(t);
        return -ENOMEM;
    }
    if (t->small_ok) {
        downscale(img, &t->small, t->factor);
        img = &t->small;
    }
    return encode(t, img, pts90, out, arg);
}

uint64_t rec_tc_skipped(const struct rec_tc *t)
{
    return t->skipped;
}

void rec_tc_free(struct rec_tc *t)
{
    if (!t)
        return;
    close_enc(t);
    if (t->dec_ok)
        vpx_codec_destroy(&t->dec);
    free(t);
}
