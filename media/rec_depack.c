/* RTP to VP8/VP9 frames for the recorder (see rec_depack.h). Packets sit in a ring indexed by
 * extended sequence number; `next` is the oldest one not yet emitted. A frame is emitted once
 * every packet from its start to its end (marker, or the next picture's start) is held; a gap
 * is waited for wait_ms, then given up, which drops the frame and waits for a keyframe since
 * later frames would reference the lost one - unless the gap lay between two frames and the
 * picture ids say no frame was in it. */
#include "media/rec_depack.h"

#include <string.h>

#include "media/rtp.h"

#define SEQ_BASE (1 << 20)    /* extended numbers start here, so they never go negative */

static struct rec_dp_slot *at(struct rec_depack *d, int64_t seq)
{
    return &d->slot[seq % REC_DP_SLOTS];
}

static bool held(struct rec_depack *d, int64_t seq)
{
    const struct rec_dp_slot *s = at(d, seq);
    return s->used && s->seq == seq;
}

/* Forgets every packet held and the sequence numbering; counters and wait_ms stay. */
static void restart(struct rec_depack *d, uint8_t codec)
{
    for (int i = 0; i < REC_DP_SLOTS; i++)
        d->slot[i].used = false;
    d->codec = codec;
    d->have_seq = false;
    d->need_key = true;
    d->gap = false;
    d->last_pid = -1;
    d->next = d->hi = 0;
    d->late_run = 0;
    memset(&d->refs, 0, sizeof(d->refs));
}

void rec_depack_init(struct rec_depack *d, int wait_ms)
{
    memset(&d->st, 0, sizeof(d->st));
    d->wait_ms = wait_ms;
    d->now_ms = 0;
    restart(d, 0);
}

/* Gives up on every packet before upto: the held ones are released (their frame is broken),
 * the missing ones lost. Missing packets alone may have held no frame data: see emit. */
static void give_up(struct rec_depack *d, int64_t upto)
{
    int64_t n = upto - d->next, released = 0;
    if (n <= 0)
        return;
    int64_t scan = n < REC_DP_SLOTS ? n : REC_DP_SLOTS;   /* nothing older is held */
    for (int64_t s = d->next; s < d->next + scan; s++) {
        if (held(d, s)) {
            at(d, s)->used = false;
            released++;
        }
    }
    d->st.lost_packets += (uint64_t)(n - released);
    if (released) {
        d->st.dropped_frames++;
        d->need_key = true;
    } else {
        d->gap = true;
    }
    d->next = upto;
}

/* The first packet held at or after seq (hi + 1 if none): a loss is given up in one go. */
static int64_t next_held(struct rec_depack *d, int64_t seq)
{
    while (seq <= d->hi && !held(d, seq))
        seq++;
    return seq;
}

/* Whether the missing packet seq has been waited for long enough: wait_ms since the first
 * packet after it arrived, which is when the gap became known. */
static bool may_give_up(struct rec_depack *d, int64_t seq, int64_t now, bool flush)
{
    int64_t k = next_held(d, seq);
    return flush || (k <= d->hi && now - at(d, k)->t_ms >= d->wait_ms);
}

static int parse_desc(uint8_t codec, const uint8_t *p, size_t n, struct vpx_desc *v)
{
    if (codec == VPX_VP8)
        return vpx_parse_vp8(p, n, v);
    if (codec == VPX_VP9)
        return vpx_parse_vp9(p, n, v);
    return VPX_ERR_ARG;
}

static void fill_slot(struct rec_dp_slot *s, int64_t ext, const rtp_hdr_t *h,
                      const struct vpx_desc *v, const uint8_t *payload, int64_t t_ms)
{
    s->used = true;
    s->seq = ext;
    s->ts = h->ts;
    s->t_ms = t_ms;
    s->marker = h->marker;
    s->start = v->frame_start;
    s->end = v->frame_end;
    s->key = v->keyframe;
    s->sid = (uint8_t)v->sid;
    s->pid = (int16_t)v->picture_id;
    s->pid15 = v->pid_15;
    s->key_w = v->width;
    s->key_h = v->height;
    s->ss_n = 0;
    if (v->ss_n_s && v->ss_width[0]) {
        s->ss_n = v->ss_n_s > REC_DP_LAYERS ? REC_DP_LAYERS : v->ss_n_s;
        memcpy(s->ss_w, v->ss_width, sizeof(s->ss_w));
        memcpy(s->ss_h, v->ss_height, sizeof(s->ss_h));
    }
    s->len = (uint16_t)(h->payload_len - v->hdr_len);
    memcpy(s->data, payload + v->hdr_len, s->len);
}

/* The packet's sequence number extended next to the newest one. */
static int64_t extend(const struct rec_depack *d, uint16_t seq)
{
    int32_t diff = (int32_t)((seq - (uint32_t)d->hi) & 0xFFFF);
    if (diff >= 0x8000)
        diff -= 0x10000;
    return d->hi + diff;
}

int rec_depack_push(struct rec_depack *d, enum vpx_codec codec, const uint8_t *pkt, size_t len,
                    int64_t t_ms)
{
    rtp_hdr_t h;
    struct vpx_desc v;

    if (rtp_parse(pkt, len, &h) < 0 ||
        parse_desc((uint8_t)codec, pkt + h.payload_off, h.payload_len, &v) < 0) {
        d->st.rejected++;
        return REC_DP_ERR_PARSE;
    }
    if (h.payload_len - v.hdr_len > REC_DP_PAYLOAD) {
        d->st.rejected++;
        return REC_DP_ERR_SIZE;
    }
    if ((uint8_t)codec != d->codec)
        restart(d, (uint8_t)codec);
    if (t_ms > d->now_ms)
        d->now_ms = t_ms;
    if (!d->have_seq) {
        d->have_seq = true;
        d->next = d->hi = SEQ_BASE + h.seq;
    }
    int64_t ext = extend(d, h.seq);
    if (ext < d->next) {
        if (++d->late_run < REC_DP_RESYNC) {
            d->st.rejected++;
            return REC_DP_ERR_LATE;
        }
        restart(d, (uint8_t)codec);            /* a new numbering: start over with it */
        d->have_seq = true;
        d->next = d->hi = ext = SEQ_BASE + h.seq;
    }
    d->late_run = 0;
    if (ext >= d->next + REC_DP_SLOTS)
        give_up(d, ext - REC_DP_SLOTS + 1);    /* the window is full: make room */
    if (held(d, ext)) {
        d->st.rejected++;
        return REC_DP_ERR_DUP;
    }
    fill_slot(at(d, ext), ext, &h, &v, pkt + h.payload_off, t_ms);
    if (ext > d->hi)
        d->hi = ext;
    d->st.packets++;
    return 0;
}

/* From the start packet at next, finds the last packet of its picture. Returns 1 with *end,
 * 0 to wait for more packets, -1 if the frame was given up. */
static int find_end(struct rec_depack *d, int64_t now, bool flush, int64_t *end)
{
    uint32_t ts = at(d, d->next)->ts;
    for (int64_t k = d->next;; k++) {
        if (k > d->hi) {
            if (!flush)
                return 0;
            give_up(d, k);                     /* the stream ended inside this frame */
            return -1;
        }
        if (!held(d, k)) {
            if (!may_give_up(d, k, now, flush))
                return 0;
            give_up(d, next_held(d, k));
            return -1;
        }
        struct rec_dp_slot *s = at(d, k);
        if (s->ts != ts) {                     /* the next picture began without a marker */
            if (s->start && (d->codec == VPX_VP8 || at(d, k - 1)->end)) {
                *end = k - 1;
                return 1;
            }
            give_up(d, k);
            return -1;
        }
        if (s->marker) {
            *end = k;
            return 1;
        }
    }
}

static int build_vp8(struct rec_depack *d, int64_t first, int64_t last, struct rec_dp_frame *f)
{
    size_t o = 0;
    for (int64_t k = first; k <= last; k++) {
        const struct rec_dp_slot *s = at(d, k);
        memcpy(d->out + o, s->data, s->len);
        o += s->len;
    }
    const struct rec_dp_slot *s0 = at(d, first);
    f->len = o;
    f->layers = 1;
    f->width = s0->key ? s0->key_w : 0;
    f->height = s0->key ? s0->key_h : 0;
    return o ? 1 : -1;
}

/* The layer frames of one VP9 picture, as laid out in d->out. */
struct layers {
    int n;
    size_t start[REC_DP_LAYERS], len[REC_DP_LAYERS];
    uint8_t sid[REC_DP_LAYERS];
    struct rec_vp9_hdr hdr[REC_DP_LAYERS];
    bool parsed[REC_DP_LAYERS];
};

/* Concatenates the payloads of [first, last] into d->out, noting where each layer frame
 * (B .. E) begins. Returns the bytes written or -1 if the B/E bits do not nest. */
static long gather_vp9(struct rec_depack *d, int64_t first, int64_t last, struct layers *L)
{
    size_t o = 0;
    bool in = false;
    L->n = 0;
    for (int64_t k = first; k <= last; k++) {
        const struct rec_dp_slot *s = at(d, k);
        if (s->start) {
            if (in || L->n == REC_DP_LAYERS)
                return -1;
            in = true;
            L->start[L->n] = o;
            L->sid[L->n] = s->sid;
        } else if (!in) {
            return -1;
        }
        memcpy(d->out + o, s->data, s->len);
        o += s->len;
        if (s->end || k == last) {             /* lenient: the picture's end ends a layer */
            L->len[L->n] = o - L->start[L->n];
            if (L->len[L->n] == 0)
                return -1;
            L->n++;
            in = false;
        }
    }
    return (long)o;
}

/* Parses every layer header in decoding order, keeping the reference sizes current. A frame
 * that does not parse makes the sizes unknown until the next key frame refreshes them all. */
static void parse_layers(struct rec_depack *d, struct layers *L)
{
    for (int i = 0; i < L->n; i++) {
        L->parsed[i] = rec_vp9_parse(d->out + L->start[i], L->len[i], &d->refs, &L->hdr[i]) == 0;
        if (L->parsed[i])
            rec_vp9_refresh(&d->refs, &L->hdr[i]);
        else
            memset(&d->refs, 0, sizeof(d->refs));
    }
}

/* Whether layer i may be hidden without changing how the next layer decodes: VP9 reuses the
 * previous frame's motion vectors only if that frame was shown, had the same size and the
 * next one is not error resilient, so hiding is safe when that reuse cannot happen anyway. */
static bool may_hide(const struct layers *L, int i)
{
    const struct rec_vp9_hdr *a = &L->hdr[i], *b = &L->hdr[i + 1];
    if (!L->parsed[i] || !L->parsed[i + 1] || a->show_existing || !a->show)
        return false;
    return b->err_res || b->show_existing || a->w != b->w || a->h != b->h;
}

/* Marks the lower layers "not shown" (last one first, so a growing header only shifts layers
 * already done). Returns the new total length. */
static size_t hide_lower(struct rec_depack *d, struct layers *L, size_t total)
{
    for (int i = L->n - 2; i >= 0; i--) {
        if (!may_hide(L, i))
            continue;
        const struct rec_vp9_hdr *h = &L->hdr[i];
        size_t end = L->start[i] + L->len[i];
        bool grows = !h->key && h->end_bits % 8 == 0;
        if (grows)
            memmove(d->out + end + 1, d->out + end, total - end);
        long n = rec_vp9_hide(d->out + L->start[i], L->len[i], L->len[i] + grows, h);
        if (n < 0 || (size_t)n != L->len[i] + grows) {  /* cannot happen after parsing */
            if (grows)
                memmove(d->out + end, d->out + end + 1, total - end);
            continue;
        }
        L->len[i] = (size_t)n;
        total += grows;
    }
    return total;
}

/* Appends the superframe index (VP9 spec Annex B): marker, little-endian sizes, marker. */
static size_t add_index(uint8_t *p, size_t o, const struct layers *L)
{
    size_t max = 0;
    for (int i = 0; i < L->n; i++)
        max = L->len[i] > max ? L->len[i] : max;
    unsigned mag = max < (1u << 8) ? 1 : max < (1u << 16) ? 2 : max < (1u << 24) ? 3 : 4;
    uint8_t marker = (uint8_t)(0xC0 | (mag - 1) << 3 | (unsigned)(L->n - 1));
    p[o++] = marker;
    for (int i = 0; i < L->n; i++)
        for (unsigned b = 0; b < mag; b++)
            p[o++] = (uint8_t)(L->len[i] >> (8 * b));
    p[o++] = marker;
    return o;
}

/* Size of the picture's shown layer: its header, else the SS entry of its top layer. */
static void vp9_size(struct rec_depack *d, int64_t first, const struct layers *L,
                     struct rec_dp_frame *f)
{
    const struct rec_dp_slot *s0 = at(d, first);
    int top = L->n - 1;
    f->width = f->height = 0;
    if (L->parsed[top] && !L->hdr[top].show_existing) {
        f->width = L->hdr[top].w;
        f->height = L->hdr[top].h;
    } else if (s0->ss_n > L->sid[top]) {
        f->width = s0->ss_w[L->sid[top]];
        f->height = s0->ss_h[L->sid[top]];
    } else if (s0->key) {
        f->width = s0->key_w;
        f->height = s0->key_h;
    }
}

static int build_vp9(struct rec_depack *d, int64_t first, int64_t last, struct rec_dp_frame *f)
{
    struct layers L;
    long o = gather_vp9(d, first, last, &L);
    if (o < 0) {
        memset(&d->refs, 0, sizeof(d->refs));
        return -1;
    }
    parse_layers(d, &L);
    vp9_size(d, first, &L, f);
    size_t total = (size_t)o;
    if (L.n > 1)
        total = add_index(d->out, hide_lower(d, &L, total), &L);
    f->len = total;
    f->layers = (uint8_t)L.n;
    return 1;
}

/* After a gap: whether the frame starting with s0 directly follows the last one emitted
 * (VP8 picture ids are continuous; VP9 ones may skip dropped temporal layers, which then
 * costs a keyframe request it did not need). */
static bool follows(const struct rec_depack *d, const struct rec_dp_slot *s0)
{
    if (s0->pid < 0 || d->last_pid < 0)
        return false;
    int mask = s0->pid15 ? 0x7FFF : 0x7F;
    return s0->pid == ((d->last_pid + 1) & mask);
}

/* Emits (or drops) the frame [next, last] and releases its packets. */
static int emit(struct rec_depack *d, int64_t last, struct rec_dp_frame *f)
{
    int64_t first = d->next;
    const struct rec_dp_slot *s0 = at(d, first);
    int rc = 0;

    if (d->gap && !follows(d, s0)) {
        d->need_key = true;                    /* a whole frame was in the gap */
        d->st.dropped_frames++;
    }
    d->gap = false;
    d->last_pid = s0->pid;
    memset(f, 0, sizeof(*f));
    f->codec = d->codec;
    f->keyframe = s0->key;
    f->rtp_ts = s0->ts;
    f->t_ms = s0->t_ms;
    f->data = d->out;
    if (!d->need_key || s0->key)
        rc = d->codec == VPX_VP8 ? build_vp8(d, first, last, f) : build_vp9(d, first, last, f);
    for (int64_t k = first; k <= last; k++)
        at(d, k)->used = false;
    d->next = last + 1;
    if (rc <= 0) {
        d->st.dropped_frames++;
        if (rc < 0)
            d->need_key = true;
        return 0;
    }
    d->need_key = false;
    d->st.frames++;
    return 1;
}

int rec_depack_pop(struct rec_depack *d, int64_t now_ms, bool flush, struct rec_dp_frame *f)
{
    if (now_ms > d->now_ms)
        d->now_ms = now_ms;
    while (d->have_seq && d->next <= d->hi) {
        if (!held(d, d->next)) {
            if (!may_give_up(d, d->next, d->now_ms, flush))
                return 0;
            give_up(d, next_held(d, d->next));
            continue;
        }
        if (!at(d, d->next)->start) {          /* the rest of a frame whose start is gone */
            at(d, d->next)->used = false;
            d->next++;
            d->need_key = true;
            d->gap = false;
            continue;
        }
        int64_t last;
        int rc = find_end(d, d->now_ms, flush, &last);
        if (rc == 0)
            return 0;
        if (rc > 0 && emit(d, last, f))
            return 1;
    }
    return 0;
}
