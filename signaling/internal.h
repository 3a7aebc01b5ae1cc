/* Shared between the signaling thread's modules (signaling.c, http.c, health.c, ...);
 * not an API for the rest of the program. Everything here is touched by the signaling
 * thread only, except `stop`. */
#ifndef SIGNALING_INTERNAL_H
#define SIGNALING_INTERNAL_H

#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mcu/msg.h"
#include "mcu/sbuf.h"
#include "mcu/spsc.h"

#include <jansson.h>

struct server;

/* A conference lives on exactly one worker: the first join places it, the last leave
 * forgets it. */
struct conf_place {
    char name[64];
    int worker;
    int members;
    uint64_t speaker;          /* the current dominant speaker's session, 0 = none */
    struct conf_place *next;
};

enum conn_kind { CONN_NONE = 0, CONN_HTTP, CONN_WS };

/* Per-connection state, allocated and zeroed by lws (per_session_data_size). On an HTTP
 * keep-alive connection lws frees and zeroes it again after each transaction
 * (lws_bind_protocol), so nothing here outlives a request; http_reset clears it too. */
struct conn {
    enum conn_kind kind;
    struct lws *wsi;
    struct signaling *sig;
    /* HTTP request */
    char method[8];            /* GET, POST, ... */
    char path[256];            /* URI path without the query */
    struct sbuf req_body;      /* request body as received */
    /* HTTP response */
    int status;
    const char *ctype;         /* static string */
    char *body;                /* owned */
    size_t body_len, body_off;
    bool headers_sent;
    char send_file[420];       /* a handler asks http.c to stream this file instead of body */
    const char *file_mime;     /* its type (static string) */
    char file_download[96];    /* a name: sent as an attachment; "" inline */
    /* a response waiting for the workers (e.g. /healthz pings) */
    bool deferred;
    struct conn *next_deferred;
    uint64_t ping_id;
    int64_t ping_sent_ns;
    int pongs;
    int64_t *pong_rtt_ns;      /* one per worker, -1 until answered; owned */
    /* WebSocket endpoint (ws.c) */
    struct sbuf ws_rx;         /* a message being reassembled from fragments */
    bool ws_skip;              /* discarding the rest of an oversized message */
    size_t ws_skipped;         /* bytes of it discarded so far */
    int close_status;          /* close the WebSocket with this code once outq is written, 0 = no */
    const char *close_reason;  /* static text for that close frame */
    struct ws_out *outq, *outq_tail; /* messages waiting for WRITEABLE, owned */
    size_t outq_len;
    uint64_t session_id;       /* 0 = not in a session */
    int session_worker;
    char conference[64];       /* the conference of the session */
    struct conn *ws_prev, *ws_next; /* the signaling thread's list of endpoints */
    /* rooms (rooms.c) */
    char addr[48];             /* the peer's address, for limits and the audit log */
    int64_t site_id;           /* the site signed in on this endpoint, 0 = none */
    int64_t room_conf;         /* the room conference of the session, 0 = a test conference */
    int64_t next_conf;         /* the conference last sent as the site's next one, 0 = none */
    struct conn *site_next;    /* chain of the site map */
    bool events;               /* an admin events socket (/api/v1/events), not an endpoint */
    int64_t user_id;           /* its admin user */
    int64_t watch_conf;        /* the conference it watches, 0 = none */
    char token[64];            /* its sign-in, re-checked every few seconds */
    bool replaced;             /* being closed: ignore what it sends */
    double tokens;             /* rate limit: messages this connection may still send */
    int64_t tokens_at_ms;
    /* live quality (rooms.c): its session's level reports since the last `quality` event */
    uint64_t q_session;        /* the session they are about */
    uint64_t q_bytes_in, q_bytes_out; /* UDP payload from and to it */
    uint64_t q_expected;       /* uplink RTP packets expected ... */
    int64_t q_lost;            /* ... and lost */
    int q_ms;                  /* time the reports cover */
    float q_jitter_ms;         /* the latest; < 0 before any audio */
    int32_t q_rtt_ms;          /* the latest; -1 unknown */
    /* HTTP extras */
    char set_cookie[256];      /* a Set-Cookie value for this response, "" = none */
    bool refused;              /* answered before its body: the body is read and dropped */
    bool close_after;          /* close the connection once this response is written */
};

#define SITE_BUCKETS 1024

struct signaling {
    struct server *srv;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    pthread_t thread;
    bool started;
    _Atomic bool stop;
    uint64_t next_id;          /* ids for pings and sessions */
    struct conn *deferred;     /* connections waiting on worker replies */
    struct conn *endpoints;    /* WebSocket endpoints */
    struct conf_place *places; /* which worker hosts each conference, owned */
    int next_worker;           /* round-robin placement of new sessions */
    /* rooms */
    struct live *live;
    struct auth_sessions *sessions;
    struct auth_limiter *limiter;
    struct conn *site_map[SITE_BUCKETS]; /* signed-in sites by id */
    lws_sorted_usec_list_t tick;
    int64_t watchers_checked;  /* when the events sockets' sign-ins were last checked */
    struct monitor *monitor;   /* link-utilisation samples (rooms/monitor.h) */
    struct connlimit *connlimit; /* open connections per peer address */
    struct recorder *recorder; /* recordings and live streams */
};

/* signaling.c: per-socket limits, kept on the wsi for the socket's whole life (struct conn
 * of an HTTP connection is allocated anew for each keep-alive transaction). */
bool conn_over_limit(struct lws *wsi);      /* opened while its address was over max_conns_per_addr */
bool conn_request_allowed(struct lws *wsi); /* takes one HTTP request from the socket's budget */

/* http.c */
int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
void http_respond(struct conn *c, int status, const char *ctype, char *body, size_t len);
void http_respond_json(struct conn *c, int status, char *json); /* takes json (malloc'd) */
void http_error(struct conn *c, int status, const char *code, const char *message);
void http_resume(struct conn *c); /* a deferred response is ready: write it */

/* health.c */
int health_handle(struct conn *c);       /* GET /healthz: pings every worker, defers */
void health_on_pong(struct signaling *sig, const struct mcu_msg *m);
void health_on_timeout(struct conn *c);  /* replies with whoever answered */
void health_forget(struct conn *c);      /* the connection closed while waiting */

/* ws.c: the endpoint protocol at /ws */
int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
void ws_on_session_event(struct signaling *sig, const struct mcu_msg *m);
/* One more (or one fewer) holder of a conference's place on a worker, as a member would be:
 * the recorder keeps the conference on its worker while nobody is in. Worker index or -1. */
int ws_place_conf(struct signaling *sig, const char *conference);
void ws_unplace_conf(struct signaling *sig, const char *conference);

/* recorder.c: recording (WebM) and live streaming (HLS) of room conferences */
struct recorder;
struct rec;
struct recorder *recorder_new(struct signaling *sig, char *err, size_t errlen);
void recorder_free(struct recorder *r);     /* after the workers stopped: finishes every file */
void recorder_tick(struct recorder *r, int64_t now);
void recorder_on_stopped(struct signaling *sig, struct rec *rec); /* EV_REC_STOPPED */
void recorder_started(void *sig, int64_t conf);                    /* live hooks */
void recorder_ended(void *sig, int64_t conf);
void recorder_set_main(void *sig, int64_t conf, int64_t view);
json_t *recorder_state(void *sig, int64_t conf);
const char *recorder_control(void *sig, int64_t conf, int64_t actor_site, const char *action, char *err,
                             size_t errlen);
int recorder_http_live(struct conn *c);     /* GET /live/<conference>/<file> */
const char *recorder_dir(struct signaling *sig); /* where the recordings are */

/* rooms.c: sites, live conferences and admin events on the signaling thread */
/* wsvideo.c: the video tracks of a conference join (media/session.h struct session_video) */
#include "media/sdp.h"
struct video_tracks;
struct session_params;
void video_plan(const sdp_offer_t *o, sdp_answer_params_t *ap, struct session_params *sp, const char *stream);
void video_params(const sdp_offer_t *o, const sdp_choice_t *ch, struct session_params *sp);
void video_on_tracks(struct signaling *sig, const struct video_tracks *vt);
void video_on_layers(struct signaling *sig, uint64_t session, int64_t arg);

int rooms_init(struct signaling *sig, char *err, size_t errlen);
void rooms_free(struct signaling *sig);
struct conn *rooms_site_conn(struct signaling *sig, int64_t site);
/* The media session of the site in conf, 0 when it is not in (or site is 0). */
uint64_t rooms_session_of(struct signaling *sig, int64_t conf, int64_t site);
void rooms_site_signed_in(struct conn *c, int64_t site);  /* replaces an older connection of the site */
void rooms_endpoint_closed(struct conn *c);                /* the site's endpoint went away */
void rooms_session_ended(struct conn *c, const char *reason); /* its media session ended */
void rooms_send(struct conn *c, json_t *msg);             /* borrowed */
bool rooms_message_allowed(struct conn *c);               /* per-connection message rate */
/* The site's next conference for `signedin` (a new object, or json_null()); remembered on c. */
json_t *rooms_next_json(struct conn *c, int64_t site);
/* Conferences that invite these sites were created, changed or deleted: those signed in get
 * a `schedule` with their next conference. Sorts sites in place; duplicates are fine. */
void rooms_schedule_changed(struct signaling *sig, int64_t *sites, int n);
struct mix_levels;
void rooms_on_levels(struct signaling *sig, const struct mix_levels *lv); /* to admin watchers */
void events_open(struct conn *c);                          /* an admin events socket opened */
void events_on_message(struct conn *c, const char *text, size_t len);
void ws_send_json(struct conn *c, json_t *j);              /* takes j */
/* Malformed or oversize input: the error, then the connection closes cleanly (1007/1009). */
void ws_refuse_input(struct conn *c, json_t *id, const char *code, const char *message);
void ws_end_session(struct conn *c);                       /* closes the media session, if any */

/* api.c: the admin REST API under /api/v1 */
int api_handle(struct conn *c);
/* The admin user of a request (bearer token or cookie), 0 if none or expired. */
int64_t api_auth_user(struct conn *c, const char *query_token, char *token_out, size_t token_len);

/* metrics.c */
int metrics_handle(struct conn *c);      /* GET /metrics */

#endif
