/* Start-up and shut-down order of the daemon's parts. */
#include "mcu/server.h"
#include "mcu/log.h"
#include "mcu/selfcert.h"
#include "media/dtls.h"
#include "media/srtp.h"
#include "rooms/auth.h"
#include "rooms/seed.h"
#include "rooms/units.h"
#include "signaling/signaling.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void stop_workers(struct server *s, int started, int inited)
{
    for (int i = 0; i < started; i++)
        worker_stop(&s->workers[i]);
    for (int i = 0; i < started; i++)
        worker_join(&s->workers[i]);
    for (int i = 0; i < inited; i++)
        worker_destroy(&s->workers[i]);
    free(s->workers);
    s->workers = NULL;
}

int server_start(struct server *s, const struct mcu_config *cfg, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->started_ns = mono_ns();
    if (db_open(&s->db, cfg->db_path, err, errlen) < 0)
        return -1;
    if (cfg->demo_province[0]) {
        struct units_import_result r;
        if (units_import_province(&s->db, cfg->units_file, cfg->demo_province, &r, err, errlen) < 0)
            goto out_close_db;
        log_info("server", "demo province %s (%s): %d districts, %d communes; %d units newly imported",
                 r.name, cfg->demo_province, r.by_level[2], r.by_level[3], r.inserted);
    }
    char generated[64];
    if (auth_init() < 0 || seed_admin(&s->db, cfg->admin_password, generated, sizeof generated, err, errlen) < 0)
        goto out_close_db;
    if (generated[0]) /* shown once: only its hash is kept */
        fprintf(stderr, "\n  First start: admin account 'admin', password: %s\n"
                        "  (shown only now; set MCU_ADMIN_PASSWORD to choose it instead)\n\n", generated);
    if (cfg->demo_province[0]) {
        char path[CONFIG_STR + 32];
        const char *slash = strrchr(cfg->db_path, '/');
        snprintf(path, sizeof path, "%.*sdemo-sites.json", slash ? (int)(slash - cfg->db_path + 1) : 0, cfg->db_path);
        err[0] = 0;
        if (seed_demo(&s->db, cfg->demo_province, path, err, errlen) < 0)
            goto out_close_db;
    }

    if (cfg->tls_self_signed) { /* after db_open, which made the data directory */
        char fp[SELFCERT_FP_LEN];
        int made = selfcert_ensure(cfg->tls_cert, cfg->tls_key, cfg->listen_host, fp, err, errlen);
        if (made < 0)
            goto out_close_db;
        log_info("server", "%s self-signed HTTPS certificate %s, sha-256 %s", made ? "made a new" : "reusing the",
                 cfg->tls_cert, fp);
    }
    if (srtpx_init() < 0 || !(s->identity = dtls_identity_new())) {
        snprintf(err, errlen, "cannot initialise DTLS/SRTP");
        goto out_close_db;
    }
    log_info("server", "DTLS certificate fingerprint sha-256 %s", dtls_identity_fingerprint(s->identity));
    s->nworkers = config_worker_count(cfg);
    s->workers = calloc((size_t)s->nworkers, sizeof *s->workers);
    if (!s->workers) {
        snprintf(err, errlen, "out of memory");
        goto out_close_db;
    }
    /* The signaling object exists before the workers so they can wake it. */
    s->sig = signaling_create(s, err, errlen);
    if (!s->sig)
        goto out_free_workers;
    int inited = 0, started = 0;
    for (; inited < s->nworkers; inited++) {
        int rc = worker_init(&s->workers[inited], inited, cfg, signaling_wake, s->sig);
        if (rc < 0) {
            snprintf(err, errlen, "media worker %d: cannot start: %s", inited, strerror(-rc));
            goto out_stop_workers;
        }
        s->workers[inited].identity = s->identity;
    }
    for (; started < s->nworkers; started++)
        if (worker_start(&s->workers[started]) < 0) {
            snprintf(err, errlen, "cannot start worker thread %d", started);
            goto out_stop_workers;
        }
    if (signaling_start(s->sig) < 0) {
        snprintf(err, errlen, "cannot start the signaling thread");
        goto out_stop_workers;
    }
    log_info("server", "listening on %s://%s%s%s:%d/ with %d media worker%s on UDP %d-%d",
             cfg->tls_cert[0] ? "https" : "http", strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
             strchr(cfg->listen_host, ':') ? "]" : "", signaling_port(s->sig), s->nworkers,
             s->nworkers == 1 ? "" : "s", cfg->media_port, cfg->media_port + s->nworkers - 1);
    return 0;

out_stop_workers:
    stop_workers(s, started, inited);
    signaling_destroy(s->sig);
    s->sig = NULL;
    goto out_close_db;
out_free_workers:
    free(s->workers);
    s->workers = NULL;
out_close_db:
    dtls_identity_free(s->identity);
    s->identity = NULL;
    db_close(&s->db);
    return -1;
}

void server_shutdown(struct server *s)
{
    /* 1. The signaling thread stops: nothing new reaches the workers.
     * 2. The worker threads stop: nothing calls back into signaling any more.
     * 3. The lws context is destroyed: its close callbacks may still queue commands to the
     *    (stopped, not yet freed) workers, which is harmless.
     * 4. Only then is any memory freed. */
    if (s->sig) {
        signaling_stop(s->sig);
        signaling_join(s->sig);
    }
    for (int i = 0; i < s->nworkers; i++)
        worker_stop(&s->workers[i]);
    for (int i = 0; i < s->nworkers; i++)
        worker_join(&s->workers[i]);
    if (s->sig)
        signaling_destroy(s->sig);
    s->sig = NULL;
    stop_workers(s, 0, s->nworkers);
    dtls_identity_free(s->identity);
    s->identity = NULL;
    db_close(&s->db);
    log_info("server", "stopped");
}
