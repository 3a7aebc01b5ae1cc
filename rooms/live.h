/* Live conferences: who is in, who is muted, who holds the chair and the floor, what every
 * site sees as main, the request-to-speak queue, roll call, tour, lecture mode, scheduling.
 * Pure domain logic on the signaling thread: it reads and writes the store, and reaches the
 * outside world only through the hooks (messages to sites and to admin panels, media
 * commands), so tests can drive it without sockets. */
#ifndef ROOMS_LIVE_H
#define ROOMS_LIVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "rooms/store.h"

struct live_hooks {
    void *ctx;
    /* A message to a site's endpoint, if it is connected (msg is borrowed). */
    void (*to_site)(void *ctx, int64_t site, json_t *msg);
    /* A message to the admin panels watching a conference (borrowed). */
    void (*to_watchers)(void *ctx, int64_t conf, json_t *msg);
    /* The server-side mute of the site's media session in conf. */
    void (*set_mute)(void *ctx, int64_t conf, int64_t site, bool muted);
    /* Close the site's media session in conf (ended, removed); no `closed` is sent. */
    void (*drop_session)(void *ctx, int64_t conf, int64_t site);
    /* Is the site signed in now? */
    bool (*site_online)(void *ctx, int64_t site);
    /* The site whose video a joined site's main view shows changed (0 = none yet). */
    void (*set_view)(void *ctx, int64_t conf, int64_t site, int64_t view);
    /* What the conference's main view shows (what a non-chair site sees) changed. */
    void (*set_main)(void *ctx, int64_t conf, int64_t view);
    /* The conference went live (started, or restored after a restart), or ended. */
    void (*started)(void *ctx, int64_t conf);
    void (*ended)(void *ctx, int64_t conf);
    /* Fields to add to the conference's live state (recording, streaming): a new object, or NULL. */
    json_t *(*state_extra)(void *ctx, int64_t conf);
    /* A control action this module does not know (recording, streaming): NULL, or an error
     * code with a sentence in err ("bad_action" when the hook does not know it either). */
    const char *(*control)(void *ctx, int64_t conf, int64_t actor_site, const char *action, char *err,
                           size_t errlen);
};

enum live_status { LIVE_OFFLINE = 0, LIVE_IDLE, LIVE_JOINED };

struct live;

struct live *live_new(struct db *db, const struct live_hooks *hooks);
void live_free(struct live *l);
void live_set_end_warning(struct live *l, int64_t ms); /* default 60 s before a scheduled end */

/* After a start (or a crash): closes attendance left open and loads every live conference;
 * its sites are offline until they sign in again. Returns how many were restored. */
int live_restore(struct live *l, int64_t now);

/* Start and end. Return NULL, or an error code ("not_found", "already_live", "not_live",
 * "ended") with a sentence in err. */
const char *live_start(struct live *l, int64_t conf, int64_t now, char *err, size_t errlen);
const char *live_end(struct live *l, int64_t conf, const char *reason, int64_t now, char *err, size_t errlen);
bool live_is_live(struct live *l, int64_t conf);

/* A site signed in (online) or its endpoint went away. Sends `invite` for every live
 * conference that invites it and from which it was not removed. */
void live_site_online(struct live *l, int64_t site, bool online);

/* May the site join conf now (pin: what it gave, NULL none)? NULL or an error code:
 * "not_live", "not_invited", "removed", "locked", "bad_pin" (with a sentence in err). */
const char *live_may_join(struct live *l, int64_t conf, int64_t site, const char *pin, char *err, size_t errlen);
/* The site's media session is in: returns whether it starts muted. */
bool live_joined(struct live *l, int64_t conf, int64_t site, int64_t now);
/* The site's media session ended (left, dropped, closed). */
void live_left(struct live *l, int64_t conf, int64_t site, const char *reason, int64_t now);
/* The mixer's dominant speaker. */
void live_speaker(struct live *l, int64_t conf, int64_t site);

/* A site's own requests: "hand" {raised}, "mute" {muted}, "select" {main}. NULL or an error code. */
const char *live_site_request(struct live *l, int64_t conf, int64_t site, const char *type, json_t *req,
                              char *err, size_t errlen);
/* A control action from the chair site (actor_site) or an operator (actor_site 0):
 * {action, site?, seconds?, sites?, result?}. NULL or an error code ("bad_action",
 * "bad_request", "not_live", "not_invited", "no_rollcall", ...) with a sentence in err. */
const char *live_control(struct live *l, int64_t conf, int64_t actor_site, json_t *req, int64_t now,
                         char *err, size_t errlen);
int64_t live_chair(struct live *l, int64_t conf); /* 0 none or not live */

/* Scheduling and the timed modes (roll call, tour, lecture); call a few times a second. */
void live_tick(struct live *l, int64_t now);

/* A message (borrowed) to the conference's joined sites and its watchers. */
void live_broadcast(struct live *l, int64_t conf, json_t *msg);
/* The site everyone (but the chair) sees as main, 0 = the dominant speaker or nobody yet. */
int64_t live_main_site(struct live *l, int64_t conf);
/* Something in state_extra changed: send the state again at the next tick. */
void live_touch(struct live *l, int64_t conf);
/* The conference's live state and roster for the API and the admin panel; NULL if not live. */
json_t *live_state_json(struct live *l, int64_t conf);
json_t *live_roster_json(struct live *l, int64_t conf);
/* The live conferences a site is invited to, as ids; malloc'd, count returned. */
int live_confs_of_site(struct live *l, int64_t site, int64_t **ids);

#endif
