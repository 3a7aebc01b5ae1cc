/* Janus's WebSocket JSON API as one load-generator site speaks it, so the same synthetic
 * sites can join Janus's AudioBridge: create a session, attach the plugin, join the room
 * with an SDP offer, take the answer from the "joined" event, then keep the session alive.
 * No I/O here: it builds request texts and reads Janus's messages; the site sends and
 * receives (tools/load/site.c). bench/janus/README.md records the verified sequence. */
#ifndef LOAD_JANUS_H
#define LOAD_JANUS_H

#include <stddef.h>
#include <stdint.h>

#define LJANUS_PROTOCOL "janus-protocol" /* the WebSocket subprotocol Janus requires */
#define LJANUS_KEEPALIVE_MS 25000        /* Janus drops a session idle for 60 s */

enum ljanus_step {
    LJANUS_CREATE = 0, /* "create" sent, waiting for the session id */
    LJANUS_ATTACH,     /* "attach" sent, waiting for the handle id */
    LJANUS_JOIN,       /* "join" with the offer sent, waiting for "joined" and the answer */
    LJANUS_JOINED,
};

/* One site's Janus session; zeroed = before "create". */
struct ljanus {
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
    LJANUS_ANSWER = 2,  /* joined: *answer holds the SDP answer */
    LJANUS_FAILED = -1, /* an error, a hangup or a timeout: why holds the text */
};

/* The requests, as JSON texts: malloc'd, owned by the caller; NULL when out of memory. */
char *ljanus_create(struct ljanus *j);
char *ljanus_attach(struct ljanus *j);
char *ljanus_join(struct ljanus *j, long long room, const char *display, const char *offer);
char *ljanus_keepalive(struct ljanus *j);

/* Reads one message from Janus (text[0..len), not kept) and moves the session on. With
 * LJANUS_ANSWER, *answer is the SDP (malloc'd, the caller frees it). */
enum ljanus_result ljanus_input(struct ljanus *j, const char *text, size_t len, char **answer,
                                char *why, size_t why_cap);

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

#endif
