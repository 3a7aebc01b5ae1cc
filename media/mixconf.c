/* Audio conferences on a worker. Each receiver gets one RTP stream (its own SSRC, sequence
 * numbers and timestamps) whatever the mixer hands it: the shared mix or its own mix-minus. */
#include "media/mixconf.h"
#include "mcu/log.h"
#include "mcu/msg.h"
#include "mcu/worker.h"
#include "media/amix.h"
#include "media/engine.h"
#include "media/peer.h"
#include "media/quality.h"
#include "media/rec.h"
#include "media/rtp.h"
#include "media/session.h"
#include "media/vrouter.h"

#include <stdlib.h>
#include <string.h>

#define FRAME_TS 960 /* 20 ms at Opus's 48 kHz RTP clock */

struct mixconf {
    char name[64];
    struct amix *mix;
    struct vrouter *vr;    /* its video */
    struct peer *members;  /* linked through peer.conf_next */
    int nmembers;
    int dominant_slot;
    int ticks;
    struct rec *rec[2];    /* its recording and live stream: they keep the conference open */
    struct mixconf *next;
};

/* Nobody in and nothing recording: the conference can go. */
static bool unused(const struct mixconf *c)
{
    return !c->nmembers && !c->rec[0] && !c->rec[1];
}

static struct mixconf *find(struct mixconf_set *set, const char *name)
{
    for (struct mixconf *c = set->head; c; c = c->next)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

static void conf_drop(struct mixconf_set *set, struct mixconf *c)
{
    for (struct mixconf **cc = &set->head; *cc; cc = &(*cc)->next)
        if (*cc == c) {
            *cc = c->next;
            break;
        }
    log_info("mixconf", "conference '%s' closed", c->name);
    vrouter_free(c->vr);
    amix_free(c->mix);
    free(c);
}

/* The named conference, opened with these mixer settings when it is not there yet. */
static struct mixconf *open_conf(struct mixconf_set *set, const char *name, const struct amix_cfg *cfg)
{
    struct mixconf *c = find(set, name);
    if (c)
        return c;
    c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->mix = amix_new(cfg);
    c->vr = vrouter_new();
    if (!c->mix || !c->vr) {
        amix_free(c->mix);
        vrouter_free(c->vr);
        free(c);
        return NULL;
    }
    snprintf(c->name, sizeof c->name, "%s", name);
    c->dominant_slot = -1;
    c->next = set->head;
    set->head = c;
    log_info("mixconf", "conference '%s' opened: K=%d, %d Hz, %d bit/s", c->name, cfg->talkers,
             cfg->sample_rate, cfg->bitrate);
    return c;
}

static void mix_cfg(struct amix_cfg *cfg, int talkers, int rate, int bitrate, int complexity, bool dtx, int dom_ms)
{
    amix_cfg_defaults(cfg);
    cfg->talkers = talkers;
    cfg->sample_rate = rate;
    cfg->bitrate = bitrate;
    cfg->complexity = complexity;
    cfg->dtx = dtx;
    cfg->dominant_switch_ms = dom_ms;
}

int mixconf_join(struct mixconf_set *set, struct peer *p)
{
    struct amix_cfg cfg;
    mix_cfg(&cfg, p->p.mix_talkers, p->p.mix_sample_rate, p->p.mix_bitrate, p->p.mix_complexity, p->p.mix_dtx,
            p->p.mix_dominant_ms);
    struct mixconf *c = open_conf(set, p->p.conference, &cfg);
    if (!c)
        return -1;
    int slot = amix_add(c->mix);
    if (slot >= 0 && (p->p.agc || p->p.denoise) &&
        amix_set_cleanup(c->mix, slot, p->p.agc, p->p.denoise) < 0) {
        amix_remove(c->mix, slot);
        slot = -1;
    }
    if (slot >= 0 && vrouter_join(c->vr, p) < 0) {
        amix_remove(c->mix, slot);
        slot = -1;
    }
    if (slot < 0) {
        if (unused(c))
            conf_drop(set, c);
        return -1;
    }
    amix_set_muted(c->mix, slot, p->p.muted);
    p->conf = c;
    p->mix_slot = slot;
    p->out_seq = (uint16_t)random();
    p->out_ts = (uint32_t)random();
    p->conf_next = c->members;
    c->members = p;
    c->nmembers++;
    return 0;
}

void mixconf_set_muted(struct peer *p, bool muted)
{
    if (p->conf)
        amix_set_muted(p->conf->mix, p->mix_slot, muted);
}

void mixconf_leave(struct mixconf_set *set, struct peer *p)
{
    struct mixconf *c = p->conf;
    if (!c)
        return;
    amix_remove(c->mix, p->mix_slot);
    vrouter_leave(c->vr, p);
    for (struct peer **pp = &c->members; *pp; pp = &(*pp)->conf_next)
        if (*pp == p) {
            *pp = p->conf_next;
            break;
        }
    p->conf = NULL;
    c->nmembers--;
    if (unused(c))
        conf_drop(set, c);
}

struct rec *mixconf_record(struct mixconf_set *set, const struct rec_cmd *cmd, bool start)
{
    struct mixconf *c = find(set, cmd->conference);
    if (!start) {
        for (int i = 0; c && i < 2; i++)
            if (c->rec[i] && c->rec[i] == cmd->rec) {
                c->rec[i] = NULL;
                vrouter_record(c->vr, cmd->rec, false);
                if (unused(c))
                    conf_drop(set, c);
                return cmd->rec;
            }
        return NULL;
    }
    struct amix_cfg cfg;
    mix_cfg(&cfg, cmd->mix_talkers, cmd->mix_sample_rate, cmd->mix_bitrate, cmd->mix_complexity, cmd->mix_dtx,
            cmd->mix_dominant_ms);
    if (c && c->rec[0] && c->rec[1])
        return cmd->rec;
    if (!(c = open_conf(set, cmd->conference, &cfg)) || vrouter_record(c->vr, cmd->rec, true) < 0) {
        if (c && unused(c))
            conf_drop(set, c);
        return cmd->rec;
    }
    c->rec[c->rec[0] ? 1 : 0] = cmd->rec;
    vrouter_record_view(c->vr, cmd->view);
    log_info("mixconf", "conference '%s': recorder attached", c->name);
    return NULL;
}

void mixconf_record_view(struct mixconf_set *set, const struct rec_cmd *cmd)
{
    struct mixconf *c = find(set, cmd->conference);
    if (c)
        vrouter_record_view(c->vr, cmd->view);
}

void mixconf_on_rtp(struct engine *e, struct peer *p, uint8_t *buf, size_t len)
{
    rtp_hdr_t h;
    if (rtp_parse(buf, len, &h) < 0)
        return engine_drop(e, DROP_RTP_MALFORMED);
    p->rtp_in++;
    quality_on_rtp(p, &h);
    if (!p->conf || vrouter_on_rtp(e, p, buf, len, &h, mono_ns()))
        return;
    if (h.pt != p->p.opus_pt || !h.payload_len)
        return; /* empty packets carry nothing */
    int level = -1;
    bool voice;
    uint8_t lv;
    if (p->p.ext_audio_level && rtp_get_audio_level(buf, &h, p->p.ext_audio_level, &voice, &lv) == 0)
        level = lv;
    int rc = amix_push(p->conf->mix, p->mix_slot, h.seq, h.ts, level, buf + h.payload_off,
                       h.payload_len, mono_ns());
    if (rc < 0)
        engine_drop(e, rc == AMIX_ERR_LATE ? DROP_AUDIO_LATE
                       : rc == AMIX_ERR_DUPLICATE ? DROP_AUDIO_DUPLICATE : DROP_AUDIO_UNUSABLE);
}

/* Writes one packet of the mixer's output to a member: its header, then SRTP. */
static void send_audio(struct engine *e, struct peer *p, const uint8_t *payload, size_t plen, uint8_t level)
{
    uint8_t lvbyte = rtp_audio_level_byte(level < 127, level);
    rtp_ext_t ext[2];
    size_t next = 0;
    if (p->p.ext_audio_level)
        ext[next++] = (rtp_ext_t){.id = p->p.ext_audio_level, .len = 1, .data = &lvbyte};
    if (p->p.ext_mid && p->p.audio_mid[0])
        ext[next++] = (rtp_ext_t){.id = p->p.ext_mid, .len = (uint8_t)strlen(p->p.audio_mid),
                                  .data = (const uint8_t *)p->p.audio_mid};
    rtp_write_t w = {.pt = (uint8_t)p->p.opus_pt, .seq = p->out_seq, .ts = p->out_ts,
                     .ssrc = p->p.audio_ssrc_out, .ext = ext, .ext_count = next};
    uint8_t *out = engine_tx_reserve(e);
    int off = rtp_write_header(out, WORKER_PKT_MAX, &w);
    if (off < 0 || (size_t)off + plen + SRTPX_MAX_TRAILER > WORKER_PKT_MAX)
        return;
    memcpy(out + off, payload, plen);
    size_t len = (size_t)off + plen;
    if (srtpx_protect_rtp(p->srtp, out, &len, WORKER_PKT_MAX) < 0)
        return engine_drop(e, DROP_SRTP_OTHER);
    engine_tx_commit(e, p, len);
    p->out_seq++;
    p->rtp_out++;
    qstats_sent_audio(&p->q, plen);
}

#define LEVEL_TICKS 25 /* levels to signaling every 500 ms */

/* Each member's level and packet count, for the admin panels (room conferences only). */
static void report_levels(struct engine *e, struct mixconf *c)
{
    struct mix_levels *lv = malloc(sizeof *lv + (size_t)c->nmembers * sizeof lv->v[0]);
    if (!lv)
        return;
    lv->n = 0;
    lv->interval_ms = LEVEL_TICKS * 20;
    for (struct peer *p = c->members; p; p = p->conf_next) {
        lv->v[lv->n++] = (struct mix_level){p->p.id, (uint8_t)amix_level(c->mix, p->mix_slot),
                                            (uint32_t)(p->rtp_in - p->rtp_in_reported)};
        p->rtp_in_reported = p->rtp_in;
        quality_fill(p, &lv->v[lv->n - 1]);
    }
    if (!engine_emit_ptr(e, EV_LEVELS, lv))
        free(lv);
}

/* The recorders take the whole mix at 48 kHz: a 16 kHz mixer's is upsampled (linearly). */
static void record_mix(struct mixconf *c, int64_t now_ns)
{
    size_t n;
    const int16_t *pcm = amix_mix_pcm(c->mix, &n);
    int16_t up[960];
    if (!pcm)
        return;
    if (n * 3 == 960) {
        for (size_t i = 0; i < n; i++) {
            int a = pcm[i], b = i + 1 < n ? pcm[i + 1] : pcm[i];
            up[3 * i] = (int16_t)a;
            up[3 * i + 1] = (int16_t)((2 * a + b) / 3);
            up[3 * i + 2] = (int16_t)((a + 2 * b) / 3);
        }
        pcm = up;
        n = 960;
    }
    for (int i = 0; i < 2; i++)
        if (c->rec[i])
            rec_push_audio(c->rec[i], pcm, (int)n, now_ns / 1000000);
}

void mixconf_tick(struct engine *e, struct mixconf_set *set, int64_t now_ns)
{
    for (struct mixconf *c = set->head; c; c = c->next) {
        amix_tick(c->mix, now_ns);
        if (c->rec[0] || c->rec[1])
            record_mix(c, now_ns);
        if (++c->ticks % LEVEL_TICKS == 0 && !strncmp(c->name, "room-", 5))
            report_levels(e, c);
        for (struct peer *p = c->members; p; p = p->conf_next) {
            p->out_ts += FRAME_TS; /* time runs on through DTX gaps */
            if (!p->srtp)
                continue;
            size_t len;
            uint8_t level;
            bool own;
            const uint8_t *pkt = amix_output(c->mix, p->mix_slot, &len, &level, &own);
            if (pkt && len)
                send_audio(e, p, pkt, len, level);
            quality_tick(e, p, now_ns);
        }
        bool changed = false;
        int dom = amix_dominant(c->mix, &changed);
        if (changed && dom >= 0)
            for (struct peer *p = c->members; p; p = p->conf_next)
                if (p->mix_slot == dom) {
                    engine_emit(e, EV_DOMINANT_SPEAKER, p->p.id, 0);
                    vrouter_dominant(c->vr, p, now_ns);
                }
        vrouter_tick(e, c->vr, now_ns);
    }
}

void mixconf_on_rtcp(struct engine *e, struct peer *p, const uint8_t *buf, size_t len)
{
    if (p->conf)
        vrouter_on_rtcp(e, p, buf, len, mono_ns());
}

void mixconf_free_all(struct mixconf_set *set)
{
    while (set->head) {
        struct mixconf *c = set->head;
        set->head = c->next;
        for (struct peer *p = c->members; p; p = p->conf_next)
            p->conf = NULL;
        vrouter_free(c->vr);
        amix_free(c->mix);
        free(c);
    }
}
