/* libFuzzer target for the admin API's JSON handlers. The first byte picks a consumer, the
 * rest is a request body; it is parsed the way signaling/http.c and api.c do (nesting check,
 * then jansson with duplicate keys refused) and handed to:
 *   0  store_resolve_invite: a conference's invitation rule, against province 89 or a district
 *   1  live_control as an operator (actor 0) on a live conference
 *   2  the body helpers every create/update handler uses: api_body_fields, api_body_str,
 *      api_parse_time (a conference's schedule), with the user and site fields
 *   3  live_site_request for each of hand, mute and select
 * on the fixture of fuzz/rooms_fixture.h. Results must be consistent: a refused invitation
 * has a sentence and no list; an accepted one lists each invited site once, all of them real. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/rooms_fixture.h"
#include "signaling/api_internal.h"
#include "signaling/jsonlimit.h"

static void invite(struct fixture *f, json_t *body, const char *host)
{
    int64_t *sites = NULL;
    char err[200] = "";
    int n = store_resolve_invite(&f->db, host, body, &sites, err, sizeof err);
    if (n < 0 && (sites || !err[0]))
        abort();
    for (int i = 0; i < n; i++) {
        struct store_site s;
        if (store_site_get(&f->db, sites[i], &s) < 0 || (i && sites[i] <= sites[i - 1]))
            abort(); /* unknown, unsorted or repeated */
    }
    free(sites);
}

static void body_helpers(json_t *body)
{
    static const char *const user_fields[] = {"username", "password", "role", "unit", "disabled", NULL};
    static const char *const site_fields[] = {"unit", "name", "link_kbps", "subtree", NULL};
    struct conn c;
    struct req r;
    memset(&c, 0, sizeof c);
    memset(&r, 0, sizeof r);
    r.c = &c;
    r.body = body;
    bool bad = false;
    if (api_body_fields(&r, user_fields) || api_body_fields(&r, site_fields)) {
        api_body_str(&r, "username", 63, true, &bad);
        api_body_str(&r, "password", 1024, false, &bad);
        api_body_str(&r, "unit", STORE_UNIT_MAX - 1, false, &bad);
        api_body_str(&r, "name", STORE_NAME_MAX - 1, false, &bad);
    }
    json_t *sched = json_object_get(body, "schedule");
    int64_t t;
    api_parse_time(json_object_get(sched, "start"), &t);
    api_parse_time(json_object_get(sched, "end"), &t);
    free(c.body); /* an error reply, if one was written */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (jsonlimit_depth(text, len, JSONLIMIT_DEPTH) < 0)
        return 0;
    json_error_t jerr;
    json_t *body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(body)) {
        json_decref(body);
        return 0;
    }
    struct fixture *f = fixture_begin();
    char err[160];
    switch (data[0] & 3) {
    case 0:
        invite(f, body, data[0] & 4 ? "883" : "89");
        break;
    case 1:
        err[0] = 0;
        if (live_control(f->live, f->conf, 0, body, f->now + 10, err, sizeof err) && !err[0])
            abort();
        break;
    case 2:
        body_helpers(body);
        break;
    default:
        for (int i = 0; i < 3; i++)
            live_site_request(f->live, f->conf, f->sites[1 + i], (const char *[]){"hand", "mute", "select"}[i], body,
                              err, sizeof err);
        break;
    }
    fixture_end(f);
    json_decref(body);
    return 0;
}
