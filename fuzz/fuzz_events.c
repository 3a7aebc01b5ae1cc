/* libFuzzer target for the admin events socket (/api/v1/events): a connection is opened,
 * fed messages and closed through the real WebSocket callback (signaling/ws.c ws_callback),
 * so each message passes the rate limit and size checks before rooms.c's events_on_message
 * (watch, unwatch) handles it, on the database of fuzz/api_fixture.h. Input:
 *   byte 0   bits 0-2 the caller (enum caller; 6 nobody, 7 an unknown token); bits 3-4 how
 *            the token comes: query token=, bearer header, session cookie, URL-encoded query;
 *            bit 5 each message arrives in two fragments; bit 6 frames are binary
 *   then     messages separated by '\n'
 * What the server writes back must be consistent: every frame a JSON object with a type, an
 * error with a code and a message; no `watching` for a caller who may not watch, nor for a
 * conference outside the caller's scope; no sign-in means an `unauthorized` and a close. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/api_fixture.h"

static bool may_watch(struct admin_fixture *a, int who, json_t *frame)
{
    if (who >= CALLER_DISABLED)
        return false;
    struct store_conf sc;
    const char *cs = json_string_value(json_object_get(frame, "conference"));
    return cs && store_conf_get(&a->f->db, strtoll(cs, NULL, 10), &sc) == 0 &&
           store_unit_within(&a->f->db, sc.host_unit, fix_users[who].unit);
}

static void check_frames(struct admin_fixture *a, int who)
{
    char *save = NULL;
    bool first = true;
    if (!fake.out.p)
        return; /* nothing written */
    for (char *line = strtok_r(fake.out.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save), first = false) {
        json_error_t jerr;
        json_t *j = json_loads(line, 0, &jerr);
        const char *type = json_string_value(json_object_get(j, "type"));
        if (!type)
            abort();
        if (!strcmp(type, "error") && (!json_is_string(json_object_get(j, "code")) ||
                                       !json_is_string(json_object_get(j, "message"))))
            abort();
        if (!strcmp(type, "watching") && !may_watch(a, who, j)) {
            fprintf(stderr, "caller %d watches %s\n", who, line);
            abort();
        }
        if (first && who >= FIX_NUSERS &&
            (strcmp(type, "error") || strcmp(json_string_value(json_object_get(j, "code")), "unauthorized") ||
             !fake.timeouts))
            abort(); /* no sign-in: refused and closed at once */
        json_decref(j);
    }
}

/* Writes everything queued, as lws would on WRITEABLE; false once the socket closes. */
static bool drain(struct conn *c)
{
    while (c->outq || c->close_status)
        if (ws_callback(FAKE_WSI, LWS_CALLBACK_SERVER_WRITEABLE, c, NULL, 0) < 0)
            return false;
    return true;
}

static bool receive(struct conn *c, const char *msg, size_t len, bool split)
{
    size_t half = split ? len / 2 : 0;
    if (half) {
        fake.partial = true;
        quiet_begin();
        int rc = ws_callback(FAKE_WSI, LWS_CALLBACK_RECEIVE, c, (void *)msg, half);
        quiet_end();
        if (rc < 0)
            return false;
    }
    fake.partial = false;
    quiet_begin();
    int rc = ws_callback(FAKE_WSI, LWS_CALLBACK_RECEIVE, c, (void *)(msg + half), len - half);
    quiet_end();
    return rc >= 0 && drain(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int who = data[0] & 7, how = (data[0] >> 3) & 3;
    struct admin_fixture *a = afix_begin(who == 7 ? FIX_NUSERS : who, false);
    const char *token = who == 7 ? "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" : a->token;
    char query[120], auth[120], cookie[120];
    if (how == 3 && token[0]) /* another argument first, and the token's first byte %-encoded */
        snprintf(query, sizeof query, "lang=vi&token=%%%02X%s", (unsigned char)token[0], token + 1);
    else
        snprintf(query, sizeof query, "token=%s", token);
    snprintf(auth, sizeof auth, "Bearer %s", token);
    snprintf(cookie, sizeof cookie, "mcu_session=%s", token);
    if (token[0]) {
        if (how == 0 || how == 3)
            fake.query = query;
        else if (how == 1)
            fake.authorization = auth;
        else
            fake.cookie = cookie;
    }
    fake.uri = "/api/v1/events";
    fake.binary = data[0] & 0x40;

    struct conn c; /* lws allocates and zeroes it; ESTABLISHED sets it up */
    memset(&c, 0, sizeof c);
    if (ws_callback(FAKE_WSI, LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, NULL, NULL, 0))
        abort();
    ws_callback(FAKE_WSI, LWS_CALLBACK_ESTABLISHED, &c, NULL, 0);
    bool open = drain(&c);
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    while (open && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        open = receive(&c, p, (size_t)(stop - p), data[0] & 0x20);
        p = stop + 1;
    }
    ws_callback(FAKE_WSI, LWS_CALLBACK_CLOSED, &c, NULL, 0);
    if (a->sig.endpoints)
        abort(); /* the closed connection is still listed */
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "caller %d:\n%s", who, fake.out.p ? fake.out.p : "");
    check_frames(a, who);
    afix_end(a);
    return 0;
}
