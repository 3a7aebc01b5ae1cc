/* VP9 uncompressed header parsing and the show_frame rewrite (see rec_vp9.h). The whole header
 * is walked, not just its start, because hiding an inter frame inserts the intra_only bit and
 * the compressed header must stay byte aligned after the (re-padded) uncompressed one; the
 * tile columns syntax depends on the frame width, hence the reference sizes. */
#include "media/rec_vp9.h"

#include <string.h>

#define SYNC_CODE 0x498342u
#define CS_RGB 7
#define MAX_HDR_BYTES 192     /* the longest possible uncompressed header is ~120 bytes */

struct br {
    const uint8_t *p;
    size_t n, pos;            /* bytes, bit position */
    bool err;                 /* read past the end */
};

static uint32_t rb(struct br *b, unsigned k)
{
    uint32_t v = 0;
    while (k--) {
        if (b->pos >= b->n * 8) {
            b->err = true;
            return 0;
        }
        v = v << 1 | ((b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1u);
        b->pos++;
    }
    return v;
}

static void color_config(struct br *b, unsigned profile)
{
    if (profile >= 2)
        rb(b, 1);                              /* ten_or_twelve_bit */
    unsigned cs = rb(b, 3);
    if (cs != CS_RGB) {
        rb(b, 1);                              /* color_range */
        if (profile == 1 || profile == 3)
            rb(b, 3);                          /* subsampling_x, _y, reserved */
    } else if (profile == 1 || profile == 3) {
        rb(b, 1);                              /* reserved */
    }
}

static void frame_size(struct br *b, struct rec_vp9_hdr *h)
{
    h->w = (uint16_t)(rb(b, 16) + 1);
    h->h = (uint16_t)(rb(b, 16) + 1);
}

static void render_size(struct br *b)
{
    if (rb(b, 1))
        rb(b, 32);
}

/* Inter frame: refresh flags, three references, then the size (own, or a reference's). */
static int inter_refs(struct br *b, const struct rec_vp9_refs *refs, struct rec_vp9_hdr *h)
{
    unsigned idx[3];
    h->refresh = (uint8_t)rb(b, 8);
    for (int i = 0; i < 3; i++) {
        idx[i] = rb(b, 3);
        rb(b, 1);                              /* sign bias */
    }
    bool found = false;
    for (int i = 0; i < 3 && !found; i++) {
        if (rb(b, 1)) {
            if (!refs->w[idx[i]])
                return -1;
            h->w = refs->w[idx[i]];
            h->h = refs->h[idx[i]];
            found = true;
        }
    }
    if (!found)
        frame_size(b, h);
    render_size(b);
    rb(b, 1);                                  /* allow_high_precision_mv */
    if (!rb(b, 1))                             /* is_filter_switchable */
        rb(b, 2);
    return 0;
}

/* frame_type and what follows it up to the frame context flags. */
static int frame_kind(struct br *b, const struct rec_vp9_refs *refs, struct rec_vp9_hdr *h)
{
    h->key = rb(b, 1) == 0;
    h->show_bit = (uint16_t)b->pos;
    h->show = rb(b, 1);
    h->err_res = rb(b, 1);
    if (h->key) {
        if (rb(b, 24) != SYNC_CODE)
            return -1;
        color_config(b, h->profile);
        frame_size(b, h);
        render_size(b);
        h->refresh = 0xFF;
        return 0;
    }
    h->intra_only = h->show ? false : rb(b, 1);
    if (!h->err_res)
        rb(b, 2);                              /* reset_frame_context */
    if (!h->intra_only)
        return inter_refs(b, refs, h);
    if (rb(b, 24) != SYNC_CODE)
        return -1;
    if (h->profile > 0)
        color_config(b, h->profile);
    h->refresh = (uint8_t)rb(b, 8);
    frame_size(b, h);
    render_size(b);
    return 0;
}

static void loop_filter(struct br *b)
{
    rb(b, 9);                                  /* level, sharpness */
    if (rb(b, 1) && rb(b, 1)) {                /* delta enabled, delta update */
        for (int i = 0; i < 6; i++)            /* 4 ref deltas, 2 mode deltas */
            if (rb(b, 1))
                rb(b, 7);
    }
}

static void quant(struct br *b)
{
    rb(b, 8);                                  /* base_q_idx */
    for (int i = 0; i < 3; i++)
        if (rb(b, 1))
            rb(b, 5);
}

static void segmentation(struct br *b)
{
    static const unsigned bits[4] = { 8, 6, 2, 0 }, sign[4] = { 1, 1, 0, 0 };
    if (!rb(b, 1))
        return;
    if (rb(b, 1)) {                            /* update_map: tree probs, then temporal */
        for (int i = 0; i < 7; i++)
            if (rb(b, 1))
                rb(b, 8);
        if (rb(b, 1))
            for (int i = 0; i < 3; i++)
                if (rb(b, 1))
                    rb(b, 8);
    }
    if (rb(b, 1)) {                            /* update_data */
        rb(b, 1);
        for (int s = 0; s < 8; s++)
            for (int f = 0; f < 4; f++)
                if (rb(b, 1))
                    rb(b, bits[f] + sign[f]);
    }
}

static void tile_info(struct br *b, unsigned width)
{
    unsigned sb64 = (((width + 7) >> 3) + 7) >> 3, min_log2 = 0, max_log2 = 1;
    while ((64u << min_log2) < sb64)
        min_log2++;
    while ((sb64 >> max_log2) >= 4)
        max_log2++;
    max_log2--;
    for (unsigned l = min_log2; l < max_log2 && rb(b, 1); l++)
        ;
    if (rb(b, 1))
        rb(b, 1);
}

int rec_vp9_parse(const uint8_t *f, size_t n, const struct rec_vp9_refs *refs,
                  struct rec_vp9_hdr *h)
{
    struct br b = { f, n, 0, false };

    memset(h, 0, sizeof(*h));
    if (rb(&b, 2) != 2)
        return -1;
    h->profile = (uint8_t)rb(&b, 1);
    h->profile |= (uint8_t)(rb(&b, 1) << 1);
    if (h->profile == 3)
        rb(&b, 1);
    if (rb(&b, 1)) {
        h->show_existing = true;
        rb(&b, 3);
        h->end_bits = (uint16_t)b.pos;
        return b.err ? -1 : 0;
    }
    if (frame_kind(&b, refs, h) < 0 || b.err)
        return -1;
    if (!h->err_res)
        rb(&b, 2);                             /* refresh_frame_context, parallel mode */
    rb(&b, 2);                                 /* frame_context_idx */
    loop_filter(&b);
    quant(&b);
    segmentation(&b);
    tile_info(&b, h->w);
    rb(&b, 16);                                /* header_size_in_bytes */
    if (b.err || b.pos > MAX_HDR_BYTES * 8 - 16)
        return -1;
    h->end_bits = (uint16_t)b.pos;
    return 0;
}

void rec_vp9_refresh(struct rec_vp9_refs *refs, const struct rec_vp9_hdr *h)
{
    if (h->show_existing)
        return;
    for (int i = 0; i < 8; i++)
        if (h->refresh & (1u << i)) {
            refs->w[i] = h->w;
            refs->h[i] = h->h;
        }
}

/* Bit writer into a small header buffer. */
struct bw {
    uint8_t *p;
    size_t pos;
};

static void wb(struct bw *w, unsigned bit)
{
    if (bit)
        w->p[w->pos >> 3] |= (uint8_t)(0x80 >> (w->pos & 7));
    w->pos++;
}

static void copy_bits(struct bw *w, const uint8_t *src, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        wb(w, (src[i >> 3] >> (7 - (i & 7))) & 1u);
}

long rec_vp9_hide(uint8_t *f, size_t n, size_t cap, const struct rec_vp9_hdr *h)
{
    if (h->show_existing || !h->show || h->end_bits > MAX_HDR_BYTES * 8 - 16)
        return -1;
    if (h->key) {                              /* same syntax whatever show_frame says */
        f[h->show_bit >> 3] &= (uint8_t)~(0x80 >> (h->show_bit & 7));
        return (long)n;
    }
    uint8_t tmp[MAX_HDR_BYTES] = { 0 };
    struct bw w = { tmp, 0 };
    size_t old_bytes = ((size_t)h->end_bits + 7) / 8;
    if (old_bytes > n)
        return -1;
    copy_bits(&w, f, 0, h->show_bit);
    wb(&w, 0);                                 /* show_frame */
    copy_bits(&w, f, h->show_bit + 1u, h->show_bit + 2u); /* error_resilient_mode */
    wb(&w, 0);                                 /* intra_only: still an inter frame */
    copy_bits(&w, f, h->show_bit + 2u, h->end_bits);
    size_t new_bytes = (w.pos + 7) / 8;        /* the zero padding is the trailing bits */
    if (new_bytes > old_bytes) {
        if (n + 1 > cap)
            return -1;
        memmove(f + new_bytes, f + old_bytes, n - old_bytes);
    }
    memcpy(f, tmp, new_bytes);
    return (long)(n + new_bytes - old_bytes);
}
