/* VP8/VP9 payload descriptors and the per-receiver-track rewriter (see vpx.h). Every counter
 * the receiver checks for continuity (sequence number, picture id, TL0PICIDX, timestamp) is
 * "input + offset"; the offset is chosen at a switch so the new source continues the old
 * numbering, and steps down after dropped packets (or dropped VP8 frames) so no gap appears.
 * Offsets are kept per run of drops, so a reordered packet finds the one of its place. */
#include "media/vpx.h"

#include <string.h>

#include "media/bytes.h"

#define MAX_GAP_MS 10000000  /* a longer pause still moves the timestamp, by this much */

const char *vpx_strerror(int err)
{
    switch (err) {
    case 0: return "ok";
    case VPX_ERR_TRUNCATED: return "truncated";
    case VPX_ERR_MALFORMED: return "malformed";
    case VPX_ERR_ARG: return "bad_argument";
    case VPX_ERR_NEED_KEYFRAME: return "need_keyframe";
    case VPX_ERR_SOURCE: return "other_source";
    case VPX_ERR_OLD: return "too_old";
    case VPX_ERR_DROPPED: return "dropped_before";
    case VPX_ERR_PID_WIDTH: return "picture_id_width";
    default: return "unknown_error";
    }
}

static void desc_clear(struct vpx_desc *d, uint8_t codec)
{
    memset(d, 0, sizeof(*d));
    d->codec = codec;
    d->picture_id = -1;
    d->tl0picidx = -1;
}

/* Reads the 7- or 15-bit picture id at p[*off] (both codecs share the M-bit form). */
static int read_pid(const uint8_t *p, size_t len, size_t *off, struct vpx_desc *d)
{
    if (*off >= len)
        return VPX_ERR_TRUNCATED;
    d->pid_off = (uint16_t)*off;
    if (p[*off] & 0x80) {
        if (*off + 2 > len)
            return VPX_ERR_TRUNCATED;
        d->pid_15 = true;
        d->picture_id = (p[*off] & 0x7F) << 8 | p[*off + 1];
        *off += 2;
    } else {
        d->picture_id = p[*off] & 0x7F;
        *off += 1;
    }
    return 0;
}

/* VP8 keyframe header (RFC 6386 9.1): 3-byte frame tag, start code, 14-bit sizes. */
static void vp8_key_size(const uint8_t *f, size_t n, struct vpx_desc *d)
{
    if (n < 10 || f[3] != 0x9D || f[4] != 0x01 || f[5] != 0x2A)
        return;
    d->width = (uint16_t)((f[6] | f[7] << 8) & 0x3FFF);
    d->height = (uint16_t)((f[8] | f[9] << 8) & 0x3FFF);
}

int vpx_parse_vp8(const uint8_t *p, size_t len, struct vpx_desc *d)
{
    size_t off = 1;
    int rc;

    desc_clear(d, VPX_VP8);
    if (len < 1)
        return VPX_ERR_TRUNCATED;
    d->not_ref = p[0] & 0x20;
    d->frame_start = (p[0] & 0x10) && (p[0] & 0x07) == 0;
    if (p[0] & 0x80) {
        if (len < 2)
            return VPX_ERR_TRUNCATED;
        uint8_t x = p[1];
        off = 2;
        if ((x & 0x80) && (rc = read_pid(p, len, &off, d)) < 0)
            return rc;
        if (x & 0x40) {
            if (off >= len)
                return VPX_ERR_TRUNCATED;
            d->tl0_off = (uint16_t)off;
            d->tl0picidx = p[off++];
        }
        if (x & 0x30) {      /* T or K: one byte TID|Y|KEYIDX; TID and Y only mean with T */
            if (off >= len)
                return VPX_ERR_TRUNCATED;
            if (x & 0x20) {
                d->tid = p[off] >> 6;
                d->layer_sync = p[off] & 0x20;
            }
            off++;
        }
    }
    if (off >= len)          /* the start packet's first byte tells keyframes apart */
        return VPX_ERR_TRUNCATED;
    d->hdr_len = (uint16_t)off;
    if (d->frame_start && !(p[off] & 0x01)) {
        d->keyframe = true;
        vp8_key_size(p + off, len - off, d);
    }
    return 0;
}

/* MSB-first bit reader for the VP9 uncompressed header. */
struct bits {
    const uint8_t *p;
    size_t n, pos;            /* bytes, bit position */
};

static int get_bits(struct bits *b, unsigned k, uint32_t *v)
{
    if (b->pos + k > b->n * 8)
        return -1;
    *v = 0;
    for (unsigned i = 0; i < k; i++, b->pos++)
        *v = *v << 1 | ((b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1);
    return 0;
}

/* Frame size of a VP9 key frame from its uncompressed header (VP9 bitstream spec 6.2):
 * frame marker, profile, frame type, sync code, colour config, then width-1 and height-1. */
static void vp9_key_size(const uint8_t *f, size_t n, struct vpx_desc *d)
{
    struct bits b = { f, n, 0 };
    uint32_t marker, lo, hi, v, cs, w, h;

    if (get_bits(&b, 2, &marker) || marker != 2 || get_bits(&b, 1, &lo) || get_bits(&b, 1, &hi))
        return;
    uint32_t profile = hi << 1 | lo;
    if (profile == 3 && get_bits(&b, 1, &v))
        return;
    if (get_bits(&b, 1, &v) || v)            /* show_existing_frame */
        return;
    if (get_bits(&b, 1, &v) || v)            /* frame_type: 0 is KEY_FRAME */
        return;
    if (get_bits(&b, 2, &v) || get_bits(&b, 24, &v) || v != 0x498342) /* show, err_res, sync */
        return;
    if (profile >= 2 && get_bits(&b, 1, &v))
        return;
    if (get_bits(&b, 3, &cs))
        return;
    unsigned extra = cs != 7 ? 1 : 0;        /* colour range unless sRGB */
    if (profile == 1 || profile == 3)
        extra += cs != 7 ? 3 : 1;            /* subsampling x, y and a reserved bit */
    if (get_bits(&b, extra, &v) || get_bits(&b, 16, &w) || get_bits(&b, 16, &h))
        return;
    d->width = (uint16_t)(w + 1);
    d->height = (uint16_t)(h + 1);
}

/* The scalability structure (RFC 9628 4.2.1): N_S|Y|G, sizes, then the picture group. */
static int parse_ss(const uint8_t *p, size_t len, size_t *off, struct vpx_desc *d)
{
    if (*off >= len)
        return VPX_ERR_TRUNCATED;
    uint8_t b = p[(*off)++];
    unsigned n_s = (b >> 5) + 1u;
    d->ss_n_s = (uint8_t)n_s;
    if (b & 0x10) {
        if (*off + 4 * n_s > len)
            return VPX_ERR_TRUNCATED;
        for (unsigned i = 0; i < n_s; i++, *off += 4) {
            d->ss_width[i] = be_rd16(p + *off);
            d->ss_height[i] = be_rd16(p + *off + 2);
        }
    }
    if (b & 0x08) {
        if (*off >= len)
            return VPX_ERR_TRUNCATED;
        unsigned n_g = p[(*off)++];
        for (unsigned i = 0; i < n_g; i++) {
            if (*off >= len)
                return VPX_ERR_TRUNCATED;
            unsigned r = (p[(*off)++] >> 2) & 3;
            if (*off + r > len)
                return VPX_ERR_TRUNCATED;
            *off += r;
        }
    }
    return 0;
}

int vpx_parse_vp9(const uint8_t *p, size_t len, struct vpx_desc *d)
{
    size_t off = 1;
    int rc;

    desc_clear(d, VPX_VP9);
    if (len < 1)
        return VPX_ERR_TRUNCATED;
    uint8_t b = p[0];
    d->inter_pic = b & 0x40;
    d->flexible = b & 0x10;
    d->frame_start = b & 0x08;
    d->frame_end = b & 0x04;
    if (d->flexible && !(b & 0x80))
        return VPX_ERR_MALFORMED;            /* flexible mode requires the picture id */
    if ((b & 0x80) && (rc = read_pid(p, len, &off, d)) < 0)
        return rc;
    if (b & 0x20) {                          /* L: TID|U|SID|D, then TL0PICIDX if F=0 */
        if (off >= len)
            return VPX_ERR_TRUNCATED;
        d->tid = p[off] >> 5;
        d->layer_sync = p[off] & 0x10;
        d->sid = (p[off] >> 1) & 0x07;
        d->inter_layer = p[off] & 0x01;
        off++;
        if (!d->flexible) {
            if (off >= len)
                return VPX_ERR_TRUNCATED;
            d->tl0_off = (uint16_t)off;
            d->tl0picidx = p[off++];
        }
    }
    if (d->flexible && d->inter_pic) {       /* P_DIFF|N, N = another one follows */
        bool more = true;
        while (more) {
            if (d->n_pdiff == 3)
                return VPX_ERR_MALFORMED;
            if (off >= len)
                return VPX_ERR_TRUNCATED;
            d->pdiff[d->n_pdiff++] = p[off] >> 1;
            more = p[off++] & 0x01;
        }
    }
    if ((b & 0x02) && (rc = parse_ss(p, len, &off, d)) < 0)
        return rc;
    if (off >= len)
        return VPX_ERR_TRUNCATED;
    d->hdr_len = (uint16_t)off;
    d->keyframe = d->frame_start && !d->inter_pic && !d->inter_layer;
    if (d->keyframe)
        vp9_key_size(p + off, len - off, d);
    return 0;
}

/* ---- counters: out = in + off (mod 2^bits), offsets per run of drops ---- */

static uint32_t mask_of(uint8_t bits)
{
    return bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
}

/* a - b in a ring of 2^bits values, in [-2^(bits-1), 2^(bits-1)). */
static int64_t ring_diff(uint32_t a, uint32_t b, uint8_t bits)
{
    uint32_t m = mask_of(bits);
    uint32_t d = (a - b) & m;
    return d > m >> 1 ? (int64_t)d - (int64_t)m - 1 : (int64_t)d;
}

/* The input unwrapped next to the newest one seen. */
static int64_t map_extend(const struct vpx_map *m, uint32_t in)
{
    return m->hi + ring_diff(in, (uint32_t)m->hi & mask_of(m->bits), m->bits);
}

static struct vpx_run *map_run(struct vpx_map *m, unsigned i)
{
    return &m->runs[(m->head + i) % VPX_DROP_RUNS];
}

/* The offset in force at extended input x. */
static int map_lookup(struct vpx_map *m, int64_t x, int64_t *off)
{
    if (x <= m->floor_last)
        return VPX_ERR_OLD;
    for (unsigned i = m->n_runs; i-- > 0;) {
        const struct vpx_run *r = map_run(m, i);
        if (x > r->last) {
            *off = r->off;
            return 0;
        }
        if (x >= r->first)
            return VPX_ERR_DROPPED;
    }
    *off = m->floor_off;
    return 0;
}

/* Offset that makes a new source's first input `in` follow the last output (or keep its
 * own value when the track never wrote this counter). */
static int64_t map_start_off(const struct vpx_map *m, uint8_t bits, uint32_t in)
{
    if (!m->have_out)
        return 0;
    return (int64_t)((m->out_hi + 1) & mask_of(bits)) - (int64_t)in;
}

static void map_begin(struct vpx_map *m, uint8_t bits, int64_t x, int64_t off)
{
    m->live = true;
    m->bits = bits;
    m->hi = x;
    m->floor_last = x - 1;
    m->floor_off = off;
    m->n_runs = 0;
    m->head = 0;
}

/* Records that x was written as out. */
static void map_note(struct vpx_map *m, int64_t x, uint32_t out)
{
    if (x > m->hi)
        m->hi = x;
    if (!m->have_out || ring_diff(out, m->out_hi, m->bits) > 0)
        m->out_hi = out;
    m->have_out = true;
}

/* Input `in` is dropped: if it is the newest, later inputs shift down by one. An older one
 * cannot shift what was already written, so it is left as a gap. */
static void map_drop(struct vpx_map *m, uint32_t in)
{
    if (!m->live)
        return;
    int64_t x = map_extend(m, in);
    if (x <= m->hi)
        return;
    struct vpx_run *last = m->n_runs ? map_run(m, m->n_runs - 1u) : NULL;
    if (last && last->last == m->hi && x == m->hi + 1) {
        last->last = x;
        last->off--;
    } else {
        int64_t off = last ? last->off : m->floor_off;
        if (m->n_runs == VPX_DROP_RUNS) {    /* forget the oldest run */
            struct vpx_run *old = map_run(m, 0);
            m->floor_last = old->last;
            m->floor_off = old->off;
            m->head = (uint8_t)((m->head + 1) % VPX_DROP_RUNS);
            m->n_runs--;
        }
        *map_run(m, m->n_runs++) = (struct vpx_run){ x, x, off - 1 };
    }
    m->hi = x;
}

/* ---- the track ---- */

void vpx_track_init(struct vpx_track *t, uint32_t ssrc_out)
{
    memset(t, 0, sizeof(*t));
    t->ssrc_out = ssrc_out;
    t->need_key = true;
}

void vpx_track_switch(struct vpx_track *t)
{
    t->need_key = true;
}

/* What one counter of one packet becomes, worked out before anything is changed. */
struct plan {
    bool present, fresh;
    uint8_t bits;
    int64_t x, off;
    uint32_t out;
};

/* Plans counter m for input `in`: a fresh start after a switch, else a lookup. */
static int plan_counter(struct vpx_map *m, bool fresh, uint8_t bits, uint32_t in, struct plan *p)
{
    p->present = true;
    p->bits = bits;
    if (m->have_out && m->bits != bits)
        return VPX_ERR_PID_WIDTH;
    p->fresh = fresh || !m->live;
    if (p->fresh) {
        p->x = in;
        p->off = map_start_off(m, bits, in);
    } else {
        p->x = map_extend(m, in);
        int rc = map_lookup(m, p->x, &p->off);
        if (rc < 0)
            return rc;
    }
    p->out = (uint32_t)(uint64_t)(p->x + p->off) & mask_of(bits);
    return 0;
}

static void commit_counter(struct vpx_map *m, const struct plan *p)
{
    if (!p->present)
        return;
    if (p->fresh)
        map_begin(m, p->bits, p->x, p->off);
    map_note(m, p->x, p->out);
}

static bool desc_fits(size_t len, const rtp_hdr_t *h, const struct vpx_desc *d)
{
    if (h->payload_off + h->payload_len > len || d->hdr_len == 0 ||
        d->hdr_len > h->payload_len)
        return false;
    if (d->pid_off && (d->picture_id < 0 || d->pid_off + (d->pid_15 ? 2u : 1u) > d->hdr_len))
        return false;
    if (d->tl0_off && (d->tl0picidx < 0 || d->tl0_off >= d->hdr_len))
        return false;
    return true;
}

/* Output timestamp offset for a new source: the gap since the last packet, in 90 kHz. */
static uint32_t switch_ts_off(const struct vpx_track *t, uint32_t in_ts, int64_t now_ms)
{
    if (!t->started)
        return 0;
    int64_t gap = now_ms - t->last_ms;
    gap = gap < 0 ? 0 : gap > MAX_GAP_MS ? MAX_GAP_MS : gap;
    uint32_t ticks = gap * 90 < 1 ? 1u : (uint32_t)(gap * 90);
    return t->ts_out_hi + ticks - in_ts;
}

static void write_pid(uint8_t *p, const struct plan *pl)
{
    if (pl->bits == 15) {
        p[0] = (uint8_t)(0x80 | pl->out >> 8);
        p[1] = (uint8_t)pl->out;
    } else {
        p[0] = (uint8_t)(pl->out & 0x7F);
    }
}

int vpx_track_rewrite(struct vpx_track *t, uint8_t *buf, size_t len, const rtp_hdr_t *h,
                      const struct vpx_desc *d, int64_t now_ms)
{
    struct plan seq = { 0 }, pid = { 0 }, tl0 = { 0 };
    bool fresh = t->need_key;
    int rc;

    if (!desc_fits(len, h, d))
        return VPX_ERR_ARG;
    if (fresh && !d->keyframe)
        return VPX_ERR_NEED_KEYFRAME;
    if (!fresh && h->ssrc != t->src_ssrc)
        return VPX_ERR_SOURCE;
    if ((rc = plan_counter(&t->seq, fresh, 16, h->seq, &seq)) < 0)
        return rc;
    if (d->pid_off &&
        (rc = plan_counter(&t->pid, fresh, d->pid_15 ? 15 : 7, (uint32_t)d->picture_id, &pid)) < 0)
        return rc;
    if (d->tl0_off && (rc = plan_counter(&t->tl0, fresh, 8, (uint32_t)d->tl0picidx, &tl0)) < 0)
        return rc;

    if (fresh) {
        t->need_key = false;
        t->src_ssrc = h->ssrc;
        t->ts_off = switch_ts_off(t, h->ts, now_ms);
        t->pid.live = false;                 /* restarted by this source's first id */
        t->tl0.live = false;
    }
    commit_counter(&t->seq, &seq);
    commit_counter(&t->pid, &pid);
    commit_counter(&t->tl0, &tl0);
    uint32_t ts = h->ts + t->ts_off;
    if (!t->started || (int32_t)(ts - t->ts_out_hi) > 0)
        t->ts_out_hi = ts;
    if (!t->started || now_ms > t->last_ms)
        t->last_ms = now_ms;
    t->started = true;

    rtp_set_ssrc(buf, t->ssrc_out);
    rtp_set_seq(buf, (uint16_t)seq.out);
    rtp_set_ts(buf, ts);
    if (pid.present)
        write_pid(buf + h->payload_off + d->pid_off, &pid);
    if (tl0.present)
        buf[h->payload_off + d->tl0_off] = (uint8_t)tl0.out;
    return 0;
}

void vpx_track_drop(struct vpx_track *t, const rtp_hdr_t *h, const struct vpx_desc *d)
{
    /* no SSRC check: a router that rebuilds headers rewrites with its own SSRC in h */
    if (t->need_key)
        return;
    map_drop(&t->seq, h->seq);
    if (d->codec == VPX_VP8 && d->pid_off && t->pid.live && t->pid.bits == (d->pid_15 ? 15 : 7))
        map_drop(&t->pid, (uint32_t)d->picture_id);
}

/* ---- layer selection ---- */

static struct vpx_pic *pic_find(struct vpx_track *t, uint32_t ts)
{
    for (unsigned i = 0; i < VPX_PICTURES; i++)
        if (t->pics[i].used && t->pics[i].ts == ts)
            return &t->pics[i];
    return NULL;
}

static struct vpx_pic *pic_add(struct vpx_track *t, uint32_t ts)
{
    struct vpx_pic *p = &t->pics[t->pic_next];
    t->pic_next = (uint8_t)((t->pic_next + 1) % VPX_PICTURES);
    *p = (struct vpx_pic){ .used = true, .ts = ts };
    return p;
}

static int clamp_layer(int v)
{
    return v < 0 ? 0 : v >= VPX_MAX_SPATIAL ? VPX_MAX_SPATIAL - 1 : v;
}

/* A keyframe makes every layer decodable from here: reset to the limits. */
static struct vpx_pic *on_keyframe(struct vpx_track *t, const rtp_hdr_t *h, int max_sid,
                                   int max_tid)
{
    if (!t->sel_live || h->ssrc != t->sel_ssrc) {
        memset(t->pics, 0, sizeof(t->pics));
        t->pic_next = 0;
        t->sel_live = true;
        t->sel_ssrc = h->ssrc;
    }
    t->cur_tid = max_tid;
    t->cur_sid = max_sid;
    struct vpx_pic *p = pic_find(t, h->ts);
    if (!p)
        p = pic_add(t, h->ts);
    p->keep_t = true;
    if (!p->marked)           /* a reordered packet decided it first: widen if still open */
        p->sid_limit = (int8_t)max_sid;
    return p;
}

/* First packet seen of a picture: move the current layers toward the limits where the
 * stream allows it, then fix this picture's decision. */
static struct vpx_pic *on_new_picture(struct vpx_track *t, const rtp_hdr_t *h,
                                      const struct vpx_desc *d, int max_sid, int max_tid)
{
    if (max_tid < t->cur_tid)
        t->cur_tid = max_tid;
    else if (max_tid > t->cur_tid && d->layer_sync && d->tid == t->cur_tid + 1)
        t->cur_tid = d->tid;                 /* depends on lower layers only */
    if (max_sid < t->cur_sid)
        t->cur_sid = max_sid;
    struct vpx_pic *p = pic_add(t, h->ts);
    p->keep_t = d->tid <= t->cur_tid;
    p->sid_limit = (int8_t)t->cur_sid;
    /* VP9 flexible mode (libwebrtc): U means every higher layer may start after this one */
    if (d->codec == VPX_VP9 && d->flexible && d->layer_sync && p->keep_t)
        t->cur_tid = max_tid;
    return p;
}

bool vpx_track_keep_vp9(struct vpx_track *t, const rtp_hdr_t *h, const struct vpx_desc *d,
                        int max_sid, int max_tid, bool *marker)
{
    struct vpx_pic *p;

    max_sid = clamp_layer(max_sid);
    max_tid = clamp_layer(max_tid);
    if (d->keyframe) {
        p = on_keyframe(t, h, max_sid, max_tid);
    } else if (!t->sel_live || h->ssrc != t->sel_ssrc) {
        /* no keyframe of this source seen: a plain filter, nothing remembered */
        bool keep = d->tid <= max_tid && d->sid <= max_sid;
        *marker = keep && (h->marker || (d->frame_end && d->sid == max_sid));
        return keep;
    } else if (!(p = pic_find(t, h->ts))) {
        p = on_new_picture(t, h, d, max_sid, max_tid);
    }
    bool keep = p->keep_t && d->sid <= p->sid_limit;
    *marker = keep && (h->marker || (d->frame_end && d->sid == p->sid_limit));
    if (*marker)
        p->marked = true;
    return keep;
}

bool vpx_track_keep_tid(struct vpx_track *t, const rtp_hdr_t *h, const struct vpx_desc *d,
                        int max_tid)
{
    bool marker;
    return vpx_track_keep_vp9(t, h, d, VPX_MAX_SPATIAL - 1, max_tid, &marker);
}
