/* What the signaling thread tells a worker about a new WebRTC session, and what the worker
 * reports back. Shared vocabulary only: the session itself lives in media/peer.c. */
#ifndef MEDIA_SESSION_H
#define MEDIA_SESSION_H

#include <stdbool.h>
#include <stdint.h>

enum session_state {
    SESSION_NEW = 0,     /* waiting for the first ICE check */
    SESSION_CHECKING,    /* a valid check arrived; waiting for DTLS */
    SESSION_CONNECTED,   /* DTLS done, SRTP keys in place */
    SESSION_FAILED,      /* DTLS failed (bad fingerprint, handshake error) */
    SESSION_CLOSED,
};

enum session_close_reason {
    CLOSE_BY_SIGNALING = 0, /* the endpoint left or its WebSocket closed */
    CLOSE_CONSENT_EXPIRED,  /* no ICE check for 30 s (RFC 7675) */
    CLOSE_DTLS_FAILED,
    CLOSE_DTLS_CLOSED,      /* the peer sent close_notify */
    CLOSE_SHUTDOWN,
};

enum session_mode {
    SESSION_MODE_ECHO = 1, /* each participant gets its own audio and video back */
    SESSION_MODE_MIX,      /* an audio conference: everyone hears the mix of the talkers */
};

#define SESSION_MAX_LAYERS 3  /* simulcast layers a publisher may send */
#define SESSION_MAX_VTRACKS 5 /* video tracks we send one receiver: main + 4 thumbnails */

/* The video side of a session in a conference (SESSION_MODE_MIX): what the endpoint
 * publishes on its first video m-section, and the tracks we send it (track 0 is the main
 * view, on that same m-section; thumbnails go on the m-sections it offered recvonly). */
struct session_video {
    bool publish;            /* the endpoint may send video (its m-section is sendrecv/sendonly) */
    uint8_t n_layers;        /* simulcast layers, lowest first; 1 without simulcast */
    char rid[SESSION_MAX_LAYERS][16];     /* rid of each layer, "" for SSRC simulcast */
    uint32_t ssrc[SESSION_MAX_LAYERS];    /* 0 until learned from the rid extension */
    uint32_t rtx_ssrc[SESSION_MAX_LAYERS];
    int vp8_pt, vp8_rtx_pt, vp9_pt, vp9_rtx_pt; /* negotiated, -1 if not */
    uint8_t fb;              /* SDP_FB_* bits of the video codecs (nack, pli, fir, remb, twcc) */
    uint8_t ext_rid, ext_rrid, ext_twcc, ext_mid, ext_abs; /* header extension ids, 0 = none */
    uint8_t n_tracks;        /* tracks we send it, 0 when it takes no video */
    struct session_vtrack {
        char mid[16];
        uint32_t ssrc, rtx_ssrc;
    } track[SESSION_MAX_VTRACKS];
};

/* EV_VIDEO_TRACKS: what a receiver's tracks now show (heap, freed by the signaling thread). */
struct video_tracks {
    uint64_t session;        /* the receiver */
    bool audio_only;         /* its bandwidth is below the floor: no video is sent */
    uint8_t n;
    struct video_track_src {
        char mid[16];
        uint64_t source;     /* the publisher's session, 0 = nothing on it */
        uint8_t layer;       /* the simulcast/spatial layer it gets */
    } t[SESSION_MAX_VTRACKS];
};

/* CMD_REC_START / CMD_REC_STOP / CMD_REC_VIEW: built by the signaling thread, owned and freed
 * by the worker. The recorder (media/rec.h) stays the signaling thread's: the worker only
 * pushes media into it between START and the EV_REC_STOPPED it answers STOP with. */
struct rec;
struct rec_cmd {
    char conference[64];
    struct rec *rec;
    uint64_t view;           /* CMD_REC_VIEW: a member's session id, 0 = the dominant speaker */
    /* the mixer's settings, used if the recorder creates the conference */
    int mix_talkers, mix_sample_rate, mix_bitrate, mix_complexity, mix_dominant_ms;
    bool mix_dtx;
};

/* Built by the signaling thread, handed to the worker in CMD_SESSION_CREATE, then owned and
 * freed by the worker. */
struct session_params {
    uint64_t id;
    enum session_mode mode;
    char local_ufrag[32];   /* ours: first half of the USERNAME in the peer's checks */
    char local_pwd[64];     /* ours: the MESSAGE-INTEGRITY key of those checks */
    char remote_ufrag[64];
    char remote_fp[192];    /* the peer's sha-256 certificate fingerprint, "AB:CD:..." */
    bool dtls_server;       /* we answered a=setup:passive */
    int opus_pt, vp8_pt, vp9_pt; /* negotiated payload types, -1 if none */
    uint32_t audio_ssrc_out; /* SSRCs announced in our answer */
    uint32_t video_ssrc_out;
    uint8_t ext_audio_level; /* negotiated header-extension ids, 0 = not negotiated */
    uint8_t ext_mid;
    char audio_mid[32];      /* mid of the audio m-section, sent in the mid extension */
    char conference[64];     /* the conference to join (SESSION_MODE_MIX) */
    /* SESSION_MODE_MIX: the mixer's settings, used if this join creates the conference */
    int mix_talkers, mix_sample_rate, mix_bitrate, mix_complexity, mix_dominant_ms;
    bool mix_dtx;
    bool agc, denoise;       /* clean this participant's voice (speexdsp) */
    bool muted;              /* starts muted by the server */
    struct session_video video;
};

/* EV_LEVELS: each member's smoothed level, and its traffic and link quality since the last
 * report (media/qstats.h). */
struct mix_levels {
    int n;
    int interval_ms;
    struct mix_level {
        uint64_t session;
        uint8_t level;           /* RFC 6464: 0 loudest .. 127 silence */
        uint32_t rx_packets;     /* RTP packets received in the interval */
        uint64_t bytes_in, bytes_out; /* UDP payload (SRTP, SRTCP, DTLS out) from and to it */
        uint32_t pkts_in, pkts_out;   /* their datagrams */
        uint32_t expected;       /* uplink RTP packets expected, audio and video */
        int32_t lost;            /* ... not received; negative when duplicates outnumber losses */
        float jitter_ms;         /* RFC 3550 jitter of its audio; < 0 before any audio */
        int32_t rtt_ms;          /* from its receiver reports on our audio; -1 unknown */
    } v[];
};

const char *session_state_name(enum session_state s);
const char *session_close_reason_name(enum session_close_reason r);

#endif
