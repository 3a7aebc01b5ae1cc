/* Unit tests for media/vpx: VP8/VP9 payload descriptor parsing and the per-track rewriter.
 * Vectors: hand-assembled descriptors following the RFC 7741 / RFC 9628 bit layouts (each
 * byte explained where it is written), and the packets in the .hex files of tests/data/vpx. Those are
 * NOT browser captures: tests/data/vpx/gen.c encoded synthetic video with libvpx 1.12 (VP8
 * with 3 temporal layers, VP8 simulcast, VP9 L3T3_KEY non-flexible with SS, VP9 full SVC
 * flexible) and packetized it the way libwebrtc does; each line carries what the packetizer
 * wrote, which the parser is checked against. Fixtures are found under $MCU_SRCDIR. */
#include "tests/unit/vpx_fixture.h"

static void check_meta(const struct pkt *p, const struct vpx_desc *d, const rtp_hdr_t *h)
{
    const struct meta *m = &p->m;
    assert_int_equal(d->keyframe, m->key);
    assert_int_equal(d->frame_start, m->start);
    assert_int_equal(d->tid, m->tid);
    assert_int_equal(d->sid, m->sid);
    assert_int_equal(d->picture_id, m->pid);
    assert_true(d->pid_15);
    assert_int_equal(d->tl0picidx, m->tl0);
    assert_int_equal(d->layer_sync, m->sync);
    assert_int_equal(d->width, m->w);
    assert_int_equal(d->height, m->h);
    if (d->codec == VPX_VP9) {
        assert_int_equal(d->frame_end, m->end);
        assert_int_equal(d->inter_pic, m->inter);
        assert_int_equal(d->inter_layer, m->ilp);
        /* libwebrtc's marker: end of the top spatial layer's frame */
        if (h->marker)
            assert_true(d->frame_end);
    } else {
        assert_int_equal(h->marker, m->end);
    }
}

/* ---- parsing the generated streams ---- */

static void test_vp8_streams(void **state)
{
    (void)state;
    const struct capture *caps[] = { &g_vp8, &g_sim };
    rtp_hdr_t h;
    struct vpx_desc d;
    int keys = 0, tid2 = 0, sync = 0;

    for (int c = 0; c < 2; c++)
        for (int i = 0; i < caps[c]->n; i++) {
            const struct pkt *p = &caps[c]->p[i];
            assert_int_equal(parse(p->b, p->len, &h, &d), 0);
            assert_int_equal(d.codec, VPX_VP8);
            check_meta(p, &d, &h);
            /* X|I|M-pid(2)|L|T: every field at its libwebrtc place */
            assert_int_equal(d.hdr_len, 6);
            assert_int_equal(d.pid_off, 2);
            assert_int_equal(d.tl0_off, 4);
            /* TL2 frames update no reference buffer in gen.c, so they carry N */
            assert_int_equal(d.not_ref, d.tid == 2);
            keys += d.keyframe;
            tid2 += d.tid == 2;
            sync += d.layer_sync;
        }
    assert_int_equal(keys, 2 + 6);
    assert_true(tid2 > 10);
    assert_true(sync > 4);
}

static void test_vp9_streams(void **state)
{
    (void)state;
    const struct capture *caps[] = { &g_key, &g_flex, &g_l1 };
    rtp_hdr_t h;
    struct vpx_desc d;

    for (int c = 0; c < 3; c++) {
        int keys = 0, ss = 0;
        for (int i = 0; i < caps[c]->n; i++) {
            const struct pkt *p = &caps[c]->p[i];
            assert_int_equal(parse(p->b, p->len, &h, &d), 0);
            assert_int_equal(d.codec, VPX_VP9);
            check_meta(p, &d, &h);
            assert_int_equal(d.flexible, c == 1);
            assert_int_equal(d.pid_off, 1);
            assert_int_equal(d.tl0_off, c == 0 ? 4 : 0);
            if (c == 1)
                assert_int_equal(d.n_pdiff > 0, d.inter_pic);
            if (d.ss_n_s) {
                ss++;
                assert_true(d.keyframe);
                if (c < 2) {
                    assert_int_equal(d.ss_n_s, 3);
                    assert_int_equal(d.ss_width[0], 80);
                    assert_int_equal(d.ss_height[0], 44);
                    assert_int_equal(d.ss_width[2], 320);
                    assert_int_equal(d.ss_height[2], 176);
                } else {
                    assert_int_equal(d.ss_n_s, 1);
                    assert_int_equal(d.ss_width[0], 320);
                }
            }
            keys += d.keyframe;
        }
        assert_int_equal(keys, 2);
        assert_int_equal(ss, 2);
    }
}

/* ---- hand-assembled vectors (RFC 7741 section 4.2, RFC 9628 section 4.2) ---- */

static void test_vp8_rfc(void **state)
{
    (void)state;
    struct vpx_desc d;

    /* shortest form: X=0 S=1 PID=0, then a frame tag with P=0 (keyframe) */
    static const uint8_t min[] = { 0x10, 0x00 };
    assert_int_equal(vpx_parse_vp8(min, sizeof min, &d), 0);
    assert_true(d.frame_start && d.keyframe);
    assert_int_equal(d.hdr_len, 1);
    assert_int_equal(d.picture_id, -1);
    assert_int_equal(d.tl0picidx, -1);
    assert_int_equal(d.pid_off, 0);

    /* X=1 N=1 S=1 PID=0 | I L T K | M=0 pid 0x55 | TL0PICIDX 0x20 | TID=2 Y=1 KEYIDX=5 |
     * frame tag with P=1 (interframe) */
    static const uint8_t full[] = { 0xB0, 0xF0, 0x55, 0x20, 0xA5, 0x01 };
    assert_int_equal(vpx_parse_vp8(full, sizeof full, &d), 0);
    assert_true(d.frame_start && !d.keyframe && d.not_ref && !d.pid_15);
    assert_int_equal(d.picture_id, 0x55);
    assert_int_equal(d.pid_off, 2);
    assert_int_equal(d.tl0picidx, 0x20);
    assert_int_equal(d.tl0_off, 3);
    assert_int_equal(d.tid, 2);
    assert_true(d.layer_sync);
    assert_int_equal(d.hdr_len, 5);

    /* K without T: the byte is there but TID/Y mean nothing; M=1 15-bit id 0x1234 */
    static const uint8_t konly[] = { 0x90, 0x90, 0x92, 0x34, 0xE5, 0x01 };
    assert_int_equal(vpx_parse_vp8(konly, sizeof konly, &d), 0);
    assert_int_equal(d.picture_id, 0x1234);
    assert_true(d.pid_15);
    assert_int_equal(d.tid, 0);
    assert_false(d.layer_sync);
    assert_int_equal(d.hdr_len, 5);

    /* S=1 with partition 1 is not a frame start, whatever the next byte says */
    static const uint8_t part1[] = { 0x11, 0x00 };
    assert_int_equal(vpx_parse_vp8(part1, sizeof part1, &d), 0);
    assert_false(d.frame_start || d.keyframe);

    /* keyframe header: tag (P=0, show), start code, width 640 with scale bits, height 480 */
    static const uint8_t key[] = { 0x10, 0x50, 0x04, 0x00, 0x9D, 0x01, 0x2A,
                                   0x80, 0x42, 0xE0, 0x01 };
    assert_int_equal(vpx_parse_vp8(key, sizeof key, &d), 0);
    assert_true(d.keyframe);
    assert_int_equal(d.width, 640);
    assert_int_equal(d.height, 480);
    /* a wrong start code leaves the size unknown */
    uint8_t bad[sizeof key];
    memcpy(bad, key, sizeof key);
    bad[5] = 0x02;
    assert_int_equal(vpx_parse_vp8(bad, sizeof bad, &d), 0);
    assert_true(d.keyframe);
    assert_int_equal(d.width, 0);
}

static void test_vp9_rfc(void **state)
{
    (void)state;
    struct vpx_desc d;

    /* non-flexible: I P=0 L F=0 B E=0 V Z=0 | M pid 0x0102 | TID=0 U=0 SID=0 D=0 | TL0=7 |
     * SS: N_S=1 (2 layers) Y G | 320x180 | 640x360 | N_G=2: (TID 0, U 0, R 1, 2),
     * (TID 1, U 1, R 2, 1, 3) | then a VP9 key frame header, profile 0, 320x180 */
    static const uint8_t nf[] = {
        0xAA, 0x81, 0x02, 0x00, 0x07,
        0x38, 0x01, 0x40, 0x00, 0xB4, 0x02, 0x80, 0x01, 0x68,
        0x02, 0x04, 0x02, 0x38, 0x01, 0x03,
        0x82, 0x49, 0x83, 0x42, 0x20, 0x13, 0xF0, 0x0B, 0x30,
    };
    assert_int_equal(vpx_parse_vp9(nf, sizeof nf, &d), 0);
    assert_true(d.frame_start && !d.frame_end && d.keyframe && !d.flexible);
    assert_int_equal(d.picture_id, 0x0102);
    assert_true(d.pid_15);
    assert_int_equal(d.pid_off, 1);
    assert_int_equal(d.tl0picidx, 7);
    assert_int_equal(d.tl0_off, 4);
    assert_int_equal(d.ss_n_s, 2);
    assert_int_equal(d.ss_width[1], 640);
    assert_int_equal(d.ss_height[1], 360);
    assert_int_equal(d.hdr_len, 20);
    assert_int_equal(d.width, 320);
    assert_int_equal(d.height, 180);

    /* flexible: I P L F B=0 E V=0 Z | 7-bit pid 0x11 | TID=2 U=1 SID=2 D=1 |
     * P_DIFF 1 N, P_DIFF 2 N, P_DIFF 4 | payload */
    static const uint8_t fx[] = { 0xF5, 0x11, 0x55, 0x03, 0x05, 0x08, 0xAB };
    assert_int_equal(vpx_parse_vp9(fx, sizeof fx, &d), 0);
    assert_true(d.flexible && d.inter_pic && d.frame_end && !d.frame_start && !d.keyframe);
    assert_false(d.pid_15);
    assert_int_equal(d.picture_id, 0x11);
    assert_int_equal(d.tid, 2);
    assert_true(d.layer_sync);
    assert_int_equal(d.sid, 2);
    assert_true(d.inter_layer);
    assert_int_equal(d.tl0picidx, -1);
    assert_int_equal(d.n_pdiff, 3);
    assert_int_equal(d.pdiff[0], 1);
    assert_int_equal(d.pdiff[1], 2);
    assert_int_equal(d.pdiff[2], 4);
    assert_int_equal(d.hdr_len, 6);

    /* a fourth P_DIFF, and flexible mode without a picture id, are malformed */
    static const uint8_t four[] = { 0xF5, 0x11, 0x55, 0x03, 0x05, 0x09, 0x02, 0xAB };
    assert_int_equal(vpx_parse_vp9(four, sizeof four, &d), VPX_ERR_MALFORMED);
    static const uint8_t noid[] = { 0x18, 0xAB };
    assert_int_equal(vpx_parse_vp9(noid, sizeof noid, &d), VPX_ERR_MALFORMED);

    /* SS without sizes, group of one with R=0; a base layer start with P=0 but no L byte */
    static const uint8_t ss[] = { 0x8A, 0x05, 0x08, 0x01, 0x00, 0xAB };
    assert_int_equal(vpx_parse_vp9(ss, sizeof ss, &d), 0);
    assert_int_equal(d.ss_n_s, 1);
    assert_int_equal(d.ss_width[0], 0);
    assert_int_equal(d.hdr_len, 5);
    assert_true(d.keyframe);
    assert_int_equal(d.width, 0);             /* 0xAB is no VP9 frame header */

    /* an upper layer of a key picture (P=0, D=1) is not a keyframe start */
    static const uint8_t up[] = { 0xAC, 0x85, 0x00, 0x03, 0x07, 0xAB };
    assert_int_equal(vpx_parse_vp9(up, sizeof up, &d), 0);
    assert_int_equal(d.sid, 1);
    assert_true(d.inter_layer && d.frame_start);
    assert_false(d.keyframe);
}

/* Every prefix shorter than descriptor + one payload byte is refused. */
static void check_prefixes(const uint8_t *p, size_t hdr_len, bool vp9)
{
    struct vpx_desc d;
    for (size_t n = 0; n <= hdr_len; n++) {
        int rc = vp9 ? vpx_parse_vp9(p, n, &d) : vpx_parse_vp8(p, n, &d);
        assert_int_equal(rc, VPX_ERR_TRUNCATED);
    }
    int rc = vp9 ? vpx_parse_vp9(p, hdr_len + 1, &d) : vpx_parse_vp8(p, hdr_len + 1, &d);
    assert_int_equal(rc, 0);
    assert_int_equal(d.hdr_len, hdr_len);
}

static void test_truncated(void **state)
{
    (void)state;
    rtp_hdr_t h;
    struct vpx_desc d;
    const struct capture *caps[] = { &g_vp8, &g_key, &g_flex, &g_l1 };

    /* the first packet of each stream has every field its stream uses (SS included) */
    for (int c = 0; c < 4; c++) {
        const struct pkt *p = &caps[c]->p[0];
        assert_int_equal(parse(p->b, p->len, &h, &d), 0);
        check_prefixes(p->b + h.payload_off, d.hdr_len, c > 0);
    }
    /* and a flexible-mode inter picture, for the P_DIFF bytes */
    for (int i = 0; i < g_flex.n; i++) {
        const struct pkt *p = &g_flex.p[i];
        assert_int_equal(parse(p->b, p->len, &h, &d), 0);
        if (d.n_pdiff > 0) {
            check_prefixes(p->b + h.payload_off, d.hdr_len, true);
            break;
        }
    }
    static const uint8_t fx[] = { 0xF5, 0x11, 0x55, 0x03, 0x05, 0x08, 0xAB };
    check_prefixes(fx, 6, true);
    static const uint8_t k[] = { 0x90, 0x90, 0x92, 0x34, 0xE5, 0x01 };
    check_prefixes(k, 5, false);
}

/* ---- rewriting ---- */


/* What an output stream must look like: one SSRC, consecutive sequence numbers, picture ids
 * that never go back and (where asked) step by one per picture, timestamps that never go
 * back, TL0PICIDX steps of 0 or 1. */
struct checker {
    bool any;
    uint16_t seq;
    int pid, tl0;
    uint32_t ts, ssrc;
    bool pid_step1;           /* VP8 or VP9 without dropped pictures */
};

static void check_out(struct checker *c, const rtp_hdr_t *h, const struct vpx_desc *d)
{
    if (c->any) {
        assert_int_equal(h->ssrc, c->ssrc);
        assert_int_equal(h->seq, (uint16_t)(c->seq + 1));
        assert_true((int32_t)(h->ts - c->ts) >= 0);
        if (d->picture_id >= 0 && c->pid >= 0) {
            int step = (d->picture_id - c->pid) & 0x7FFF;
            if (h->ts == c->ts)
                assert_int_equal(step, 0);
            else if (c->pid_step1)
                assert_int_equal(step, 1);
            else
                assert_true(step >= 1 && step < 8);
        }
        if (d->tl0picidx >= 0 && c->tl0 >= 0) {
            int step = (d->tl0picidx - c->tl0) & 0xFF;
            assert_true(step == 0 || step == 1);
        }
    }
    c->any = true;
    c->ssrc = h->ssrc;
    c->seq = h->seq;
    c->ts = h->ts;
    if (d->picture_id >= 0)
        c->pid = d->picture_id;
    if (d->tl0picidx >= 0)
        c->tl0 = d->tl0picidx;
}

static void test_rewrite_roundtrip(void **state)
{
    (void)state;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t h, oh;
    struct vpx_desc d, od;
    struct checker c = { .pid = -1, .tl0 = -1, .pid_step1 = true };

    vpx_track_init(&t, 0xABCDEF01);
    for (int i = 0; i < g_vp8.n; i++) {
        const struct pkt *p = &g_vp8.p[i];
        assert_int_equal(forward(&t, p, 1000 + i, &out, &oh, &od), 0);
        assert_int_equal(parse(p->b, p->len, &h, &d), 0);
        /* the first source keeps its own numbers: only the SSRC changes */
        assert_int_equal(oh.ssrc, 0xABCDEF01);
        assert_int_equal(oh.seq, h.seq);
        assert_int_equal(oh.ts, h.ts);
        assert_int_equal(od.picture_id, d.picture_id);
        assert_int_equal(od.tl0picidx, d.tl0picidx);
        /* nothing else moved: same fields, same payload bytes */
        assert_int_equal(od.hdr_len, d.hdr_len);
        assert_int_equal(od.tid, d.tid);
        assert_int_equal(od.keyframe, d.keyframe);
        assert_int_equal(oh.marker, h.marker);
        assert_memory_equal(out.b + 12, p->b + 12, p->len - 12);
        check_out(&c, &oh, &od);
    }
}

static void test_need_keyframe_and_errors(void **state)
{
    (void)state;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t oh, h;
    struct vpx_desc od, d;

    vpx_track_init(&t, 1);
    /* packet 5 is an interframe: the track waits for a keyframe start */
    assert_false(g_vp8.p[5].m.key);
    assert_int_equal(forward(&t, &g_vp8.p[5], 0, &out, &oh, &od), VPX_ERR_NEED_KEYFRAME);
    /* the keyframe's second packet is no start either */
    assert_int_equal(forward(&t, &g_vp8.p[1], 0, &out, &oh, &od), VPX_ERR_NEED_KEYFRAME);
    assert_int_equal(forward(&t, &g_vp8.p[0], 0, &out, &oh, &od), 0);
    /* another SSRC without a switch */
    assert_int_equal(forward(&t, &g_sim.p[0], 0, &out, &oh, &od), VPX_ERR_SOURCE);
    /* a descriptor that does not fit the packet */
    out = g_vp8.p[1];
    assert_int_equal(parse(out.b, out.len, &h, &d), 0);
    d.hdr_len = (uint16_t)(h.payload_len + 1);
    assert_int_equal(vpx_track_rewrite(&t, out.b, out.len, &h, &d, 0), VPX_ERR_ARG);
    d.hdr_len = 6;
    d.pid_off = 5;
    assert_int_equal(vpx_track_rewrite(&t, out.b, out.len, &h, &d, 0), VPX_ERR_ARG);
    assert_int_equal(forward(&t, &g_vp8.p[1], 0, &out, &oh, &od), 0);

    assert_string_equal(vpx_strerror(VPX_ERR_OLD), "too_old");
    assert_string_equal(vpx_strerror(VPX_ERR_PID_WIDTH), "picture_id_width");
    assert_string_equal(vpx_strerror(-99), "unknown_error");
}



/* Simulcast: forward l, switch to m at its second keyframe, then to h at its own; the
 * output is one stream with continuous numbers, and the old layer is refused afterwards. */
static void test_simulcast_switch(void **state)
{
    (void)state;
    const uint32_t L = 0x22222220, M = 0x22222221, H = 0x22222222;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t oh;
    struct vpx_desc od;
    struct checker c = { .pid = -1, .tl0 = -1, .pid_step1 = true };
    uint32_t cur = L;
    int to_m = next_key(&g_sim, 1, M);
    to_m = next_key(&g_sim, to_m + 1, M);     /* m's keyframe at frame 6 */
    int to_h = next_key(&g_sim, 1, H);
    to_h = next_key(&g_sim, to_h + 1, H);     /* h's keyframe at frame 9 */
    int switches = 0, refused = 0;
    uint32_t last_ts = 0;
    int64_t now = 5000, last_now = 0;

    assert_true(to_m > 0 && to_h > to_m);
    vpx_track_init(&t, 0x77);
    for (int i = 0; i < g_sim.n; i++, now += 11) {
        uint32_t s = ssrc_of(&g_sim.p[i]);
        if (i == to_m || i == to_h) {
            vpx_track_switch(&t);
            cur = s;
            switches++;
            /* the new source's timestamp follows by the wall-clock gap */
            assert_int_equal(forward(&t, &g_sim.p[i], now, &out, &oh, &od), 0);
            assert_int_equal(oh.ts - last_ts, (uint32_t)(now - last_now) * 90);
            check_out(&c, &oh, &od);
            last_ts = oh.ts, last_now = now;
            continue;
        }
        if (s != cur) {
            if (switches > 0 && s == L) {        /* the old layer: refused, untouched */
                assert_int_equal(forward(&t, &g_sim.p[i], now, &out, &oh, &od), VPX_ERR_SOURCE);
                refused++;
            }
            continue;
        }
        assert_int_equal(forward(&t, &g_sim.p[i], now, &out, &oh, &od), 0);
        check_out(&c, &oh, &od);
        last_ts = oh.ts, last_now = now;
    }
    assert_int_equal(switches, 2);
    assert_true(refused > 0);
    assert_int_equal(c.ssrc, 0x77);
}

/* Switching between two publishers' VP9 streams (L3T3_KEY to full SVC flexible): sequence
 * and picture ids continue; packets of the new source older than its keyframe are refused. */
static void test_vp9_source_switch(void **state)
{
    (void)state;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t oh;
    struct vpx_desc od;
    struct checker c = { .pid = -1, .tl0 = -1, .pid_step1 = true };
    int k2 = next_key(&g_flex, 1, 0x44444444);
    assert_true(k2 > 0);

    vpx_track_init(&t, 9);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(forward(&t, &g_key.p[i], i, &out, &oh, &od), 0);
        check_out(&c, &oh, &od);
    }
    int last_pid = c.pid;
    vpx_track_switch(&t);
    /* not the keyframe start: refused, the old source too */
    assert_int_equal(forward(&t, &g_flex.p[k2 + 1], 50, &out, &oh, &od), VPX_ERR_NEED_KEYFRAME);
    assert_int_equal(forward(&t, &g_key.p[20], 50, &out, &oh, &od), VPX_ERR_NEED_KEYFRAME);
    assert_int_equal(forward(&t, &g_flex.p[k2], 50, &out, &oh, &od), 0);
    assert_int_equal(od.picture_id, (last_pid + 1) & 0x7FFF);
    check_out(&c, &oh, &od);
    /* a packet of the new publisher from before its keyframe */
    assert_int_equal(forward(&t, &g_flex.p[k2 - 1], 51, &out, &oh, &od), VPX_ERR_OLD);
    for (int i = k2 + 1; i < g_flex.n; i++) {
        assert_int_equal(forward(&t, &g_flex.p[i], 52 + i, &out, &oh, &od), 0);
        check_out(&c, &oh, &od);
        assert_int_equal(od.tl0picidx, -1);   /* flexible mode has none */
    }
}

/* Temporal layer 2 dropped: the output has no gaps in sequence numbers or (VP8) picture ids,
 * and TL0PICIDX is untouched. */
static void test_drop_tl2(void **state)
{
    (void)state;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t h, oh;
    struct vpx_desc d, od;
    struct checker c = { .pid = -1, .tl0 = -1, .pid_step1 = true };
    int kept = 0, dropped = 0;

    vpx_track_init(&t, 5);
    for (int i = 0; i < g_vp8.n; i++) {
        const struct pkt *p = &g_vp8.p[i];
        assert_int_equal(parse(p->b, p->len, &h, &d), 0);
        if (!vpx_track_keep_tid(&t, &h, &d, 1)) {
            assert_int_equal(d.tid, 2);
            vpx_track_drop(&t, &h, &d);
            dropped++;
            continue;
        }
        assert_true(d.tid <= 1);
        assert_int_equal(forward(&t, p, i, &out, &oh, &od), 0);
        assert_int_equal(od.tl0picidx, d.tl0picidx);
        check_out(&c, &oh, &od);
        kept++;
    }
    assert_true(dropped > 5 && kept > 20);
}

/* The router's way (media/vrouter.c): each kept packet is rebuilt with the track's SSRC and
 * its own extensions before the rewrite; drops are told with the publisher's header. */
static void test_rebuilt_header(void **state)
{
    (void)state;
    struct vpx_track t;
    rtp_hdr_t h, oh;
    struct vpx_desc d, od;
    struct checker c = { .pid = -1, .tl0 = -1, .pid_step1 = true };
    static uint8_t b[1700];
    const uint8_t mid = '1';

    vpx_track_init(&t, 0x51);
    for (int i = 0; i < g_sim.n; i++) {
        assert_int_equal(parse(g_sim.p[i].b, g_sim.p[i].len, &h, &d), 0);
        if (h.ssrc != 0x22222221)
            continue;
        if (!vpx_track_keep_tid(&t, &h, &d, 0)) {
            vpx_track_drop(&t, &h, &d);
            continue;
        }
        rtp_ext_t ext = { .id = 3, .len = 1, .data = &mid };
        rtp_write_t w = { .marker = h.marker, .pt = 100, .seq = h.seq, .ts = h.ts,
                          .ssrc = 0x51, .ext = &ext, .ext_count = 1 };
        int off = rtp_write_header(b, sizeof b, &w);
        assert_true(off > 12);
        memcpy(b + off, g_sim.p[i].b + h.payload_off, h.payload_len);
        size_t len = (size_t)off + h.payload_len;
        assert_int_equal(rtp_parse(b, len, &oh), 0);
        assert_int_equal(vpx_track_rewrite(&t, b, len, &oh, &d, i), 0);
        assert_int_equal(rtp_parse(b, len, &oh), 0);
        assert_int_equal(vpx_parse_vp8(b + oh.payload_off, oh.payload_len, &od), 0);
        assert_int_equal(od.tid, 0);
        check_out(&c, &oh, &od);
    }
    assert_true(c.any);
}

/* Runs vp8_l1t3 through vpx_track_keep_tid with a limit and expected answer per picture. */
struct tid_step { int pid, max, keep; };

static void run_tid_plan(const struct tid_step *plan, int n)
{
    struct vpx_track t;
    rtp_hdr_t h;
    struct vpx_desc d;

    vpx_track_init(&t, 5);
    for (int i = 0, k = -1; i < g_vp8.n; i++) {
        assert_int_equal(parse(g_vp8.p[i].b, g_vp8.p[i].len, &h, &d), 0);
        k += d.frame_start;
        assert_true(k < n);
        assert_int_equal(d.picture_id, plan[k].pid);
        assert_int_equal(vpx_track_keep_tid(&t, &h, &d, plan[k].max), plan[k].keep);
    }
}

/* Going up in temporal layers waits for a sync frame (one layer at a time) or a keyframe;
 * going down is at once. vp8_l1t3 pictures, pid (tid, Y): 32764 key, 32765 (2,Y),
 * 32766 (1,Y), 32767 (2), 0 (0), 1 (2), 2 (1), 3 (2), 4 (0), 5 key, 6 (2,Y), 7 (1,Y), 8 (2),
 * 9 (0). */
static void test_tid_switching(void **state)
{
    (void)state;
    static const struct tid_step no_sync[] = {
        { 32764, 0, 1 }, { 32765, 0, 0 }, { 32766, 0, 0 }, { 32767, 0, 0 }, { 0, 0, 1 },
        { 1, 2, 0 },     /* 2 asked: TL2 is two steps up */
        { 2, 2, 0 },     /* TL1 without Y: no */
        { 3, 2, 0 }, { 4, 2, 1 },
        { 5, 2, 1 },     /* keyframe: every layer from here */
        { 6, 2, 1 }, { 7, 1, 1 }, { 8, 1, 0 }, /* down to 1: at once */
        { 9, 0, 1 },
    };
    static const struct tid_step sync[] = {
        { 32764, 0, 1 },
        { 32765, 2, 0 }, /* TL2 with Y, but two steps up */
        { 32766, 2, 1 }, /* TL1 with Y: up to 1 */
        { 32767, 2, 0 }, /* TL2 without Y: still 1 */
        { 0, 2, 1 }, { 1, 2, 0 }, { 2, 2, 1 }, { 3, 2, 0 }, { 4, 2, 1 },
        { 5, 2, 1 }, { 6, 2, 1 }, { 7, 2, 1 }, { 8, 2, 1 }, { 9, 2, 1 },
    };
    run_tid_plan(no_sync, (int)(sizeof no_sync / sizeof no_sync[0]));
    run_tid_plan(sync, (int)(sizeof sync / sizeof sync[0]));
}

/* Reordered and retransmitted packets map to the numbers of their place. */
static void test_reorder(void **state)
{
    (void)state;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t h, oh;
    struct vpx_desc d, od;
    int n = g_vp8.n;
    int order[MAX_PKTS];
    int out_seq[MAX_PKTS], out_pid[MAX_PKTS];
    bool keep[MAX_PKTS];

    /* reference: in order, TL2 dropped */
    vpx_track_init(&t, 5);
    for (int i = 0; i < n; i++) {
        assert_int_equal(parse(g_vp8.p[i].b, g_vp8.p[i].len, &h, &d), 0);
        keep[i] = d.tid <= 1;
        out_seq[i] = -1;
        if (!keep[i]) {
            vpx_track_drop(&t, &h, &d);
            continue;
        }
        assert_int_equal(forward(&t, &g_vp8.p[i], i, &out, &oh, &od), 0);
        out_seq[i] = oh.seq;
        out_pid[i] = od.picture_id;
    }

    /* reordered: swap neighbours whose first one is kept (a dropped one may overtake a kept
     * one: it is the newest seen and shifts what follows; overtaken, a drop could not) */
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i + 1 < n; i += 3)
        if (keep[i]) {
            int tmp = order[i];
            order[i] = order[i + 1];
            order[i + 1] = tmp;
        }
    vpx_track_init(&t, 5);
    int swapped = 0;
    for (int k = 0; k < n; k++) {
        int i = order[k];
        swapped += i != k;
        assert_int_equal(parse(g_vp8.p[i].b, g_vp8.p[i].len, &h, &d), 0);
        if (!keep[i]) {
            vpx_track_drop(&t, &h, &d);
            continue;
        }
        assert_int_equal(forward(&t, &g_vp8.p[i], k, &out, &oh, &od), 0);
        assert_int_equal(oh.seq, out_seq[i]);
        assert_int_equal(od.picture_id, out_pid[i]);
    }
    assert_true(swapped >= 4);

    /* retransmission of kept packets, long after: same numbers */
    for (int i = 0; i < n; i += 5) {
        if (!keep[i])
            continue;
        assert_int_equal(forward(&t, &g_vp8.p[i], 500, &out, &oh, &od), 0);
        assert_int_equal(oh.seq, out_seq[i]);
        assert_int_equal(od.picture_id, out_pid[i]);
    }
    /* a dropped packet offered again as kept: refused (its number belongs to another) */
    for (int i = 0; i < n; i++)
        if (!keep[i]) {
            assert_int_equal(forward(&t, &g_vp8.p[i], 501, &out, &oh, &od), VPX_ERR_DROPPED);
            break;
        }
}

/* A drop older than the newest packet seen cannot shift what was written: a gap remains
 * (documented), and the packets around it keep their numbers. */
static void test_late_drop_leaves_gap(void **state)
{
    (void)state;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t h, oh;
    struct vpx_desc d, od;

    vpx_track_init(&t, 5);
    /* packets 0..4 are the keyframe; 5 is a TL2 frame (one packet), 6 and 7 TL1 */
    for (int i = 0; i < 5; i++)
        assert_int_equal(forward(&t, &g_vp8.p[i], 0, &out, &oh, &od), 0);
    assert_int_equal(forward(&t, &g_vp8.p[6], 0, &out, &oh, &od), 0);
    uint16_t s6 = oh.seq;
    assert_int_equal(parse(g_vp8.p[5].b, g_vp8.p[5].len, &h, &d), 0);
    vpx_track_drop(&t, &h, &d);              /* late */
    assert_int_equal(forward(&t, &g_vp8.p[7], 0, &out, &oh, &od), 0);
    assert_int_equal(oh.seq, (uint16_t)(s6 + 1));
}

/* A minimal VP8 packet in c[0..20): X, I with a 15-bit picture id, one frame byte. */
static void mini_vp8(uint8_t *c, int seq, bool key, int pid, rtp_hdr_t *h, struct vpx_desc *d)
{
    static const uint8_t tpl[20] = { 0x80, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x90, 0x80, 0x80 };
    memcpy(c, tpl, sizeof tpl);
    c[2] = (uint8_t)(seq >> 8), c[3] = (uint8_t)seq;
    c[12] = key ? 0x90 : 0x80;                /* S only on the keyframe */
    c[15] = (uint8_t)pid;
    c[16] = key ? 0x10 : 0x11;                /* frame tag: P=0 is a keyframe */
    assert_int_equal(rtp_parse(c, 20, h), 0);
    assert_int_equal(vpx_parse_vp8(c + 12, 8, d), 0);
    assert_int_equal(d->keyframe, key);
}

/* Forgetting: after more drop runs than remembered, a very old packet is refused. */
static void test_drop_memory(void **state)
{
    (void)state;
    struct vpx_track t;
    uint8_t c[20];
    rtp_hdr_t h, o;
    struct vpx_desc d;

    vpx_track_init(&t, 5);
    mini_vp8(c, 0, true, 0, &h, &d);
    assert_int_equal(vpx_track_rewrite(&t, c, 20, &h, &d, 0), 0);
    /* seq 1..: keep even, drop odd (one run each) */
    for (int s = 1; s <= 2 * VPX_DROP_RUNS + 4; s++) {
        mini_vp8(c, s, false, s / 2, &h, &d);
        if (s & 1) {
            vpx_track_drop(&t, &h, &d);
            continue;
        }
        assert_int_equal(vpx_track_rewrite(&t, c, 20, &h, &d, 0), 0);
        assert_int_equal(rtp_parse(c, 20, &o), 0);
        assert_int_equal(o.seq, s / 2);
    }
    /* seq 2 was written long ago; the runs around it are forgotten */
    mini_vp8(c, 2, false, 1, &h, &d);
    assert_int_equal(vpx_track_rewrite(&t, c, 20, &h, &d, 0), VPX_ERR_OLD);
    /* seq 60 is still known */
    mini_vp8(c, 60, false, 30, &h, &d);
    assert_int_equal(vpx_track_rewrite(&t, c, 20, &h, &d, 0), 0);
    assert_int_equal(rtp_parse(c, 20, &o), 0);
    assert_int_equal(o.seq, 30);
}

/* A source whose picture ids are 7 bits cannot follow 15-bit ones in place. */
static void test_pid_width(void **state)
{
    (void)state;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t oh, h;
    struct vpx_desc od, d;
    /* X I | M=0 pid 5 | S keyframe tag */
    uint8_t b[] = { 0x80, 96, 0, 9, 0, 0, 0, 9, 0, 0, 0, 2, 0x90, 0x80, 0x05, 0x00 };

    vpx_track_init(&t, 5);
    assert_int_equal(forward(&t, &g_vp8.p[0], 0, &out, &oh, &od), 0);
    vpx_track_switch(&t);
    assert_int_equal(rtp_parse(b, sizeof b, &h), 0);
    assert_int_equal(vpx_parse_vp8(b + 12, 4, &d), 0);
    assert_true(d.keyframe && !d.pid_15);
    assert_int_equal(vpx_track_rewrite(&t, b, sizeof b, &h, &d, 0), VPX_ERR_PID_WIDTH);
    /* the track is unchanged: the 15-bit source still switches in */
    assert_int_equal(forward(&t, &g_vp8.p[0], 40, &out, &oh, &od), 0);
    assert_int_equal(od.picture_id, (g_vp8.p[0].m.pid + 1) & 0x7FFF);
}

/* Timestamps across a switch: the wall-clock gap at 90 kHz, at least one tick. */
static void test_switch_timestamp(void **state)
{
    (void)state;
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t oh;
    struct vpx_desc od;

    vpx_track_init(&t, 5);
    assert_int_equal(forward(&t, &g_vp8.p[0], 1000, &out, &oh, &od), 0);
    uint32_t ts0 = oh.ts;
    vpx_track_switch(&t);
    assert_int_equal(forward(&t, &g_sim.p[0], 1000, &out, &oh, &od), 0);
    assert_int_equal(oh.ts, ts0 + 1);
    vpx_track_switch(&t);
    assert_int_equal(forward(&t, &g_l1.p[0], 1250, &out, &oh, &od), 0);
    assert_int_equal(oh.ts, ts0 + 1 + 250 * 90);
    /* the clock going back is a zero gap */
    vpx_track_switch(&t);
    assert_int_equal(forward(&t, &g_key.p[0], 900, &out, &oh, &od), 0);
    assert_int_equal(oh.ts, ts0 + 2 + 250 * 90);
}

/* VP9 SVC: keep spatial layers <= max_sid; the marker goes on the last kept packet of each
 * picture; the output sequence has no gaps. */
static void run_vp9_filter(const struct capture *cap, int max_sid, int max_tid)
{
    struct vpx_track t;
    struct pkt out;
    rtp_hdr_t h, oh;
    struct vpx_desc d, od;
    struct checker c = { .pid = -1, .tl0 = -1, .pid_step1 = max_tid == 2 };
    int markers = 0, pictures = 0;
    uint32_t last_ts = 0;
    bool have_last = false, last_marker = true;

    vpx_track_init(&t, 5);
    for (int i = 0; i < cap->n; i++) {
        const struct pkt *p = &cap->p[i];
        bool marker;
        assert_int_equal(parse(p->b, p->len, &h, &d), 0);
        if (!vpx_track_keep_vp9(&t, &h, &d, max_sid, max_tid, &marker)) {
            assert_true(d.sid > max_sid || d.tid > max_tid);
            vpx_track_drop(&t, &h, &d);
            continue;
        }
        assert_true(d.sid <= max_sid && d.tid <= max_tid);
        assert_int_equal(marker, d.frame_end && (d.sid == max_sid || h.marker));
        if (have_last && h.ts != last_ts) {
            assert_true(last_marker);        /* the previous picture was closed */
            pictures++;
        }
        assert_int_equal(forward(&t, p, i, &out, &oh, &od), 0);
        rtp_set_marker(out.b, marker);
        assert_int_equal(parse(out.b, out.len, &oh, &od), 0);
        check_out(&c, &oh, &od);
        markers += marker;
        last_marker = marker;
        last_ts = h.ts, have_last = true;
    }
    assert_true(last_marker);
    assert_int_equal(markers, pictures + 1);
}

static void test_vp9_max_sid(void **state)
{
    (void)state;
    for (int sid = 0; sid <= 2; sid++) {
        run_vp9_filter(&g_key, sid, 2);
        run_vp9_filter(&g_flex, sid, 2);
        run_vp9_filter(&g_key, sid, 1);
        run_vp9_filter(&g_flex, sid, 0);
    }
}

/* Runs vp9_l3t3_key (10 pictures, key pictures 0 and 8) through vpx_track_keep_vp9 asking
 * max_first[pic] on a picture's first packet and max_later[pic] on the others; top[pic] is
 * the highest spatial layer kept. */
static void run_sid_plan(const int *max_first, const int *max_later, int *top)
{
    struct vpx_track t;
    rtp_hdr_t h;
    struct vpx_desc d;
    uint32_t ts = 0;
    bool marker;

    vpx_track_init(&t, 5);
    for (int i = 0, pic = -1; i < g_key.n; i++) {
        assert_int_equal(parse(g_key.p[i].b, g_key.p[i].len, &h, &d), 0);
        bool first = i == 0 || h.ts != ts;
        pic += first;
        ts = h.ts;
        if (first)
            top[pic] = -1;
        int max = first ? max_first[pic] : max_later[pic];
        if (vpx_track_keep_vp9(&t, &h, &d, max, 2, &marker) && d.sid > top[pic])
            top[pic] = d.sid;
    }
}

/* Spatial layers go up only at a key picture, down at the next picture. */
static void test_vp9_sid_switching(void **state)
{
    (void)state;
    static const int up[10] = { 0, 0, 2, 2, 2, 2, 2, 2, 2, 2 };
    static const int up_top[10] = { 0, 0, 0, 0, 0, 0, 0, 0, 2, 2 };
    /* down to 1 asked in the middle of picture 2: it stays whole, picture 3 has 1 */
    static const int down_first[10] = { 2, 2, 2, 1, 1, 1, 1, 1, 1, 1 };
    static const int down_later[10] = { 2, 2, 1, 1, 1, 1, 1, 1, 1, 1 };
    static const int down_top[10] = { 2, 2, 2, 1, 1, 1, 1, 1, 1, 1 };
    int top[10];

    run_sid_plan(up, up, top);
    assert_memory_equal(top, up_top, sizeof top);
    run_sid_plan(down_first, down_later, top);
    assert_memory_equal(top, down_top, sizeof top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vp8_streams),
        cmocka_unit_test(test_vp9_streams),
        cmocka_unit_test(test_vp8_rfc),
        cmocka_unit_test(test_vp9_rfc),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_rewrite_roundtrip),
        cmocka_unit_test(test_need_keyframe_and_errors),
        cmocka_unit_test(test_simulcast_switch),
        cmocka_unit_test(test_vp9_source_switch),
        cmocka_unit_test(test_drop_tl2),
        cmocka_unit_test(test_rebuilt_header),
        cmocka_unit_test(test_tid_switching),
        cmocka_unit_test(test_reorder),
        cmocka_unit_test(test_late_drop_leaves_gap),
        cmocka_unit_test(test_drop_memory),
        cmocka_unit_test(test_pid_width),
        cmocka_unit_test(test_switch_timestamp),
        cmocka_unit_test(test_vp9_max_sid),
        cmocka_unit_test(test_vp9_sid_switching),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
