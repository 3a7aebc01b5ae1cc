/* libFuzzer target for media/vpx with VP8 descriptors (fuzz_vp9.c reuses this driver for
 * VP9). The whole input is parsed as one payload; then it is read as a script of packets
 * from four sources: [op][seq delta][len][payload...], each rewritten, dropped, switched to
 * or filtered through one vpx_track. Checks: parsed offsets stay inside the descriptor; a
 * rewritten packet re-parses to the same descriptor with only SSRC, sequence number,
 * timestamp, picture id and TL0PICIDX changed; within one source (between switches) a
 * sequence number always maps to the same output, different ones never to the same, and the
 * timestamp offset is constant. */
#include <stdlib.h>
#include <string.h>

#include "media/rtp.h"
#include "media/vpx.h"

#ifndef FUZZ_VPX_CODEC
#define FUZZ_VPX_CODEC VPX_VP8
#endif

#define SSRC_OUT 0xFEEDF00Du
#define MAX_RECORDS 800      /* seq steps of -8..23: an input spans < 2^15 numbers */

static int parse_desc(const uint8_t *p, size_t n, struct vpx_desc *d)
{
    return FUZZ_VPX_CODEC == VPX_VP8 ? vpx_parse_vp8(p, n, d) : vpx_parse_vp9(p, n, d);
}

static void check_desc(const struct vpx_desc *d, size_t n)
{
    if (d->hdr_len == 0 || d->hdr_len >= n)
        abort();
    if (d->pid_off && (d->picture_id < 0 || d->pid_off + (d->pid_15 ? 2u : 1u) > d->hdr_len ||
                       d->picture_id > (d->pid_15 ? 0x7FFF : 0x7F)))
        abort();
    if (!d->pid_off && d->picture_id != -1)
        abort();
    if (d->tl0_off && (d->tl0_off >= d->hdr_len || d->tl0picidx < 0 || d->tl0picidx > 255))
        abort();
    if (d->tid > 7 || d->sid > 7 || d->ss_n_s > VPX_MAX_SPATIAL || d->n_pdiff > 3)
        abort();
    if (d->keyframe && !d->frame_start)
        abort();
}

/* Everything but the rewritten fields must be as before. */
static void check_same(const struct vpx_desc *a, const struct vpx_desc *b)
{
    if (a->hdr_len != b->hdr_len || a->keyframe != b->keyframe || a->tid != b->tid ||
        a->sid != b->sid || a->frame_start != b->frame_start || a->frame_end != b->frame_end ||
        a->pid_off != b->pid_off || a->tl0_off != b->tl0_off || a->pid_15 != b->pid_15 ||
        a->layer_sync != b->layer_sync || a->n_pdiff != b->n_pdiff || a->ss_n_s != b->ss_n_s ||
        a->width != b->width || a->height != b->height)
        abort();
}

/* Per-input memory of what each input sequence number became: tagged with the input number
 * and the source epoch, so nothing needs clearing between inputs. */
static uint64_t g_input;
static uint64_t g_in_tag[65536], g_out_tag[65536];
static uint16_t g_in_to_out[65536], g_out_to_in[65536];

static void check_seq(uint64_t tag, uint16_t in, uint16_t out)
{
    if (g_in_tag[in] == tag && g_in_to_out[in] != out)
        abort();                             /* the same packet got another number */
    if (g_out_tag[out] == tag && g_out_to_in[out] != in)
        abort();                             /* two packets got the same number */
    g_in_tag[in] = tag, g_in_to_out[in] = out;
    g_out_tag[out] = tag, g_out_to_in[out] = in;
}

struct source {
    uint16_t seq;
    uint32_t ts;
};

static void run_script(const uint8_t *data, size_t size)
{
    static struct vpx_track t;
    static uint8_t pkt[12 + 256], orig[12 + 256];
    struct source src[4];
    uint32_t epoch = 0, ts_off = 0;
    bool have_ts_off = false;
    int64_t now = 0;
    size_t pos = 0;

    for (int i = 0; i < 4; i++)
        src[i] = (struct source){ (uint16_t)(i * 1000), (uint32_t)i * 100000u };
    vpx_track_init(&t, SSRC_OUT);
    for (int rec = 0; rec < MAX_RECORDS && pos + 3 <= size; rec++) {
        uint8_t op = data[pos], delta = data[pos + 1];
        size_t len = data[pos + 2];
        pos += 3;
        if (len > size - pos)
            len = size - pos;
        struct source *s = &src[(op >> 2) & 3];
        s->seq = (uint16_t)(s->seq + (delta & 0x1F) - 8);    /* -8..23 */
        s->ts += (delta >> 5) * 1500u;
        now += delta & 7;
        rtp_write_t w = { .marker = op & 0x80, .pt = 96, .seq = s->seq, .ts = s->ts,
                          .ssrc = 0x1000u + ((op >> 2) & 3) };
        int hl = rtp_write_header(pkt, sizeof pkt, &w);
        if (hl != 12)
            abort();
        memcpy(pkt + 12, data + pos, len);
        pos += len;
        size_t n = 12 + len;
        rtp_hdr_t h;
        struct vpx_desc d;
        if (rtp_parse(pkt, n, &h) != 0)
            abort();
        if (parse_desc(pkt + 12, len, &d) != 0)
            continue;
        check_desc(&d, len);

        int act = op & 3;
        int max_tid = (op >> 4) & 3, max_sid = (op >> 5) & 3;
        if (act == 2) {
            vpx_track_switch(&t);
            epoch++;
            have_ts_off = false;
        } else if (act == 3) {
            bool marker = false;
            bool keep = FUZZ_VPX_CODEC == VPX_VP8 ? vpx_track_keep_tid(&t, &h, &d, max_tid)
                      : vpx_track_keep_vp9(&t, &h, &d, max_sid, max_tid, &marker);
            if (FUZZ_VPX_CODEC == VPX_VP9 && keep)
                rtp_set_marker(pkt, marker);
            act = keep ? 0 : 1;
        }
        if (act == 1) {
            vpx_track_drop(&t, &h, &d);
            continue;
        }
        memcpy(orig, pkt, n);
        int rc = vpx_track_rewrite(&t, pkt, n, &h, &d, now);
        if (rc < 0) {
            if (memcmp(orig, pkt, n) != 0 || vpx_strerror(rc)[0] == 'u')
                abort();
            continue;
        }
        rtp_hdr_t oh;
        struct vpx_desc od;
        if (rtp_parse(pkt, n, &oh) != 0 || oh.ssrc != SSRC_OUT ||
            parse_desc(pkt + 12, len, &od) != 0)
            abort();
        check_same(&d, &od);
        for (size_t i = 12; i < n; i++) {    /* only the id fields may differ */
            size_t o = i - 12;
            bool in_pid = d.pid_off && o >= d.pid_off && o < d.pid_off + (d.pid_15 ? 2u : 1u);
            bool in_tl0 = d.tl0_off && o == d.tl0_off;
            if (!in_pid && !in_tl0 && pkt[i] != orig[i])
                abort();
        }
        check_seq(g_input << 20 | epoch, h.seq, oh.seq);
        if (have_ts_off && oh.ts - h.ts != ts_off)
            abort();
        ts_off = oh.ts - h.ts;
        have_ts_off = true;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vpx_desc d;

    g_input++;
    if (parse_desc(data, size, &d) == 0)
        check_desc(&d, size);
    run_script(data, size);
    return 0;
}
