/* Unit tests for media/sdp: parse recorded browser offers (tests/data/sdp: chromium_*
 * recorded from Chromium 156 via playwright, firefox_handwritten_* written by hand in
 * Firefox's format), build answers, re-parse them, and check the failure paths.
 * Fixtures are found under $MCU_SRCDIR (default: the current directory). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/sdp.h"

#define FP_OURS "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:" \
                "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99"

/* Offers are ~200 KB each: keep them off the stack. */
static sdp_offer_t g_offer, g_answer;
static char g_ans[32768];

static char *load(const char *name, size_t *len)
{
    const char *dir = getenv("MCU_SRCDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/sdp/%s", dir && dir[0] ? dir : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    char *buf = malloc(65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Copy of src with every `from` replaced by `to`; caller frees. */
static char *edit(const char *src, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), cnt = 0;
    for (const char *q = strstr(src, from); q; q = strstr(q + fl, from))
        cnt++;
    char *out = malloc(strlen(src) + cnt * (tl + 1) + 1), *d = out;
    assert_non_null(out);
    for (const char *q; (q = strstr(src, from)); src = q + fl) {
        memcpy(d, src, (size_t)(q - src));
        d += q - src;
        memcpy(d, to, tl);
        d += tl;
    }
    strcpy(d, src);
    return out;
}

/* Copy of src without the lines starting with `prefix`; caller frees. */
static char *drop_lines(const char *src, const char *prefix)
{
    char *out = malloc(strlen(src) + 1), *d = out;
    assert_non_null(out);
    while (*src) {
        const char *nl = strchr(src, '\n');
        size_t n = nl ? (size_t)(nl - src) + 1 : strlen(src);
        if (strncmp(src, prefix, strlen(prefix)) != 0) {
            memcpy(d, src, n);
            d += n;
        }
        src += n;
    }
    *d = '\0';
    return out;
}

static int parse_str(const char *s, sdp_offer_t *o)
{
    return sdp_parse_offer(s, strlen(s), o);
}

static int parse_fixture(const char *name, sdp_offer_t *o)
{
    size_t n;
    char *t = load(name, &n);
    int rc = sdp_parse_offer(t, n, o);
    free(t);
    return rc;
}

static const sdp_extmap_t *ext(const sdp_msection_t *m, sdp_ext_t e)
{
    return sdp_find_extmap(m, sdp_ext_uri(e));
}

static void default_params(sdp_answer_params_t *p)
{
    static const sdp_candidate_t cands[2] = { { "192.0.2.10", 10000 }, { "2001:db8::10", 10000 } };
    memset(p, 0, sizeof *p);
    p->ice_ufrag = "mcuU";
    p->ice_pwd = "abcdefghijklmnopqrstuvwx";
    p->fingerprint = FP_OURS;
    p->candidates = cands;
    p->n_candidates = 2;
    p->session_id = 1234567890123ULL;
    p->session_version = 2;
    p->codecs = SDP_CODEC_OPUS | SDP_CODEC_VP8 | SDP_CODEC_VP9;
    p->cname = "mcu-cname";
    for (int i = 0; i < SDP_MAX_MSECTIONS; i++)
        p->send[i] = (sdp_send_t){ 1000u + (uint32_t)i, 2000u + (uint32_t)i, "mcu", "track" };
}

/* "\r\n<line>\r\n" occurs in the answer. */
static bool has_line(const char *text, const char *line)
{
    char pat[512];
    snprintf(pat, sizeof pat, "\r\n%s\r\n", line);
    return strstr(text, pat) != NULL;
}

static void assert_crlf_only(const char *s)
{
    for (const char *q = strchr(s, '\n'); q; q = strchr(q + 1, '\n'))
        assert_true(q > s && q[-1] == '\r');
    assert_int_equal(s[strlen(s) - 1], '\n');
}

/* Builds the answer for g_offer into g_ans, re-parses it into g_answer, checks what every
 * answer must have. Returns the length. */
static int answer_and_reparse(const sdp_answer_params_t *p, sdp_choice_t *ch)
{
    int len = sdp_build_answer_ex(&g_offer, p, g_ans, sizeof g_ans, ch);
    assert_true(len > 0);
    assert_int_equal((size_t)len, strlen(g_ans));
    assert_crlf_only(g_ans);
    assert_int_equal(sdp_parse_offer(g_ans, (size_t)len, &g_answer), 0);
    assert_true(g_answer.ice_lite);
    assert_string_equal(g_answer.tp.fp_alg, "sha-256");
    assert_string_equal(g_answer.tp.fp_hex, FP_OURS);
    assert_string_equal(g_answer.tp.ice_ufrag, p->ice_ufrag);
    assert_string_equal(g_answer.tp.ice_pwd, p->ice_pwd);
    assert_int_equal(g_answer.n_m, g_offer.n_m);
    for (unsigned i = 0; i < g_offer.n_m; i++) {
        assert_string_equal(g_answer.m[i].mid, g_offer.m[i].mid);
        assert_int_equal(g_answer.m[i].port != 0, ch->m[i].accepted);
        assert_int_equal(g_answer.m[i].in_bundle, ch->m[i].accepted);
        if (ch->m[i].accepted) {
            assert_true(g_answer.m[i].rtcp_mux);
            assert_true(g_answer.m[i].end_of_candidates);
            assert_int_equal(g_answer.m[i].n_candidates, p->n_candidates);
        }
    }
    return len;
}

static void check_codec(const sdp_msection_t *m, int pt, const char *name, uint32_t clock,
                        int channels)
{
    const sdp_codec_t *k = sdp_find_codec(m, pt);
    assert_non_null(k);
    assert_true(k->has_rtpmap);
    assert_string_equal(k->name, name);
    assert_int_equal(k->clock, clock);
    assert_int_equal(k->channels, channels);
}

#define ALL_FB \
    (SDP_FB_NACK | SDP_FB_NACK_PLI | SDP_FB_CCM_FIR | SDP_FB_GOOG_REMB | SDP_FB_TRANSPORT_CC)

/* ---- recorded offers ---- */

static void test_chromium_av_parse(void **state)
{
    (void)state;
    assert_int_equal(parse_fixture("chromium_av.sdp", &g_offer), 0);
    sdp_offer_t *o = &g_offer;
    assert_int_equal(o->session_id, 7632228987360909470ULL);
    assert_int_equal(o->n_bundle, 2);
    assert_string_equal(o->bundle[0], "0");
    assert_string_equal(o->bundle[1], "1");
    assert_int_equal(o->bundle_tag, 0);
    assert_string_equal(o->tp.ice_ufrag, "XoGb");
    assert_string_equal(o->tp.ice_pwd, "zXn8LuUrehtMWhu+hr+t0koC");
    assert_string_equal(o->tp.fp_alg, "sha-256");
    assert_int_equal(o->tp.fp_len, 32);
    assert_int_equal(o->tp.fp[0], 0x01);
    assert_int_equal(o->tp.fp[31], 0x98);
    assert_int_equal(o->tp.setup, SDP_SETUP_ACTPASS);
    assert_int_equal(o->n_m, 2);

    const sdp_msection_t *a = &o->m[0];
    assert_int_equal(a->kind, SDP_KIND_AUDIO);
    assert_int_equal(a->port, 9);
    assert_string_equal(a->proto, "UDP/TLS/RTP/SAVPF");
    assert_string_equal(a->mid, "0");
    assert_int_equal(a->dir, SDP_DIR_SENDRECV);
    assert_true(a->rtcp_mux && a->rtcp_rsize && a->in_bundle);
    assert_string_equal(a->msid_stream, "ce0874ab-f288-4cdf-a94c-450b32f6ba6b");
    assert_string_equal(a->msid_track, "b822894a-64ad-40c1-9f8d-6e088fb4f20c");
    assert_int_equal(a->n_codecs, 8);
    assert_int_equal(a->codecs[0].pt, 111);
    check_codec(a, 111, "opus", 48000, 2);
    assert_int_equal(sdp_find_codec(a, 111)->fb, SDP_FB_TRANSPORT_CC);
    assert_string_equal(sdp_find_codec(a, 111)->fmtp, "minptime=10;useinbandfec=1");
    check_codec(a, 0, "PCMU", 8000, 1);
    check_codec(a, 126, "telephone-event", 8000, 1);
    assert_int_equal(a->n_extmaps, 4);
    assert_int_equal(ext(a, SDP_EXT_AUDIO_LEVEL)->id, 1);
    assert_int_equal(ext(a, SDP_EXT_MID)->id, 4);
    assert_int_equal(a->n_ssrcs, 1);
    assert_int_equal(a->ssrcs[0].ssrc, 772489867u);
    assert_string_equal(a->ssrcs[0].cname, "IN7UyQNH1Up1CXhB");
    assert_string_equal(a->ssrcs[0].msid_track, "b822894a-64ad-40c1-9f8d-6e088fb4f20c");

    const sdp_msection_t *v = &o->m[1];
    assert_int_equal(v->kind, SDP_KIND_VIDEO);
    assert_string_equal(v->mid, "1");
    assert_int_equal(v->n_codecs, 23);
    assert_int_equal(v->codecs_dropped, 0);
    check_codec(v, 96, "VP8", 90000, 1);
    assert_int_equal(sdp_find_codec(v, 96)->fb, ALL_FB);
    check_codec(v, 97, "rtx", 90000, 1);
    assert_int_equal(sdp_find_codec(v, 97)->apt, 96);
    check_codec(v, 98, "VP9", 90000, 1);
    assert_int_equal(sdp_find_codec(v, 98)->profile_id, 0);
    assert_int_equal(sdp_find_codec(v, 100)->profile_id, 2);
    assert_int_equal(sdp_find_codec(v, 99)->apt, 98);
    assert_int_equal(sdp_find_codec(v, 96)->apt, -1);
    check_codec(v, 120, "ulpfec", 90000, 1);
    assert_int_equal(v->n_extmaps, 11);
    assert_int_equal(ext(v, SDP_EXT_RID)->id, 10);
    assert_int_equal(ext(v, SDP_EXT_REPAIRED_RID)->id, 11);
    assert_int_equal(ext(v, SDP_EXT_TWCC)->id, 3);
    assert_int_equal(ext(v, SDP_EXT_ABS_SEND_TIME)->id, 2);
    assert_int_equal(v->n_ssrcs, 2);
    assert_int_equal(v->n_ssrc_groups, 1);
    assert_string_equal(v->ssrc_groups[0].semantics, "FID");
    assert_int_equal(v->ssrc_groups[0].ssrcs[0], 1009181261u);
    assert_int_equal(v->ssrc_groups[0].ssrcs[1], 4266193554u);
    assert_int_equal(v->n_rids, 0);
}

static void test_chromium_av_answer(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    assert_int_equal(parse_fixture("chromium_av.sdp", &g_offer), 0);
    answer_and_reparse(&p, &ch);

    assert_int_equal(ch.our_setup, SDP_SETUP_PASSIVE);
    assert_int_equal(g_answer.tp.setup, SDP_SETUP_PASSIVE);
    assert_int_equal(ch.opus_pt, 111);
    assert_int_equal(ch.vp8_pt, 96);
    assert_int_equal(ch.vp8_rtx_pt, 97);
    assert_int_equal(ch.vp9_pt, 98);
    assert_int_equal(ch.vp9_rtx_pt, 99);
    assert_int_equal(ch.vp9_profile, 0);
    assert_int_equal(ch.ext_id[SDP_EXT_AUDIO_LEVEL], 1);
    assert_int_equal(ch.ext_id[SDP_EXT_ABS_SEND_TIME], 2);
    assert_int_equal(ch.ext_id[SDP_EXT_TWCC], 3);
    assert_int_equal(ch.ext_id[SDP_EXT_MID], 4);
    assert_int_equal(ch.ext_id[SDP_EXT_RID], 10);
    assert_int_equal(ch.ext_id[SDP_EXT_REPAIRED_RID], 11);
    assert_int_equal(ch.m[0].ext_id[SDP_EXT_RID], 0);
    assert_int_equal(ch.n_bundle, 2);
    assert_int_equal(ch.m[1].n_remote, 1);
    assert_int_equal(ch.m[1].remote_ssrc[0], 1009181261u);
    assert_int_equal(ch.m[1].remote_rtx_ssrc[0], 4266193554u);
    assert_int_equal(ch.m[0].remote_ssrc[0], 772489867u);

    assert_int_equal(g_answer.n_bundle, 2);
    const sdp_msection_t *a = &g_answer.m[0], *v = &g_answer.m[1];
    assert_int_equal(a->port, 10000);
    assert_int_equal(a->dir, SDP_DIR_SENDRECV);
    assert_int_equal(a->n_codecs, 1);
    check_codec(a, 111, "opus", 48000, 2);
    assert_string_equal(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
    assert_int_equal(a->codecs[0].fb, SDP_FB_TRANSPORT_CC);
    assert_int_equal(a->n_extmaps, 4);
    assert_int_equal(ext(a, SDP_EXT_AUDIO_LEVEL)->id, 1);
    assert_int_equal(a->n_ssrcs, 1);
    assert_int_equal(a->ssrcs[0].ssrc, 1000);
    assert_string_equal(a->ssrcs[0].cname, "mcu-cname");
    assert_string_equal(a->msid_stream, "mcu");

    int want[] = { 96, 97, 98, 99 };
    assert_int_equal(v->n_codecs, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(v->codecs[i].pt, want[i]);
    assert_int_equal(sdp_find_codec(v, 96)->fb, ALL_FB);
    assert_int_equal(sdp_find_codec(v, 97)->apt, 96);
    assert_int_equal(sdp_find_codec(v, 98)->profile_id, 0);
    assert_int_equal(v->n_extmaps, 5); /* of the 11 offered, ours only */
    assert_null(ext(v, SDP_EXT_AUDIO_LEVEL));
    assert_int_equal(ext(v, SDP_EXT_TWCC)->id, 3);
    assert_int_equal(v->n_ssrc_groups, 1);
    assert_int_equal(v->ssrc_groups[0].ssrcs[0], 1001);
    assert_int_equal(v->ssrc_groups[0].ssrcs[1], 2001);
    assert_int_equal(v->n_rids, 0);
    assert_true(has_line(g_ans, "a=ice-lite"));
    assert_true(has_line(g_ans, "a=group:BUNDLE 0 1"));
    assert_true(has_line(g_ans, "a=rtcp-rsize"));
    assert_true(has_line(g_ans, "c=IN IP4 192.0.2.10"));
    assert_true(has_line(g_ans, "a=candidate:2446217060 1 udp 2130706175 "
                                "2001:db8::10 10000 typ host"));
    static const char head[] = "v=0\r\no=- 1234567890123 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
    assert_memory_equal(g_ans, head, sizeof head - 1);
}

static void test_chromium_simulcast(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    assert_int_equal(parse_fixture("chromium_simulcast.sdp", &g_offer), 0);
    const sdp_msection_t *v = &g_offer.m[1];
    assert_int_equal(v->n_rids, 3);
    assert_string_equal(v->rids[0].id, "q");
    assert_int_equal(v->rids[0].dir, SDP_DIR_SENDONLY);
    assert_string_equal(v->rids[2].id, "f");
    assert_int_equal(v->n_sim_send, 3);
    assert_int_equal(v->n_sim_recv, 0);
    assert_string_equal(v->sim_send[1].rid, "h");
    assert_int_equal(v->sim_send[1].stream, 1);
    assert_false(v->sim_send[1].paused);
    assert_int_equal(v->n_ssrcs, 0);
    assert_int_equal(v->n_extmaps, 13);

    answer_and_reparse(&p, &ch);
    assert_int_equal(ch.m[1].n_rids, 3);
    assert_int_equal(ch.m[1].n_remote, 3);
    assert_int_equal(ch.m[1].remote_ssrc[0], 0); /* learnt from the rid extension */
    assert_string_equal(ch.m[1].rids[2].rid, "f");
    const sdp_msection_t *av = &g_answer.m[1];
    assert_int_equal(av->n_rids, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(av->rids[i].dir, SDP_DIR_RECVONLY);
        assert_string_equal(av->rids[i].id, v->rids[i].id);
    }
    assert_int_equal(av->n_sim_recv, 3);
    assert_int_equal(av->n_sim_send, 0);
    assert_true(has_line(g_ans, "a=simulcast:recv q;h;f"));
    assert_int_equal(ext(av, SDP_EXT_RID)->id, 10);
    assert_int_equal(ext(av, SDP_EXT_REPAIRED_RID)->id, 11);
}

static void test_chromium_audio_only(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    assert_int_equal(parse_fixture("chromium_audio.sdp", &g_offer), 0);
    assert_int_equal(g_offer.n_m, 1);
    assert_string_equal(g_offer.tp.ice_ufrag, "kPbq");
    answer_and_reparse(&p, &ch);
    assert_int_equal(ch.vp8_pt, -1);
    assert_int_equal(ch.vp9_pt, -1);
    assert_int_equal(ch.opus_pt, 111);
    assert_true(has_line(g_ans, "a=group:BUNDLE 0"));
}

static void test_chromium_datachannel_rejected(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    assert_int_equal(parse_fixture("chromium_datachannel.sdp", &g_offer), 0);
    const sdp_msection_t *d = &g_offer.m[2];
    assert_int_equal(d->kind, SDP_KIND_APPLICATION);
    assert_string_equal(d->proto, "UDP/DTLS/SCTP");
    assert_string_equal(d->fmt0, "webrtc-datachannel");
    assert_int_equal(d->n_codecs, 0);
    assert_true(d->in_bundle);
    answer_and_reparse(&p, &ch);
    assert_false(ch.m[2].accepted);
    assert_int_equal(g_answer.m[2].port, 0);
    assert_true(has_line(g_ans, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"));
    assert_true(has_line(g_ans, "a=mid:2"));
    assert_true(has_line(g_ans, "a=group:BUNDLE 0 1"));
}

static void test_chromium_gathered(void **state)
{
    (void)state;
    assert_int_equal(parse_fixture("chromium_gathered.sdp", &g_offer), 0);
    assert_int_equal(g_offer.m[0].port, 52194);
    assert_int_equal(g_offer.m[0].n_candidates, 4);
    assert_int_equal(g_offer.m[1].n_candidates, 4);
    assert_string_equal(g_offer.tp.ice_ufrag, "RKqO");
}

static void test_chromium_recvonly(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    assert_int_equal(parse_fixture("chromium_recvonly.sdp", &g_offer), 0);
    assert_int_equal(g_offer.m[0].dir, SDP_DIR_RECVONLY);
    assert_int_equal(g_offer.m[1].n_codecs, 34);
    assert_int_equal(g_offer.m[1].n_ssrcs, 0);
    answer_and_reparse(&p, &ch);
    assert_int_equal(g_answer.m[0].dir, SDP_DIR_SENDONLY);
    assert_int_equal(g_answer.m[1].dir, SDP_DIR_SENDONLY);
    assert_int_equal(ch.m[1].n_remote, 0);

    p.send[0].ssrc = 0; /* nothing to send in audio: inactive, no ssrc lines */
    answer_and_reparse(&p, &ch);
    assert_int_equal(g_answer.m[0].dir, SDP_DIR_INACTIVE);
    assert_int_equal(g_answer.m[0].n_ssrcs, 0);
    assert_string_equal(g_answer.m[0].msid_stream, "");
}

static void test_firefox_av(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    assert_int_equal(parse_fixture("firefox_handwritten_av.sdp", &g_offer), 0);
    const sdp_offer_t *o = &g_offer;
    assert_int_equal(o->session_tp.fp_len, 32); /* Firefox: session level */
    assert_int_equal(o->m[0].tp.fp_len, 0);
    assert_int_equal(o->tp.fp_len, 32);
    assert_string_equal(o->tp.ice_ufrag, "ebdc1410");
    assert_string_equal(o->m[0].msid_stream, "{ed278713-834d-4133-bfe3-1225c50dd927}");
    check_codec(&o->m[0], 109, "opus", 48000, 2);
    check_codec(&o->m[0], 9, "G722", 8000, 1);
    assert_string_equal(sdp_find_codec(&o->m[0], 101)->fmtp, "0-15");
    const sdp_extmap_t *csrc =
        sdp_find_extmap(&o->m[0], "urn:ietf:params:rtp-hdrext:csrc-audio-level");
    assert_non_null(csrc);
    assert_int_equal(csrc->id, 2);
    assert_int_equal(csrc->dir, SDP_DIR_RECVONLY);
    assert_int_equal(sdp_find_codec(&o->m[1], 121)->profile_id, -1);
    assert_int_equal(sdp_find_codec(&o->m[1], 124)->apt, 120);
    assert_int_equal(sdp_find_codec(&o->m[1], 123)->fb, ALL_FB);

    answer_and_reparse(&p, &ch);
    assert_int_equal(ch.opus_pt, 109);
    assert_int_equal(ch.vp8_pt, 120);
    assert_int_equal(ch.vp8_rtx_pt, 124);
    assert_int_equal(ch.vp9_pt, 121);
    assert_int_equal(ch.vp9_rtx_pt, 125);
    assert_int_equal(ch.vp9_profile, 0);
    assert_int_equal(ch.ext_id[SDP_EXT_MID], 3);
    assert_int_equal(ch.ext_id[SDP_EXT_TWCC], 7);
    assert_int_equal(ch.ext_id[SDP_EXT_RID], 0);
    assert_int_equal(ch.m[1].remote_ssrc[0], 3259177055u);
    assert_int_equal(ch.m[1].remote_rtx_ssrc[0], 4229925005u);
    assert_int_equal(ch.m[0].remote_ssrc[0], 279691717u);
    assert_null(sdp_find_extmap(&g_answer.m[0], "urn:ietf:params:rtp-hdrext:csrc-audio-level"));
}

static void test_firefox_simulcast_bundle_only(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    assert_int_equal(parse_fixture("firefox_handwritten_simulcast.sdp", &g_offer), 0);
    const sdp_msection_t *v = &g_offer.m[1];
    assert_int_equal(v->port, 0);
    assert_true(v->bundle_only);
    assert_true(sdp_m_active(v));
    assert_int_equal(v->n_ssrcs, 6);
    assert_int_equal(v->n_ssrc_groups, 3);
    assert_int_equal(ext(v, SDP_EXT_RID)->dir, SDP_DIR_SENDONLY);

    answer_and_reparse(&p, &ch);
    assert_true(ch.m[1].accepted);
    assert_int_equal(g_answer.m[1].port, 10000);
    assert_false(g_answer.m[1].bundle_only);
    assert_int_equal(ch.m[1].n_rids, 3);
    assert_int_equal(ch.m[1].n_remote, 3);
    assert_true(has_line(g_ans, "a=simulcast:recv a;b;c"));
    assert_true(has_line(g_ans, "a=extmap:8/recvonly "
                                "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
    assert_int_equal(ext(&g_answer.m[1], SDP_EXT_RID)->dir, SDP_DIR_RECVONLY);
}

/* Offers recorded from Firefox 153 ESR (headless, on a 127.0.0.1 page; mDNS host candidates). */
static void test_firefox_recorded(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;

    default_params(&p);
    assert_int_equal(parse_fixture("firefox_audio.sdp", &g_offer), 0);
    assert_int_equal(g_offer.n_m, 1);
    answer_and_reparse(&p, &ch);
    assert_int_equal(ch.opus_pt, 109);
    assert_true(ch.ext_id[SDP_EXT_AUDIO_LEVEL] > 0);
    assert_true(g_answer.ice_lite);

    default_params(&p);
    assert_int_equal(parse_fixture("firefox_av.sdp", &g_offer), 0);
    assert_int_equal(g_offer.tp.fp_len, 32);
    assert_int_equal(g_offer.tp.setup, SDP_SETUP_ACTPASS);
    answer_and_reparse(&p, &ch);
    assert_int_equal(ch.opus_pt, 109);
    assert_int_equal(ch.vp8_pt, 120);
    assert_int_equal(ch.vp8_rtx_pt, 124);
    assert_int_equal(ch.vp9_pt, 121);
    assert_int_equal(ch.our_setup, SDP_SETUP_PASSIVE);
    assert_true(ch.m[0].accepted && ch.m[1].accepted);

    default_params(&p);
    assert_int_equal(parse_fixture("firefox_simulcast.sdp", &g_offer), 0);
    const sdp_msection_t *v = &g_offer.m[1];
    assert_true(v->bundle_only); /* max-bundle: port 0 + a=bundle-only */
    assert_true(sdp_m_active(v));
    assert_int_equal(v->n_rids, 3);
    assert_int_equal(v->n_ssrc_groups, 3);
    answer_and_reparse(&p, &ch);
    assert_true(ch.m[1].accepted);
    assert_int_equal(ch.m[1].n_rids, 3);
    assert_true(has_line(g_ans, "a=simulcast:recv q;h;f"));
}

/* ---- answer options ---- */

static void test_answer_prefs(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    assert_int_equal(parse_fixture("chromium_av.sdp", &g_offer), 0);

    p.prefer_vp9 = true;
    answer_and_reparse(&p, &ch);
    assert_true(has_line(g_ans, "m=video 10000 UDP/TLS/RTP/SAVPF 98 99 96 97"));

    p.prefer_vp9 = false;
    p.codecs = SDP_CODEC_OPUS | SDP_CODEC_VP8;
    answer_and_reparse(&p, &ch);
    assert_true(has_line(g_ans, "m=video 10000 UDP/TLS/RTP/SAVPF 96 97"));
    assert_int_equal(ch.vp9_pt, -1);

    p.codecs = SDP_CODEC_OPUS; /* no video codec: video rejected, keeps its mid */
    answer_and_reparse(&p, &ch);
    assert_false(ch.m[1].accepted);
    assert_true(has_line(g_ans, "m=video 0 UDP/TLS/RTP/SAVPF 96"));
    assert_true(has_line(g_ans, "a=group:BUNDLE 0"));

    p.codecs = SDP_CODEC_VP8; /* no opus: nothing we can run */
    assert_int_equal(sdp_build_answer(&g_offer, &p, g_ans, sizeof g_ans), SDP_ERR_NO_OPUS);
}

static void test_answer_setup_roles(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    char *t = load("chromium_audio.sdp", NULL);
    char *act = edit(t, "a=setup:actpass", "a=setup:active");
    char *pas = edit(t, "a=setup:actpass", "a=setup:passive");

    assert_int_equal(parse_str(act, &g_offer), 0);
    answer_and_reparse(&p, &ch);
    assert_int_equal(g_answer.tp.setup, SDP_SETUP_PASSIVE);

    assert_int_equal(parse_str(pas, &g_offer), 0);
    answer_and_reparse(&p, &ch);
    assert_int_equal(ch.our_setup, SDP_SETUP_ACTIVE);
    assert_int_equal(g_answer.tp.setup, SDP_SETUP_ACTIVE);

    assert_int_equal(parse_str(t, &g_offer), 0);
    p.setup = SDP_SETUP_ACTIVE;
    answer_and_reparse(&p, &ch);
    assert_int_equal(g_answer.tp.setup, SDP_SETUP_ACTIVE);
    free(t);
    free(act);
    free(pas);
}

static void test_answer_ipv6_first_and_no_candidates(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    sdp_candidate_t c6 = { "2001:DB8:0:0::1", 10001 };
    default_params(&p);
    assert_int_equal(parse_fixture("chromium_audio.sdp", &g_offer), 0);
    p.candidates = &c6;
    p.n_candidates = 1;
    answer_and_reparse(&p, &ch);
    assert_true(has_line(g_ans, "c=IN IP6 2001:db8::1"));
    assert_true(has_line(g_ans, "m=audio 10001 UDP/TLS/RTP/SAVPF 111"));

    p.n_candidates = 0;
    answer_and_reparse(&p, &ch);
    assert_true(has_line(g_ans, "m=audio 9 UDP/TLS/RTP/SAVPF 111"));
    assert_true(has_line(g_ans, "c=IN IP4 0.0.0.0"));
}

static void test_answer_bad_params(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_candidate_t bad = { "192.0.2.300", 1 };
    assert_int_equal(parse_fixture("chromium_av.sdp", &g_offer), 0);
    default_params(&p);
    p.ice_pwd = "short";
    assert_int_equal(sdp_build_answer(&g_offer, &p, g_ans, sizeof g_ans), SDP_ERR_PARAM);
    default_params(&p);
    p.ice_ufrag = "ab d";
    assert_int_equal(sdp_build_answer(&g_offer, &p, g_ans, sizeof g_ans), SDP_ERR_PARAM);
    default_params(&p);
    p.fingerprint = "AA:BB";
    assert_int_equal(sdp_build_answer(&g_offer, &p, g_ans, sizeof g_ans), SDP_ERR_PARAM);
    default_params(&p);
    p.candidates = &bad;
    p.n_candidates = 1;
    assert_int_equal(sdp_build_answer(&g_offer, &p, g_ans, sizeof g_ans), SDP_ERR_PARAM);
    default_params(&p);
    p.cname = "two words";
    assert_int_equal(sdp_build_answer(&g_offer, &p, g_ans, sizeof g_ans), SDP_ERR_PARAM);
    default_params(&p);
    p.send[1].track_id = "x\r\na=inject";
    assert_int_equal(sdp_build_answer(&g_offer, &p, g_ans, sizeof g_ans), SDP_ERR_PARAM);
    default_params(&p);
    p.session_id = UINT64_MAX;
    assert_int_equal(sdp_build_answer(&g_offer, &p, g_ans, sizeof g_ans), SDP_ERR_PARAM);
    default_params(&p);
    assert_int_equal(sdp_build_answer(NULL, &p, g_ans, sizeof g_ans), SDP_ERR_PARAM);
    assert_int_equal(sdp_build_answer(&g_offer, NULL, g_ans, sizeof g_ans), SDP_ERR_PARAM);
}

/* Every buffer size below the answer's length fails cleanly (ASan checks the writes). */
static void test_answer_small_buffers(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    default_params(&p);
    assert_int_equal(parse_fixture("chromium_simulcast.sdp", &g_offer), 0);
    int len = sdp_build_answer(&g_offer, &p, g_ans, sizeof g_ans);
    assert_true(len > 0);
    for (size_t cap = 1; cap <= (size_t)len; cap++) {
        char *buf = malloc(cap);
        assert_non_null(buf);
        assert_int_equal(sdp_build_answer(&g_offer, &p, buf, cap), SDP_ERR_SPACE);
        free(buf);
    }
    char *buf = malloc((size_t)len + 1);
    assert_int_equal(sdp_build_answer(&g_offer, &p, buf, (size_t)len + 1), len);
    assert_memory_equal(buf, g_ans, (size_t)len + 1);
    free(buf);
}

/* ---- parser details ---- */

static const char *MINI =
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE a v\r\n"
    "a=fingerprint:SHA-256 " FP_OURS "\r\n"
    "a=ice-ufrag:uf01\r\na=ice-pwd:pw01pw01pw01pw01pw01pw01\r\na=setup:actpass\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:v\r\na=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";

static void test_wildcard_fb_and_session_level(void **state)
{
    (void)state;
    char *t = edit(MINI, "a=fmtp:97 apt=96\r\n",
                   "a=fmtp:97 apt=96\r\na=rtcp-fb:* nack\r\na=rtcp-fb:* ccm fir\r\n"
                   "a=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm tmmbr\r\n");
    assert_int_equal(parse_str(t, &g_offer), 0);
    assert_int_equal(sdp_find_codec(&g_offer.m[1], 96)->fb,
                     SDP_FB_NACK | SDP_FB_CCM_FIR | SDP_FB_NACK_PLI);
    assert_int_equal(sdp_find_codec(&g_offer.m[1], 97)->fb, SDP_FB_NACK | SDP_FB_CCM_FIR);
    assert_int_equal(sdp_find_codec(&g_offer.m[0], 111)->fb, 0);
    /* All transport attributes at session level, fingerprint algorithm in upper case. */
    assert_string_equal(g_offer.tp.fp_alg, "sha-256");
    assert_string_equal(g_offer.tp.ice_ufrag, "uf01");
    assert_int_equal(g_offer.tp.setup, SDP_SETUP_ACTPASS);
    assert_int_equal(g_offer.m[0].dir, SDP_DIR_NONE);
    free(t);
}

static void test_lf_only_and_unknown_lines(void **state)
{
    (void)state;
    char *t = load("chromium_av.sdp", NULL);
    char *lf = edit(t, "\r\n", "\n");
    char *odd = edit(t, "a=mid:1\r\n",
                     "a=mid:1\r\nx=whatever\r\na=x-unknown:1 2 3\r\na=ssrc:5 label:foo\r\n");
    assert_int_equal(parse_str(lf, &g_offer), 0);
    assert_int_equal(g_offer.m[1].n_codecs, 23);
    assert_string_equal(g_offer.m[1].mid, "1");
    assert_int_equal(parse_str(odd, &g_offer), 0);
    assert_int_equal(g_offer.m[1].n_ssrcs, 3);
    char *ws = edit(t, "a=rtcp-mux\r\n", "a=rtcp-mux \r\n");
    assert_int_equal(parse_str(ws, &g_offer), 0); /* stray trailing blank */
    assert_true(g_offer.m[0].rtcp_mux);
    free(ws);
    /* No final line ending at all. */
    size_t n = strlen(t);
    assert_int_equal(sdp_parse_offer(t, n - 2, &g_offer), 0);
    free(t);
    free(lf);
    free(odd);
}

static void test_simulcast_forms(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    char *t = edit(MINI, "a=fmtp:97 apt=96\r\n",
                   "a=fmtp:97 apt=96\r\n"
                   "a=extmap:5 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
                   "a=rid:1 send pt=96;max-width=320\r\na=rid:2 send\r\na=rid:3 send\r\n"
                   "a=rid:9 recv\r\na=simulcast:send 1,2;~3 recv 9\r\n"
                   "a=ssrc-group:SIM 11 22\r\na=ssrc:11 cname:c\r\na=ssrc:22 cname:c\r\n");
    assert_int_equal(parse_str(t, &g_offer), 0);
    const sdp_msection_t *v = &g_offer.m[1];
    assert_int_equal(v->n_sim_send, 3);
    assert_int_equal(v->sim_send[1].stream, 0);
    assert_int_equal(v->sim_send[2].stream, 1);
    assert_true(v->sim_send[2].paused);
    assert_int_equal(v->n_sim_recv, 1);
    assert_string_equal(v->sim_recv[0].rid, "9");
    answer_and_reparse(&p, &ch);
    assert_true(has_line(g_ans, "a=simulcast:recv 1,2;~3"));
    assert_false(strstr(g_ans, "a=rid:9"));
    assert_int_equal(ch.m[1].n_remote, 2);
    assert_int_equal(ch.m[1].remote_ssrc[0], 11); /* SIM group matches the streams */
    assert_int_equal(ch.m[1].remote_ssrc[1], 22);
    free(t);

    t = edit(MINI, "a=fmtp:97 apt=96\r\n", "a=fmtp:97 apt=96\r\na=simulcast: send rid=x;y\r\n");
    assert_int_equal(parse_str(t, &g_offer), 0); /* old Firefox form */
    assert_int_equal(g_offer.m[1].n_sim_send, 2);
    assert_string_equal(g_offer.m[1].sim_send[0].rid, "x");
    free(t);
}

static void test_rejections(void **state)
{
    (void)state;
    sdp_answer_params_t p;
    sdp_choice_t ch;
    default_params(&p);
    /* Video not in BUNDLE, a port-0 video, and an H264-only video: all rejected. */
    char *t = edit(MINI, "a=group:BUNDLE a v", "a=group:BUNDLE a");
    assert_int_equal(parse_str(t, &g_offer), 0);
    answer_and_reparse(&p, &ch);
    assert_false(ch.m[1].accepted);
    free(t);
    t = edit(MINI, "m=video 9", "m=video 0");
    assert_int_equal(parse_str(t, &g_offer), 0);
    answer_and_reparse(&p, &ch);
    assert_false(ch.m[1].accepted);
    assert_true(has_line(g_ans, "a=group:BUNDLE a"));
    free(t);
    t = edit(MINI, "VP8/90000", "H264/90000");
    assert_int_equal(parse_str(t, &g_offer), 0);
    answer_and_reparse(&p, &ch);
    assert_false(ch.m[1].accepted);
    assert_true(has_line(g_ans, "m=video 0 UDP/TLS/RTP/SAVPF 96"));
    assert_true(has_line(g_ans, "a=mid:v"));
    free(t);
}

/* ---- errors ---- */

static void expect_edit(const char *base, const char *from, const char *to, int err)
{
    char *t = edit(base, from, to);
    int rc = parse_str(t, &g_offer);
    if (rc != err)
        fail_msg("edit '%s' -> '%s': got %d (%s), want %d", from, to, rc, sdp_strerror(rc), err);
    free(t);
}

static void expect_drop(const char *base, const char *prefix, int err)
{
    char *t = drop_lines(base, prefix);
    int rc = parse_str(t, &g_offer);
    if (rc != err)
        fail_msg("drop '%s': got %d (%s), want %d", prefix, rc, sdp_strerror(rc), err);
    free(t);
}

static void test_validation_errors(void **state)
{
    (void)state;
    char *t = load("chromium_av.sdp", NULL);
    expect_drop(t, "a=group:BUNDLE", SDP_ERR_NO_BUNDLE);
    expect_edit(t, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 7", SDP_ERR_NO_BUNDLE);
    expect_edit(t, "opus/48000/2", "opux/48000/2", SDP_ERR_NO_OPUS);
    expect_edit(t, "opus/48000/2", "opus/48000", SDP_ERR_NO_OPUS);
    expect_drop(t, "a=fingerprint", SDP_ERR_NO_FINGERPRINT);
    expect_drop(t, "a=ice-ufrag", SDP_ERR_NO_ICE);
    expect_drop(t, "a=ice-pwd", SDP_ERR_NO_ICE);
    expect_drop(t, "a=setup", SDP_ERR_NO_SETUP);
    expect_drop(t, "a=rtcp-mux", SDP_ERR_NO_RTCP_MUX);
    expect_edit(t, "a=mid:1", "a=mid:0", SDP_ERR_NO_MID);
    free(t);

    /* sha-1 only: parsed, but refused. */
    char *m = edit(MINI, "a=fingerprint:SHA-256 " FP_OURS,
                   "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:"
                   "AA:BB:CC:DD:EE:FF:00:11:22:33");
    assert_int_equal(parse_str(m, &g_offer), SDP_ERR_FINGERPRINT_ALG);
    /* sha-1 and sha-256 both given: sha-256 wins whatever the order. */
#define SHA1_LINE \
    "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\r\n"
    char *after = edit(MINI, "a=ice-ufrag", SHA1_LINE "a=ice-ufrag");
    char *before = edit(MINI, "a=fingerprint:SHA-256", SHA1_LINE "a=fingerprint:SHA-256");
    assert_int_equal(parse_str(after, &g_offer), 0);
    assert_string_equal(g_offer.tp.fp_alg, "sha-256");
    assert_int_equal(parse_str(before, &g_offer), 0);
    assert_string_equal(g_offer.tp.fp_alg, "sha-256");
    assert_string_equal(g_offer.tp.fp_hex, FP_OURS);
    free(m);
    free(after);
    free(before);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    static const char garbage[] = "\x00\x01\x02hello";
    assert_int_equal(sdp_parse_offer("", 0, &g_offer), SDP_ERR_SYNTAX);
    assert_int_equal(parse_str("hello world\r\n", &g_offer), SDP_ERR_SYNTAX);
    assert_int_equal(sdp_parse_offer(garbage, sizeof garbage - 1, &g_offer), SDP_ERR_SYNTAX);
    assert_int_equal(parse_str("o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n", &g_offer), SDP_ERR_SYNTAX);
    assert_int_equal(parse_str("v=1\r\n", &g_offer), SDP_ERR_SYNTAX);
    assert_int_equal(sdp_parse_offer(NULL, 0, &g_offer), SDP_ERR_PARAM);

    static const struct {
        const char *from, *to;
        int err;
    } cases[] = {
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:abc opus/48000/2", SDP_ERR_SYNTAX },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus", SDP_ERR_SYNTAX },
        { "a=rtpmap:111 opus/48000/2", "a=rtpmap:200 opus/48000/2", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=fmtp:97 apt=x", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=rtcp-fb:x nack", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=extmap:0 urn:x", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=extmap:256 urn:x", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=extmap:3/sideways urn:x", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=extmap:3", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=extmap:3 urn:x\r\na=extmap:3 urn:y", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=ssrc:x cname:y", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=ssrc:1", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=ssrc-group:FID 1", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=rid:q sideways", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=rid:q!x send", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=simulcast:send q;;h", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=simulcast:up q", SDP_ERR_SYNTAX },
        { "a=fmtp:97 apt=96", "a=mid:again", SDP_ERR_SYNTAX },
        { "a=setup:actpass", "a=setup:holdconn", SDP_ERR_SYNTAX },
        { "a=setup:actpass", "a=setup:", SDP_ERR_SYNTAX },
        { "a=ice-ufrag:uf01", "a=ice-ufrag:u f", SDP_ERR_SYNTAX },
        { "a=ice-ufrag:uf01", "a=ice-ufrag:", SDP_ERR_SYNTAX },
        { "a=fingerprint:SHA-256 AA", "a=fingerprint:SHA-256 ZZ", SDP_ERR_SYNTAX },
        { "a=fingerprint:SHA-256 AA:", "a=fingerprint:SHA-256 AAA", SDP_ERR_SYNTAX },
        { "a=fingerprint:SHA-256 ", "a=fingerprint:sha-256 AA:BB ", SDP_ERR_SYNTAX },
        { "m=audio 9 ", "m=audio x ", SDP_ERR_SYNTAX },
        { "m=audio 9 ", "m=audio 70000 ", SDP_ERR_SYNTAX },
        { "SAVPF 111", "SAVPF opus", SDP_ERR_SYNTAX },
        { "SAVPF 111", "SAVPF", SDP_ERR_SYNTAX },
        { "o=- 1 1 IN IP4 0.0.0.0", "o=- x 1 IN IP4 0.0.0.0", SDP_ERR_SYNTAX },
        { "s=-", "s-", SDP_ERR_SYNTAX },
        { "a=mid:a", "a=mid:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", SDP_ERR_TOO_LONG },
        { "a=mid:a", "a=mid:a\r\na=ssrc:1 cname:"
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
          SDP_ERR_TOO_LONG },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_edit(MINI, cases[i].from, cases[i].to, cases[i].err);
}

static void test_limits(void **state)
{
    (void)state;
    /* Overlong line. */
    static char xs[SDP_MAX_LINE + 100], t[SDP_MAX_LINE + 4096];
    memset(xs, 'x', sizeof xs - 1);
    snprintf(t, sizeof t, "%sa=x-long:%s\r\n", MINI, xs);
    assert_int_equal(parse_str(t, &g_offer), SDP_ERR_LINE_TOO_LONG);
    xs[SDP_MAX_LINE - 9] = '\0'; /* exactly SDP_MAX_LINE: fine */
    snprintf(t, sizeof t, "%sa=x-long:%s\r\n", MINI, xs);
    assert_int_equal(parse_str(t, &g_offer), 0);

    /* Too many m-sections. */
    char *many = malloc(strlen(MINI) + 64 * (SDP_MAX_MSECTIONS + 1));
    assert_non_null(many);
    strcpy(many, MINI);
    for (int i = 2; i <= SDP_MAX_MSECTIONS; i++) {
        char line[64];
        snprintf(line, sizeof line, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:m%d\r\n", i);
        strcat(many, line);
        int want = i < SDP_MAX_MSECTIONS ? 0 : SDP_ERR_TOO_MANY;
        assert_int_equal(parse_str(many, &g_offer), want);
    }
    free(many);

    /* Too many ssrcs; too many rids. */
    char extra[1024] = "a=mid:a\r\n";
    for (int i = 0; i <= SDP_MAX_SSRCS; i++)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra),
                 "a=ssrc:%d cname:c\r\n", i + 1);
    expect_edit(MINI, "a=mid:a\r\n", extra, SDP_ERR_TOO_MANY);
    strcpy(extra, "a=mid:a\r\n");
    for (int i = 0; i <= SDP_MAX_RIDS; i++)
        snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "a=rid:r%d send\r\n", i);
    expect_edit(MINI, "a=mid:a\r\n", extra, SDP_ERR_TOO_MANY);

    /* Too many codecs or extmaps are dropped, not fatal. */
    char *codecs = malloc(8192), *cp = codecs;
    assert_non_null(codecs);
    cp += sprintf(cp, "m=video 9 UDP/TLS/RTP/SAVPF");
    for (int pt = 0; pt < 60; pt++)
        cp += sprintf(cp, " %d", pt + 60);
    cp += sprintf(cp, "\r\na=mid:v\r\n");
    for (int id = 1; id <= 20; id++)
        cp += sprintf(cp, "a=extmap:%d urn:x-%d\r\n", id, id);
    char *big_m = edit(MINI, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:v\r\n", codecs);
    assert_int_equal(parse_str(big_m, &g_offer), 0);
    assert_int_equal(g_offer.m[1].n_codecs, SDP_MAX_CODECS);
    assert_int_equal(g_offer.m[1].codecs_dropped, 60 - SDP_MAX_CODECS);
    assert_int_equal(g_offer.m[1].n_extmaps, SDP_MAX_EXTMAPS);
    assert_int_equal(g_offer.m[1].extmaps_dropped, 20 - SDP_MAX_EXTMAPS);
    free(codecs);
    free(big_m);
}

static void test_strerror(void **state)
{
    (void)state;
    const char *unknown = sdp_strerror(-999);
    for (int e = SDP_ERR_SPACE; e <= SDP_ERR_SYNTAX; e++) {
        assert_non_null(sdp_strerror(e));
        assert_string_not_equal(sdp_strerror(e), unknown);
    }
    assert_string_equal(sdp_strerror(SDP_ERR_NO_OPUS),
                        "offer has no audio m-section with opus/48000/2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chromium_av_parse),
        cmocka_unit_test(test_chromium_av_answer),
        cmocka_unit_test(test_chromium_simulcast),
        cmocka_unit_test(test_chromium_audio_only),
        cmocka_unit_test(test_chromium_datachannel_rejected),
        cmocka_unit_test(test_chromium_gathered),
        cmocka_unit_test(test_chromium_recvonly),
        cmocka_unit_test(test_firefox_av),
        cmocka_unit_test(test_firefox_simulcast_bundle_only),
        cmocka_unit_test(test_firefox_recorded),
        cmocka_unit_test(test_answer_prefs),
        cmocka_unit_test(test_answer_setup_roles),
        cmocka_unit_test(test_answer_ipv6_first_and_no_candidates),
        cmocka_unit_test(test_answer_bad_params),
        cmocka_unit_test(test_answer_small_buffers),
        cmocka_unit_test(test_wildcard_fb_and_session_level),
        cmocka_unit_test(test_lf_only_and_unknown_lines),
        cmocka_unit_test(test_simulcast_forms),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
