/* Unit tests of the recorder's depacketizer (media/rec_depack.c, media/rec_vp9.c): ordering,
 * losses, sequence wraps and restarts on synthetic VP8 packets; VP9 SVC pictures from the
 * libvpx fixtures (tests/data/vpx) and from a Chromium capture become superframes that FFmpeg
 * decodes into one frame per picture, identical to the top layer libvpx gives for the
 * original layer frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>

#include "media/rec_depack.h"
#include "media/rtp.h"

static struct rec_depack *g_d;  /* 1.5 MB: allocated once */

/* ---- synthetic VP8 ---- */

/* A VP8 packet: descriptor with S on frame starts and a 15-bit picture id (ts / 3000); a
 * start carries the 10-byte frame header (keyframe: 320x180); the rest is `fill`. */
static size_t mk_vp8(uint8_t *b, uint16_t seq, uint32_t ts, bool marker, bool start, bool key,
                     uint8_t fill, size_t plen)
{
    uint16_t pid = (uint16_t)(ts / 3000);
    static const uint8_t kf[10] = { 0x00, 0, 0, 0x9D, 0x01, 0x2A, 64, 1, 180, 0 };
    b[0] = 0x80, b[1] = (uint8_t)((marker ? 0x80 : 0) | 96);
    b[2] = (uint8_t)(seq >> 8), b[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++)
        b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
    b[8] = b[9] = b[10] = b[11] = 7;
    b[12] = start ? 0x90 : 0x80;
    b[13] = 0x80;
    b[14] = (uint8_t)(0x80 | pid >> 8), b[15] = (uint8_t)pid;
    memset(b + 16, fill, plen);
    if (start) {
        memcpy(b + 16, kf, 10);
        b[16] = key ? 0x00 : 0x01;
    }
    return 16 + plen;
}

/* Pushes packet i (0..2) of 3-packet frame f (frame 0 and `keys` are keyframes). */
static int push_pkt(uint16_t seq0, int f, int i, bool key, int64_t t)
{
    uint8_t b[200];
    size_t n = mk_vp8(b, (uint16_t)(seq0 + 3 * f + i), (uint32_t)(3000 * f), i == 2, i == 0, key,
                      (uint8_t)(16 * f + i), 100);
    return rec_depack_push(g_d, VPX_VP8, b, n, t);
}

/* The same with 4 sequence numbers per frame, the 4th never sent. */
static int push_pkt4(int f, int i, bool key, int64_t t)
{
    uint8_t b[200];
    size_t n = mk_vp8(b, (uint16_t)(4 * f + i), (uint32_t)(3000 * f), i == 2, i == 0, key,
                      (uint8_t)(16 * f + i), 100);
    return rec_depack_push(g_d, VPX_VP8, b, n, t);
}

static int pop_all(int64_t t, bool flush, int *frames, int *keys)
{
    struct rec_dp_frame f;
    int n = 0;
    while (rec_depack_pop(g_d, t, flush, &f) == 1) {
        assert_int_equal(f.len, 300);          /* three 100-byte payloads */
        frames[n] = (int)(f.rtp_ts / 3000);
        keys[n++] = f.keyframe;
        if (f.keyframe) {
            assert_int_equal(f.width, 320);
            assert_int_equal(f.height, 180);
        }
        assert_int_equal(f.data[50], (uint8_t)(16 * frames[n - 1]));
        assert_int_equal(f.data[250], (uint8_t)(16 * frames[n - 1] + 2));
    }
    return n;
}

static void test_depack_in_order(void **state)
{
    (void)state;
    int fr[16], key[16], total = 0;
    rec_depack_init(g_d, 100);
    for (int f = 0; f < 5; f++)
        for (int i = 0; i < 3; i++) {
            assert_int_equal(push_pkt(100, f, i, f == 0, f), 0);
            int n = pop_all(f, false, fr + total, key + total);
            assert_int_equal(n, i == 2 ? 1 : 0);   /* out as soon as the marker is in */
            total += n;
        }
    assert_int_equal(total, 5);
    for (int f = 0; f < 5; f++)
        assert_int_equal(fr[f], f);
    assert_true(key[0] && !key[1]);
    assert_int_equal(rec_depack_stats(g_d).frames, 5);
}

/* Reordered packets wait for each other; a lost one is waited for wait_ms, then its frame and
 * everything up to the next keyframe are dropped; the straggler is refused. */
static void test_depack_reorder_loss(void **state)
{
    (void)state;
    int fr[16], key[16];
    rec_depack_init(g_d, 100);
    for (int i = 0; i < 3; i++)
        push_pkt(0, 0, i, true, 0);
    assert_int_equal(pop_all(0, false, fr, key), 1);
    push_pkt(0, 1, 2, false, 10);
    push_pkt(0, 1, 0, false, 10);
    assert_int_equal(pop_all(10, false, fr, key), 0);
    push_pkt(0, 1, 1, false, 11);
    assert_int_equal(pop_all(11, false, fr, key), 1);
    assert_int_equal(fr[0], 1);
    push_pkt(0, 2, 0, false, 20);              /* frame 2 loses packet 1 */
    push_pkt(0, 2, 2, false, 20);
    for (int i = 0; i < 3; i++)
        push_pkt(0, 3, i, false, 30);
    assert_int_equal(pop_all(30, false, fr, key), 0);   /* waits from packet 2's arrival */
    assert_int_equal(pop_all(119, false, fr, key), 0);
    assert_int_equal(rec_depack_stats(g_d).lost_packets, 0);
    assert_int_equal(pop_all(120, false, fr, key), 0);   /* given up; frame 3 is no keyframe */
    assert_int_equal(rec_depack_stats(g_d).lost_packets, 1);
    assert_int_equal(push_pkt(0, 2, 1, false, 131), REC_DP_ERR_LATE);
    for (int i = 0; i < 3; i++)
        push_pkt(0, 4, i, true, 140);
    assert_int_equal(pop_all(140, false, fr, key), 1);
    assert_true(fr[0] == 4 && key[0]);
    assert_true(rec_depack_stats(g_d).dropped_frames >= 2);
}

/* Without markers a frame ends where the next begins; sequence numbers wrap; a duplicate is
 * refused; a jump past the window gives up what it skips. */
static void test_depack_no_marker_wrap_window(void **state)
{
    (void)state;
    uint8_t b[200];
    struct rec_dp_frame f;
    rec_depack_init(g_d, 100);
    uint16_t seq = 65533;
    for (int fr = 0; fr < 4; fr++)
        for (int i = 0; i < 2; i++, seq++) {
            size_t n = mk_vp8(b, seq, (uint32_t)(fr * 3000), false, i == 0, fr == 0, 1, 50);
            assert_int_equal(rec_depack_push(g_d, VPX_VP8, b, n, fr), 0);
            if (i == 0 && fr > 0) {
                assert_int_equal(rec_depack_pop(g_d, fr, false, &f), 1);
                assert_int_equal(f.rtp_ts, (uint32_t)(fr - 1) * 3000);
                assert_int_equal(f.len, 100);
            }
        }
    size_t n = mk_vp8(b, (uint16_t)(seq - 1), 9000, false, false, false, 1, 50);
    assert_int_equal(rec_depack_push(g_d, VPX_VP8, b, n, 5), REC_DP_ERR_DUP);
    n = mk_vp8(b, (uint16_t)(seq + 600), 90000, true, true, false, 1, 50);
    assert_int_equal(rec_depack_push(g_d, VPX_VP8, b, n, 6), 0);
    assert_int_equal(rec_depack_pop(g_d, 6, false, &f), 0);   /* waits for the gap */
    assert_int_equal(rec_depack_pop(g_d, 106, false, &f), 0); /* then: not a keyframe */
    assert_int_equal(rec_depack_stats(g_d).lost_packets, 600);
    n = mk_vp8(b, (uint16_t)(seq + 601), 93000, true, true, true, 1, 50);
    rec_depack_push(g_d, VPX_VP8, b, n, 107);
    assert_int_equal(rec_depack_pop(g_d, 107, false, &f), 1);
    assert_true(f.keyframe);
    assert_int_equal(rec_depack_push(g_d, 0, b, n, 8), REC_DP_ERR_PARSE);
    assert_int_equal(rec_depack_push(g_d, VPX_VP8, b, 11, 8), REC_DP_ERR_PARSE);
}

/* Sequence numbers missing between frames (padding left out) cost a wait but no frame while
 * the picture ids follow; a whole frame missing (an id skipped) waits for a keyframe. */
static void test_depack_gap_between_frames(void **state)
{
    (void)state;
    int fr[16], key[16], got = 0;
    rec_depack_init(g_d, 100);
    for (int f = 0; f < 3; f++)                /* 4 numbers per frame: one never comes */
        for (int i = 0; i < 3; i++)
            push_pkt4(f, i, f == 0, 10 * f);
    got += pop_all(20, false, fr, key);
    assert_int_equal(got, 1);
    got += pop_all(109, false, fr, key);       /* seq 3 is given up at 110, seq 7 at 120 */
    assert_int_equal(got, 1);
    got += pop_all(110, false, fr, key);
    assert_int_equal(got, 2);
    got += pop_all(120, false, fr, key);
    assert_int_equal(got, 3);
    assert_int_equal(rec_depack_stats(g_d).lost_packets, 2);
    for (int f = 4; f < 6; f++)                /* frame 3 is lost whole */
        for (int i = 0; i < 3; i++)
            push_pkt4(f, i, false, 300);
    assert_int_equal(pop_all(300, false, fr, key), 0);
    assert_int_equal(pop_all(500, false, fr, key), 0);
    for (int i = 0; i < 3; i++)
        push_pkt4(6, i, true, 600);
    assert_int_equal(pop_all(699, false, fr, key), 0);   /* the number before it is missing */
    assert_int_equal(pop_all(700, false, fr, key), 1);
    assert_true(key[0]);
}

/* A sender that restarts its numbering far back is followed after REC_DP_RESYNC packets. */
static void test_depack_resync(void **state)
{
    (void)state;
    int fr[64], key[64];
    rec_depack_init(g_d, 100);
    for (int i = 0; i < 3; i++)
        push_pkt(30000, 0, i, true, 0);
    assert_int_equal(pop_all(0, false, fr, key), 1);
    int refused = 0, got = 0;
    for (int f = 0; f < 30; f++)
        for (int i = 0; i < 3; i++) {
            refused += push_pkt(1000, f, i, f % 10 == 5, 10 + f) == REC_DP_ERR_LATE;
            got += pop_all(10 + f, false, fr, key);
        }
    assert_int_equal(refused, REC_DP_RESYNC - 1);
    assert_int_equal(got, 5);                  /* from the keyframe at frame 25 on */
}

/* ---- VP9 SVC ---- */

struct cap {
    int n;
    size_t len[700];
    uint8_t b[700][1300];
};

static struct cap *load(const char *name)
{
    static struct cap c;
    static char line[8192];
    const char *dir = getenv("MCU_SRCDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/vpx/%s", dir && dir[0] ? dir : ".", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    c.n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_true(c.n < 700);
        size_t *len = &c.len[c.n];
        *len = 0;
        for (char *s = line; s[0] && s[1] && s[0] != ' ' && s[0] != '\n'; s += 2) {
            unsigned v;
            assert_int_equal(sscanf(s, "%2x", &v), 1);
            assert_true(*len < sizeof c.b[0]);
            c.b[c.n][(*len)++] = (uint8_t)v;
        }
        c.n++;
    }
    fclose(f);
    return &c;
}

static uint64_t hash_y(const uint8_t *p, int stride, int w, int h)
{
    uint64_t x = 1469598103934665603ull;
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++)
            x = (x ^ p[y * stride + i]) * 1099511628211ull;
    return x;
}

/* Reference: libvpx decodes the original layer frames one by one; the hash of each shown
 * top-layer frame (the last layer frame of a picture) in ref[]. Returns the count. */
static int reference(const struct cap *c, uint64_t *ref, int max)
{
    static uint8_t fr[1 << 20];
    static bool seen[65536];
    size_t n = 0;
    int out = 0;
    memset(seen, 0, sizeof seen);
    vpx_codec_ctx_t dec;
    assert_int_equal(vpx_codec_dec_init(&dec, vpx_codec_vp9_dx(), NULL, 0), VPX_CODEC_OK);
    for (int i = 0; i < c->n; i++) {
        rtp_hdr_t h;
        struct vpx_desc d;
        assert_int_equal(rtp_parse(c->b[i], c->len[i], &h), 0);
        assert_int_equal(vpx_parse_vp9(c->b[i] + h.payload_off, h.payload_len, &d), 0);
        if (seen[h.seq])
            continue;                          /* Chromium's RTX probes repeat packets */
        seen[h.seq] = true;
        if (d.frame_start)
            n = 0;
        memcpy(fr + n, c->b[i] + h.payload_off + d.hdr_len, h.payload_len - d.hdr_len);
        n += h.payload_len - d.hdr_len;
        if (!d.frame_end)
            continue;
        bool top = h.marker;
        if (vpx_codec_decode(&dec, fr, (unsigned)n, NULL, 0) != VPX_CODEC_OK)
            continue;
        vpx_codec_iter_t it = NULL;
        vpx_image_t *img = vpx_codec_get_frame(&dec, &it);
        if (top && img && out < max)
            ref[out++] = hash_y(img->planes[0], img->stride[0], (int)img->d_w, (int)img->d_h);
    }
    vpx_codec_destroy(&dec);
    return out;
}

/* Depacketizes c (duplicates included) and decodes every superframe with FFmpeg: one frame per
 * picture, of the size the depacketizer reported, matching ref[]. Returns the pictures. */
static int depack_and_decode(const struct cap *c, const uint64_t *ref, int n_ref, int layers)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_VP9);
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    AVPacket *p = av_packet_alloc();
    AVFrame *fr = av_frame_alloc(), *more = av_frame_alloc();
    struct rec_dp_frame f;
    int pics = 0, multi = 0;
    ctx->err_recognition = AV_EF_EXPLODE;
    assert_int_equal(avcodec_open2(ctx, codec, NULL), 0);
    rec_depack_init(g_d, 100);
    for (int i = 0; i <= c->n; i++) {
        if (i < c->n)
            rec_depack_push(g_d, VPX_VP9, c->b[i], c->len[i], i);
        while (rec_depack_pop(g_d, i, i == c->n, &f) == 1) {
            multi += f.layers > 1;
            assert_int_equal(av_new_packet(p, (int)f.len), 0);
            memcpy(p->data, f.data, f.len);
            assert_int_equal(avcodec_send_packet(ctx, p), 0);
            av_packet_unref(p);
            assert_int_equal(avcodec_receive_frame(ctx, fr), 0);   /* exactly one frame */
            assert_int_equal(avcodec_receive_frame(ctx, more), AVERROR(EAGAIN));
            assert_int_equal(fr->decode_error_flags, 0);
            assert_int_equal(fr->width, f.width);
            assert_int_equal(fr->height, f.height);
            assert_true(pics < n_ref);
            assert_true(hash_y(fr->data[0], fr->linesize[0], fr->width, fr->height) == ref[pics]);
            pics++;
        }
    }
    assert_true(multi >= pics - 1 || layers == 1);
    av_frame_free(&fr);
    av_frame_free(&more);
    av_packet_free(&p);
    avcodec_free_context(&ctx);
    return pics;
}

static void test_depack_vp9_fixtures(void **state)
{
    (void)state;
    static const char *const names[] = { "vp9_l3t3_key.hex", "vp9_l3t3_flex.hex", "vp9_l1t1.hex" };
    static uint64_t ref[256];
    for (int k = 0; k < 3; k++) {
        const struct cap *c = load(names[k]);
        int n_ref = reference(c, ref, 256);
        assert_true(n_ref >= 5);
        assert_int_equal(depack_and_decode(c, ref, n_ref, k == 2 ? 1 : 3), n_ref);
    }
}

/* Chromium's L3T3_KEY stream as the server received it: RTX probe duplicates, a key picture
 * of the base layer only, a picture without its middle layer, a truncated last picture. */
static void test_depack_chromium_svc(void **state)
{
    (void)state;
    static uint64_t ref[256];
    const struct cap *c = load("chromium_vp9_l3t3_key.hex");
    int n_ref = reference(c, ref, 256);
    int pics = depack_and_decode(c, ref, n_ref, 3);
    assert_int_equal(pics, 38);                /* 39 pictures, the last one incomplete */
    assert_true(rec_depack_stats(g_d).rejected >= 6);   /* the duplicates */
}

static int setup(void **state)
{
    (void)state;
    g_d = malloc(sizeof(*g_d));
    av_log_set_level(AV_LOG_ERROR);
    return g_d ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(g_d);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depack_in_order),
        cmocka_unit_test(test_depack_reorder_loss),
        cmocka_unit_test(test_depack_no_marker_wrap_window),
        cmocka_unit_test(test_depack_resync),
        cmocka_unit_test(test_depack_gap_between_frames),
        cmocka_unit_test(test_depack_vp9_fixtures),
        cmocka_unit_test(test_depack_chromium_svc),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
