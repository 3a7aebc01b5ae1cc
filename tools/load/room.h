/* Room mode of the load generator (--credentials): each synthetic site is a meeting room
 * that signs in over /ws with the credential the admin API issued, waits idle, joins its
 * conference when invited, drops its media when the conference ends or it is removed, and
 * reconnects or rejoins with backoff after a lost WebSocket or a closed session, as a room
 * would. The media steps are site.c's; this file drives the sign-in and the room's state. */
#ifndef LOAD_ROOM_H
#define LOAD_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tools/load/site.h"

#define LROOM_BACKOFF_MIN_MS 500
#define LROOM_BACKOFF_MAX_MS 8000
#define LROOM_NAME_SZ 64

/* One entry of a credentials file (what POST /api/v1/sites/provision returns). */
struct lroom_cred {
    long long site;               /* the server's site id */
    char name[LROOM_NAME_SZ];     /* "" when the file gives none */
    char *secret;                 /* owned */
};

/* Parses a credentials file's text: an array [{"site":123,"secret":"..","name":".."}] or an
 * object with that array under "sites". `site` may be a number or a decimal string. On
 * success *out (malloc'd, free with lroom_creds_free) and *n are set and 0 is returned; on
 * failure -1 with the reason in err[0..cap). Duplicate site ids are an error. */
int lroom_parse_credentials(const char *text, size_t len, struct lroom_cred **out, int *n,
                            char *err, size_t cap);
void lroom_creds_free(struct lroom_cred *c, int n);

/* Parses "123,456,789" (site ids, at most `max`) into ids[]. Returns the count or -1. */
int lroom_parse_ids(const char *s, long long *ids, int max);

/* What the run shares with every room-mode site; owned by the run (tools/load/roomrun.c). */
struct lroom {
    FILE *out;                    /* --status-lines: event lines go here; NULL: nowhere */
    int64_t t0_ms;                /* the run's start (monotonic), for "t" */
    int join_concurrency;         /* sites between TCP connect and SRTP keys, at most */
    int64_t join_timeout_ms;      /* a connect, signin or join that takes longer is retried */
    bool finishing;               /* the run is ending: closes are ours */
    char fatal[320];              /* set: the run must stop (a credential refused...) */
};

/* A room-mode site's own state; site->rm points to it. */
struct lroom_site {
    long long id;                 /* the server's site id */
    char *secret;                 /* owned */
    char conf[32];                /* conference of the last invite (decimal id), "" none */
    bool signed_in;               /* signedin received on the current WebSocket */
    bool live;                    /* it believes conf is live: invited, not ended or removed */
    bool want_join;               /* send join for conf at join_at_ms */
    bool rejoin;                  /* that join follows a closed session or a failure */
    int64_t join_at_ms, retry_at_ms; /* when to join, when to reconnect (SITE_BACKOFF) */
    int64_t t_conn_ms;            /* when the current connect (or signin) started */
    int64_t t_invite_ms;          /* start of the current join: the invite (or the rejoin) */
    int backoff_ms;               /* the next delay before jitter */
    bool media_seen;              /* the current session's first media was reported */
    char disconnect_why[160];     /* set in a message handler: drop the WebSocket after it */
    int signins, joins, drops;    /* signedin and answer received; connections or sessions lost */
    int64_t first_media_ms;       /* invite to first media of the first session, -1 none */
    int64_t *media_ms;            /* the same for every session, owned */
    int n_media_ms, cap_media_ms;
    uint64_t rx_expected, rx_lost, rx_received; /* of the sessions already closed */
    char last_error[200];         /* the last error text, "" none */
};

/* Attaches room-mode state to a site made with site_init. 0 or -1 (no memory). */
int lroom_site_init(struct site *s, const struct lroom_cred *c);
void lroom_site_free(struct site *s);

/* Starts the first connection. */
void lroom_open(struct site *s, struct load_env *env, int64_t now_ms);
/* The WebSocket's socket is ready (epoll events). */
void lroom_on_tcp(struct site *s, struct load_env *env, uint32_t events, int64_t now_ms);
/* Every 5 ms: reconnects and joins that are due (within the join concurrency), the media
 * handshake (site_tick; its slow part when `slow`), failures, timeouts, first media. */
void lroom_tick(struct site *s, struct load_env *env, int64_t now_ms, bool slow);
/* `drop SITE`: closes the WebSocket and the UDP socket at once, without leave, and
 * reconnects with backoff. */
void lroom_drop(struct site *s, struct load_env *env, int64_t now_ms);
/* The end: leave (when in a session), close frame, sockets closed. */
void lroom_finish(struct site *s, struct load_env *env);

/* Loss over all its sessions (closed ones and the current one). */
void lroom_rx_totals(const struct site *s, uint64_t *expected, uint64_t *lost, uint64_t *received);
/* Writes an event line {"t","event","site"[,"conference"][,extra key: value]} when lines
 * are wanted; key may be NULL. */
void lroom_event(const struct lroom *lr, int64_t now_ms, const char *event, const struct site *s,
                 const char *key, const char *value);

#endif
