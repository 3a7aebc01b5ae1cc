/* The admin API's recordings (docs/openapi.yaml): the list in the caller's scope, one
 * recording, its file (admins only), and deleting it. Recording and streaming themselves
 * are control actions of a live conference (signaling/recorder.c). */
#include "signaling/api_internal.h"
#include "mcu/server.h"
#include "rooms/recstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool load_rec(struct req *r, struct recstore_row *row, const char *action)
{
    int64_t id;
    if (!api_parse_id(r->seg[1], &id) || recstore_get(r->db, id, row) < 0) {
        api_fail(r, 404, "not_found", "no such recording");
        return false;
    }
    char target[32];
    snprintf(target, sizeof target, "recording:%lld", (long long)id);
    return api_check_scope(r, row->host_unit, action, target);
}

static json_t *with_links(json_t *j)
{
    char url[64];
    snprintf(url, sizeof url, "/api/v1/recordings/%lld/file", (long long)json_integer_value(json_object_get(j, "id")));
    json_object_set_new(j, "file", json_string(url));
    return j;
}

void h_recordings(struct req *r)
{
    char cbuf[24];
    const char *cs = api_query(r, "conference", cbuf, sizeof cbuf);
    int64_t conf = 0;
    if (cs && !api_parse_id(cs, &conf))
        return api_fail(r, 400, "bad_request", "'conference' is a conference id");
    json_t *list = recstore_list(r->db, r->user.unit, conf), *o;
    size_t i;
    json_array_foreach(list, i, o) with_links(o);
    api_reply(r, 200, json_pack("{s:o}", "recordings", list));
}

void h_recording_get(struct req *r)
{
    struct recstore_row row;
    if (load_rec(r, &row, "recording.read"))
        api_reply(r, 200, json_pack("{s:o}", "recording", with_links(recstore_json(r->db, row.id))));
}

static void rec_path(struct req *r, const struct recstore_row *row, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", recorder_dir(r->sig), row->file);
}

/* The WebM file, streamed by http.c; a recording still running gives what is written so far. */
void h_recording_file(struct req *r)
{
    struct recstore_row row;
    if (!load_rec(r, &row, "recording.download"))
        return;
    rec_path(r, &row, r->c->send_file, sizeof r->c->send_file);
    struct stat st;
    if (stat(r->c->send_file, &st) < 0) {
        r->c->send_file[0] = 0;
        return api_fail(r, 410, "gone", "the recording's file is not on the disk any more");
    }
    r->c->file_mime = "video/webm";
    snprintf(r->c->file_download, sizeof r->c->file_download, "%s", row.file);
    api_audit(r, "recording.download", row.file, "ok", row.title, row.host_unit);
}

void h_recording_delete(struct req *r)
{
    struct recstore_row row;
    if (!load_rec(r, &row, "recording.delete"))
        return;
    if (!strcmp(row.state, "recording"))
        return api_fail(r, 409, "conflict", "the recording is running; stop it first");
    char path[CONFIG_STR + 80];
    rec_path(r, &row, path, sizeof path);
    if (recstore_delete(r->db, row.id) < 0)
        return api_fail(r, 500, "internal", "cannot delete the recording");
    unlink(path);
    api_audit(r, "recording.delete", row.file, "ok", row.title, row.host_unit);
    api_reply(r, 200, json_object());
}
