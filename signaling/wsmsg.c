/* Endpoint-protocol message checks (see wsmsg.h). The length limits are per type: a join
 * carries an SDP offer (5-10 KB from today's browsers) and a control may list every site
 * of a tour; nothing else needs more than a few hundred bytes. */
#include "signaling/wsmsg.h"
#include "signaling/jsonlimit.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *type;
    size_t max;
} limits[] = {
    {"join", 64 * 1024},
    {"control", 64 * 1024},
};

size_t wsmsg_max_len(const char *type)
{
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (!strcmp(limits[i].type, type))
            return limits[i].max;
    return WSMSG_SMALL_MAX;
}

static void fail(struct wsmsg_error *e, const char *code, const char *message)
{
    e->code = code;
    snprintf(e->message, sizeof e->message, "%s", message);
}

int wsmsg_precheck(const char *text, size_t len, size_t max, struct wsmsg_error *e)
{
    e->code = NULL;
    e->message[0] = 0;
    if (jsonlimit_depth(text, len, JSONLIMIT_DEPTH) < 0) {
        snprintf(e->message, sizeof e->message, "JSON nested deeper than %d levels", JSONLIMIT_DEPTH);
        e->code = "bad_json";
        return -1;
    }
    if (len > max) {
        snprintf(e->message, sizeof e->message, "messages here are limited to %zu bytes", max);
        e->code = "too_large";
        return -1;
    }
    return 0;
}

json_t *wsmsg_parse(const char *text, size_t len, struct wsmsg_error *e)
{
    if (wsmsg_precheck(text, len, (size_t)-1, e) < 0)
        return NULL;
    json_error_t jerr;
    json_t *req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        fail(e, "bad_json", jerr.text);
        return NULL;
    }
    if (!json_is_object(req)) {
        json_decref(req);
        fail(e, "bad_json", "a message must be a JSON object");
        return NULL;
    }
    const char *type = json_string_value(json_object_get(req, "type"));
    if (!type) {
        fail(e, "bad_request", "a message needs a 'type' string");
        return req;
    }
    size_t max = wsmsg_max_len(type);
    if (len > max) {
        e->code = "too_large";
        snprintf(e->message, sizeof e->message, "a '%.32s' message is limited to %zu bytes", type, max);
    }
    return req;
}
