/* The WebRTC transport against a real worker thread and real loopback sockets: this test
 * plays the signaling thread (commands and events) and a client endpoint (media/wclient).
 * ICE checks and their failures, DTLS-SRTP with both profiles, the echo, SRTP auth and
 * replay drops, a nominated address that moves, consent expiry, a wrong fingerprint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mcu/config.h"
#include "mcu/log.h"
#include "mcu/msg.h"
#include "mcu/worker.h"
#include "media/dtls.h"
#include "media/rtp.h"
#include "media/session.h"
#include "media/srtp.h"
#include "media/stun.h"
#include "media/wclient.h"

struct rig {
    struct worker w;
    int wake;
    dtls_identity_t *server_id;
    dtls_identity_t *client_id;
    uint64_t next_id;
};

static void notify(void *arg)
{
    uint64_t one = 1;
    ssize_t n = write(*(int *)arg, &one, sizeof one);
    (void)n;
}

static struct rig *rig_new(int consent_ms, const char *client_profiles)
{
    struct rig *r = calloc(1, sizeof *r);
    struct mcu_config cfg;
    config_defaults(&cfg);
    cfg.n_media_addrs = 1;
    strcpy(cfg.media_addrs[0], "127.0.0.1");
    cfg.media_port = 0;
    cfg.consent_timeout_ms = consent_ms;
    r->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_int_equal(srtpx_init(), 0);
    r->server_id = dtls_identity_new();
    r->client_id = client_profiles ? dtls_identity_new_with_profiles(client_profiles) : dtls_identity_new();
    assert_non_null(r->server_id);
    assert_non_null(r->client_id);
    assert_int_equal(worker_init(&r->w, 0, &cfg, notify, &r->wake), 0);
    r->w.identity = r->server_id;
    assert_int_equal(worker_start(&r->w), 0);
    return r;
}

static void rig_free(struct rig *r)
{
    worker_stop(&r->w);
    worker_join(&r->w);
    worker_destroy(&r->w);
    dtls_identity_free(r->server_id);
    dtls_identity_free(r->client_id);
    close(r->wake);
    free(r);
}

/* Creates a session on the worker as the signaling thread would, and points the client at it. */
static uint64_t open_session(struct rig *r, struct wclient *c, const char *fingerprint)
{
    assert_int_equal(wclient_init(c, r->client_id, "127.0.0.1"), 0);
    struct session_params *sp = calloc(1, sizeof *sp);
    sp->id = ++r->next_id;
    sp->mode = SESSION_MODE_ECHO;
    snprintf(sp->local_ufrag, sizeof sp->local_ufrag, "srv%lu", (unsigned long)sp->id);
    strcpy(sp->local_pwd, "abcdefghijklmnopqrstuvwx");
    snprintf(sp->remote_ufrag, sizeof sp->remote_ufrag, "%s", c->local_ufrag);
    snprintf(sp->remote_fp, sizeof sp->remote_fp, "%s", fingerprint ? fingerprint : dtls_identity_fingerprint(r->client_id));
    sp->dtls_server = true;
    sp->opus_pt = 111;
    sp->vp8_pt = 96;
    sp->vp9_pt = -1;
    sp->audio_ssrc_out = 0xA0D10;
    sp->video_ssrc_out = 0x51DE0;
    assert_int_equal(wclient_set_remote(c, "127.0.0.1", r->w.port, sp->local_ufrag, sp->local_pwd,
                                        dtls_identity_fingerprint(r->server_id)), 0);
    uint64_t id = sp->id;
    struct mcu_msg m = {.type = CMD_SESSION_CREATE, .id = id, .ptr = sp};
    assert_true(worker_send_cmd(&r->w, &m));
    usleep(20000);
    return id;
}

/* Waits for an event of `type` about session `id` (with arg `want`, unless want < 0);
 * returns its arg, or -1 on timeout. */
static int64_t wait_event_arg(struct rig *r, uint32_t type, uint64_t id, int64_t want, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        struct mcu_msg m;
        while (worker_poll_event(&r->w, &m))
            if (m.type == type && m.id == id && (want < 0 || m.arg == want))
                return m.arg;
        struct pollfd p = {.fd = r->wake, .events = POLLIN};
        poll(&p, 1, 20);
        uint64_t v;
        ssize_t n = read(r->wake, &v, sizeof v);
        (void)n;
    }
    return -1;
}

static int64_t wait_event(struct rig *r, uint32_t type, uint64_t id, int timeout_ms)
{
    return wait_event_arg(r, type, id, -1, timeout_ms);
}

static uint64_t drops(struct rig *r, enum drop_reason why)
{
    return stat_get(&r->w.stats.drops[why]);
}

static size_t make_rtp(uint8_t *buf, uint8_t pt, uint16_t seq, uint32_t ssrc, uint8_t fill, size_t payload)
{
    rtp_write_t w = {.pt = pt, .seq = seq, .ts = seq * 960u, .ssrc = ssrc};
    int off = rtp_write_header(buf, 1500, &w);
    assert_true(off > 0);
    memset(buf + off, fill, payload);
    return (size_t)off + payload;
}

static void expect_echo(struct wclient *c, uint8_t pt, uint16_t seq, uint32_t out_ssrc, uint8_t fill)
{
    uint8_t buf[2048];
    size_t len = make_rtp(buf, pt, seq, 0x1234, fill, 160);
    assert_int_equal(wclient_send_srtp(c, buf, len, sizeof buf, false), 0);
    for (int tries = 0; tries < 20; tries++) {
        bool rtcp = false;
        int n = wclient_recv_srtp(c, buf, sizeof buf, 500, &rtcp);
        assert_true(n > 0);
        if (rtcp)
            continue; /* e.g. the PLI the echo sends upstream for video */
        rtp_hdr_t h;
        assert_int_equal(rtp_parse(buf, (size_t)n, &h), 0);
        assert_int_equal(h.ssrc, out_ssrc);
        assert_int_equal(h.seq, seq);
        assert_int_equal(h.payload_len, 160);
        assert_int_equal(buf[h.payload_off + 10], fill);
        return;
    }
    fail_msg("no echo");
}

static void test_ice_checks(void **state)
{
    (void)state;
    struct rig *r = rig_new(30000, NULL);
    struct wclient c;
    uint64_t id = open_session(r, &c, NULL);

    /* Wrong password: no answer, counted. */
    char good[128];
    strcpy(good, c.remote_pwd);
    strcpy(c.remote_pwd, "not-the-password-at-all");
    assert_int_equal(wclient_send_check(&c, true), 0);
    /* Unknown ufrag. */
    char ufrag[64];
    strcpy(ufrag, c.remote_ufrag);
    strcpy(c.remote_ufrag, "nobody");
    strcpy(c.remote_pwd, good);
    assert_int_equal(wclient_send_check(&c, true), 0);
    uint8_t buf[512];
    struct pollfd p = {.fd = c.fd, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 300), 0); /* neither was answered */
    assert_int_equal(drops(r, DROP_STUN_AUTH), 1);
    assert_int_equal(drops(r, DROP_STUN_UNKNOWN_USER), 1);

    /* The right credentials: a success with our own address as XOR-MAPPED-ADDRESS. */
    strcpy(c.remote_ufrag, ufrag);
    assert_int_equal(wclient_send_check(&c, true), 0);
    assert_int_equal(poll(&p, 1, 1000), 1);
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    stun_msg_t m;
    assert_int_equal(stun_parse(buf, (size_t)n, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_SUCCESS);
    assert_int_equal(stun_check_integrity(buf, (size_t)n, &m, (const uint8_t *)good, strlen(good)), 0);
    assert_int_equal(stun_check_fingerprint(buf, (size_t)n, &m), 0);
    struct sockaddr_in self;
    socklen_t sl = sizeof self;
    getsockname(c.fd, (struct sockaddr *)&self, &sl);
    const struct sockaddr_in *mapped = (const struct sockaddr_in *)&m.xor_mapped;
    assert_int_equal(mapped->sin_port, self.sin_port);
    assert_int_equal(mapped->sin_addr.s_addr, self.sin_addr.s_addr);
    assert_int_equal(wait_event(r, EV_SESSION_STATE, id, 1000), SESSION_CHECKING);
    wclient_free(&c);
    rig_free(r);
}

static void run_echo(const char *client_profiles, int want_profile)
{
    struct rig *r = rig_new(30000, client_profiles);
    struct wclient c;
    uint64_t id = open_session(r, &c, NULL);
    assert_int_equal(wclient_connect(&c, 5000), 0);
    assert_int_equal(c.srtp_profile, want_profile);
    assert_int_equal(wait_event_arg(r, EV_SESSION_STATE, id, SESSION_CONNECTED, 2000), SESSION_CONNECTED);
    expect_echo(&c, 111, 1000, 0xA0D10, 0x11); /* audio */
    expect_echo(&c, 96, 2000, 0x51DE0, 0x22);  /* video */
    expect_echo(&c, 111, 1001, 0xA0D10, 0x33);

    /* A tampered packet and a replayed one are dropped and counted; the session goes on. */
    uint8_t buf[2048], copy[2048];
    size_t len = make_rtp(buf, 111, 1002, 0x1234, 0x44, 100);
    size_t plen = len;
    assert_int_equal(srtpx_protect_rtp(c.srtp, buf, &plen, sizeof buf), 0);
    memcpy(copy, buf, plen);
    assert_int_equal(wclient_send_raw(&c, buf, plen), 0);      /* original */
    assert_int_equal(wclient_send_raw(&c, copy, plen), 0);     /* replay */
    copy[plen - 3] ^= 0x40;
    ((uint8_t *)copy)[3] ^= 1;                                 /* new seq, bad tag */
    assert_int_equal(wclient_send_raw(&c, copy, plen), 0);
    usleep(100000);
    bool rtcp;
    do { /* the original's echo; the replay and the forgery must have none */
        int got = wclient_recv_srtp(&c, buf, sizeof buf, 500, &rtcp);
        assert_true(got > 0);
    } while (rtcp);
    rtp_hdr_t h;
    assert_int_equal(rtp_parse(buf, 100 + 12, &h), 0);
    assert_int_equal(h.seq, 1002);
    assert_int_equal(drops(r, DROP_SRTP_REPLAY), 1);
    assert_int_equal(drops(r, DROP_SRTP_AUTH), 1);
    expect_echo(&c, 111, 1003, 0xA0D10, 0x55);

    /* The endpoint leaves: the session goes, and its address is forgotten. */
    struct mcu_msg m = {.type = CMD_SESSION_CLOSE, .id = id};
    assert_true(worker_send_cmd(&r->w, &m));
    usleep(50000);
    assert_int_equal(atomic_load(&r->w.stats.sessions), 0);
    uint64_t before = drops(r, DROP_RTP_UNKNOWN_ADDR);
    len = make_rtp(buf, 111, 1004, 0x1234, 0x66, 100);
    assert_int_equal(wclient_send_srtp(&c, buf, len, sizeof buf, false), 0);
    usleep(50000);
    assert_int_equal(drops(r, DROP_RTP_UNKNOWN_ADDR), before + 1);
    wclient_free(&c);
    rig_free(r);
}

static void test_echo_gcm(void **state)
{
    (void)state;
    run_echo(NULL, DTLS_SRTP_AEAD_AES_128_GCM);
}

static void test_echo_cm_sha1(void **state)
{
    (void)state;
    run_echo("SRTP_AES128_CM_SHA1_80", DTLS_SRTP_AES128_CM_SHA1_80);
}

/* The client's address changes (a new NAT binding): a nominating check from the new address
 * moves the session there, and media follows. */
static void test_nominated_address_moves(void **state)
{
    (void)state;
    struct rig *r = rig_new(30000, NULL);
    struct wclient c;
    open_session(r, &c, NULL);
    assert_int_equal(wclient_connect(&c, 5000), 0);
    expect_echo(&c, 111, 10, 0xA0D10, 0x01);

    int old_fd = c.fd;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    c.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_int_equal(bind(c.fd, (struct sockaddr *)&sin, sizeof sin), 0);
    c.ice_ok = false;
    assert_int_equal(wclient_send_check(&c, true), 0);
    uint8_t buf[2048];
    assert_int_equal(wclient_recv_srtp(&c, buf, sizeof buf, 300, NULL), 0); /* takes the STUN reply */
    assert_true(c.ice_ok);
    expect_echo(&c, 111, 11, 0xA0D10, 0x02); /* arrives on the new socket */
    struct pollfd p = {.fd = old_fd, .events = POLLIN};
    while (poll(&p, 1, 0) == 1) { /* drain what the old address got before the move */
        ssize_t n = recv(old_fd, buf, sizeof buf, 0);
        (void)n;
    }
    expect_echo(&c, 111, 12, 0xA0D10, 0x03);
    assert_int_equal(poll(&p, 1, 100), 0); /* nothing goes to the old address any more */
    close(old_fd);
    wclient_free(&c);
    rig_free(r);
}

static void test_consent_expires(void **state)
{
    (void)state;
    struct rig *r = rig_new(400, NULL);
    struct wclient c;
    uint64_t id = open_session(r, &c, NULL);
    assert_int_equal(wclient_connect(&c, 5000), 0);
    expect_echo(&c, 111, 1, 0xA0D10, 0x01);
    /* Media alone does not keep consent: only ICE checks do. */
    for (int i = 0; i < 3; i++) {
        usleep(100000);
        assert_int_equal(wclient_send_check(&c, false), 0);
    }
    assert_int_equal(atomic_load(&r->w.stats.sessions), 1);
    assert_int_equal(wait_event(r, EV_SESSION_CLOSED, id, 3000), CLOSE_CONSENT_EXPIRED);
    assert_int_equal(atomic_load(&r->w.stats.sessions), 0);
    wclient_free(&c);
    rig_free(r);
}

static void test_wrong_fingerprint_fails(void **state)
{
    (void)state;
    struct rig *r = rig_new(30000, NULL);
    struct wclient c;
    const char *bogus = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
    uint64_t id = open_session(r, &c, bogus);
    assert_int_equal(wclient_connect(&c, 3000), -1);
    assert_int_equal(wait_event(r, EV_SESSION_CLOSED, id, 2000), CLOSE_DTLS_FAILED);
    assert_int_equal(atomic_load(&r->w.stats.sessions), 0);
    wclient_free(&c);
    rig_free(r);
}

int main(void)
{
    log_init(LOG_LVL_ERROR, false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ice_checks),
        cmocka_unit_test(test_echo_gcm),
        cmocka_unit_test(test_echo_cm_sha1),
        cmocka_unit_test(test_nominated_address_moves),
        cmocka_unit_test(test_consent_expires),
        cmocka_unit_test(test_wrong_fingerprint_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
