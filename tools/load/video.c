/* VP8 simulcast rings and RFC 7741 packetisation (see video.h). The pattern is a diagonal
 * gradient that scrolls and a bright square that bounces, so every frame has motion and
 * the encoder spends realistic bits; each layer is its own independent encode. */
#include "tools/load/video.h"
#include "media/rtp.h"
#include "media/srtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

static const struct {
    int w, h, kbps;
    const char *rid;
} layers[LVID_LAYERS] = {{320, 180, 150, "q"}, {640, 360, 500, "h"}, {1280, 720, 1500, "f"}};

struct vframe {
    uint8_t *data;
    size_t len;
    bool key;
};

struct lvid_set {
    struct vframe f[LVID_LAYERS][LVID_FRAMES];
    size_t bytes[LVID_LAYERS];
};

int lvid_layer_of_width(int width)
{
    for (int l = 0; l < LVID_LAYERS; l++)
        if (layers[l].w == width)
            return l;
    return -1;
}

const char *lvid_rid(int layer)
{
    return layer >= 0 && layer < LVID_LAYERS ? layers[layer].rid : "?";
}

size_t lvid_layer_bytes(const struct lvid_set *v, int layer)
{
    return v ? v->bytes[layer] : 0;
}

static void draw(vpx_image_t *img, int n)
{
    int w = (int)img->d_w, h = (int)img->d_h, sq = h / 5;
    int period = 2 * (w - sq), px = (n * w / 40) % period;
    int x0 = px < w - sq ? px : period - px, y0 = (h - sq) / 2;
    for (int y = 0; y < h; y++) {
        uint8_t *row = img->planes[0] + (size_t)y * (size_t)img->stride[0];
        for (int x = 0; x < w; x++)
            row[x] = (uint8_t)(((x + y + n * 4) * 256 / (w + h)) & 0xFF);
        if (y >= y0 && y < y0 + sq)
            memset(row + x0, 235, (size_t)sq);
    }
    for (int p = 1; p <= 2; p++)
        for (int y = 0; y < (h + 1) / 2; y++)
            memset(img->planes[p] + (size_t)y * (size_t)img->stride[p], p == 1 ? 100 + n % 50 : 160,
                   (size_t)(w + 1) / 2);
}

static int take_output(vpx_codec_ctx_t *ctx, struct vframe *out)
{
    vpx_codec_iter_t it = NULL;
    const vpx_codec_cx_pkt_t *pkt;
    while ((pkt = vpx_codec_get_cx_data(ctx, &it))) {
        if (pkt->kind != VPX_CODEC_CX_FRAME_PKT || out->data)
            continue;
        out->data = malloc(pkt->data.frame.sz);
        if (!out->data)
            return -1;
        memcpy(out->data, pkt->data.frame.buf, pkt->data.frame.sz);
        out->len = pkt->data.frame.sz;
        out->key = pkt->data.frame.flags & VPX_FRAME_IS_KEY;
    }
    return 0;
}

static int encode_layer(struct lvid_set *v, int l, char *err, size_t errlen)
{
    vpx_codec_enc_cfg_t cfg;
    vpx_codec_ctx_t ctx;
    if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0)) {
        snprintf(err, errlen, "no VP8 encoder configuration");
        return -1;
    }
    cfg.g_w = (unsigned)layers[l].w;
    cfg.g_h = (unsigned)layers[l].h;
    cfg.g_timebase = (struct vpx_rational){1, LVID_FPS};
    cfg.rc_target_bitrate = (unsigned)layers[l].kbps;
    cfg.rc_end_usage = VPX_CBR;
    cfg.g_lag_in_frames = 0;
    cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
    cfg.kf_mode = VPX_KF_DISABLED; /* one keyframe, at the start of the ring */
    cfg.g_threads = 1;
    if (vpx_codec_enc_init(&ctx, vpx_codec_vp8_cx(), &cfg, 0)) {
        snprintf(err, errlen, "VP8 encoder init failed for %dx%d", layers[l].w, layers[l].h);
        return -1;
    }
    vpx_codec_control(&ctx, VP8E_SET_CPUUSED, 12);
    vpx_image_t *img = vpx_img_alloc(NULL, VPX_IMG_FMT_I420, (unsigned)layers[l].w, (unsigned)layers[l].h, 16);
    int rc = img ? 0 : -1;
    for (int n = 0; n < LVID_FRAMES && rc == 0; n++) {
        draw(img, n);
        if (vpx_codec_encode(&ctx, img, n, 1, n == 0 ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME) ||
            take_output(&ctx, &v->f[l][n]) < 0) {
            rc = -1;
            break;
        }
        v->bytes[l] += v->f[l][n].len;
    }
    for (int n = 0; n < LVID_FRAMES && rc == 0; n++)
        if (!v->f[l][n].data)
            rc = -1; /* a dropped frame: CBR at a too-low rate */
    if (rc < 0)
        snprintf(err, errlen, "VP8 encoding of the %dx%d layer failed", layers[l].w, layers[l].h);
    vpx_img_free(img);
    vpx_codec_destroy(&ctx);
    return rc;
}

struct lvid_set *lvid_new(char *err, size_t errlen)
{
    struct lvid_set *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int l = 0; l < LVID_LAYERS; l++)
        if (encode_layer(v, l, err, errlen) < 0) {
            lvid_free(v);
            return NULL;
        }
    return v;
}

void lvid_free(struct lvid_set *v)
{
    if (!v)
        return;
    for (int l = 0; l < LVID_LAYERS; l++)
        for (int n = 0; n < LVID_FRAMES; n++)
            free(v->f[l][n].data);
    free(v);
}

int lvid_packetize(const struct lvid_set *v, int layer, int frame, struct lvid_stream *st,
                   uint8_t pt, uint32_t ts, uint8_t ext_mid, const char *mid,
                   uint8_t ext_rid, lvid_emit emit, void *arg)
{
    const struct vframe *f = &v->f[layer][frame];
    rtp_ext_t ext[2];
    size_t next = 0;
    if (ext_mid)
        ext[next++] = (rtp_ext_t){.id = ext_mid, .len = (uint8_t)strlen(mid), .data = (const uint8_t *)mid};
    if (ext_rid)
        ext[next++] = (rtp_ext_t){.id = ext_rid, .len = (uint8_t)strlen(layers[layer].rid),
                                  .data = (const uint8_t *)layers[layer].rid};
    int count = 0;
    for (size_t off = 0; off < f->len; count++) {
        size_t chunk = f->len - off > LVID_MTU ? LVID_MTU : f->len - off;
        uint8_t pkt[1500];
        rtp_write_t w = {.marker = off + chunk == f->len, .pt = pt, .seq = st->seq++, .ts = ts,
                         .ssrc = st->ssrc, .ext = ext, .ext_count = next};
        int hl = rtp_write_header(pkt, sizeof pkt, &w);
        if (hl < 0 || (size_t)hl + 4 + chunk + SRTPX_MAX_TRAILER > sizeof pkt)
            return -1;
        /* RFC 7741 4.2: X=1, S on the first packet, PID 0; I=1; 15-bit PictureID (M=1). */
        uint8_t *d = pkt + hl;
        d[0] = (uint8_t)(0x80 | (off == 0 ? 0x10 : 0));
        d[1] = 0x80;
        d[2] = (uint8_t)(0x80 | (st->picture_id >> 8 & 0x7F));
        d[3] = (uint8_t)st->picture_id;
        memcpy(d + 4, f->data + off, chunk);
        if (emit(arg, pkt, (size_t)hl + 4 + chunk) < 0)
            return -1;
        off += chunk;
    }
    st->picture_id = (uint16_t)((st->picture_id + 1) & 0x7FFF);
    return count;
}
