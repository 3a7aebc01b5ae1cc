/* Audio conferences on a worker: the glue between peers (RTP in, SRTP out) and the pure
 * mixing core (media/amix.c). A conference lives on exactly one worker; its members are
 * that worker's peers in SESSION_MODE_MIX. Worker thread only. */
#ifndef MEDIA_MIXCONF_H
#define MEDIA_MIXCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;
struct peer;
struct mixconf;
struct rec_cmd;
struct rec;

struct mixconf_set {
    struct mixconf *head; /* the worker's conferences, owned */
};

/* Puts the peer into the conference named in its params (created on first use). 0 or -1. */
int mixconf_join(struct mixconf_set *set, struct peer *p);
/* Takes the peer out; the conference goes when its last member leaves. */
void mixconf_leave(struct mixconf_set *set, struct peer *p);
/* Server-side mute: a muted participant never enters the mix. */
void mixconf_set_muted(struct peer *p, bool muted);
/* A decrypted RTP packet from a member (video goes to the router, which may rewrite it). */
void mixconf_on_rtp(struct engine *e, struct peer *p, uint8_t *buf, size_t len);
/* A decrypted RTCP compound from a member. */
void mixconf_on_rtcp(struct engine *e, struct peer *p, const uint8_t *buf, size_t len);
/* Every 20 ms: mix each conference and send every member its packet. */
void mixconf_tick(struct engine *e, struct mixconf_set *set, int64_t now_ns);
/* Attaches (start) the command's recorder to its conference, opening the conference with
 * the command's mixer settings if needed; returns NULL, or the recorder back when it cannot
 * be attached. Detaches (!start) the conference's recorder and returns it (NULL if none);
 * a conference without members then closes. The recorder is never freed here. */
struct rec *mixconf_record(struct mixconf_set *set, const struct rec_cmd *cmd, bool start);
void mixconf_record_view(struct mixconf_set *set, const struct rec_cmd *cmd);
/* Frees every conference; attached recorders are left alone (signaling stops them). */
void mixconf_free_all(struct mixconf_set *set);

#endif
