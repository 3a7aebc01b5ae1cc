/* One synthetic site (a meeting room endpoint) of the load generator: it signs in over the
 * WebSocket protocol, connects ICE/DTLS-SRTP as a browser would (media/wclient.h, driven
 * without blocking), sends its pre-encoded Opus (and VP8) in real time and keeps RFC 3550
 * receive statistics of the mix it gets back. All sites are driven by one thread through
 * one epoll set owned by struct load_env. */
#ifndef LOAD_SITE_H
#define LOAD_SITE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>
#include "media/dtls.h"
#include "media/sdp.h"
#include "media/wclient.h"
#include "tools/load/audio.h"
#include "tools/load/janus.h"
#include "tools/load/verify.h"
#include "tools/load/ws.h"

struct lvid_set;

enum site_stage {
    SITE_WAITING = 0, /* not started yet */
    SITE_TCP,         /* TCP connect in progress */
    SITE_UPGRADE,     /* WebSocket handshake */
    SITE_SIGNIN,      /* room mode: signin sent, waiting for signedin */
    SITE_ANSWER,      /* join sent, waiting for the answer */
    SITE_CONNECTING,  /* ICE checks, then the DTLS handshake */
    SITE_FIRST_MEDIA, /* SRTP keys in place, sending; nothing received yet */
    SITE_MEDIA,       /* joined: media flows both ways */
    SITE_FAILED,
    SITE_IDLE,        /* room mode: signed in, no media session */
    SITE_BACKOFF,     /* room mode: WebSocket lost, waiting to reconnect */
};

/* Epoll tags: data.u64 = index << 2 | kind. */
enum { TAG_TIMER = 0, TAG_TCP = 1, TAG_UDP = 2, TAG_STDIN = 3 };

/* Per-room facts the sites share: the marker beeps its talker sent. */
struct load_room {
    int marker_site;              /* site whose signal carries the beeps, -1 none */
    int64_t *beep_tx_ns;          /* CLOCK_REALTIME of each beep onset sent, owned */
    int n_beep, cap_beep;
};

/* Everything the sites share; owned by main. */
struct impair;
struct lroom;
struct lroom_site;

struct load_env {
    struct impair *impair;        /* --loss/--delay/--jitter on media sent, NULL none; owned by main */
    const char *host_port;        /* for the Host header */
    const char *ws_path;
    struct sockaddr_storage ws_addr;
    socklen_t ws_addr_len;
    int family;                   /* AF_INET or AF_INET6: which server candidate to use */
    const char *bind_addr;        /* our UDP sockets' address */
    dtls_identity_t *identity;    /* one client certificate for every site */
    int epfd;
    bool video;
    struct la_ring *talker_ring[LA_MAX_TALKERS];
    struct la_ring *marker_ring;  /* talker ring with beeps, for each room's marker talker */
    struct la_ring *silence;
    struct lvid_set *vid;         /* pre-encoded VP8 layers, NULL without --video */
    sdp_offer_t *scratch;         /* for parsing answers (large) */
    struct load_room *rooms;
    int nrooms;
    bool stopping;                /* closes are ours from now on: not failures */
    bool own_gcm;                 /* RTP under GCM through OpenSSL (media/srtp_gcm.c), not libsrtp2 */
    bool janus;                   /* sign in to Janus instead of our server */
    bool janus_video;             /* ... to its VideoRoom (publishers and subscribers), not the AudioBridge */
    long long janus_room;         /* Janus mode: the room of site room 0 (room k is this + k) */
    int video_publishers;         /* --video-publishers: sites 0..P-1 send video */
    int video_thumbs;             /* --video-thumbnails: extra video tracks each receiver asks for */
    int video_check_every;        /* --video-check: decrypt one video packet in N (the header is clear) */
    int video_nack_every;         /* --video-nack: a receiver drops one video packet in N and NACKs it */
    struct lroom *lroom;          /* room mode (--credentials, tools/load/room.h), NULL otherwise */
    /* counters, all sites */
    uint64_t pkts_out, pkts_in, bytes_out, bytes_in, video_pkts_out;
    uint64_t audio_in;            /* Opus RTP packets received (the mix), without RTCP */
    uint64_t audio_rtp_bytes_in;  /* ... their bytes, without the SRTP tag */
    uint64_t send_errors, unprotect_errors, rtcp_in;
    uint64_t video_in, video_bytes_in;   /* VP8 RTP received: packets, bytes on the wire */
    uint64_t video_rtp_bytes_in;         /* ... the same without the SRTP tag */
    uint64_t video_frames_in, video_decrypted;
    uint64_t layers_msgs;         /* `layers` messages applied (paused or resumed layers) */
    uint64_t nacks_sent, nack_repaired, nack_mismatched, nack_unanswered; /* --video-nack */
    int in_flight;                /* sites between TCP and SRTP keys */
    int joined, failed;
};

/* RFC 3550 A.1 / A.8 receive statistics of the audio stream a site gets. */
struct site_rx {
    bool started;
    uint16_t max_seq;
    uint32_t cycles;              /* seq wraps, << 16 */
    uint32_t base_seq;
    uint64_t received;
    double jitter;                /* RFC 3550 interarrival jitter, RTP units (48 kHz) */
    int64_t last_transit;
    bool have_transit;
};

#define SITE_MAX_VSTREAMS 8        /* video streams (SSRCs) counted apart per site */

/* One video stream a site receives. */
struct site_vstream {
    uint32_t ssrc;
    uint64_t packets, frames, bytes; /* bytes on the wire */
    uint32_t keyframes;              /* keyframe starts seen among the decrypted packets */
    uint16_t width, height;          /* of the last of them (0: none seen) */
};

/* --video-nack: the one video packet a receiver pretends it lost, kept to compare with
 * what the server resends. */
struct site_nack {
    bool pending;
    uint16_t seq;
    uint32_t ssrc;
    int64_t sent_ms;              /* when the NACK went out */
    size_t len;
    uint8_t pkt[1500];            /* the packet as it arrived, decrypted */
};

struct site {
    int index, room;
    int talker;                   /* signature index in its room, -1 for a silent site */
    bool muted, marker;
    char name[64];
    char conference[72];
    enum site_stage stage;
    enum site_stage failed_at;
    char why[200];                /* failure text */
    bool reaped;                  /* its sockets are closed */
    int tcp_fd;
    struct ws_conn ws;
    struct wclient wc;
    bool wc_open;
    char session[24];
    struct ljanus jan;            /* Janus mode: the session's state */
    int64_t next_keepalive_ms;    /* Janus mode: when the next keepalive is due */
    int opus_pt, vp8_pt;
    uint8_t ext_level, ext_mid, ext_rid;
    char mid_audio[SDP_MID_SZ], mid_video[SDP_MID_SZ];
    uint32_t ssrc, vssrc[3];
    uint16_t seq, vseq[3];
    uint32_t ts;
    uint32_t frames;              /* audio packets sent */
    uint32_t vkey_base;           /* video frame at which the ring restarted (a keyframe) */
    int64_t vkey_ms;              /* when a keyframe request last restarted it */
    uint8_t vactive;              /* bit per simulcast layer to send: the server's `layers` */
    const struct la_ring *ring;   /* what it sends */
    int64_t t_open_ms, t_keys_ms, t_first_ms; /* monotonic */
    int64_t next_consent_ms;
    uint64_t sent, received_rtcp, speaker_events, video_frames_in;
    /* video roles (--video-publishers, --video-thumbnails) and what arrives */
    bool vpub;                    /* sends VP8 simulcast */
    bool expect_video;            /* some other site publishes: video must arrive */
    bool send_audio;              /* false: a listener that sends no audio (--no-listener-audio) */
    int vthumbs;                  /* extra video tracks asked for */
    uint8_t vp8_pts[16];          /* bit per payload type that is VP8 in the answer */
    uint64_t video_pkts_in, video_bytes_in;
    uint32_t video_seen;          /* for --video-check sampling */
    struct site_vstream vstreams[SITE_MAX_VSTREAMS];
    struct site_nack *nack;       /* --video-nack, receivers only, owned; else NULL */
    int n_vstreams;               /* distinct SSRCs seen, up to SITE_MAX_VSTREAMS */
    int64_t next_join_ms;         /* Janus subscriber: when to subscribe again (0: not waiting) */
    struct site_rx rx;
    struct lv_ear *ear;           /* sampled receivers only, owned */
    int64_t t_last_audio_ms;      /* monotonic arrival of the last mix packet */
    struct lroom_site *rm;        /* room mode: credential and sign-in state, owned; else NULL */
};

const char *site_stage_name(enum site_stage st);

/* Fills in a site before the run (no I/O). Takes nothing from env yet. */
void site_init(struct site *s, int index, int room, int talker, bool muted, bool marker,
               const char *name, const char *conference, struct load_env *env);
/* Starts signing in: UDP socket, TCP connect, WebSocket handshake. Failures are recorded
 * in the site (stage SITE_FAILED), not returned. */
void site_open(struct site *s, struct load_env *env, int64_t now_ms);
void site_on_tcp(struct site *s, struct load_env *env, uint32_t events, int64_t now_ms);
void site_on_udp(struct site *s, struct load_env *env, int64_t now_ms);
/* Timers: ICE/DTLS progress, consent checks, the join deadline. */
void site_tick(struct site *s, struct load_env *env, int64_t now_ms, int64_t join_timeout_ms);
/* Sends this 20 ms slot's audio packet (and video when due). */
void site_send(struct site *s, struct load_env *env);
/* Closes the sockets of a failed site (deferred so no handler frees what it is using). */
void site_reap(struct site *s, struct load_env *env);
/* Polite end: WebSocket close, then everything is freed. */
void site_close(struct site *s, struct load_env *env);

/* The steps site_open takes, for room mode (tools/load/room.c), which signs in first and
 * opens the media transport only when invited. */
/* Opens the UDP socket (ICE/DTLS client) and registers it. On failure the site fails
 * (stage SITE_FAILED, reason in s->why) and -1 is returned. */
int site_udp_open(struct site *s, struct load_env *env);
/* Closes the UDP socket and frees its DTLS/SRTP state, when open. */
void site_udp_close(struct site *s, struct load_env *env);
/* TCP connect (non-blocking), WebSocket upgrade queued, socket registered. -1 with the reason
 * in why[0..cap) (and nothing left open) on failure. */
int site_ws_connect(struct site *s, struct load_env *env, char *why, size_t cap);
/* Closes the WebSocket's socket at once (no close frame) and frees its buffers. */
void site_ws_close(struct site *s, struct load_env *env);
/* Asks epoll for writability while the WebSocket has queued bytes. */
void site_ws_rearm(struct site *s, struct load_env *env);
void site_set_stage(struct site *s, struct load_env *env, enum site_stage st);
/* Sends `join` for s->conference with a new offer; stage SITE_ANSWER (or SITE_FAILED). */
void site_send_join(struct site *s, struct load_env *env);
/* `layers`: send only the simulcast layers the server says someone receives, as a browser
 * does with RTCRtpSender.setParameters; the lowest always runs. */
void site_on_layers(struct site *s, struct load_env *env, json_t *msg);
/* Takes the server's answer (session id and SDP): stage SITE_CONNECTING (or SITE_FAILED). */
void site_take_answer(struct site *s, struct load_env *env, const char *session, const char *sdp);

/* For tools/load/site_janus.c. site_fail records the site's first failure (stage
 * SITE_FAILED, the text in s->why). site_local_addr gives our UDP socket's address.
 * site_apply_remote takes the codecs, extensions and transport from Janus's answer or
 * offer (parsed into env->scratch, which stays valid for the caller) and moves the site to
 * SITE_CONNECTING; it fails the site on error. */
void site_fail(struct site *s, struct load_env *env, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void site_local_addr(const struct site *s, char ip[46], int *port);
void site_apply_remote(struct site *s, struct load_env *env, const char *sdp);

/* Janus mode (tools/load/site_janus.c): the WebSocket just opened; a message arrived; the
 * slow timer (keepalives, a subscription to retry). */
void site_janus_start(struct site *s, struct load_env *env, int64_t now_ms);
void site_janus_on_message(struct site *s, struct load_env *env, const char *text, size_t len);
void site_janus_tick(struct site *s, struct load_env *env, int64_t now_ms);

/* Loss from the receive statistics: expected and lost packets. */
void site_rx_loss(const struct site_rx *rx, uint64_t *expected, uint64_t *lost);

#endif
