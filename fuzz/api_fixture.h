/* Shared by fuzz_api_json.c and fuzz_events.c: the admin side of fuzz/rooms_fixture.h. Once
 * per process it adds admin accounts of each role and scope, conferences hosted by districts
 * 883 and 884 and a finished recording of 883's; each input then gets a struct signaling
 * over that database (its live state, fresh sign-in sessions and rate limiter) and a signed-in
 * caller, all forgotten again at the end of the input. */
#ifndef FUZZ_API_FIXTURE_H
#define FUZZ_API_FIXTURE_H

#include "fuzz/lws_fake.h"
#include "fuzz/rooms_fixture.h"
#include "mcu/server.h"
#include "rooms/recstore.h"
#include "signaling/internal.h"

#include <fcntl.h>
#include <sanitizer/common_interface_defs.h>
#include <unistd.h>

#define FIX_PASSWORD "Fuzz-pass-2026"

/* The code under test writes a line to stderr for every audit entry, whatever the log level:
 * millions in a long run. While it runs, stderr is /dev/null; sanitizer reports go to the real
 * stderr all the time. */
static int quiet_saved = -1, quiet_null = -1;

static void quiet_init(void)
{
    quiet_saved = dup(STDERR_FILENO);
    quiet_null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (quiet_saved >= 0)
        __sanitizer_set_report_fd((void *)(intptr_t)quiet_saved);
}

static void quiet_begin(void)
{
    if (quiet_saved >= 0 && quiet_null >= 0 && !getenv("FUZZ_VERBOSE"))
        dup2(quiet_null, STDERR_FILENO);
}

static void quiet_end(void)
{
    if (quiet_saved >= 0)
        dup2(quiet_saved, STDERR_FILENO);
}

enum caller { CALLER_ADMIN, CALLER_ADMIN_883, CALLER_OPERATOR_883, CALLER_VIEWER_883, CALLER_OPERATOR_30280,
              CALLER_DISABLED, FIX_NUSERS };

static const struct {
    const char *name, *role, *unit;
} fix_users[FIX_NUSERS] = {
    {"fadmin", "admin", ""}, {"fadm883", "admin", "883"}, {"fop883", "operator", "883"},
    {"fview883", "viewer", "883"}, {"fop30280", "operator", "30280"}, {"fdis883", "operator", "883"},
};

struct admin_fixture {
    struct fixture *f;
    struct server srv;            /* only cfg and db are used */
    struct signaling sig;         /* what lws_context_user gives the code under test */
    int64_t users[FIX_NUSERS];
    int64_t conf883, conf884;     /* not live */
    int64_t rec883;
    char token[AUTH_TOKEN_MAX];   /* the caller's sign-in for this input */
};

static int64_t afix_conf(struct fixture *f, const char *host, const int64_t *sites, int n)
{
    struct store_conf c;
    memset(&c, 0, sizeof c);
    snprintf(c.host_unit, sizeof c.host_unit, "%s", host);
    snprintf(c.title, sizeof c.title, "fuzz %s", host);
    return store_conf_create(&f->db, &c, "{\"subtree\":true}", sites, n, "fuzz");
}

static struct admin_fixture *afix_get(void)
{
    static struct admin_fixture a;
    static bool ready;
    if (ready)
        return &a;
    a.f = fixture_get();
    auth_set_cost_for_tests(true); /* argon2id at its minimum cost: sign-ins stay fast */
    for (int i = 0; i < FIX_NUSERS; i++) {
        struct store_user u;
        memset(&u, 0, sizeof u);
        snprintf(u.username, sizeof u.username, "%s", fix_users[i].name);
        snprintf(u.role, sizeof u.role, "%s", fix_users[i].role);
        snprintf(u.unit, sizeof u.unit, "%s", fix_users[i].unit);
        u.disabled = i == CALLER_DISABLED;
        if (auth_password_hash(FIX_PASSWORD, u.password_hash) < 0 || (a.users[i] = store_user_create(&a.f->db, &u)) <= 0)
            fix_die("cannot create a user");
    }
    const int64_t *s = a.f->sites; /* 89, 883, 884, 30280, 30283, 30300 */
    a.conf883 = afix_conf(a.f, "883", (int64_t[]){s[1], s[3], s[4]}, 3);
    a.conf884 = afix_conf(a.f, "884", (int64_t[]){s[2], s[5]}, 2);
    a.rec883 = recstore_create(&a.f->db, a.conf883, "883", "fuzz 883", a.f->now, "fuzz");
    if (a.conf883 <= 0 || a.conf884 <= 0 || a.rec883 <= 0 ||
        recstore_finish(&a.f->db, a.rec883, "done", "", a.f->now + 60000, 60000, 4096) < 0)
        fix_die("cannot create the conferences");
    config_defaults(&a.srv.cfg);
    a.srv.db = a.f->db; /* the same connection */
    a.sig.srv = &a.srv;
    quiet_init();
    ready = true;
    return &a;
}

/* A fresh input: rolled-back database, live state, sessions and limiter; `who` signed in
 * (its token in a->token) unless who >= FIX_NUSERS. */
static struct admin_fixture *afix_begin(int who, bool tls)
{
    struct admin_fixture *a = afix_get();
    fixture_begin();
    a->sig.live = a->f->live;
    a->sig.sessions = auth_sessions_new(1800 * 1000, 12 * 3600 * 1000, 64);
    a->sig.limiter = auth_limiter_new(5, 60000, 15 * 60000, 64);
    if (!a->sig.sessions || !a->sig.limiter)
        fix_die("out of memory");
    snprintf(a->srv.cfg.tls_cert, sizeof a->srv.cfg.tls_cert, "%s", tls ? "fuzz.pem" : "");
    a->token[0] = 0;
    if (who < FIX_NUSERS && auth_session_create(a->sig.sessions, a->users[who], store_now_ms(), a->token, NULL) < 0)
        fix_die("cannot sign in");
    memset(&fake, 0, sizeof fake);
    fake.ctx_user = &a->sig;
    fake.addr = "203.0.113.7";
    return a;
}

static void afix_end(struct admin_fixture *a)
{
    auth_sessions_free(a->sig.sessions);
    auth_limiter_free(a->sig.limiter);
    a->sig.sessions = NULL;
    a->sig.limiter = NULL;
    a->sig.live = NULL;
    sbuf_free(&fake.out);
    fixture_end(a->f);
}

#endif
