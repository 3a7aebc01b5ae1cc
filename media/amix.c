/* One conference's audio mix (see amix.h). Each tick: every participant's jitter buffer gives
 * one frame whose RFC 6464 level feeds a smoothed power; mixer_select picks the talkers; only
 * they are decoded; the mix is encoded once for all listeners and once per talker without
 * its own voice. Talker "positions" own the mix-minus encoders: a new talker's position
 * starts as a copy of the shared encoder, so its receiver's decoder sees one continuous
 * stream across the switch. Memory is taken at amix_new and amix_add (plus a participant's
 * decoder the first time it talks), never per packet or per tick. */
#include "media/amix.h"
#include "media/jitter.h"
#include "media/mixer.h"

#include <opus.h>
#include <speex/speex_preprocess.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_MS        20
#define RTP_CLOCK       48000       /* Opus RTP timestamps, whatever the decode rate (RFC 7587) */
#define FRAME_MAX       960         /* samples per frame at 48 kHz */
#define FLOOR_LEVEL     60          /* smoothed levels at or below -60 dBov are silence */
#define LEVEL_ATTACK_MS 40
#define LEVEL_RELEASE_MS 200
#define FEC_LOSS_PERC   10          /* tells the encoder to spend bits on in-band FEC */

struct part {
    struct jb *jb;           /* owned */
    SpeexPreprocessState *pre; /* owned; AGC / noise suppression when asked for, else NULL */
    OpusDecoder *dec;        /* owned; created the first time it talks, NULL before */
    struct jb_frame cur;     /* this tick's frame; its data lives in jb until the next get */
    int32_t gain_q12;
    int pos;                 /* talker position, -1 when not a talker */
};

/* One encoded stream: the shared mix, or a talker position's mix-minus. */
struct stream {
    OpusEncoder *enc;        /* owned */
    struct mixer_limiter lim;
    int slot;                /* positions: the talker it serves, -1 free */
    int len;                 /* pkt bytes to send, 0 = nothing (DTX or before the first tick) */
    uint8_t level;           /* RFC 6464 level of pcm */
    bool produced;           /* pcm holds a tick's output */
    int32_t own[FRAME_MAX];  /* positions: the talker's contribution to the mix */
    int16_t pcm[FRAME_MAX];  /* what was encoded */
    uint8_t pkt[AMIX_MAX_PACKET];
};

struct amix {
    struct amix_cfg cfg;
    int frame;                       /* samples per frame at the mixing rate */
    int enc_size;                    /* bytes of an OpusEncoder (they are memcpy-able) */
    float attack, release;           /* level smoothing per tick */
    float floor_power;
    struct mixer_sel_cfg sel_cfg;
    struct jb_cfg jb_cfg;
    int nslots;                      /* one past the highest slot in use */
    struct part *parts[AMIX_MAX_PARTICIPANTS];
    struct mixer_part sel[AMIX_MAX_PARTICIPANTS];
    int talkers[MIXER_MAX_K];
    int ntalkers;
    struct mixer_dom dom;
    bool dom_changed;                /* on the last tick */
    bool dom_left;                   /* the dominant speaker left since the last tick */
    struct stream shared;
    struct stream pos[MIXER_MAX_K];
    int32_t mix[FRAME_MAX];
    int32_t minus[FRAME_MAX];
    int16_t dec_pcm[FRAME_MAX];
    struct amix_stats st;
    struct jb_stats gone;            /* jitter stats of removed participants */
};

void amix_cfg_defaults(struct amix_cfg *cfg)
{
    *cfg = (struct amix_cfg){
        .sample_rate = 48000, .talkers = 3, .hold_ms = 600, .hysteresis_db = 6.0f,
        .dominant_switch_ms = 1500, .bitrate = 32000, .complexity = 5, .dtx = false,
        .jb_min_ms = 20, .jb_max_ms = 200,
    };
}

static bool cfg_ok(const struct amix_cfg *c)
{
    int r = c->sample_rate;
    return (r == 8000 || r == 12000 || r == 16000 || r == 24000 || r == 48000) &&
           c->talkers >= 1 && c->talkers <= MIXER_MAX_K && c->hold_ms >= 0 &&
           c->hysteresis_db >= 0.0f && c->hysteresis_db <= 40.0f &&
           c->dominant_switch_ms >= 0 && c->bitrate >= 6000 && c->bitrate <= 510000 &&
           c->complexity >= 0 && c->complexity <= 10 && c->jb_min_ms >= 0 &&
           c->jb_max_ms >= c->jb_min_ms && c->jb_max_ms <= 1000;
}

static int stream_init(struct stream *s, const struct amix_cfg *c)
{
    int err;
    s->enc = opus_encoder_create(c->sample_rate, 1, OPUS_APPLICATION_VOIP, &err);
    if (!s->enc)
        return -1;
    if (opus_encoder_ctl(s->enc, OPUS_SET_BITRATE(c->bitrate)) != OPUS_OK ||
        opus_encoder_ctl(s->enc, OPUS_SET_COMPLEXITY(c->complexity)) != OPUS_OK ||
        opus_encoder_ctl(s->enc, OPUS_SET_INBAND_FEC(1)) != OPUS_OK ||
        opus_encoder_ctl(s->enc, OPUS_SET_PACKET_LOSS_PERC(FEC_LOSS_PERC)) != OPUS_OK ||
        opus_encoder_ctl(s->enc, OPUS_SET_DTX(c->dtx ? 1 : 0)) != OPUS_OK)
        return -1;
    mixer_limiter_init(&s->lim, c->sample_rate);
    s->slot = -1;
    return 0;
}

struct amix *amix_new(const struct amix_cfg *cfg)
{
    if (!cfg || !cfg_ok(cfg))
        return NULL;
    struct amix *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->cfg = *cfg;
    m->frame = cfg->sample_rate / 1000 * FRAME_MS;
    m->enc_size = opus_encoder_get_size(1);
    m->attack = mixer_smooth_coef(FRAME_MS, LEVEL_ATTACK_MS);
    m->release = mixer_smooth_coef(FRAME_MS, LEVEL_RELEASE_MS);
    m->floor_power = mixer_level_power(FLOOR_LEVEL);
    m->sel_cfg = (struct mixer_sel_cfg){
        .k = cfg->talkers, .hold_ns = (int64_t)cfg->hold_ms * 1000000,
        .hyst_ratio = mixer_db_ratio(cfg->hysteresis_db), .floor_power = m->floor_power,
    };
    m->jb_cfg = (struct jb_cfg){ .min_ms = cfg->jb_min_ms, .max_ms = cfg->jb_max_ms,
                                 .frame_ms = FRAME_MS, .clock_hz = RTP_CLOCK };
    mixer_dom_init(&m->dom);
    if (m->enc_size <= 0 || stream_init(&m->shared, cfg) < 0)
        goto out_free;
    for (int i = 0; i < cfg->talkers; i++)
        if (stream_init(&m->pos[i], cfg) < 0)
            goto out_free;
    return m;
out_free:
    amix_free(m);
    return NULL;
}

static void part_free(struct part *p)
{
    if (p->pre)
        speex_preprocess_state_destroy(p->pre);
    if (p->dec)
        opus_decoder_destroy(p->dec);
    jb_free(p->jb);
    free(p);
}

void amix_free(struct amix *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->nslots; i++)
        if (m->parts[i])
            part_free(m->parts[i]);
    if (m->shared.enc)
        opus_encoder_destroy(m->shared.enc);
    for (int i = 0; i < MIXER_MAX_K; i++)
        if (m->pos[i].enc)
            opus_encoder_destroy(m->pos[i].enc);
    free(m);
}

static struct part *part_at(const struct amix *m, int slot)
{
    return slot >= 0 && slot < m->nslots ? m->parts[slot] : NULL;
}

int amix_add(struct amix *m)
{
    int slot = 0;
    while (slot < AMIX_MAX_PARTICIPANTS && m->parts[slot])
        slot++;
    if (slot == AMIX_MAX_PARTICIPANTS)
        return -1;
    struct part *p = calloc(1, sizeof(*p));
    if (!p)
        return -1;
    p->jb = jb_new(&m->jb_cfg);
    if (!p->jb) {
        free(p);
        return -1;
    }
    p->gain_q12 = 4096;
    p->pos = -1;
    m->parts[slot] = p;
    m->sel[slot] = (struct mixer_part){ .present = true };
    if (slot >= m->nslots)
        m->nslots = slot + 1;
    return slot;
}

static void add_jb_stats(struct jb_stats *to, const struct jb_stats *s)
{
    to->late += s->late;
    to->duplicate += s->duplicate;
    to->too_big += s->too_big;
    to->overflow += s->overflow;
    to->shrunk += s->shrunk;
}

void amix_remove(struct amix *m, int slot)
{
    struct part *p = part_at(m, slot);
    if (!p)
        return;
    struct jb_stats js;
    jb_get_stats(p->jb, &js);
    add_jb_stats(&m->gone, &js);
    if (p->pos >= 0)
        m->pos[p->pos].slot = -1;
    if (m->dom.current == slot) {
        m->dom.current = -1;
        m->dom_left = true;
    }
    if (m->dom.cand == slot)
        m->dom.cand = -1;
    part_free(p);
    m->parts[slot] = NULL;
    m->sel[slot] = (struct mixer_part){ 0 };
    while (m->nslots > 0 && !m->parts[m->nslots - 1])
        m->nslots--;
}

void amix_set_muted(struct amix *m, int slot, bool muted)
{
    if (part_at(m, slot))
        m->sel[slot].muted = muted;
}

int amix_set_cleanup(struct amix *m, int slot, bool agc, bool denoise)
{
    struct part *p = part_at(m, slot);
    if (!p)
        return AMIX_ERR_ARG;
    if (!agc && !denoise) {
        if (p->pre)
            speex_preprocess_state_destroy(p->pre);
        p->pre = NULL;
        return 0;
    }
    if (!p->pre && !(p->pre = speex_preprocess_state_init(m->frame, m->cfg.sample_rate)))
        return AMIX_ERR_ARG;
    int on_agc = agc, on_dn = denoise;
    float agc_level = 8000.0f; /* about -12 dBFS RMS */
    int agc_increment = 20;    /* dB/s: a weak microphone comes up within a second or two */
    int agc_max_gain = 30;     /* dB */
    speex_preprocess_ctl(p->pre, SPEEX_PREPROCESS_SET_AGC, &on_agc);
    speex_preprocess_ctl(p->pre, SPEEX_PREPROCESS_SET_AGC_LEVEL, &agc_level);
    speex_preprocess_ctl(p->pre, SPEEX_PREPROCESS_SET_AGC_INCREMENT, &agc_increment);
    speex_preprocess_ctl(p->pre, SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, &agc_max_gain);
    speex_preprocess_ctl(p->pre, SPEEX_PREPROCESS_SET_DENOISE, &on_dn);
    return 0;
}

void amix_set_gain(struct amix *m, int slot, float gain_db)
{
    struct part *p = part_at(m, slot);
    if (p)
        p->gain_q12 = mixer_gain_q12(gain_db);
}

int amix_push(struct amix *m, int slot, uint16_t seq, uint32_t ts, int level,
              const uint8_t *payload, size_t len, int64_t now_ns)
{
    struct part *p = part_at(m, slot);
    if (!p || !payload || len == 0 || len > AMIX_MAX_PACKET)
        return AMIX_ERR_ARG;
    int ns = opus_packet_get_nb_samples(payload, (opus_int32)len, RTP_CLOCK);
    if (ns < 0)
        return AMIX_ERR_ARG;
    if (ns != RTP_CLOCK / 1000 * FRAME_MS)
        return AMIX_ERR_DURATION;
    int tag = level < 0 || level > 127 ? 127 : level;
    switch (jb_put(p->jb, seq, ts, payload, len, tag, now_ns)) {
    case 0: return 0;
    case JB_ERR_LATE: return AMIX_ERR_LATE;
    case JB_ERR_DUPLICATE: return AMIX_ERR_DUPLICATE;
    case JB_ERR_TOO_BIG: return AMIX_ERR_TOO_BIG;
    default: return AMIX_ERR_ARG;
    }
}

/* Everyone's frame for this tick, and their smoothed level. A concealed frame keeps the
 * level where it was; nothing at all counts as silence. Returns the real frames taken. */
static uint64_t pull_frames(struct amix *m, int64_t now_ns)
{
    uint64_t frames = 0;
    for (int s = 0; s < m->nslots; s++) {
        struct part *p = m->parts[s];
        if (!p)
            continue;
        enum jb_kind k = jb_get(p->jb, now_ns, &p->cur);
        if (k == JB_FRAME) {
            frames++;
            mixer_smooth(&m->sel[s].power, mixer_level_power(p->cur.tag), m->attack, m->release);
        } else if (k == JB_EMPTY) {
            mixer_smooth(&m->sel[s].power, 0.0f, m->attack, m->release);
        }
    }
    return frames;
}

/* A talker enters: its position's encoder and limiter continue from the shared stream it
 * was hearing; its decoder starts clean (created now, or reset after earlier turns). */
static void enter_position(struct amix *m, int slot, struct part *p)
{
    int j = 0;
    while (j < m->cfg.talkers && m->pos[j].slot >= 0)
        j++;
    if (j == m->cfg.talkers) /* cannot happen: as many positions as talkers */
        return;
    struct stream *s = &m->pos[j];
    memcpy(s->enc, m->shared.enc, (size_t)m->enc_size);
    s->lim = m->shared.lim;
    s->slot = slot;
    p->pos = j;
    if (!p->dec) {
        int err;
        p->dec = opus_decoder_create(m->cfg.sample_rate, 1, &err);
    } else {
        opus_decoder_ctl(p->dec, OPUS_RESET_STATE);
    }
}

static void assign_positions(struct amix *m)
{
    for (int j = 0; j < m->cfg.talkers; j++) {
        int slot = m->pos[j].slot;
        if (slot >= 0 && !m->sel[slot].talker) {
            m->parts[slot]->pos = -1;
            m->pos[j].slot = -1;
        }
    }
    for (int t = 0; t < m->ntalkers; t++) {
        struct part *p = m->parts[m->talkers[t]];
        if (p->pos < 0)
            enter_position(m, m->talkers[t], p);
    }
}

/* Decode a talker's frame into m->dec_pcm. False when there is nothing to play. */
static bool decode(struct amix *m, struct part *p)
{
    int n = m->frame, got = -1;
    const struct jb_frame *f = &p->cur;
    if (!p->dec || f->kind == JB_EMPTY)
        return false;
    if (f->kind == JB_FRAME) {
        got = opus_decode(p->dec, f->data, (opus_int32)f->len, m->dec_pcm, n, 0);
        m->st.decodes++;
    } else if (f->kind == JB_FEC) {
        got = opus_decode(p->dec, f->data, (opus_int32)f->len, m->dec_pcm, n, 1);
        m->st.fec_decodes++;
    }
    if (got != n) { /* PLC asked for, or a packet the decoder refused */
        if (f->kind == JB_PLC)
            m->st.plc_frames++;
        got = opus_decode(p->dec, NULL, 0, m->dec_pcm, n, 0);
    }
    return got == n;
}

static void encode(struct amix *m, struct stream *s, const int32_t *in)
{
    m->st.limited_samples += mixer_limit(&s->lim, in, s->pcm, (size_t)m->frame);
    s->level = (uint8_t)mixer_pcm_level(s->pcm, (size_t)m->frame);
    int n = opus_encode(s->enc, s->pcm, m->frame, s->pkt, AMIX_MAX_PACKET);
    m->st.encodes++;
    s->produced = true;
    /* with DTX, a packet of 2 bytes or less need not be sent */
    s->len = n <= 0 || (m->cfg.dtx && n <= 2) ? 0 : n;
}

void amix_tick(struct amix *m, int64_t now_ns)
{
    size_t n = (size_t)m->frame;
    uint64_t frames = pull_frames(m, now_ns);

    m->ntalkers = mixer_select(&m->sel_cfg, m->sel, m->nslots, now_ns, m->talkers);
    m->dom_changed = mixer_dom_update(&m->dom, m->sel, m->nslots, m->floor_power,
                                      (int64_t)m->cfg.dominant_switch_ms * 1000000, now_ns) ||
                     m->dom_left;
    m->dom_left = false;
    assign_positions(m);

    memset(m->mix, 0, n * sizeof(int32_t));
    for (int j = 0; j < m->cfg.talkers; j++) {
        struct stream *s = &m->pos[j];
        if (s->slot < 0)
            continue;
        struct part *p = m->parts[s->slot];
        if (p->cur.kind == JB_FRAME)
            frames--;
        if (decode(m, p)) {
            if (p->pre) /* only talkers' audio is ever decoded, so only it is cleaned */
                speex_preprocess_run(p->pre, m->dec_pcm);
            mixer_add(m->mix, s->own, m->dec_pcm, p->gain_q12, n);
        }
        else
            memset(s->own, 0, n * sizeof(int32_t));
    }
    m->st.skipped_frames += frames;

    encode(m, &m->shared, m->mix);
    for (int j = 0; j < m->cfg.talkers; j++) {
        struct stream *s = &m->pos[j];
        if (s->slot < 0)
            continue;
        mixer_minus(m->minus, m->mix, s->own, n);
        encode(m, s, m->minus);
    }
}

static const struct stream *stream_of(const struct amix *m, int slot)
{
    const struct part *p = part_at(m, slot);
    if (!p)
        return NULL;
    return p->pos >= 0 ? &m->pos[p->pos] : &m->shared;
}

const uint8_t *amix_output(const struct amix *m, int slot, size_t *len, uint8_t *level, bool *own)
{
    const struct stream *s = stream_of(m, slot);
    if (len)
        *len = s ? (size_t)s->len : 0;
    if (level)
        *level = s ? s->level : 127;
    if (own)
        *own = s && s != &m->shared;
    return s && s->len > 0 ? s->pkt : NULL;
}

bool amix_is_talker(const struct amix *m, int slot)
{
    const struct part *p = part_at(m, slot);
    return p && p->pos >= 0;
}

int amix_level(const struct amix *m, int slot)
{
    if (slot < 0 || slot >= m->nslots || !m->sel[slot].present)
        return 127;
    return mixer_power_level(m->sel[slot].power);
}

int amix_dominant(const struct amix *m, bool *changed)
{
    if (changed)
        *changed = m->dom_changed;
    return m->dom.current;
}

void amix_get_stats(const struct amix *m, struct amix_stats *out)
{
    struct jb_stats sum = m->gone, js;
    for (int i = 0; i < m->nslots; i++) {
        if (m->parts[i]) {
            jb_get_stats(m->parts[i]->jb, &js);
            add_jb_stats(&sum, &js);
        }
    }
    *out = m->st;
    out->late = sum.late;
    out->duplicate = sum.duplicate;
    out->too_big = sum.too_big;
    out->overflow = sum.overflow + sum.shrunk;
}

const int16_t *amix_mix_pcm(const struct amix *m, size_t *n)
{
    *n = m->shared.produced ? (size_t)m->frame : 0;
    return m->shared.produced ? m->shared.pcm : NULL;
}

const int16_t *amix_debug_last_mix(const struct amix *m, int slot, size_t *n)
{
    const struct stream *s = stream_of(m, slot);
    if (n)
        *n = s && s->produced ? (size_t)m->frame : 0;
    return s && s->produced ? s->pcm : NULL;
}
