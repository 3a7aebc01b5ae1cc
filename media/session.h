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
};

/* EV_LEVELS: each member's smoothed level and its packets received since the last report. */
struct mix_levels {
    int n;
    int interval_ms;
    struct mix_level {
        uint64_t session;
        uint8_t level;           /* RFC 6464: 0 loudest .. 127 silence */
        uint32_t rx_packets;     /* RTP packets received in the interval */
    } v[];
};

const char *session_state_name(enum session_state s);
const char *session_close_reason_name(enum session_close_reason r);

#endif
