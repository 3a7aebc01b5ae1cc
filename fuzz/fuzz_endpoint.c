/* libFuzzer target for the endpoint protocol (docs/protocol.md): any text as one WebSocket
 * message goes through the same checks as signaling/ws.c (wsmsg_parse), and a message that
 * passes is handed to what its type's handler hands it to: a join's offer to the SDP parser
 * and its PIN to live_may_join, a signin's credential to the digest check, hand/mute/select
 * to live_site_request and control to live_control, on a live conference (fuzz/rooms_fixture.h).
 * The protocol's invariants are checked: an error has a code and a sentence, only object
 * messages come back, and no accepted message is longer than its type allows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/rooms_fixture.h"
#include "media/sdp.h"
#include "signaling/wsmsg.h"

static void site_message(struct fixture *f, const char *type, json_t *req)
{
    char err[160];
    static sdp_offer_t offer;
    if (!strcmp(type, "join")) {
        const char *sdp = json_string_value(json_object_get(req, "sdp"));
        if (sdp)
            sdp_parse_offer(sdp, strlen(sdp), &offer);
        const char *pin = json_string_value(json_object_get(req, "pin"));
        live_may_join(f->live, f->conf, f->sites[4], pin, err, sizeof err);
    } else if (!strcmp(type, "signin")) { /* what handle_signin reads */
        json_t *js = json_object_get(req, "site");
        const char *secret = json_string_value(json_object_get(req, "secret"));
        int64_t site = json_is_integer(js) ? json_integer_value(js)
                     : json_is_string(js) ? strtoll(json_string_value(js), NULL, 10) : 0;
        struct store_site s;
        if (site > 0 && secret && strlen(secret) <= 256 && store_site_get(&f->db, site, &s) == 0)
            auth_secret_matches(s.digest, secret);
    } else if (!strcmp(type, "hand") || !strcmp(type, "mute") || !strcmp(type, "select")) {
        const char *e = live_site_request(f->live, f->conf, f->sites[2], type, req, err, sizeof err);
        if (e && !err[0])
            abort(); /* every refusal explains itself */
    } else if (!strcmp(type, "control")) {
        err[0] = 0;
        const char *e = live_control(f->live, f->conf, f->sites[0], req, f->now + 10, err, sizeof err);
        if (e && !err[0])
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wsmsg_error e;
    json_t *req = wsmsg_parse((const char *)data, size, &e);
    if (e.code && (!e.message[0] || (strcmp(e.code, "bad_json") && strcmp(e.code, "bad_request") &&
                                     strcmp(e.code, "too_large"))))
        abort();
    if (req && !json_is_object(req))
        abort();
    const char *type = json_string_value(json_object_get(req, "type"));
    if (!e.code) {
        if (!type || size > wsmsg_max_len(type))
            abort();
        struct fixture *f = fixture_begin();
        site_message(f, type, req);
        fixture_end(f);
    }
    json_decref(req);
    return 0;
}
