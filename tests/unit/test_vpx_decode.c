/* Unit tests for media/vpx: the streams a track forwards decode with libvpx, across a
 * simulcast switch with a temporal layer dropped, and for each VP9 spatial/temporal limit,
 * at the picture size of the layer kept. Fixtures: tests/unit/vpx_fixture.h. */
#include "tests/unit/vpx_fixture.h"

#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>

/* ---- decoding the forwarded stream ---- */

/* Frame reassembly for the decoder tests: appends a forwarded packet's codec payload. */
static struct { uint8_t b[65536]; size_t n; } g_frame;

static void collect(const struct pkt *out, const rtp_hdr_t *oh, const struct vpx_desc *od)
{
    size_t n = oh->payload_len - od->hdr_len;
    if (od->frame_start)
        g_frame.n = 0;
    assert_true(g_frame.n + n <= sizeof g_frame.b);
    memcpy(g_frame.b + g_frame.n, out->b + oh->payload_off + od->hdr_len, n);
    g_frame.n += n;
}

static vpx_image_t *decode_frame(vpx_codec_ctx_t *dec)
{
    vpx_codec_iter_t it = NULL;
    assert_int_equal(vpx_codec_decode(dec, g_frame.b, (unsigned)g_frame.n, NULL, 0), VPX_CODEC_OK);
    return vpx_codec_get_frame(dec, &it);
}

/* The forwarded VP8 stream decodes with libvpx across a simulcast switch with TL2 dropped,
 * and the picture size follows the layer. */
static void test_forwarded_vp8_decodes(void **state)
{
    (void)state;
    const uint32_t M = 0x22222221, H = 0x22222222;
    vpx_codec_ctx_t dec;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t h, oh;
    struct vpx_desc d, od;
    int frames = 0, big = 0;
    uint32_t cur = M;
    int to_h = next_key(&g_sim, next_key(&g_sim, 1, H) + 1, H);

    assert_int_equal(vpx_codec_dec_init(&dec, vpx_codec_vp8_dx(), NULL, 0), VPX_CODEC_OK);
    vpx_track_init(&t, 5);
    for (int i = 0; i < g_sim.n; i++) {
        assert_int_equal(parse(g_sim.p[i].b, g_sim.p[i].len, &h, &d), 0);
        if (i == to_h) {
            vpx_track_switch(&t);
            cur = H;
        }
        if (h.ssrc != cur)
            continue;
        if (!vpx_track_keep_tid(&t, &h, &d, 1)) {
            vpx_track_drop(&t, &h, &d);
            continue;
        }
        assert_int_equal(forward(&t, &g_sim.p[i], i, &out, &oh, &od), 0);
        collect(&out, &oh, &od);
        if (!oh.marker)
            continue;
        vpx_image_t *img = decode_frame(&dec);
        assert_non_null(img);
        assert_int_equal(img->d_w, cur == H ? 320 : 160);
        big += img->d_w == 320;
        frames++;
    }
    vpx_codec_destroy(&dec);
    /* m: frames 0-8 less TL2 (1, 3, 5, 7); h: 9 and 11 */
    assert_int_equal(frames, 7);
    assert_int_equal(big, 2);
}

/* VP9 SVC filtered to spatial layer <= max_sid: each forwarded layer frame decodes, and the
 * one carrying the marker has the size of layer max_sid. (libvpx does not check that a
 * frame's references are the ones the encoder meant, so this shows the filtered stream is
 * well formed, not that every picture is right.) */
static void decode_vp9(const struct capture *cap, int max_sid, int max_tid, int w, int h_px,
                       int expect_pictures)
{
    vpx_codec_ctx_t dec;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t h, oh;
    struct vpx_desc d, od;
    int pictures = 0;

    assert_int_equal(vpx_codec_dec_init(&dec, vpx_codec_vp9_dx(), NULL, 0), VPX_CODEC_OK);
    vpx_track_init(&t, 5);
    for (int i = 0; i < cap->n; i++) {
        bool marker;
        assert_int_equal(parse(cap->p[i].b, cap->p[i].len, &h, &d), 0);
        if (!vpx_track_keep_vp9(&t, &h, &d, max_sid, max_tid, &marker)) {
            vpx_track_drop(&t, &h, &d);
            continue;
        }
        assert_int_equal(forward(&t, &cap->p[i], i, &out, &oh, &od), 0);
        collect(&out, &oh, &od);
        if (!od.frame_end)
            continue;
        vpx_image_t *img = decode_frame(&dec);
        if (marker) {
            assert_non_null(img);
            assert_int_equal(img->d_w, w);
            assert_int_equal(img->d_h, h_px);
            pictures++;
        }
    }
    vpx_codec_destroy(&dec);
    assert_int_equal(pictures, expect_pictures);
}

static void test_forwarded_vp9_decodes(void **state)
{
    (void)state;
    /* 10 pictures, temporal pattern 0,2,1,2 from each key picture (0 and 8) */
    decode_vp9(&g_key, 2, 2, 320, 176, 10);
    decode_vp9(&g_key, 1, 2, 160, 88, 10);
    decode_vp9(&g_flex, 1, 1, 160, 88, 5);
    decode_vp9(&g_key, 0, 0, 80, 44, 3);
    decode_vp9(&g_flex, 0, 2, 80, 44, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forwarded_vp8_decodes),
        cmocka_unit_test(test_forwarded_vp9_decodes),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
