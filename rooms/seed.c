/* First-start content: the first admin account, and for `make run` a demo province with one
 * site per unit and a permanent, live province conference. */
#include "rooms/seed.h"
#include "mcu/log.h"
#include "rooms/auth.h"
#include "rooms/store.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int seed_admin(struct db *db, const char *password, char *generated, size_t genlen, char *err, size_t errlen)
{
    if (genlen)
        generated[0] = 0;
    int n = store_user_count(db);
    if (n != 0) {
        if (n < 0)
            snprintf(err, errlen, "cannot count the admin accounts");
        return n < 0 ? -1 : 0;
    }
    struct store_user u;
    memset(&u, 0, sizeof u);
    snprintf(u.username, sizeof u.username, "admin");
    snprintf(u.role, sizeof u.role, "admin");
    char pw[64];
    if (password && password[0]) {
        if (auth_password_policy(password, err, errlen) < 0)
            return -1;
        snprintf(pw, sizeof pw, "%s", password);
    } else {
        do /* 96 random bits; retried in the rare case it is all letters */
            auth_random_secret(pw, sizeof pw, 12);
        while (auth_password_policy(pw, NULL, 0) < 0);
        snprintf(generated, genlen, "%s", pw);
    }
    if (auth_password_hash(pw, u.password_hash) < 0 || store_user_create(db, &u) < 0) {
        snprintf(err, errlen, "cannot create the admin account");
        return -1;
    }
    store_audit(db, "-", "user.create", "admin", "", "ok", "first start", "");
    return 1;
}

/* Writes the demo sites' credentials, readable by the owner only. */
static int write_secrets(const char *path, json_t *sites, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    json_t *doc = json_pack("{s:O}", "sites", sites);
    char *text = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    bool ok = fd >= 0 && text && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    if (fd >= 0)
        close(fd);
    free(text);
    if (!ok)
        snprintf(err, errlen, "cannot write %s", path);
    return ok ? 0 : -1;
}

json_t *seed_sites(struct db *db, const char *unit, bool subtree)
{
    json_t *units = store_units_without_site(db, unit), *out = json_array(), *u;
    size_t i;
    int rc = store_begin(db);
    json_array_foreach(units, i, u) {
        const char *uid = json_string_value(json_object_get(u, "id"));
        if (!subtree && strcmp(uid, unit))
            continue;
        char name[STORE_NAME_MAX], secret[40], digest[AUTH_DIGEST_HEX];
        snprintf(name, sizeof name, "Điểm cầu %s", json_string_value(json_object_get(u, "name")));
        auth_random_secret(secret, sizeof secret, 24);
        auth_secret_digest(secret, digest);
        int64_t id = store_site_create(db, uid, name, 2000, digest);
        if (id < 0) {
            rc = -1;
            break;
        }
        json_array_append_new(out, json_pack("{s:I,s:s,s:s,s:s}", "site", (json_int_t)id, "unit", uid, "name", name,
                                             "secret", secret));
    }
    json_decref(units);
    if (store_commit(db, rc) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

int seed_demo(struct db *db, const char *province, const char *secrets_path, char *err, size_t errlen)
{
    json_t *existing = store_confs_list(db, "", "");
    size_t nconf = json_array_size(existing);
    json_decref(existing);
    if (nconf)
        return 0; /* seeded before, or a real installation */
    store_begin(db); /* the sites and the conference: all or nothing */
    json_t *sites = seed_sites(db, province, true);
    int rc = sites ? 0 : -1;
    int64_t chair = 0;
    size_t i;
    json_t *u;
    json_array_foreach(sites, i, u)
        if (!strcmp(json_string_value(json_object_get(u, "unit")), province))
            chair = json_integer_value(json_object_get(u, "site"));
    json_t *province_unit = store_unit_json(db, province);
    struct store_conf c;
    memset(&c, 0, sizeof c);
    snprintf(c.host_unit, sizeof c.host_unit, "%s", province);
    snprintf(c.title, sizeof c.title, "Họp trực tuyến %s",
             json_string_value(json_object_get(province_unit, "name")) ?: province);
    json_decref(province_unit);
    c.chair_site = chair;
    int64_t *ids = NULL;
    json_t *rule = json_pack("{s:b,s:b}", "own", 1, "subtree", 1);
    char *rule_text = json_dumps(rule, JSON_COMPACT);
    int n = rc < 0 ? -1 : store_resolve_invite(db, province, rule, &ids, err, errlen);
    int64_t conf = n < 0 ? -1 : store_conf_create(db, &c, rule_text, ids, n, "demo");
    if (conf < 0 || store_conf_set_state(db, conf, "live", store_now_ms()) < 0)
        rc = -1;
    free(ids);
    free(rule_text);
    json_decref(rule);
    if (store_commit(db, rc) < 0) {
        json_decref(sites);
        if (!err[0])
            snprintf(err, errlen, "cannot store the demo sites and conference");
        return -1;
    }
    rc = write_secrets(secrets_path, sites, err, errlen);
    log_info("seed", "demo: %zu sites, conference %lld '%s' live with %d sites invited; site credentials in %s",
             json_array_size(sites), (long long)conf, c.title, n, secrets_path);
    json_decref(sites);
    return rc < 0 ? -1 : 1;
}
