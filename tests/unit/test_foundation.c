/* Foundation: configuration precedence, the SPSC queue, and a command round trip from the
 * "signaling" side (this test's thread) to real worker threads and back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mcu/config.h"
#include "mcu/log.h"
#include "mcu/msg.h"
#include "mcu/spsc.h"
#include "mcu/worker.h"

static void test_config_precedence(void **state)
{
    (void)state;
    char path[] = "/tmp/mcu-test-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# comment\nlisten = 127.0.0.1:9000\nworkers = 3\nmedia_addr = 127.0.0.1\n"
                       "media_port = 12000\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    setenv("MCU_WORKERS", "5", 1);
    char *argv[] = {"mcu", "--config", path, "--media-port", "13000", "--media-addr", "::1",
                    "--media-addr=127.0.0.1", NULL};
    struct mcu_config c;
    char err[256] = "";
    config_defaults(&c);
    assert_int_equal(config_load(&c, 8, argv, stdout, err, sizeof err), 0);
    unsetenv("MCU_WORKERS");
    unlink(path);
    assert_string_equal(c.listen_host, "127.0.0.1"); /* from the file */
    assert_int_equal(c.listen_port, 9000);
    assert_int_equal(c.workers, 5);                   /* env beats file */
    assert_int_equal(c.media_port, 13000);            /* flag beats file */
    assert_int_equal(c.n_media_addrs, 2);             /* flags replace the file's list */
    assert_string_equal(c.media_addrs[0], "::1");
    assert_string_equal(c.media_addrs[1], "127.0.0.1");
}

static void test_config_errors(void **state)
{
    (void)state;
    struct mcu_config c;
    char err[256];
    config_defaults(&c);
    char *bad_port[] = {"mcu", "--media-port", "70000", NULL};
    assert_int_equal(config_load(&c, 3, bad_port, stdout, err, sizeof err), -1);
    assert_non_null(strstr(err, "media_port"));
    char *unknown[] = {"mcu", "--frobnicate", "1", NULL};
    assert_int_equal(config_load(&c, 3, unknown, stdout, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown flag"));
    char *listen6[] = {"mcu", "--listen", "[::1]:8443", NULL};
    config_defaults(&c);
    assert_int_equal(config_load(&c, 3, listen6, stdout, err, sizeof err), 0);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 8443);
    char *nofile[] = {"mcu", "--config", "/nonexistent/mcu.conf", NULL};
    assert_int_equal(config_load(&c, 3, nofile, stdout, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
}

static void test_spsc_bounds(void **state)
{
    (void)state;
    struct spsc q;
    assert_int_equal(spsc_init(&q, 5), 0);
    assert_int_equal(spsc_capacity(&q), 8);
    struct mcu_msg m = {.type = 1};
    for (int i = 0; i < 8; i++) {
        m.arg = i;
        assert_true(spsc_push(&q, &m));
    }
    assert_false(spsc_push(&q, &m)); /* full: refused, not overwritten */
    struct mcu_msg out;
    for (int i = 0; i < 8; i++) {
        assert_true(spsc_pop(&q, &out));
        assert_int_equal(out.arg, i);
    }
    assert_false(spsc_pop(&q, &out));
    spsc_free(&q);
}

struct spsc_thread_arg {
    struct spsc *q;
    int n;
};

static void *producer(void *arg)
{
    struct spsc_thread_arg *a = arg;
    struct mcu_msg m = {0};
    for (int i = 0; i < a->n;) {
        m.arg = i;
        if (spsc_push(a->q, &m))
            i++;
    }
    return NULL;
}

static void test_spsc_threads_keep_order(void **state)
{
    (void)state;
    struct spsc q;
    assert_int_equal(spsc_init(&q, 64), 0);
    struct spsc_thread_arg a = {&q, 200000};
    pthread_t t;
    pthread_create(&t, NULL, producer, &a);
    struct mcu_msg m;
    for (int expect = 0; expect < a.n;)
        if (spsc_pop(&q, &m)) {
            assert_int_equal(m.arg, expect);
            expect++;
        }
    pthread_join(t, NULL);
    spsc_free(&q);
}

static void notify(void *arg)
{
    uint64_t one = 1;
    assert_int_equal(write(*(int *)arg, &one, sizeof one), 8);
}

/* The signaling side sends CMD_PING to every worker and must get each EV_PONG back, woken
 * by the workers' notify callback, as the real signaling thread is. */
static void test_worker_ping_roundtrip(void **state)
{
    (void)state;
    struct mcu_config cfg;
    config_defaults(&cfg);
    cfg.n_media_addrs = 1;
    strcpy(cfg.media_addrs[0], "127.0.0.1");
    /* port base + i with base 0 would give fixed ports; keep every worker ephemeral */
    enum { N = 3 };
    struct worker ws[N];
    int wake = eventfd(0, EFD_CLOEXEC);
    for (int i = 0; i < N; i++) {
        cfg.media_port = 0;
        assert_int_equal(worker_init(&ws[i], i, &cfg, notify, &wake), 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(worker_start(&ws[i]), 0);

    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++) {
            struct mcu_msg m = {.type = CMD_PING, .worker = (uint32_t)i, .id = (uint64_t)round, .arg = 100 * round + i};
            assert_true(worker_send_cmd(&ws[i], &m));
        }
        bool got[N] = {false};
        int count = 0;
        while (count < N) {
            struct pollfd p = {.fd = wake, .events = POLLIN};
            assert_int_equal(poll(&p, 1, 2000), 1); /* a missing reply fails here */
            uint64_t v;
            assert_int_equal(read(wake, &v, sizeof v), 8);
            for (int i = 0; i < N; i++) {
                struct mcu_msg r;
                while (worker_poll_event(&ws[i], &r)) {
                    assert_int_equal(r.type, EV_PONG);
                    assert_int_equal(r.worker, i);
                    assert_int_equal(r.id, (uint64_t)round);
                    assert_int_equal(r.arg, 100 * round + i);
                    assert_false(got[i]);
                    got[i] = true;
                    count++;
                }
            }
        }
    }
    for (int i = 0; i < N; i++)
        worker_stop(&ws[i]);
    for (int i = 0; i < N; i++) {
        worker_join(&ws[i]);
        assert_true(stat_get(&ws[i].stats.cmds) == 20);
        worker_destroy(&ws[i]);
    }
    close(wake);
}

static void test_worker_ticks(void **state)
{
    (void)state;
    struct mcu_config cfg;
    config_defaults(&cfg);
    cfg.n_media_addrs = 1;
    strcpy(cfg.media_addrs[0], "127.0.0.1");
    cfg.media_port = 0;
    struct worker w;
    assert_int_equal(worker_init(&w, 0, &cfg, NULL, NULL), 0);
    assert_int_equal(worker_start(&w), 0);
    usleep(230 * 1000);
    worker_stop(&w);
    worker_join(&w);
    uint64_t ticks = stat_get(&w.stats.ticks);
    assert_true(ticks >= 8 && ticks <= 13); /* 20 ms ticks over ~230 ms */
    worker_destroy(&w);
}

static void test_worker_bind_conflict(void **state)
{
    (void)state;
    struct mcu_config cfg;
    config_defaults(&cfg);
    cfg.n_media_addrs = 1;
    strcpy(cfg.media_addrs[0], "127.0.0.1");
    cfg.media_port = 0;
    struct worker a, b;
    assert_int_equal(worker_init(&a, 0, &cfg, NULL, NULL), 0);
    cfg.media_port = a.port;
    assert_true(worker_init(&b, 0, &cfg, NULL, NULL) < 0); /* port in use: clean failure */
    strcpy(cfg.media_addrs[0], "not-an-address");
    assert_true(worker_init(&b, 0, &cfg, NULL, NULL) < 0);
    worker_destroy(&a);
}

int main(void)
{
    log_init(LOG_LVL_WARN, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_precedence),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_spsc_bounds),
        cmocka_unit_test(test_spsc_threads_keep_order),
        cmocka_unit_test(test_worker_ping_roundtrip),
        cmocka_unit_test(test_worker_ticks),
        cmocka_unit_test(test_worker_bind_conflict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
