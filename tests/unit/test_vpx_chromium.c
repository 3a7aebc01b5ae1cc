/* media/vpx.c on packets captured from Chromium (tests/data/vpx/chromium_*.hex, recorded by
 * the server with MCU_VIDEO_DUMP while the browser test's publisher page ran): every packet
 * parses, keyframes and layers are where Chromium puts them, and a simulcast switch and a
 * spatial-layer filter through a track give continuous sequence numbers and picture ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtp.h"
#include "media/vpx.h"

#define MAX_PKTS 600
#define MAX_LEN 1600

struct cap {
    int n;
    bool dup[MAX_PKTS];          /* a repeat of an earlier (ssrc, seq): Chromium's RTX probes */
    size_t len[MAX_PKTS];
    uint8_t b[MAX_PKTS][MAX_LEN];
    rtp_hdr_t h[MAX_PKTS];
    struct vpx_desc d[MAX_PKTS];
};

static struct cap *cap_buf; /* reused: a failed assertion must not leak it */

static struct cap *load(const char *name, bool vp9)
{
    const char *dir = getenv("MCU_SRCDIR");
    char path[1024];
    static char line[8192];
    snprintf(path, sizeof path, "%s/tests/data/vpx/%s", dir && dir[0] ? dir : ".", name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    if (!cap_buf)
        cap_buf = malloc(sizeof *cap_buf);
    struct cap *c = cap_buf;
    assert_non_null(c);
    memset(c, 0, sizeof *c);
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        assert_true(c->n < MAX_PKTS);
        int i = c->n++;
        for (char *s = line; s[0] && s[1] && s[0] != '\n'; s += 2) {
            unsigned v;
            assert_int_equal(sscanf(s, "%2x", &v), 1);
            assert_true(c->len[i] < MAX_LEN);
            c->b[i][c->len[i]++] = (uint8_t)v;
        }
        assert_int_equal(rtp_parse(c->b[i], c->len[i], &c->h[i]), 0);
        const uint8_t *pl = c->b[i] + c->h[i].payload_off;
        int rc = vp9 ? vpx_parse_vp9(pl, c->h[i].payload_len, &c->d[i])
                     : vpx_parse_vp8(pl, c->h[i].payload_len, &c->d[i]);
        if (rc != 0)
            fail_msg("packet %d of %s: %s", i, name, vpx_strerror(rc));
        for (int j = 0; j < i && !c->dup[i]; j++)
            c->dup[i] = c->h[j].ssrc == c->h[i].ssrc && c->h[j].seq == c->h[i].seq;
    }
    fclose(f);
    assert_true(c->n > 100);
    return c;
}

/* VP8 simulcast: three SSRCs, each starting with a keyframe, picture ids per SSRC advancing
 * by one per frame, temporal layers 0..2 with TL0PICIDX counting base-layer frames. */
static void test_vp8_capture(void **state)
{
    (void)state;
    struct cap *c = load("chromium_vp8_simulcast.hex", false);
    uint32_t ssrc[3] = {0};
    int nssrc = 0, keys = 0, tids[3] = {0};
    for (int i = 0; i < c->n; i++) {
        const struct vpx_desc *d = &c->d[i];
        assert_int_equal(d->codec, VPX_VP8);
        assert_true(d->picture_id >= 0 && d->pid_15);
        assert_true(d->tid >= 0 && d->tid <= 2);
        tids[d->tid]++;
        int k;
        for (k = 0; k < nssrc && ssrc[k] != c->h[i].ssrc; k++)
            ;
        if (k == nssrc) { /* the first packet of each stream is a keyframe start */
            assert_true(nssrc < 3);
            ssrc[nssrc++] = c->h[i].ssrc;
            assert_true(d->keyframe && d->frame_start);
            assert_true(d->width > 0 && d->height > 0);
        }
        keys += d->keyframe;
        for (int j = i - 1; j >= 0 && !c->dup[i]; j--) /* the previous new packet of the stream */
            if (c->h[j].ssrc == c->h[i].ssrc && !c->dup[j]) {
                int dp = (d->picture_id - c->d[j].picture_id) & 0x7FFF;
                assert_true(dp == 0 || dp == 1);
                if ((uint16_t)(c->h[i].seq - c->h[j].seq) == 1)
                    assert_int_equal(dp, d->frame_start ? 1 : 0);
                break;
            }
    }
    assert_int_equal(nssrc, 3);
    assert_true(keys >= 3);
    assert_true(tids[0] && tids[1] && tids[2]);
    (void)c;
}

/* Forwards the lowest stream, then switches at the next keyframe start of the highest one:
 * the track's sequence numbers and picture ids run on without a gap. */
static void test_vp8_switch(void **state)
{
    (void)state;
    struct cap *c = load("chromium_vp8_simulcast.hex", false);
    uint32_t from = 0, to = 0;
    int wmin = 1 << 30, wmax = 0;
    for (int i = 0; i < c->n; i++)
        if (c->d[i].keyframe && c->d[i].width) {
            if (c->d[i].width < wmin)
                wmin = c->d[i].width, from = c->h[i].ssrc;
            if (c->d[i].width > wmax)
                wmax = c->d[i].width, to = c->h[i].ssrc;
        }
    assert_true(from && to && from != to);
    struct vpx_track t;
    vpx_track_init(&t, 0x1234);
    int sent = 0, switched = 0, last_seq = -1, last_pid = -1;
    uint32_t cur = from;
    for (int i = 0; i < c->n; i++) {
        const struct vpx_desc *d = &c->d[i];
        if (c->h[i].ssrc == to && cur == from && sent > 10 && d->keyframe && d->frame_start) {
            vpx_track_switch(&t);
            cur = to;
            switched = 1;
        }
        if (c->h[i].ssrc != cur || c->dup[i])
            continue;
        if (!sent && !(d->keyframe && d->frame_start))
            continue; /* the track starts at a keyframe */
        uint8_t buf[MAX_LEN];
        memcpy(buf, c->b[i], c->len[i]);
        rtp_hdr_t h;
        assert_int_equal(rtp_parse(buf, c->len[i], &h), 0);
        assert_int_equal(vpx_track_rewrite(&t, buf, c->len[i], &h, d, 1000 + i), 0);
        assert_int_equal(rtp_parse(buf, c->len[i], &h), 0);
        struct vpx_desc o;
        assert_int_equal(vpx_parse_vp8(buf + h.payload_off, h.payload_len, &o), 0);
        assert_int_equal(h.ssrc, 0x1234);
        if (last_seq >= 0) {
            assert_int_equal((uint16_t)(last_seq + 1), h.seq);
            assert_int_equal((last_pid + (o.frame_start ? 1 : 0)) & 0x7FFF, o.picture_id);
        }
        last_seq = h.seq;
        last_pid = o.picture_id;
        sent++;
    }
    assert_true(switched);
    assert_true(sent > 60);
    (void)c;
}

/* VP9 L3T3_KEY: one SSRC, the keyframe carries the scalability structure with three
 * spatial layers; spatial and temporal ids stay in range. */
static void test_vp9_capture(void **state)
{
    (void)state;
    struct cap *c = load("chromium_vp9_l3t3_key.hex", true);
    int sids[3] = {0}, keys = 0, max_ns = 0;
    for (int i = 0; i < c->n; i++) {
        const struct vpx_desc *d = &c->d[i];
        assert_int_equal(d->codec, VPX_VP9);
        assert_int_equal(c->h[i].ssrc, c->h[0].ssrc);
        assert_true(d->sid >= 0 && d->sid <= 2 && d->tid >= 0 && d->tid <= 2);
        sids[d->sid]++;
        if (d->keyframe) {
            keys++;
            assert_int_equal(d->sid, 0);
            assert_true(d->ss_n_s >= 1 && d->ss_n_s <= 3); /* Chromium starts with S0 only */
            if (d->ss_n_s > max_ns)
                max_ns = d->ss_n_s;
            for (int k = 1; k < d->ss_n_s; k++)
                assert_true(d->ss_width[k - 1] < d->ss_width[k]);
        }
    }
    assert_true(c->d[0].keyframe);
    assert_true(keys >= 2);
    assert_int_equal(max_ns, 3);
    assert_true(sids[0] && sids[1] && sids[2]);
    (void)c;
}

/* Keeping spatial layers 0 and 1: no packet of layer 2 goes out, sequence numbers stay
 * continuous, and each picture's last kept packet carries the marker. */
static void test_vp9_filter(void **state)
{
    (void)state;
    struct cap *c = load("chromium_vp9_l3t3_key.hex", true);
    struct vpx_track t;
    vpx_track_init(&t, 0x99);
    int last_seq = -1, kept = 0, markers = 0;
    for (int i = 0; i < c->n; i++) {
        const struct vpx_desc *d = &c->d[i];
        if (c->dup[i])
            continue;
        bool marker = c->h[i].marker;
        if (!vpx_track_keep_vp9(&t, &c->h[i], d, 1, 2, &marker)) {
            vpx_track_drop(&t, &c->h[i], d);
            continue;
        }
        assert_true(d->sid <= 1);
        uint8_t buf[MAX_LEN];
        memcpy(buf, c->b[i], c->len[i]);
        rtp_hdr_t h;
        assert_int_equal(rtp_parse(buf, c->len[i], &h), 0);
        assert_int_equal(vpx_track_rewrite(&t, buf, c->len[i], &h, d, 1000 + i), 0);
        assert_int_equal(rtp_parse(buf, c->len[i], &h), 0);
        if (last_seq >= 0)
            assert_int_equal((uint16_t)(last_seq + 1), h.seq);
        last_seq = h.seq;
        kept++;
        if (marker) {
            markers++;
            assert_true(d->sid <= 1); /* layer 1's end, or S0's while only S0 ran */
            assert_true(d->frame_end);
        }
    }
    assert_true(kept > 50 && kept < c->n);
    assert_true(markers > 5);
    (void)c;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vp8_capture),
        cmocka_unit_test(test_vp8_switch),
        cmocka_unit_test(test_vp9_capture),
        cmocka_unit_test(test_vp9_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
