/* The daemon's entry point: configuration, logging, then the server until SIGTERM/SIGINT.
 * Signals are blocked in every thread and taken synchronously here with sigwait, so no
 * work ever runs inside a signal handler. */
#include "mcu/config.h"
#include "mcu/log.h"
#include "mcu/server.h"
#include "rooms/units.h"
#include "signaling/signaling.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* build/mcu import-units [--db PATH] [--units-file FILE] CODE|all: loads one province (or
 * every one) into the database and exits; a re-import updates names, never duplicates. */
static int import_units(int argc, char **argv)
{
    struct mcu_config cfg;
    char err[512];
    const char *code = NULL;
    char *rest[64];
    int n = 0;
    rest[n++] = argv[0];
    for (int i = 2; i < argc && n < 63; i++) {
        if (argv[i][0] != '-' && !code && (i == 2 || argv[i - 1][0] != '-' || strchr(argv[i - 1], '=')))
            code = argv[i];
        else
            rest[n++] = argv[i];
    }
    rest[n] = NULL;
    config_defaults(&cfg);
    if (!code) {
        fprintf(stderr, "usage: mcu import-units [--db PATH] [--units-file FILE] CODE|all\n"
                        "  CODE is a province's official code, e.g. 89 (An Giang) or 38 (Thanh Hoa)\n");
        return 2;
    }
    int rc = config_load(&cfg, n, rest, stdout, err, sizeof err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "mcu: %s\n", err);
        return rc < 0 ? 2 : 0;
    }
    log_init(LOG_LVL_WARN, false);
    struct db db;
    struct units_import_result r;
    if (db_open(&db, cfg.db_path, err, sizeof err) < 0) {
        fprintf(stderr, "mcu: %s\n", err);
        return 1;
    }
    rc = units_import(&db, cfg.units_file, code, &r, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "mcu: import failed, nothing changed: %s\n", err);
    else
        printf("imported %d province%s (%d districts, %d communes): %d units new, %d updated, %d in the database\n",
               r.provinces, r.provinces == 1 ? "" : "s", r.by_level[2], r.by_level[3], r.inserted, r.updated,
               units_count(&db));
    db_close(&db);
    log_close();
    return rc < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct mcu_config cfg;
    char err[512];
    if (argc > 1 && !strcmp(argv[1], "import-units"))
        return import_units(argc, argv);
    config_defaults(&cfg);
    int rc = config_load(&cfg, argc, argv, stdout, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "mcu: %s\n", err);
        return 2;
    }
    log_init((enum log_level)cfg.log_level, cfg.syslog);

    /* Blocked before any thread starts, so every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct server srv;
    if (server_start(&srv, &cfg, err, sizeof err) < 0) {
        log_error("main", "%s", err);
        log_close();
        return 1;
    }
    const char *h = cfg.listen_host;
    int v6 = strchr(h, ':') != NULL;
    const char *scheme = cfg.tls_cert[0] ? "https" : "http";
    if (!strcmp(h, "0.0.0.0") || !strcmp(h, "::"))
        h = v6 ? "::1" : "127.0.0.1";
    log_info("main", "admin panel: %s://%s%s%s:%d/admin/", scheme, v6 ? "[" : "", h, v6 ? "]" : "",
             signaling_port(srv.sig));

    int sig = 0;
    sigwait(&set, &sig);
    log_info("main", "%s received, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server_shutdown(&srv);
    log_close();
    return 0;
}
