/* The daemon's entry point: configuration, logging, then the server until SIGTERM/SIGINT.
 * Signals are blocked in every thread and taken synchronously here with sigwait, so no
 * work ever runs inside a signal handler. */
#include "mcu/config.h"
#include "mcu/log.h"
#include "mcu/server.h"
#include "signaling/signaling.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    struct mcu_config cfg;
    char err[512];
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
