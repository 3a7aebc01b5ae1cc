/* One WebRTC peer inside a worker: its ICE-lite state, DTLS connection, SRTP session and
 * the addresses it has been validated on. Owned by the worker's engine. */
#ifndef MEDIA_PEER_H
#define MEDIA_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "media/dtls.h"
#include "media/qstats.h"
#include "media/session.h"
#include "media/srtp.h"

#define PEER_MAX_ADDRS 4 /* remote addresses that passed an ICE check */

struct peer;

/* A remote address that passed a check; also a node of the engine's address table. */
struct peer_addr {
    struct sockaddr_storage addr; /* the peer's address as recvmmsg reported it */
    socklen_t len;
    int sock;                     /* our socket it talks to */
    bool used;
    struct peer *peer;            /* back pointer */
    struct peer_addr *next;       /* address-table chain */
    double tokens;                /* per-source packet budget (engine.c rate_ok) */
    int64_t tokens_ns;
};

struct peer {
    struct session_params p;      /* copied from the command */
    enum session_state state;
    struct peer_addr addrs[PEER_MAX_ADDRS];
    int selected;                 /* addrs[] index media is sent to; -1 before any check */
    int replace;                  /* next addrs[] slot to reuse when all are taken */
    int64_t created_ns;
    int64_t consent_ns;           /* last valid ICE check */
    int64_t last_pli_ns;          /* upstream PLI rate limit */
    double stun_tokens;           /* budget of ICE checks verified (HMAC) per second */
    int64_t stun_tokens_ns;
    dtls_conn_t *dtls;
    srtpx_session_t *srtp;        /* NULL until DTLS completes */
    uint32_t in_audio_ssrc;       /* learned from the first packets */
    uint32_t in_video_ssrc;
    uint64_t rtp_in, rtp_out, rtcp_in;
    uint64_t rtp_in_reported;     /* rtp_in at the last level report */
    struct mixconf *conf;         /* SESSION_MODE_MIX: the conference, else NULL */
    int mix_slot;                 /* its slot in the conference's mixer */
    struct vpeer *vr;             /* its video state in the conference's router, or NULL */
    uint16_t out_seq;             /* our audio stream to it: one SSRC, continuous seq/ts */
    uint32_t out_ts;
    struct peer *conf_next;       /* the conference's member list */
    struct peer *ufrag_next;      /* ufrag-table chain */
    struct peer *id_next;         /* id-table chain */
    struct peer *prev, *next;     /* every peer of the engine, for the tick */
    /* quality counters (media/qstats.h) */
    struct qstats q;              /* bytes, loss, jitter, round trip; fed by media/quality.c */
};

#endif
