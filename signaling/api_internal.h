/* Shared by the admin API's files (api.c: routing, auth, units, sites, users, audit;
 * api_conf.c: conferences; api_monitor.c: link utilisation). Signaling thread only. */
#ifndef SIGNALING_API_INTERNAL_H
#define SIGNALING_API_INTERNAL_H

#include "signaling/internal.h"
#include "rooms/store.h"

enum role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN };

/* One API request being handled. */
struct req {
    struct conn *c;
    struct signaling *sig;
    struct db *db;
    char buf[256];
    const char *seg[8];          /* path segments after /api/v1/ */
    int nseg;
    json_t *body;                /* the parsed body of POST/PUT/PATCH, an object */
    struct store_user user;      /* the caller, when signed in */
    enum role role;
};

void api_reply(struct req *r, int status, json_t *j); /* takes j */
void api_fail(struct req *r, int status, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void api_audit(struct req *r, const char *action, const char *target, const char *result, const char *detail,
           const char *unit);
bool api_parse_id(const char *s, int64_t *out);
const char *api_query(struct req *r, const char *name, char *buf, int len);
bool api_body_fields(struct req *r, const char *const *allowed); /* replies 400 on a field not listed */
const char *api_body_str(struct req *r, const char *name, size_t max, bool required, bool *bad);
bool api_parse_time(json_t *v, int64_t *out);
bool api_in_scope(struct req *r, const char *unit);
bool api_check_scope(struct req *r, const char *unit, const char *action, const char *target); /* replies 403 */
const char *api_conf_target(const struct store_conf *c);
const char *api_site_target(const struct store_site *s);

/* api_conf.c */
void h_confs(struct req *r);
void h_conf_create(struct req *r);
void h_conf_get(struct req *r);
void h_conf_patch(struct req *r);
void h_conf_delete(struct req *r);
void h_conf_start_end(struct req *r);
void h_conf_control(struct req *r);
void h_conf_roster(struct req *r);
void h_conf_attendance(struct req *r);
void h_conf_rollcall(struct req *r);

/* api_rec.c */
void h_recordings(struct req *r);
void h_recording_get(struct req *r);
void h_recording_file(struct req *r);
void h_recording_delete(struct req *r);

/* api_monitor.c */
void h_monitor_unit(struct req *r);
void h_monitor_alarms(struct req *r);

#endif
