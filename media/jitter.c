/* Adaptive jitter buffer (see jitter.h). Frames are numbered from a per-timeline base
 * timestamp and live in a power-of-two ring indexed by frame number, so put and get are O(1)
 * apart from a short scan for the next present frame when the playout frame is missing.
 * Delay grows only when a frame is missing (we wait for it while the target allows) and
 * shrinks by skipping one frame when the buffer has stayed deeper than the target, or when
 * every frame of the last second waited a whole frame longer than the jitter needs: the
 * target counts frames, but a stream whose packets land early in the tick period needs
 * one frame less than one whose packets land just before the tick. */
#include "media/jitter.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_WINDOW     50  /* gets (1 s) over which the minimum depth is watched */
#define LATE_RESET_RUN   16  /* consecutive late packets that mean a new timeline */
#define LATE_RESET_FAR   50  /* frames behind the playout point that mean a new timeline */
#define SHRINK_HOLD_NS   (2LL * 1000000000LL) /* the target steps down at most this often */
#define JITTER_MULT      4.0 /* target = one frame + this many jitter estimates */
#define SLACK_MULT       2.0 /* a frame played this many jitter estimates after it came... */
#define SLACK_MIN_NS     (2LL * 1000000LL) /* ...plus this is played safely */
#define SLACK_TAKES      40  /* frames played in a window before its slack means anything */

struct slot {
    uint32_t frame;          /* frame number held (when used) */
    uint32_t ts;             /* RTP timestamp as received */
    int64_t arrival_ns;      /* when jb_put stored it */
    int tag;                 /* the caller's tag */
    uint16_t seq;
    uint16_t len;            /* 1..JB_MAX_PAYLOAD */
    bool used;
    uint8_t data[JB_MAX_PAYLOAD];
};

struct jb {
    struct jb_cfg cfg;
    uint32_t frame_ticks;    /* RTP ticks per frame */
    int64_t frame_ns;
    int min_frames, max_frames; /* target bounds */
    uint32_t nslots, mask;   /* ring size (power of two) */
    bool started;            /* a timeline exists: base_ts, play and newest mean something */
    uint32_t base_ts;        /* timestamp of frame 0 */
    uint32_t play;           /* the next frame jb_get hands out */
    uint32_t newest;         /* the highest frame stored on this timeline (play - 1 at start) */
    int count;               /* used slots */
    bool played_any;         /* a real frame came out on this timeline: concealment makes sense */
    bool have_seq;           /* last_seq is valid */
    uint16_t last_seq;       /* sequence number of the last frame handed out or skipped */
    int conceal_run;         /* consecutive PLC outputs */
    int late_run;            /* consecutive late packets */
    bool have_prev;          /* prev_* hold the previous arrival (jitter estimate) */
    int64_t prev_arrival_ns;
    uint32_t prev_ts;
    double jitter_ticks;     /* RFC 3550 A.8 estimate, in RTP ticks */
    int target;              /* target depth in frames, within [min_frames, max_frames] */
    int64_t target_changed_ns;
    int window_gets;         /* gets in the current depth window */
    int window_min;          /* minimum depth seen in it */
    int window_takes;        /* frames played in it */
    int64_t window_slack_ns; /* the least time one of them waited between arrival and play */
    int64_t slack_shrink_ns; /* when a slack shrink last happened */
    struct jb_stats st;
    struct slot slots[];     /* nslots of them */
};

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

struct jb *jb_new(const struct jb_cfg *cfg)
{
    if (!cfg || cfg->frame_ms <= 0 || cfg->clock_hz <= 0 || cfg->min_ms < 0 ||
        cfg->max_ms < cfg->min_ms || cfg->max_ms > 1000 ||
        (int64_t)cfg->clock_hz * cfg->frame_ms % 1000 != 0)
        return NULL;
    int min_frames = (cfg->min_ms + cfg->frame_ms - 1) / cfg->frame_ms;
    int max_frames = cfg->max_ms / cfg->frame_ms;
    if (min_frames < 1)
        min_frames = 1;
    if (max_frames < min_frames)
        max_frames = min_frames;
    /* room for the deepest target plus reordering slack */
    uint32_t n = 8;
    while (n < (uint32_t)max_frames + 8)
        n <<= 1;
    struct jb *jb = calloc(1, sizeof(*jb) + n * sizeof(struct slot));
    if (!jb)
        return NULL;
    jb->cfg = *cfg;
    jb->frame_ticks = (uint32_t)((int64_t)cfg->clock_hz * cfg->frame_ms / 1000);
    jb->frame_ns = (int64_t)cfg->frame_ms * 1000000;
    jb->min_frames = min_frames;
    jb->max_frames = max_frames;
    jb->nslots = n;
    jb->mask = n - 1;
    jb->target = min_frames;
    return jb;
}

void jb_free(struct jb *jb)
{
    free(jb);
}

static void clear_slots(struct jb *jb)
{
    for (uint32_t i = 0; i < jb->nslots; i++)
        jb->slots[i].used = false;
    jb->count = 0;
}

void jb_reset(struct jb *jb)
{
    clear_slots(jb);
    jb->started = false;
    jb->have_prev = false;
    jb->late_run = 0;
}

/* A new timeline whose first packet has timestamp ts: playout starts target-1 frames before
 * it, so that packet waits the target delay. */
static void start_timeline(struct jb *jb, uint32_t ts)
{
    clear_slots(jb);
    jb->started = true;
    jb->base_ts = ts - (uint32_t)(jb->target - 1) * jb->frame_ticks;
    jb->play = 0;
    jb->newest = jb->play - 1;
    jb->played_any = false;
    jb->have_seq = false;
    jb->conceal_run = 0;
    jb->late_run = 0;
    jb->window_gets = 0;
    jb->window_min = INT_MAX;
    jb->window_takes = 0;
    jb->window_slack_ns = INT64_MAX;
}

/* Frames from the playout point to ts, rounded to the nearest frame (negative: behind). */
static int64_t frame_offset(const struct jb *jb, uint32_t ts)
{
    uint32_t play_ts = jb->base_ts + jb->play * jb->frame_ticks;
    int64_t d = (int32_t)(ts - play_ts) + (int64_t)(jb->frame_ticks / 2);
    int64_t ft = jb->frame_ticks;
    return d >= 0 ? d / ft : -((-d + ft - 1) / ft);
}

static struct slot *slot_of(struct jb *jb, uint32_t frame)
{
    struct slot *s = &jb->slots[frame & jb->mask];
    return s->used && s->frame == frame ? s : NULL;
}

static int depth_frames(const struct jb *jb)
{
    if (!jb->started || jb->count == 0)
        return 0;
    return (int)(jb->newest - jb->play) + 1;
}

static int desired_target(const struct jb *jb)
{
    double jit_ms = jb->jitter_ticks * 1000.0 / jb->cfg.clock_hz;
    int t = 1 + (int)floor(JITTER_MULT * jit_ms / jb->cfg.frame_ms + 0.5);
    return clampi(t, jb->min_frames, jb->max_frames);
}

/* RFC 3550 A.8, in arrival order; big timestamp jumps (a new talk spurt after DTX, a new
 * timeline) say nothing about the network and are skipped. */
static void update_jitter(struct jb *jb, uint32_t ts, int64_t now_ns)
{
    if (jb->have_prev) {
        int64_t dts = (int32_t)(ts - jb->prev_ts);
        int64_t darr_ns = now_ns - jb->prev_arrival_ns;
        if (llabs(dts) <= jb->cfg.clock_hz && darr_ns >= 0 && darr_ns < 2000000000LL) {
            double darr = (double)darr_ns * jb->cfg.clock_hz / 1e9;
            double d = fabs(darr - (double)dts);
            jb->jitter_ticks += (d - jb->jitter_ticks) / 16.0;
        }
    }
    jb->have_prev = true;
    jb->prev_arrival_ns = now_ns;
    jb->prev_ts = ts;
    int want = desired_target(jb);
    if (want > jb->target) {
        jb->target = want;
        jb->target_changed_ns = now_ns;
    }
}

/* Move the playout point forward to new_play, dropping buffered frames below it. */
static void advance_to(struct jb *jb, uint32_t new_play, uint64_t *counter)
{
    uint32_t n = new_play - jb->play;
    if (n > jb->nslots) /* nothing is buffered beyond play + nslots */
        n = jb->nslots;
    for (uint32_t i = 0; i < n && jb->count > 0; i++) {
        struct slot *s = slot_of(jb, jb->play + i);
        if (s) {
            s->used = false;
            jb->count--;
            jb->have_seq = true;
            jb->last_seq = s->seq;
            (*counter)++;
        }
    }
    jb->play = new_play;
}

static int on_late(struct jb *jb, int64_t off, int64_t now_ns)
{
    jb->st.late++;
    if (++jb->late_run < LATE_RESET_RUN && -off <= LATE_RESET_FAR) {
        /* it would have played with a deeper buffer: deepen (held for a while) */
        if (jb->target < jb->max_frames)
            jb->target++;
        jb->target_changed_ns = now_ns;
        return JB_ERR_LATE;
    }
    jb->st.overflow += (uint64_t)jb->count;
    jb->st.resets++;
    return 0; /* the caller starts a new timeline at this packet */
}

int jb_put(struct jb *jb, uint16_t seq, uint32_t ts, const uint8_t *data, size_t len, int tag,
           int64_t now_ns)
{
    if (!data || len == 0)
        return JB_ERR_ARG;
    if (len > JB_MAX_PAYLOAD) {
        jb->st.too_big++;
        return JB_ERR_TOO_BIG;
    }
    if (!jb->started)
        start_timeline(jb, ts);
    int64_t off = frame_offset(jb, ts);
    bool measured = false; /* late packets still tell of the network's jitter */
    if (off < 0) {
        update_jitter(jb, ts, now_ns);
        measured = true;
        int rc = on_late(jb, off, now_ns);
        if (rc < 0)
            return rc;
        start_timeline(jb, ts);
        off = frame_offset(jb, ts);
    }
    jb->late_run = 0;
    uint32_t frame = jb->play + (uint32_t)off;
    if (off >= (int64_t)jb->nslots)
        advance_to(jb, frame - jb->nslots + 1, &jb->st.overflow);
    struct slot *s = &jb->slots[frame & jb->mask];
    if (s->used) { /* the ring spans nslots frames from play, so it is this very frame */
        jb->st.duplicate++;
        return JB_ERR_DUPLICATE;
    }
    if (!measured)
        update_jitter(jb, ts, now_ns);
    s->used = true;
    s->frame = frame;
    s->ts = ts;
    s->seq = seq;
    s->tag = tag;
    s->arrival_ns = now_ns;
    s->len = (uint16_t)len;
    memcpy(s->data, data, len);
    if (jb->count++ == 0 || (int32_t)(frame - jb->newest) > 0)
        jb->newest = frame;
    jb->st.put++;
    return 0;
}

static void fill(struct jb_frame *out, enum jb_kind kind, const struct slot *s)
{
    out->kind = kind;
    out->data = s ? s->data : NULL;
    out->len = s ? s->len : 0;
    out->seq = s ? s->seq : 0;
    out->ts = s ? s->ts : 0;
    out->tag = s ? s->tag : 0;
}

/* Hand out the playout frame, which is present; advance. */
static enum jb_kind take(struct jb *jb, struct slot *s, int64_t now_ns, struct jb_frame *out)
{
    fill(out, JB_FRAME, s);
    if (now_ns - s->arrival_ns < jb->window_slack_ns)
        jb->window_slack_ns = now_ns - s->arrival_ns;
    jb->window_takes++;
    s->used = false;
    jb->count--;
    jb->play++;
    jb->have_seq = true;
    jb->last_seq = s->seq;
    jb->played_any = true;
    jb->conceal_run = 0;
    jb->st.frames++;
    return JB_FRAME;
}

/* A missing frame: FEC from h when it directly follows and packets were really lost (a
 * contiguous sequence number means a DTX gap, where FEC would replay old audio), else PLC
 * for a short run, then silence. */
static enum jb_kind conceal(struct jb *jb, struct slot *h, bool advance, struct jb_frame *out)
{
    enum jb_kind k = JB_EMPTY;
    if (jb->played_any) {
        bool lost = !jb->have_seq || (uint16_t)(h ? h->seq - jb->last_seq : 0) >= 2;
        if (advance && h && h->frame == jb->play + 1 && lost)
            k = JB_FEC;
        else if (jb->conceal_run < JB_MAX_PLC)
            k = JB_PLC;
    }
    fill(out, k, k == JB_FEC ? h : NULL);
    if (k == JB_PLC)
        jb->conceal_run++;
    if (advance)
        jb->play++;
    if (k == JB_FEC)
        jb->st.fec++;
    else if (k == JB_PLC)
        jb->st.plc++;
    else
        jb->st.empty++;
    return k;
}

/* The earliest buffered frame after play, or NULL. */
static struct slot *next_present(struct jb *jb)
{
    if (jb->count == 0)
        return NULL;
    uint32_t span = jb->newest - jb->play;
    for (uint32_t i = 1; i <= span && i < jb->nslots; i++) {
        struct slot *s = slot_of(jb, jb->play + i);
        if (s)
            return s;
    }
    return NULL;
}

/* Whether every frame played in the window waited a whole frame more than the jitter
 * needs (then the next frame is always here when this one plays, and playing one frame
 * earlier still leaves the margin); at most once per SHRINK_HOLD_NS. */
static bool slack_to_spare(const struct jb *jb, int64_t now_ns)
{
    int64_t margin = SLACK_MIN_NS + (int64_t)(SLACK_MULT * jb->jitter_ticks * 1e9 / jb->cfg.clock_hz);
    return jb->window_takes >= SLACK_TAKES && jb->window_slack_ns >= jb->frame_ns + margin &&
           now_ns - jb->slack_shrink_ns >= SHRINK_HOLD_NS && now_ns - jb->target_changed_ns >= SHRINK_HOLD_NS &&
           depth_frames(jb) >= 2;
}

/* Once a second: when the buffer never drained below target + 2 frames, or when its frames
 * waited a frame longer than needed, skip one frame. The target itself steps down toward
 * what the jitter asks for at most every 2 s. */
static void adapt_depth(struct jb *jb, int64_t now_ns)
{
    int d = depth_frames(jb);
    if (d < jb->window_min)
        jb->window_min = d;
    if (++jb->window_gets >= DEPTH_WINDOW) {
        bool spare = slack_to_spare(jb, now_ns);
        if (jb->window_min >= jb->target + 2 || spare) {
            struct slot *s = slot_of(jb, jb->play);
            advance_to(jb, jb->play + 1, &jb->st.shrunk);
            if (!s)
                jb->st.shrunk++;
            if (spare)
                jb->slack_shrink_ns = now_ns;
        }
        jb->window_gets = 0;
        jb->window_min = INT_MAX;
        jb->window_takes = 0;
        jb->window_slack_ns = INT64_MAX;
    }
    if (jb->target > desired_target(jb) && now_ns - jb->target_changed_ns >= SHRINK_HOLD_NS) {
        jb->target--;
        jb->target_changed_ns = now_ns;
    }
}

enum jb_kind jb_get(struct jb *jb, int64_t now_ns, struct jb_frame *out)
{
    if (!jb->started) {
        jb->st.empty++;
        fill(out, JB_EMPTY, NULL);
        return JB_EMPTY;
    }
    adapt_depth(jb, now_ns);
    struct slot *s = slot_of(jb, jb->play);
    if (s)
        return take(jb, s, now_ns, out);
    struct slot *h = next_present(jb);
    if (!h) /* underrun: wait for it, the delay grows by a frame */
        return conceal(jb, NULL, false, out);
    uint32_t gap = h->frame - jb->play;
    if (gap >= (uint32_t)jb->target) {
        /* a long hole (DTX, a stall, a burst loss already concealed while we waited):
         * resume so that h plays at the target delay */
        jb->play = h->frame - (uint32_t)jb->target + 1;
        if (jb->play == h->frame)
            return take(jb, h, now_ns, out);
        gap = (uint32_t)jb->target - 1;
    }
    int64_t due = h->arrival_ns + (int64_t)((uint32_t)jb->target - 1 - gap) * jb->frame_ns;
    bool give_up = depth_frames(jb) >= jb->target || now_ns >= due;
    return conceal(jb, h, give_up, out);
}

int jb_target_ms(const struct jb *jb)
{
    return jb->target * jb->cfg.frame_ms;
}

int jb_depth_ms(const struct jb *jb)
{
    return depth_frames(jb) * jb->cfg.frame_ms;
}

double jb_jitter_ms(const struct jb *jb)
{
    return jb->jitter_ticks * 1000.0 / jb->cfg.clock_hz;
}

void jb_get_stats(const struct jb *jb, struct jb_stats *out)
{
    *out = jb->st;
}

bool jb_check(const struct jb *jb)
{
    if (jb->target < jb->min_frames || jb->target > jb->max_frames)
        return false;
    if (jb->conceal_run > JB_MAX_PLC || jb->count < 0 || (uint32_t)jb->count > jb->nslots)
        return false;
    if (!jb->started)
        return jb->count == 0;
    int used = 0;
    for (uint32_t i = 0; i < jb->nslots; i++) {
        const struct slot *s = &jb->slots[i];
        if (!s->used)
            continue;
        used++;
        if ((s->frame & jb->mask) != i || s->frame - jb->play >= jb->nslots)
            return false;
        if ((int32_t)(jb->newest - s->frame) < 0 || s->len == 0 || s->len > JB_MAX_PAYLOAD)
            return false;
    }
    return used == jb->count;
}
