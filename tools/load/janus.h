/* Janus's WebSocket JSON API as one load-generator site speaks it, so the same synthetic
 * sites can join Janus's AudioBridge or VideoRoom: create a session, attach the plugin, join
 * the room (with an SDP offer, or as a VideoRoom subscriber that gets Janus's offer and
 * answers it with "start"), then keep the session alive. No I/O here: it builds request
 * texts and reads Janus's messages; the site sends and receives (tools/load/site_janus.c).
 * bench/janus/README.md records the verified sequences. */
#ifndef LOAD_JANUS_H
#define LOAD_JANUS_H

#include <stddef.h>
#include <stdint.h>

#include "media/sdp.h"

#define LJANUS_PROTOCOL "janus-protocol" /* the WebSocket subprotocol Janus requires */
#define LJANUS_KEEPALIVE_MS 25000        /* Janus drops a session idle for 60 s */

#define LJANUS_ERR_NO_SUCH_FEED 428      /* VideoRoom: subscribing to a feed not publishing yet */

/* What the site is in Janus: the plugin and, in the VideoRoom, its role. */
enum ljanus_role {
    LJANUS_AUDIOBRIDGE = 0, /* joins the AudioBridge mix with its offer */
    LJANUS_VR_PUBLISHER,    /* VideoRoom "joinandconfigure" with its offer: sends only */
    LJANUS_VR_SUBSCRIBER,   /* VideoRoom subscriber: Janus offers, the site answers */
};

enum ljanus_step {
    LJANUS_CREATE = 0, /* "create" sent, waiting for the session id */
    LJANUS_ATTACH,     /* "attach" sent, waiting for the handle id */
    LJANUS_JOIN,       /* the join sent, waiting for the answer (or, subscriber, the offer) */
    LJANUS_START,      /* subscriber: "start" with our answer sent, waiting for "started" */
    LJANUS_JOINED,
};

/* One site's Janus session; zeroed (but for role) = before "create". */
struct ljanus {
    enum ljanus_role role;
    enum ljanus_step step;
    long long session, handle;   /* Janus's ids, 0 until known */
    long long participant;       /* our id in the room, from "joined" */
    unsigned tx;                 /* transactions used: "t1", "t2"... */
    unsigned step_tx;            /* the transaction of the step's request */
    uint64_t other_events;       /* messages we read and ignore (others' joins, media...) */
};

/* What ljanus_input found. */
enum ljanus_result {
    LJANUS_NOTHING = 0, /* an ack, a keepalive reply, an event about someone else */
    LJANUS_NEXT = 1,    /* the step's reply came: send the request of the new step */
    LJANUS_ANSWER = 2,  /* joined: *sdp holds the SDP answer */
    LJANUS_OFFER = 3,   /* subscriber attached: *sdp holds Janus's offer; answer with ljanus_vr_start */
    LJANUS_NO_FEED = 4, /* subscriber: a feed is not published yet; subscribe again later */
    LJANUS_FAILED = -1, /* an error, a hangup or a timeout: why holds the text */
};

/* The requests, as JSON texts: malloc'd, owned by the caller; NULL when out of memory. */
char *ljanus_create(struct ljanus *j);
char *ljanus_attach(struct ljanus *j);      /* the plugin of j->role */
/* AudioBridge "join" with our offer. */
char *ljanus_join(struct ljanus *j, long long room, const char *display, const char *offer);
char *ljanus_keepalive(struct ljanus *j);

/* Reads one message from Janus (text[0..len), not kept) and moves the session on. With
 * LJANUS_ANSWER or LJANUS_OFFER, *sdp is the SDP (malloc'd, the caller frees it). */
enum ljanus_result ljanus_input(struct ljanus *j, const char *text, size_t len, char **sdp,
                                char *why, size_t why_cap);

/* ---- VideoRoom (tools/load/janus_video.c) ---- */

/* One stream a subscriber asks for: a publisher's feed id and that publisher's mid, with
 * the simulcast substream to receive (0 lowest .. 2 highest; -1 leaves Janus's default). */
struct ljanus_sub_stream {
    long long feed;
    const char *mid;
    int substream;
};

/* "joinandconfigure" as a publisher with the given feed id, our offer as jsep. */
char *ljanus_vr_publish(struct ljanus *j, long long room, long long feed, const char *display,
                        const char *offer);
/* "join" as a subscriber to streams[0..n) in one PeerConnection. */
char *ljanus_vr_subscribe(struct ljanus *j, long long room, const struct ljanus_sub_stream *streams,
                          int n);
/* "start" with our answer to Janus's offer. */
char *ljanus_vr_start(struct ljanus *j, const char *answer);

/* What goes into the offer Janus accepts: one Opus m-line, a=setup:active (so Janus is the
 * DTLS server), no header extensions, our host candidate and no trickle. */
struct ljanus_offer {
    const char *ip;              /* our UDP socket's address (IPv4) */
    int port;
    const char *ufrag, *pwd, *fingerprint;
    uint32_t ssrc;
    const char *cname;
    uint32_t sess_id;            /* the o= line's session id */
};

/* Writes the offer into out[0..cap); returns its length, or -1 when it does not fit. */
int ljanus_build_offer(char *out, size_t cap, const struct ljanus_offer *o);

/* The VideoRoom publisher's offer: the Opus m-line as above (mid 0), then VP8 (mid 1,
 * payload type 96) with the sdes:mid (id LJANUS_EXT_MID) and rtp-stream-id (id
 * LJANUS_EXT_RID) extensions and rid simulcast rids[0..n_rids), lowest first, as a browser
 * sends it. Returns its length, or -1 when it does not fit. */
#define LJANUS_EXT_MID 4
#define LJANUS_EXT_RID 10
int ljanus_build_av_offer(char *out, size_t cap, const struct ljanus_offer *o,
                          const char *const *rids, int n_rids);

/* Our answer to a VideoRoom subscriber offer (parsed with sdp_parse): every audio and
 * video m-section it sends is taken recvonly with its first Opus or VP8 payload type and
 * only the sdes:mid extension; anything else is rejected (port 0). The transport is ours
 * (o->ssrc and o->sess_id as in the offer), a=setup:active, our candidate in the first
 * m-section. Returns the length, or -1 when it does not fit or nothing could be taken. */
int ljanus_build_answer(char *out, size_t cap, const sdp_offer_t *janus_offer,
                        const struct ljanus_offer *o);

#endif
