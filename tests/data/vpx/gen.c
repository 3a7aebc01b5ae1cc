/* Generates the VP8/VP9 RTP packets (the .hex files next to this one): libvpx encodes a synthetic
 * moving picture and this program packetizes the frames per RFC 7741 (VP8) and RFC 9628 (VP9)
 * the way libwebrtc lays them out (15-bit picture ids, TL0PICIDX, SS on key pictures).
 * They are generated, not captured from a browser. Run once from the repo root:
 *   gcc -std=gnu11 -O2 -Wall -o /tmp/vpxgen tests/data/vpx/gen.c -lvpx && /tmp/vpxgen tests/data/vpx
 * Each line is one RTP packet in hex, then "#" and what the packetizer put in it
 * (key start end tid sid pid tl0 sync inter ilp w h), for the unit tests to check the parser
 * against. Counters start close to their wrap points so the vectors cross them.
 * Output differs between libvpx versions (frame sizes), not in structure. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#define FPS_TICKS 3000      /* 90 kHz / 30 fps */

struct stream {
    FILE *f;
    uint32_t ssrc;
    uint8_t pt;
    uint16_t seq;
    const char *rid;        /* NULL: no header extension */
    size_t mtu;             /* payload bytes per packet, descriptor included */
};

/* What one packet's descriptor says, echoed after the hex. */
struct meta {
    bool key, start, end, sync, inter, ilp;
    int tid, sid, pid, tl0, w, h;
};

static void die(const char *what)
{
    fprintf(stderr, "vpxgen: %s\n", what);
    exit(1);
}

static void put_packet(struct stream *s, uint32_t ts, bool marker, const uint8_t *desc,
                       size_t dlen, const uint8_t *data, size_t n, const struct meta *m)
{
    uint8_t p[1600];
    size_t o = 12;

    p[0] = s->rid ? 0x90 : 0x80;
    p[1] = (uint8_t)((marker ? 0x80 : 0) | s->pt);
    p[2] = (uint8_t)(s->seq >> 8), p[3] = (uint8_t)s->seq;
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        p[8 + i] = (uint8_t)(s->ssrc >> (24 - 8 * i));
    }
    if (s->rid) {           /* one-byte extensions: mid (id 4) "0", rid (id 10) */
        size_t rl = strlen(s->rid), words = (2 + 1 + rl + 3) / 4;
        p[o++] = 0xBE, p[o++] = 0xDE, p[o++] = 0, p[o++] = (uint8_t)words;
        size_t start = o;
        p[o++] = 0x40, p[o++] = '0';
        p[o++] = (uint8_t)(0xA0 | (rl - 1));
        memcpy(p + o, s->rid, rl), o += rl;
        while (o < start + 4 * words)
            p[o++] = 0;
    }
    memcpy(p + o, desc, dlen), o += dlen;
    memcpy(p + o, data, n), o += n;
    for (size_t i = 0; i < o; i++)
        fprintf(s->f, "%02x", p[i]);
    fprintf(s->f, " # key=%d start=%d end=%d tid=%d sid=%d pid=%d tl0=%d sync=%d inter=%d "
            "ilp=%d w=%d h=%d\n", m->key, m->start, m->end, m->tid, m->sid, m->pid, m->tl0,
            m->sync, m->inter, m->ilp, m->w, m->h);
    s->seq++;
}

/* A moving gradient with a sliding square, different per frame. */
static void fill_frame(vpx_image_t *img, int n)
{
    for (unsigned y = 0; y < img->d_h; y++)
        for (unsigned x = 0; x < img->d_w; x++) {
            int v = (int)(x * 2 + y + (unsigned)n * 5) & 0xFF;
            if (x >= (unsigned)n * 7 % img->d_w && x < (unsigned)n * 7 % img->d_w + img->d_w / 5 &&
                y >= img->d_h / 3 && y < img->d_h * 2 / 3)
                v = 255 - v;
            img->planes[0][y * img->stride[0] + x] = (uint8_t)v;
        }
    for (unsigned y = 0; y < (img->d_h + 1) / 2; y++)
        for (unsigned x = 0; x < (img->d_w + 1) / 2; x++) {
            img->planes[1][y * img->stride[1] + x] = (uint8_t)(128 + (int)((x + n) % 40) - 20);
            img->planes[2][y * img->stride[2] + x] = (uint8_t)(128 + (int)((y + 2 * n) % 30) - 15);
        }
}

/* ---- VP8 ---- */

enum { LAST = 1, GOLD = 2 };

/* One VP8 encoder with libwebrtc-like 3 temporal layers (pattern 0,2,1,2): TL0 refs and
 * updates LAST; TL1 refs LAST+GOLD and updates GOLD; TL2 refs LAST+GOLD, updates nothing. */
struct vp8enc {
    vpx_codec_ctx_t c;
    vpx_image_t img;
    int w, h, n_tl;
    int buf_tid[3];         /* temporal layer of the frame each buffer holds */
    int pid, tl0;
    struct stream *s;
};

static void vp8_open(struct vp8enc *e, int w, int h, int kbps, int n_tl, struct stream *s,
                     int pid, int tl0)
{
    vpx_codec_enc_cfg_t cfg;
    if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0))
        die("vp8 config");
    cfg.g_w = (unsigned)w, cfg.g_h = (unsigned)h;
    cfg.g_timebase.num = 1, cfg.g_timebase.den = 90000;
    cfg.rc_target_bitrate = (unsigned)kbps;
    cfg.rc_end_usage = VPX_CBR;
    cfg.g_lag_in_frames = 0;
    cfg.kf_mode = VPX_KF_DISABLED;
    cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
    cfg.rc_dropframe_thresh = 0;
    cfg.rc_min_quantizer = 40;
    cfg.rc_max_quantizer = 63;
    cfg.g_threads = 1;
    if (vpx_codec_enc_init(&e->c, vpx_codec_vp8_cx(), &cfg, 0))
        die("vp8 init");
    vpx_codec_control(&e->c, VP8E_SET_CPUUSED, -8);
    if (!vpx_img_alloc(&e->img, VPX_IMG_FMT_I420, (unsigned)w, (unsigned)h, 16))
        die("img");
    e->w = w, e->h = h, e->n_tl = n_tl, e->s = s, e->pid = pid, e->tl0 = tl0;
}

static void vp8_packetize(struct vp8enc *e, const uint8_t *f, size_t n, uint32_t ts, bool key,
                          int tid, bool sync, bool nonref)
{
    struct meta m = { .key = key, .tid = tid, .sync = sync && !key && tid > 0, .pid = e->pid,
                      .tl0 = e->n_tl > 1 ? e->tl0 : -1, .w = key ? e->w : 0,
                      .h = key ? e->h : 0 };
    uint8_t d[6];
    size_t dl = 0;

    d[dl++] = 0;                                     /* X|R|N|S|R|PID, S set below */
    d[dl++] = (uint8_t)(0x80 | (e->n_tl > 1 ? 0x60 : 0)); /* I, and L+T with layers */
    d[dl++] = (uint8_t)(0x80 | e->pid >> 8), d[dl++] = (uint8_t)e->pid;
    if (e->n_tl > 1) {
        d[dl++] = (uint8_t)e->tl0;
        d[dl++] = (uint8_t)(tid << 6 | (m.sync ? 0x20 : 0));
    }
    d[0] = (uint8_t)(0x80 | (nonref ? 0x20 : 0));
    for (size_t off = 0; off < n;) {
        size_t chunk = n - off < e->s->mtu - dl ? n - off : e->s->mtu - dl;
        m.start = off == 0;
        m.end = off + chunk == n;
        d[0] = (uint8_t)((d[0] & ~0x10) | (m.start ? 0x10 : 0));
        struct meta pm = m;
        pm.key = key && m.start;
        if (!m.start)
            pm.w = pm.h = 0;
        put_packet(e->s, ts, m.end, d, dl, f + off, chunk, &pm);
        off += chunk;
    }
}

/* Encodes frame n (pattern index n % 4 since the last keyframe counts from 0). */
static void vp8_frame(struct vp8enc *e, int n, int since_key, bool force_key)
{
    static const int tl3[4] = { 0, 2, 1, 2 }, tl2[2] = { 0, 1 };
    int tid = force_key ? 0 : e->n_tl == 3 ? tl3[since_key % 4] : e->n_tl == 2 ? tl2[since_key % 2] : 0;
    vpx_enc_frame_flags_t fl = VP8_EFLAG_NO_REF_ARF | VP8_EFLAG_NO_UPD_ARF;
    int refs = LAST, upd = 0;

    if (force_key) {
        fl = VPX_EFLAG_FORCE_KF;
        upd = LAST | GOLD;
    } else if (tid == 0) {
        fl |= VP8_EFLAG_NO_REF_GF | VP8_EFLAG_NO_UPD_GF;
        upd = LAST;
    } else {
        refs = e->n_tl == 3 ? LAST | GOLD : LAST;
        if (!(refs & GOLD))
            fl |= VP8_EFLAG_NO_REF_GF;
        fl |= VP8_EFLAG_NO_UPD_LAST;
        if (tid == 1 && e->n_tl == 3)
            upd = GOLD;
        else
            fl |= VP8_EFLAG_NO_UPD_GF;
    }
    bool sync = true;                        /* references only TL0 frames */
    for (int b = 0; b < 2; b++)
        if (refs & (1 << b) && e->buf_tid[b] != 0)
            sync = false;
    fill_frame(&e->img, n);
    if (vpx_codec_encode(&e->c, &e->img, (vpx_codec_pts_t)n * FPS_TICKS, FPS_TICKS, fl,
                         VPX_DL_REALTIME))
        die("vp8 encode");
    const vpx_codec_cx_pkt_t *pkt;
    vpx_codec_iter_t it = NULL;
    if (!force_key && tid == 0)
        e->tl0 = (e->tl0 + 1) & 0xFF;
    if (force_key)
        e->tl0 = (e->tl0 + 1) & 0xFF;
    while ((pkt = vpx_codec_get_cx_data(&e->c, &it)))
        if (pkt->kind == VPX_CODEC_CX_FRAME_PKT) {
            bool key = pkt->data.frame.flags & VPX_FRAME_IS_KEY;
            if (key != force_key)
                die("vp8 keyframe where none was asked (or none where asked)");
            vp8_packetize(e, pkt->data.frame.buf, pkt->data.frame.sz,
                          0x10000000u + (uint32_t)n * FPS_TICKS + e->s->ssrc % 7, key, tid,
                          sync, upd == 0);
        }
    for (int b = 0; b < 2; b++)
        if (upd & (1 << b))
            e->buf_tid[b] = tid;
    e->pid = (e->pid + 1) & 0x7FFF;
}

static void vp8_close(struct vp8enc *e)
{
    vpx_img_free(&e->img);
    vpx_codec_destroy(&e->c);
}

static FILE *open_out(const char *dir, const char *name, const char *about)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        die(path);
    fprintf(f, "# %s\n# generated by tests/data/vpx/gen.c with libvpx %s\n", about,
            vpx_codec_version_str());
    return f;
}

static void gen_vp8_l1t3(const char *dir)
{
    struct stream s = { .ssrc = 0x11111111, .pt = 96, .seq = 65530, .mtu = 300 };
    struct vp8enc e = { 0 };
    s.f = open_out(dir, "vp8_l1t3.hex", "VP8 176x144, 3 temporal layers (0,2,1,2), "
                   "keyframes at frames 0 and 9, seq/pid/tl0 wrap");
    vp8_open(&e, 176, 144, 200, 3, &s, 32764, 253);
    for (int n = 0, since = 0; n < 14; n++, since++) {
        bool key = n == 0 || n == 9;
        if (key)
            since = 0;
        vp8_frame(&e, n, since, key);
    }
    vp8_close(&e);
    fclose(s.f);
}

static void gen_vp8_simulcast(const char *dir)
{
    static const int w[3] = { 80, 160, 320 }, h[3] = { 46, 90, 180 }, kbps[3] = { 50, 150, 400 };
    static const char *rid[3] = { "l", "m", "h" };
    struct stream s[3];
    struct vp8enc e[3] = { 0 };
    FILE *f = open_out(dir, "vp8_simulcast.hex", "VP8 simulcast l/m/h (80x46, 160x90, 320x180), "
                       "rid and mid extensions, 3 temporal layers each; keyframes: all at 0, "
                       "l and m at 6, h at 9");
    for (int i = 0; i < 3; i++) {
        s[i] = (struct stream){ .f = f, .ssrc = 0x22222220u + (uint32_t)i, .pt = 96,
                                .seq = (uint16_t)(1000 * (i + 1)), .rid = rid[i], .mtu = 500 };
        vp8_open(&e[i], w[i], h[i], kbps[i], 3, &s[i], 100 * (i + 1), 10 * (i + 1));
    }
    int since[3] = { 0 };
    for (int n = 0; n < 12; n++)
        for (int i = 0; i < 3; i++) {
            bool key = n == 0 || (n == 6 && i < 2) || (n == 9 && i == 2);
            if (key)
                since[i] = 0;
            vp8_frame(&e[i], n, since[i]++, key);
        }
    for (int i = 0; i < 3; i++)
        vp8_close(&e[i]);
    fclose(f);
}

/* ---- VP9 ---- */

/* Splits a VP9 superframe (Annex B index at the end) into its frames. */
static int split_superframe(const uint8_t *b, size_t n, const uint8_t **fr, size_t *sz, int max)
{
    uint8_t last = b[n - 1];
    if ((last & 0xE0) == 0xC0) {
        int frames = (last & 7) + 1, mag = ((last >> 3) & 3) + 1;
        size_t idx = 2 + (size_t)mag * (size_t)frames;
        if (n >= idx && b[n - idx] == last && frames <= max) {
            const uint8_t *p = b + n - idx + 1, *data = b;
            for (int i = 0; i < frames; i++) {
                size_t s = 0;
                for (int k = 0; k < mag; k++)
                    s |= (size_t)p[k] << (8 * k);
                p += mag;
                fr[i] = data, sz[i] = s;
                data += s;
            }
            return frames;
        }
    }
    fr[0] = b, sz[0] = n;
    return 1;
}

struct vp9enc {
    vpx_codec_ctx_t c;
    vpx_image_t img;
    int w, h, n_sl, n_tl;
    bool flexible, ilp_always;
    int pid, tl0;
    int pic;                /* picture number */
    struct { int pic, tid; } buf[8];
    struct stream *s;
};

static void vp9_open(struct vp9enc *e, int w, int h, int n_sl, int n_tl, bool flexible,
                     bool ilp_always, struct stream *s, int pid, int tl0)
{
    vpx_codec_enc_cfg_t cfg;
    if (vpx_codec_enc_config_default(vpx_codec_vp9_cx(), &cfg, 0))
        die("vp9 config");
    cfg.g_w = (unsigned)w, cfg.g_h = (unsigned)h;
    cfg.g_timebase.num = 1, cfg.g_timebase.den = 90000;
    cfg.rc_target_bitrate = 300;
    cfg.rc_end_usage = VPX_CBR;
    cfg.g_lag_in_frames = 0;
    cfg.kf_mode = VPX_KF_DISABLED;
    cfg.rc_dropframe_thresh = 0;
    cfg.g_threads = 1;
    /* like libwebrtc: with layers, no frame depends on another's entropy context, so a
     * receiver can decode without the layers above */
    cfg.g_error_resilient = n_sl > 1 || n_tl > 1 ? VPX_ERROR_RESILIENT_DEFAULT : 0;
    cfg.rc_min_quantizer = 40;
    cfg.rc_max_quantizer = 63;
    cfg.ss_number_layers = (unsigned)n_sl;
    cfg.ts_number_layers = (unsigned)n_tl;
    if (n_tl == 3) {
        static const unsigned dec[3] = { 4, 2, 1 }, ids[4] = { 0, 2, 1, 2 };
        memcpy(cfg.ts_rate_decimator, dec, sizeof dec);
        memcpy(cfg.ts_layer_id, ids, sizeof ids);
        cfg.ts_periodicity = 4;
        cfg.temporal_layering_mode = VP9E_TEMPORAL_LAYERING_MODE_0212;
    }
    for (int sl = 0; sl < n_sl; sl++)
        for (int tl = 0; tl < n_tl; tl++)
            cfg.layer_target_bitrate[sl * n_tl + tl] = (unsigned)((sl + 1) * 60 * (tl + 1) / n_tl);
    if (n_sl > 1 || n_tl > 1) {
        unsigned total = 0;
        for (int sl = 0; sl < n_sl; sl++)
            total += cfg.layer_target_bitrate[sl * n_tl + n_tl - 1];
        cfg.rc_target_bitrate = total;
    }
    if (vpx_codec_enc_init(&e->c, vpx_codec_vp9_cx(), &cfg, 0))
        die("vp9 init");
    vpx_codec_control(&e->c, VP8E_SET_CPUUSED, 8);
    if (n_sl > 1 || n_tl > 1) {
        vpx_svc_extra_cfg_t sp;
        memset(&sp, 0, sizeof sp);
        for (int i = 0; i < n_sl * n_tl; i++)
            sp.max_quantizers[i] = 63, sp.min_quantizers[i] = 40;
        for (int sl = 0; sl < n_sl; sl++) {
            sp.scaling_factor_num[sl] = 1;
            sp.scaling_factor_den[sl] = 1 << (n_sl - 1 - sl);
            sp.speed_per_layer[sl] = 8;
        }
        sp.temporal_layering_mode = (int)cfg.temporal_layering_mode;
        vpx_codec_control(&e->c, VP9E_SET_SVC, 1);
        if (vpx_codec_control(&e->c, VP9E_SET_SVC_PARAMETERS, &sp))
            die("svc params");
        vpx_codec_control(&e->c, VP9E_SET_SVC_INTER_LAYER_PRED, ilp_always ? 0 : 2);
        vpx_codec_control(&e->c, VP9E_SET_SVC_GF_TEMPORAL_REF, 0);
    }
    if (!vpx_img_alloc(&e->img, VPX_IMG_FMT_I420, (unsigned)w, (unsigned)h, 16))
        die("img");
    e->w = w, e->h = h, e->n_sl = n_sl, e->n_tl = n_tl, e->flexible = flexible;
    e->ilp_always = ilp_always, e->s = s, e->pid = pid, e->tl0 = tl0;
}

/* Writes the SS: sizes of every layer; in non-flexible mode the 0,2,1,2 picture group
 * (TID, U, one P_DIFF each) libvpx's 0212 mode follows. */
static size_t vp9_ss(const struct vp9enc *e, uint8_t *d)
{
    size_t o = 0;
    bool gof = !e->flexible && e->n_tl == 3;
    d[o++] = (uint8_t)((e->n_sl - 1) << 5 | 0x10 | (gof ? 0x08 : 0));
    for (int sl = 0; sl < e->n_sl; sl++) {
        int w = e->w >> (e->n_sl - 1 - sl), h = e->h >> (e->n_sl - 1 - sl);
        d[o++] = (uint8_t)(w >> 8), d[o++] = (uint8_t)w;
        d[o++] = (uint8_t)(h >> 8), d[o++] = (uint8_t)h;
    }
    if (gof) {
        static const uint8_t tid[4] = { 0, 2, 1, 2 }, up[4] = { 0, 1, 1, 0 }, pd[4] = { 4, 1, 2, 1 };
        d[o++] = 4;
        for (int i = 0; i < 4; i++) {
            d[o++] = (uint8_t)(tid[i] << 5 | up[i] << 4 | 1 << 2);
            d[o++] = pd[i];
        }
    }
    return o;
}

/* Packetizes one layer frame. */
static void vp9_layer(struct vp9enc *e, const uint8_t *f, size_t n, uint32_t ts, int sid,
                      int tid, bool key_pic, bool inter, bool ilp, bool sync,
                      const int *pdiff, int n_pdiff, bool last_layer)
{
    uint8_t d[64];
    size_t dl = 0;
    bool layered = e->n_sl > 1 || e->n_tl > 1;
    bool ss = key_pic && sid == 0;

    d[dl++] = 0;                              /* I|P|L|F|B|E|V|Z, B/E set per packet */
    d[dl++] = (uint8_t)(0x80 | e->pid >> 8), d[dl++] = (uint8_t)e->pid;
    if (layered) {
        d[dl++] = (uint8_t)(tid << 5 | (sync ? 0x10 : 0) | sid << 1 | (ilp ? 1 : 0));
        if (!e->flexible)
            d[dl++] = (uint8_t)e->tl0;
    }
    if (e->flexible && inter)
        for (int i = 0; i < n_pdiff; i++)
            d[dl++] = (uint8_t)(pdiff[i] << 1 | (i + 1 < n_pdiff ? 1 : 0));
    size_t ss_at = dl;
    if (ss)
        dl += vp9_ss(e, d + dl);
    bool z = sid == e->n_sl - 1 || (!e->ilp_always && !key_pic);
    uint8_t b0 = (uint8_t)(0x80 | (inter ? 0x40 : 0) | (layered ? 0x20 : 0) |
                           (e->flexible ? 0x10 : 0) | (z ? 0x01 : 0));
    struct meta m = { .tid = tid, .sid = sid, .pid = e->pid, .tl0 = layered && !e->flexible ? e->tl0 : -1,
                      .sync = sync, .inter = inter, .ilp = ilp };
    for (size_t off = 0; off < n;) {
        size_t hl = off == 0 ? dl : ss_at;    /* SS only in the first packet */
        size_t chunk = n - off < e->s->mtu - hl ? n - off : e->s->mtu - hl;
        m.start = off == 0;
        m.end = off + chunk == n;
        m.key = m.start && !inter && !ilp;
        m.w = m.key && key_pic ? e->w >> (e->n_sl - 1 - sid) : 0;
        m.h = m.key && key_pic ? e->h >> (e->n_sl - 1 - sid) : 0;
        d[0] = (uint8_t)(b0 | (m.start ? 0x08 : 0) | (m.end ? 0x04 : 0) |
                         (m.start && ss ? 0x02 : 0));
        put_packet(e->s, ts, m.end && last_layer, d, hl, f + off, chunk, &m);
        off += chunk;
    }
}

static void vp9_picture(struct vp9enc *e, int n, bool force_key)
{
    fill_frame(&e->img, n);
    if (vpx_codec_encode(&e->c, &e->img, (vpx_codec_pts_t)n * FPS_TICKS, FPS_TICKS,
                         force_key ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME))
        die("vp9 encode");
    vpx_svc_layer_id_t lid;
    vpx_svc_ref_frame_config_t rc;
    memset(&lid, 0, sizeof lid);
    memset(&rc, 0, sizeof rc);
    bool svc = e->n_sl > 1 || e->n_tl > 1;
    if (svc) {
        vpx_codec_control(&e->c, VP9E_GET_SVC_LAYER_ID, &lid);
        vpx_codec_control(&e->c, VP9E_GET_SVC_REF_FRAME_CONFIG, &rc);
    }
    int tid = svc ? lid.temporal_layer_id : 0;
    const vpx_codec_cx_pkt_t *pkt;
    vpx_codec_iter_t it = NULL;
    uint32_t ts = 0x20000000u + (uint32_t)n * FPS_TICKS;
    if (tid == 0)
        e->tl0 = (e->tl0 + 1) & 0xFF;
    while ((pkt = vpx_codec_get_cx_data(&e->c, &it))) {
        if (pkt->kind != VPX_CODEC_CX_FRAME_PKT)
            continue;
        bool key_pic = pkt->data.frame.flags & VPX_FRAME_IS_KEY;
        if (key_pic != force_key)
            die("vp9 key picture where none was asked (or none where asked)");
        const uint8_t *fr[8];
        size_t sz[8];
        int nf = split_superframe(pkt->data.frame.buf, pkt->data.frame.sz, fr, sz, 8);
        if (nf != e->n_sl)
            die("a spatial layer is missing from the superframe");
        for (int sid = 0; sid < nf; sid++) {
            int refs[3], nref = 0, pdiff[3], np = 0;
            bool ilp = false, inter = false, sync = tid > 0;
            if (svc) {
                if (rc.reference_last[sid]) refs[nref++] = rc.lst_fb_idx[sid];
                if (rc.reference_golden[sid]) refs[nref++] = rc.gld_fb_idx[sid];
                if (rc.reference_alt_ref[sid]) refs[nref++] = rc.alt_fb_idx[sid];
            } else if (!key_pic) {
                refs[nref++] = 0;
            }
            for (int i = 0; i < nref; i++) {
                int b = refs[i];
                if (e->buf[b].pic == e->pic) {
                    ilp = true;               /* the layer below, same picture */
                    continue;
                }
                int pd = e->pic - e->buf[b].pic;
                bool dup = false;
                for (int k = 0; k < np; k++)
                    dup |= pdiff[k] == pd;
                if (!dup)
                    pdiff[np++] = pd;
                inter = true;
                if (e->buf[b].tid >= tid)
                    sync = false;
            }
            if (key_pic) {
                inter = false;
                np = 0;
            }
            vp9_layer(e, fr[sid], sz[sid], ts, sid, tid, key_pic, inter, ilp, sync && !key_pic,
                      pdiff, np, sid == nf - 1);
            int upd = svc ? rc.update_buffer_slot[sid] : 1;
            if (key_pic && sid == 0 && !svc)
                upd = 0xFF;
            for (int b = 0; b < 8; b++)
                if (upd & (1 << b))
                    e->buf[b].pic = e->pic, e->buf[b].tid = tid;
        }
    }
    e->pic++;
    e->pid = (e->pid + 1) & 0x7FFF;
}

static void gen_vp9(const char *dir, const char *name, const char *about, int n_sl, int n_tl,
                    bool flexible, bool ilp_always, uint32_t ssrc, int pictures, int key2)
{
    struct stream s = { .ssrc = ssrc, .pt = 98, .seq = 40000, .mtu = 400 };
    struct vp9enc e = { 0 };
    for (int b = 0; b < 8; b++)
        e.buf[b].pic = -100;
    s.f = open_out(dir, name, about);
    vp9_open(&e, 320, 176, n_sl, n_tl, flexible, ilp_always, &s, 32765, 254);
    for (int n = 0; n < pictures; n++)
        vp9_picture(&e, n, n == 0 || n == key2);
    vpx_img_free(&e.img);
    vpx_codec_destroy(&e.c);
    fclose(s.f);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    gen_vp8_l1t3(dir);
    gen_vp8_simulcast(dir);
    gen_vp9(dir, "vp9_l3t3_key.hex", "VP9 SVC 3 spatial (80x44, 160x88, 320x176) x 3 temporal, "
            "inter-layer prediction on key pictures only (L3T3_KEY), non-flexible mode, SS with "
            "picture group on key pictures (0 and 8)", 3, 3, false, false, 0x33333333, 10, 8);
    gen_vp9(dir, "vp9_l3t3_flex.hex", "VP9 SVC 3 spatial x 3 temporal, inter-layer prediction "
            "always (full SVC), flexible mode with P_DIFFs, SS on key pictures (0 and 8)",
            3, 3, true, true, 0x44444444, 10, 8);
    gen_vp9(dir, "vp9_l1t1.hex", "VP9 320x176 single layer, no L byte, SS on key pictures "
            "(0 and 4)", 1, 1, false, false, 0x55555555, 6, 4);
    return 0;
}
