/* Private to the video router (media/vrouter.c: members, forwarding, feedback;
 * media/vpolicy.c: what each receiver gets, probing, pausing, the uplink's feedback). */
#ifndef MEDIA_VROUTER_PRIV_H
#define MEDIA_VROUTER_PRIV_H

#include "media/pkt_hist.h"
#include "media/session.h"
#include "media/vpx.h"

#include <stdbool.h>
#include <stdint.h>

struct engine;
struct peer;

#define MAX_SID 3
#define TWCC_SLOTS 1024          /* uplink arrival records, power of two */
#define HIST_SLOTS 1024          /* packets kept for NACKs, per publisher stream and per track */
#define HIST_PKT_MAX 1500        /* a publisher's packets longer than this are not kept */
#define HIST_PREFIX_MAX 128      /* header + descriptor bytes a track keeps as it sent them */
#define CHOOSE_NS (200 * 1000000LL)
#define RATE_WINDOW_NS (500 * 1000000LL)
#define ACTIVE_NS (1500 * 1000000LL) /* a layer without packets for this long is gone */
#define PLI_MIN_NS (300 * 1000000LL)  /* keyframe requests per stream at most this often */
#define TWCC_FB_NS (100 * 1000000LL)
#define REMB_NS (1000 * 1000000LL)
#define AUDIO_BPS 50000          /* kept aside for the mix in every receiver's budget */
#define FLOOR_BPS 60000          /* below this (after audio) a receiver gets no video */
#define UP_FACTOR 1.15           /* a higher layer must fit this many times over */
#define START_BPS 1500000
#define MIN_BPS 50000
#define MAX_BPS 20000000
#define REMB_BPS 4000000         /* what we tell REMB-only publishers they may send */
#define PROBE_EVERY_NS (3000 * 1000000LL)
#define PROBE_LEN_NS (600 * 1000000LL)
#define PAUSE_AFTER_NS (4000 * 1000000LL) /* a layer nobody wanted this long is paused */

struct twcc_rx {
    int64_t arrival_us[TWCC_SLOTS];
    uint16_t tag[TWCC_SLOTS];
    bool started, pending;
    uint16_t next, max;          /* first seq not yet reported, newest seq */
    uint8_t count;               /* feedback packet count */
};

/* One incoming simulcast stream of a publisher (the only one, without simulcast). */
struct vstream {
    uint32_t ssrc, rtx_ssrc;     /* 0 until known */
    uint8_t codec;               /* VPX_VP8 or VPX_VP9, of the last packet */
    int n_sid;                   /* spatial layers seen: 1 unless VP9 SVC */
    int64_t last_ns, pli_ns, key_ns;
    uint64_t bytes[MAX_SID];     /* in the current rate window, per spatial layer */
    uint32_t bps[MAX_SID];       /* smoothed */
    uint16_t width, height;      /* of its last VP8 keyframe, 0 if unknown */
    uint8_t fir_seq;
    bool paused;                 /* we asked the publisher to stop sending it */
    bool seen_any;
    uint16_t seen_hi;            /* newest sequence number received */
    uint64_t seen[16];           /* the 1024 sequence numbers up to seen_hi: received? */
    int64_t needed_ns;           /* when a receiver last wanted it */
    struct nack_gen ng;
    struct pkt_hist *hist;       /* its packets as received, by their seq, for every
                                  * receiver's NACKs (a track keeps only a struct sent_ref);
                                  * NULL until its first packet */
};

/* What a track keeps per packet it sent, in its pkt_hist: the bytes it changed (the RTP
 * header and the payload descriptor, followed by prefix_len - sizeof *ref bytes of them)
 * and where the rest is in the publisher stream's history. */
struct sent_ref {
    uint64_t src;                /* the publisher's session id */
    uint16_t src_seq;            /* the packet's seq in that stream's history */
    uint16_t src_off;            /* its payload bytes from here follow the prefix */
    uint16_t len;                /* the whole packet as sent, before SRTP */
    uint8_t stream;              /* the publisher's stream */
    uint8_t prefix_len;
};

struct vpeer;

/* One track we send a receiver. */
struct vtrack {
    const struct session_vtrack *cfg;
    struct vpx_track rw;
    struct pkt_hist *hist;       /* sent_refs by our seq; NULL when the receiver does not NACK */
    struct vpeer *src, *want;    /* what it shows, and what it should show */
    int level, want_level;
    int max_tid;
    uint16_t rtx_seq;
    struct vpeer *reported;      /* the source last told to signaling */
};

struct vpeer {
    struct peer *p;
    struct vrouter *r;
    struct vpeer *next;
    uint64_t view;               /* requested main source, 0 = the dominant speaker */
    struct vpeer *last_main;     /* the last main that was not the receiver itself */
    int64_t spoke_ns;            /* last time it became the dominant speaker */
    uint32_t order;
    /* as a publisher */
    int n_streams;
    struct vstream st[SESSION_MAX_LAYERS];
    struct twcc_rx rx;
    int64_t fb_ns, remb_ns, window_ns;
    unsigned active_mask;        /* streams not paused, as last told to signaling */
    int64_t pause_ns;            /* when pause_unused last ran */
    /* as a receiver */
    int n_tracks;
    struct vtrack tr[SESSION_MAX_VTRACKS];
    struct bwe *bwe;
    uint16_t twcc_out;
    bool audio_only, reported_audio_only, ever_reported;
    int64_t choose_ns;
    int64_t probe_next_ns, probe_end_ns, probe_sent_ns;
    uint32_t probe_bps, want_bps;
};

struct vrec;

struct vrouter {
    struct vpeer *members;
    struct vrec *rec;            /* the conference recorder, or NULL (media/vrec.c) */
    struct vpeer *dominant;
    uint32_t joins;
    struct vrouter_stats stats;
};

/* A level is what a receiver can be given of a publisher: a simulcast stream, or a VP9
 * spatial layer with those below it. */
struct level {
    int stream, max_sid;
    uint32_t bps;
    bool active;
};

#define LEVELS_MAX (MAX_SID > SESSION_MAX_LAYERS ? MAX_SID : SESSION_MAX_LAYERS)

static inline int64_t ms_of(int64_t ns) { return ns / 1000000; }

/* vrouter.c */
uint32_t our_ssrc(const struct peer *p);
void send_rtcp(struct engine *e, struct peer *p, uint8_t *out, int n);
void request_keyframe(struct engine *e, struct vpeer *pub, int s, int64_t now_ns);
uint32_t default_bps(int i);
int pub_levels(const struct vpeer *pub, struct level *lv, int64_t now_ns);
int level_stream(const struct vpeer *pub, int level, int64_t now_ns, int *max_sid);
int level_of(const struct level *lv, int n, int level, int *max_sid);
bool switch_point(bool same_src, bool down, int s, int want_stream, const struct vpx_desc *d);
/* vrec.c */
void vrec_offer(struct vrouter *r, struct vpeer *pub, int s, const struct level *lv, int nlv, const uint8_t *buf,
                const rtp_hdr_t *h, const struct vpx_desc *d, int64_t now_ns);
void vrec_tick(struct engine *e, struct vrouter *r, int64_t now_ns);
void vrec_forget(struct vrouter *r, struct vpeer *gone);
/* vpolicy.c */
struct vpeer *last_speaker(struct vrouter *r, const struct vpeer *except);
void twcc_record(struct twcc_rx *rx, uint16_t seq, int64_t now_us);

#endif
