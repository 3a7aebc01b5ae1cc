/* SDP for a BUNDLE-only, ICE-lite WebRTC server: parse a browser's offer into a bounded,
 * caller-owned struct (RFC 8866 syntax; JSEP 8829, BUNDLE 8843, simulcast 8853, rid 8851,
 * extmap 8285, rtcp-mux 5761, ssrc 5576), check that we can serve it, pick the payload
 * types and header extensions we will use, and write the answer into a caller buffer.
 * Nothing here allocates, keeps state or does I/O. */
#ifndef MEDIA_SDP_H
#define MEDIA_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Errors (negative). sdp_strerror() gives a human message for each. */
enum {
    SDP_ERR_SYNTAX = -1,        /* not SDP, or a known line is malformed */
    SDP_ERR_LINE_TOO_LONG = -2, /* a line is longer than SDP_MAX_LINE */
    SDP_ERR_TOO_MANY = -3,      /* more m-sections, ssrcs, rids... than the struct holds */
    SDP_ERR_TOO_LONG = -4,      /* a mid, ufrag, cname... longer than its array */
    SDP_ERR_NO_BUNDLE = -5,     /* no a=group:BUNDLE, or it names an unknown mid */
    SDP_ERR_NO_MID = -6,        /* an m-section without a=mid, or a duplicate mid */
    SDP_ERR_NO_ICE = -7,        /* missing a=ice-ufrag or a=ice-pwd */
    SDP_ERR_NO_FINGERPRINT = -8, /* missing a=fingerprint */
    SDP_ERR_FINGERPRINT_ALG = -9, /* fingerprint is not sha-256 */
    SDP_ERR_NO_SETUP = -10,     /* missing a=setup */
    SDP_ERR_NO_RTCP_MUX = -11,  /* an audio/video m-section without a=rtcp-mux */
    SDP_ERR_NO_OPUS = -12,      /* no usable audio m-section offering opus/48000/2 */
    SDP_ERR_PARAM = -13,        /* bad argument or answer parameter */
    SDP_ERR_SPACE = -14,        /* the answer does not fit the caller's buffer */
};

/* Bounds. Sizes named _SZ are char array sizes including the NUL. */
#define SDP_MAX_LINE 2048      /* longest accepted line, without its line ending */
#define SDP_MAX_MSECTIONS 16
#define SDP_MAX_CODECS 48      /* per m-section; extra payload types are dropped */
#define SDP_MAX_EXTMAPS 16     /* per m-section; extra extmaps are dropped */
#define SDP_MAX_SSRCS 8        /* per m-section; more is SDP_ERR_TOO_MANY */
#define SDP_MAX_SSRC_GROUPS 4  /* FID/SIM groups per m-section (more: TOO_MANY); others ignored */
#define SDP_MAX_RIDS 8         /* a=rid lines, and a=simulcast entries per direction (TOO_MANY) */
#define SDP_MID_SZ 32
#define SDP_UFRAG_SZ 64        /* RFC 8839 allows 256; browsers send 4..32 */
#define SDP_PWD_SZ 128
#define SDP_FP_HEX_SZ 192      /* "AB:CD:..." of up to 64 bytes (sha-512) */
#define SDP_FP_MAX 64
#define SDP_PROTO_SZ 32
#define SDP_FMT_SZ 32
#define SDP_CODEC_NAME_SZ 24
#define SDP_FMTP_SZ 128        /* longer fmtp text is truncated (apt/profile-id still parsed) */
#define SDP_URI_SZ 128         /* extmaps with longer URIs are dropped */
#define SDP_CNAME_SZ 64
#define SDP_MSID_SZ 65         /* one msid token (stream or track id), RFC 8830: 1*64 */
#define SDP_RID_SZ 32
#define SDP_ADDR_SZ 46         /* INET6_ADDRSTRLEN */

typedef enum {
    SDP_KIND_OTHER = 0, SDP_KIND_AUDIO, SDP_KIND_VIDEO, SDP_KIND_APPLICATION
} sdp_kind_t;

/* SDP_DIR_NONE means "no direction attribute seen" (which SDP reads as sendrecv). */
typedef enum {
    SDP_DIR_NONE = 0, SDP_DIR_SENDRECV, SDP_DIR_SENDONLY, SDP_DIR_RECVONLY, SDP_DIR_INACTIVE
} sdp_dir_t;

typedef enum {
    SDP_SETUP_NONE = 0, SDP_SETUP_ACTPASS, SDP_SETUP_ACTIVE, SDP_SETUP_PASSIVE
} sdp_setup_t;

/* rtcp-fb types we understand, as bits of sdp_codec_t.fb. Others are ignored. */
enum {
    SDP_FB_NACK = 1 << 0,
    SDP_FB_NACK_PLI = 1 << 1,
    SDP_FB_CCM_FIR = 1 << 2,
    SDP_FB_GOOG_REMB = 1 << 3,
    SDP_FB_TRANSPORT_CC = 1 << 4,
};

/* Codecs the server can negotiate, as bits of sdp_answer_params_t.codecs. */
enum { SDP_CODEC_OPUS = 1 << 0, SDP_CODEC_VP8 = 1 << 1, SDP_CODEC_VP9 = 1 << 2 };

/* Header extensions the server can negotiate; sdp_ext_uri() gives each one's URI. */
typedef enum {
    SDP_EXT_AUDIO_LEVEL = 0, /* RFC 6464 */
    SDP_EXT_MID,             /* RFC 8843 */
    SDP_EXT_RID,             /* RFC 8852 rtp-stream-id */
    SDP_EXT_REPAIRED_RID,    /* RFC 8852 repaired-rtp-stream-id */
    SDP_EXT_ABS_SEND_TIME,
    SDP_EXT_TWCC,            /* transport-wide congestion control 01 */
    SDP_EXT_COUNT
} sdp_ext_t;

/* ICE and DTLS parameters of one level (session or m-section). Empty string = absent. */
typedef struct {
    char ice_ufrag[SDP_UFRAG_SZ];
    char ice_pwd[SDP_PWD_SZ];
    char fp_alg[16];           /* lowercased hash name, e.g. "sha-256" */
    char fp_hex[SDP_FP_HEX_SZ]; /* as written in the SDP */
    uint8_t fp[SDP_FP_MAX];    /* the same fingerprint decoded */
    uint8_t fp_len;            /* bytes in fp; 0 = no fingerprint */
    sdp_setup_t setup;
} sdp_transport_t;

typedef struct {
    uint8_t pt;                /* payload type 0..127, from the m= line */
    uint8_t channels;          /* rtpmap channels; 1 when omitted, 0 without rtpmap */
    uint8_t fb;                /* SDP_FB_* bits, including a=rtcp-fb:* */
    bool has_rtpmap;
    bool fmtp_truncated;       /* fmtp text longer than SDP_FMTP_SZ - 1 */
    int16_t apt;               /* fmtp apt= (RTX), -1 if absent */
    int16_t profile_id;        /* fmtp profile-id= (VP9), -1 if absent */
    uint32_t clock;            /* rtpmap clock rate, 0 without rtpmap */
    char name[SDP_CODEC_NAME_SZ]; /* rtpmap encoding name as written ("opus", "VP8") */
    char fmtp[SDP_FMTP_SZ];    /* raw fmtp parameters, "" if none */
} sdp_codec_t;

typedef struct {
    uint8_t id;                /* 1..255 */
    sdp_dir_t dir;             /* SDP_DIR_NONE when no /direction was given */
    char uri[SDP_URI_SZ];
} sdp_extmap_t;

typedef struct {
    uint32_t ssrc;
    char cname[SDP_CNAME_SZ];
    char msid_stream[SDP_MSID_SZ];
    char msid_track[SDP_MSID_SZ];
} sdp_ssrc_t;

typedef struct {
    char semantics[8];         /* "FID" or "SIM" */
    uint8_t n;
    uint32_t ssrcs[SDP_MAX_SSRCS];
} sdp_ssrc_group_t;

typedef struct {
    char id[SDP_RID_SZ];
    sdp_dir_t dir;             /* SDP_DIR_SENDONLY for "send", SDP_DIR_RECVONLY for "recv" */
} sdp_rid_t;

/* One entry of an a=simulcast list: "~q" is {q, paused}. Alternatives ("a,b") share
 * a stream number; streams are separated by ';'. */
typedef struct {
    char rid[SDP_RID_SZ];
    bool paused;
    uint8_t stream;
} sdp_sim_entry_t;

typedef struct {
    sdp_kind_t kind;
    uint16_t port;             /* 0 = rejected, unless bundle_only */
    bool bundle_only;          /* a=bundle-only: port 0 but part of the BUNDLE */
    bool in_bundle;            /* its mid is in the BUNDLE group */
    bool rtcp_mux, rtcp_rsize, end_of_candidates;
    sdp_dir_t dir;
    char media[16];            /* m= media token as written ("audio", "text"...) */
    char proto[SDP_PROTO_SZ];
    char fmt0[SDP_FMT_SZ];     /* first format token of the m= line */
    char mid[SDP_MID_SZ];
    char msid_stream[SDP_MSID_SZ], msid_track[SDP_MSID_SZ];
    sdp_transport_t tp;        /* attributes written in this m-section only */
    uint8_t n_codecs, codecs_dropped;
    sdp_codec_t codecs[SDP_MAX_CODECS]; /* in m= line order, i.e. the offerer's preference */
    uint8_t n_extmaps, extmaps_dropped;
    sdp_extmap_t extmaps[SDP_MAX_EXTMAPS];
    uint8_t n_ssrcs;
    sdp_ssrc_t ssrcs[SDP_MAX_SSRCS];
    uint8_t n_ssrc_groups;
    sdp_ssrc_group_t ssrc_groups[SDP_MAX_SSRC_GROUPS];
    uint8_t n_rids;
    sdp_rid_t rids[SDP_MAX_RIDS];
    uint8_t n_sim_send, n_sim_recv;
    sdp_sim_entry_t sim_send[SDP_MAX_RIDS], sim_recv[SDP_MAX_RIDS];
    uint8_t fb_all;            /* a=rtcp-fb:* bits (also merged into every codec) */
    uint16_t n_candidates;     /* a=candidate lines seen (their content is ignored) */
} sdp_msection_t;

/* A parsed session description: a browser's offer, or (in tests) our own answer.
 * About 200 KB: keep it on the heap or in a long-lived object, not on a small stack. */
typedef struct {
    uint64_t session_id, session_version; /* from o=, 0 if unparsable */
    bool ice_lite, end_of_candidates;
    sdp_dir_t dir;             /* session-level direction, SDP_DIR_NONE if absent */
    sdp_transport_t session_tp; /* session-level ICE/DTLS attributes */
    sdp_transport_t tp;        /* effective: BUNDLE-tag m-section over session level */
    int bundle_tag;            /* index of the m-section named first in BUNDLE, -1 none */
    uint8_t n_bundle;
    char bundle[SDP_MAX_MSECTIONS][SDP_MID_SZ]; /* first a=group:BUNDLE, in order */
    uint8_t n_m;
    sdp_msection_t m[SDP_MAX_MSECTIONS];
} sdp_offer_t;

/* Parses SDP text (need not be NUL-terminated; CRLF or LF line ends) into *out, which
 * the caller owns; pointers into `text` are not kept. Syntax only: also used for answers.
 * Returns 0 or SDP_ERR_*; *out is unspecified after an error. */
int sdp_parse(const char *text, size_t len, sdp_offer_t *out);

/* Checks that a parsed offer is one this server can answer: BUNDLE, mids, ICE, DTLS
 * sha-256 fingerprint, setup, rtcp-mux, an Opus audio m-section. Returns 0 or SDP_ERR_*. */
int sdp_validate_offer(const sdp_offer_t *offer);

/* sdp_parse() then sdp_validate_offer(). */
int sdp_parse_offer(const char *text, size_t len, sdp_offer_t *out);

/* Human message for an SDP_ERR_* code (static string, never NULL). */
const char *sdp_strerror(int err);

/* True if the m-section takes part in the session: a nonzero port, or port 0 with
 * a=bundle-only while its mid is in the BUNDLE group (RFC 8843 section 6). */
static inline bool sdp_m_active(const sdp_msection_t *m)
{
    return m->port != 0 || (m->bundle_only && m->in_bundle);
}

/* Lookups in a parsed description; NULL / -1 when absent. */
const sdp_codec_t *sdp_find_codec(const sdp_msection_t *m, int pt);
int sdp_find_mid(const sdp_offer_t *sdp, const char *mid);
const sdp_extmap_t *sdp_find_extmap(const sdp_msection_t *m, const char *uri);
const char *sdp_ext_uri(sdp_ext_t ext);

/* ---- negotiation and answer (media/sdp_answer.c) ---- */

/* What we chose for one m-section; pts are -1 and ext ids 0 when not negotiated. */
typedef struct {
    bool accepted;             /* false: port 0 in the answer */
    sdp_kind_t kind;
    char mid[SDP_MID_SZ];
    sdp_dir_t dir;             /* our direction in the answer */
    int opus_pt;
    int vp8_pt, vp8_rtx_pt, vp9_pt, vp9_rtx_pt;
    int vp9_profile;           /* profile-id of the chosen VP9 pt (absent = 0) */
    uint8_t fb_audio, fb_vp8, fb_vp9; /* SDP_FB_* bits negotiated for each codec */
    uint8_t ext_id[SDP_EXT_COUNT];
    /* What the remote will send us here: one entry per simulcast layer (in the offer's
     * order, lowest first for browsers) or a single stream. */
    uint8_t n_remote;
    uint32_t remote_ssrc[SDP_MAX_SSRCS];     /* 0 when only rids are known */
    uint32_t remote_rtx_ssrc[SDP_MAX_SSRCS]; /* 0 when no FID group */
    uint8_t n_rids;
    sdp_sim_entry_t rids[SDP_MAX_RIDS];      /* simulcast rids we answered with recv */
} sdp_mchoice_t;

/* Session-wide summary of the choices (first m-section of each kind that set them) plus
 * the per-m-section detail the media engine needs. */
typedef struct {
    sdp_setup_t our_setup;     /* SDP_SETUP_PASSIVE: we are the DTLS server */
    int opus_pt, vp8_pt, vp8_rtx_pt, vp9_pt, vp9_rtx_pt, vp9_profile;
    uint8_t ext_id[SDP_EXT_COUNT];
    uint8_t n_bundle;          /* accepted m-sections */
    uint8_t n_m;
    sdp_mchoice_t m[SDP_MAX_MSECTIONS]; /* indexed like offer->m[] */
} sdp_choice_t;

/* One of our host candidates; foundation and priority are derived by the builder
 * (priority falls with the index, so list the preferred address first). */
typedef struct {
    char address[SDP_ADDR_SZ]; /* IPv4 or IPv6 literal */
    uint16_t port;
} sdp_candidate_t;

/* What we send in one m-section. ssrc 0: nothing (we only receive there). */
typedef struct {
    uint32_t ssrc;
    uint32_t rtx_ssrc;         /* video only, used when RTX is negotiated; 0 = none */
    const char *stream_id;     /* msid stream and track ids (tokens, <= 64 chars) */
    const char *track_id;
} sdp_send_t;

/* Everything the answer needs from us. Strings are borrowed for the call. */
typedef struct {
    const char *ice_ufrag, *ice_pwd; /* ice-chars; 4..63 and 22..127 long */
    const char *fingerprint;   /* our sha-256 "AB:CD:..." (32 bytes, 95 chars) */
    const sdp_candidate_t *candidates;
    size_t n_candidates;       /* 0 is allowed: port 9, c=IN IP4 0.0.0.0 */
    sdp_setup_t setup;         /* role to take when the offer says actpass:
                                  SDP_SETUP_PASSIVE (also for NONE) or SDP_SETUP_ACTIVE */
    uint64_t session_id, session_version; /* session_id < 2^63 */
    unsigned codecs;           /* SDP_CODEC_* bits we accept */
    bool prefer_vp9;           /* list VP9 before VP8 when both are negotiated */
    const char *cname;         /* our RTCP CNAME, required if any send[i].ssrc != 0 */
    sdp_send_t send[SDP_MAX_MSECTIONS]; /* indexed like offer->m[] */
} sdp_answer_params_t;

/* Picks codecs, RTX, feedback, extensions, directions and DTLS role for an offer that
 * passed sdp_validate_offer(). Fills *out (caller-owned). `p` may be NULL, meaning all
 * codecs, no sending, passive. Returns 0, or SDP_ERR_NO_OPUS when no audio m-section
 * could be accepted (the conference is built around audio), or SDP_ERR_PARAM. */
int sdp_negotiate(const sdp_offer_t *offer, const sdp_answer_params_t *p, sdp_choice_t *out);

/* Validates the offer, negotiates as sdp_negotiate() and writes the answer (CRLF lines,
 * NUL-terminated) into out[cap]. Returns its length without the NUL, or SDP_ERR_*.
 * `choice` may be NULL; otherwise it receives what was negotiated. */
int sdp_build_answer_ex(const sdp_offer_t *offer, const sdp_answer_params_t *p,
                        char *out, size_t cap, sdp_choice_t *choice);
int sdp_build_answer(const sdp_offer_t *offer, const sdp_answer_params_t *p, char *out, size_t cap);

#endif
