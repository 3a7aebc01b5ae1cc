/* A WebRTC client transport for playing an endpoint against the server. */
#include "media/wclient.h"
#include "mcu/netaddr.h"
#include "media/rtp.h"
#include "media/stun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void token(char *out, size_t n)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[64];
    RAND_bytes(r, (int)n);
    for (size_t i = 0; i < n; i++)
        out[i] = al[r[i] % 62];
    out[n] = 0;
}

int wclient_init(struct wclient *c, dtls_identity_t *id, const char *bind_addr)
{
    memset(c, 0, sizeof *c);
    struct sockaddr_storage ss;
    socklen_t len;
    if (netaddr_parse(bind_addr, 0, &ss, &len) < 0)
        return -1;
    c->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (c->fd < 0)
        return -1;
    if (bind(c->fd, (struct sockaddr *)&ss, len) < 0)
        goto out_close;
    c->dtls = dtls_conn_new(id, false, NULL);
    if (!c->dtls)
        goto out_close;
    token(c->local_ufrag, 8);
    token(c->local_pwd, 24);
    RAND_bytes((unsigned char *)&c->tiebreaker, sizeof c->tiebreaker);
    return 0;
out_close:
    close(c->fd);
    c->fd = -1;
    return -1;
}

int wclient_set_remote(struct wclient *c, const char *addr, int port, const char *ufrag,
                       const char *pwd, const char *fingerprint)
{
    if (netaddr_parse(addr, port, &c->server, &c->server_len) < 0)
        return -1;
    snprintf(c->remote_ufrag, sizeof c->remote_ufrag, "%s", ufrag);
    snprintf(c->remote_pwd, sizeof c->remote_pwd, "%s", pwd);
    if (fingerprint && dtls_conn_set_remote_fingerprint(c->dtls, fingerprint) < 0)
        return -1;
    return 0;
}

int wclient_send_raw(struct wclient *c, const void *buf, size_t len)
{
    return sendto(c->fd, buf, len, 0, (struct sockaddr *)&c->server, c->server_len) == (ssize_t)len ? 0 : -1;
}

int wclient_send_check(struct wclient *c, bool nominate)
{
    uint8_t buf[512], tid[STUN_TID_LEN];
    char user[160];
    snprintf(user, sizeof user, "%s:%s", c->remote_ufrag, c->local_ufrag);
    stun_random_tid(tid);
    int n = stun_build_binding_request(buf, sizeof buf, tid, user, 0x6e7f00ff, true, c->tiebreaker,
                                       nominate, (const uint8_t *)c->remote_pwd, strlen(c->remote_pwd));
    return n < 0 ? -1 : wclient_send_raw(c, buf, (size_t)n);
}

static void flush_dtls(struct wclient *c)
{
    uint8_t out[2048];
    int n;
    while ((n = dtls_conn_next_out(c->dtls, out, sizeof out)) > 0)
        wclient_send_raw(c, out, (size_t)n);
}

/* A full ICE agent (e.g. Janus) checks us too: answer its Binding requests, which carry
 * "our_ufrag:their_ufrag" and our password as the integrity key. */
static void answer_check(struct wclient *c, const uint8_t *buf, size_t len, const stun_msg_t *m)
{
    const uint8_t *lu;
    size_t lul;
    const uint8_t *key = (const uint8_t *)c->local_pwd;
    size_t keylen = strlen(c->local_pwd);
    if (!m->username || stun_username_split(m->username, m->username_len, &lu, &lul, NULL, NULL) < 0 ||
        lul != strlen(c->local_ufrag) || memcmp(lu, c->local_ufrag, lul) ||
        stun_check_integrity(buf, len, m, key, keylen) < 0)
        return;
    uint8_t out[512];
    int n = stun_build_binding_success(out, sizeof out, m->tid, (const struct sockaddr *)&c->server, key, keylen);
    if (n > 0)
        wclient_send_raw(c, out, (size_t)n);
}

/* Handles a non-SRTP datagram; returns 1 if it was one. */
static int handle_control(struct wclient *c, const uint8_t *buf, size_t len)
{
    int kind = demux_classify(buf, len);
    if (kind == DEMUX_STUN) {
        stun_msg_t m;
        if (stun_parse(buf, len, &m) == 0 && m.type == STUN_BINDING_REQUEST)
            answer_check(c, buf, len, &m);
        else if (stun_parse(buf, len, &m) == 0 && m.type == STUN_BINDING_SUCCESS &&
            stun_check_integrity(buf, len, &m, (const uint8_t *)c->remote_pwd, strlen(c->remote_pwd)) == 0) {
            c->ice_ok = true;
            c->mapped = m.xor_mapped;
        }
        return 1;
    }
    if (kind == DEMUX_DTLS) {
        dtls_conn_feed(c->dtls, buf, len);
        flush_dtls(c);
        return 1;
    }
    return kind == DEMUX_RTP ? 0 : 1;
}

static int wait_readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms < 0 ? 0 : timeout_ms);
}

/* DTLS is done: the SRTP session from its exported keys. 0 or -1. */
static int key_srtp(struct wclient *c)
{
    dtls_srtp_keys_t k;
    if (dtls_conn_srtp_keys(c->dtls, &k) < 0)
        return -1;
    c->srtp = srtpx_session_new_ex(k.profile, k.local, k.remote, c->srtp_flags);
    c->srtp_profile = k.profile;
    return c->srtp ? 0 : -1;
}

int wclient_connect(struct wclient *c, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms, next_check = 0;
    bool started = false;
    uint8_t buf[2048];
    while (now_ms() < deadline) {
        if (!c->ice_ok && now_ms() >= next_check) {
            wclient_send_check(c, true);
            next_check = now_ms() + 100;
        }
        if (c->ice_ok && !started) {
            dtls_conn_start(c->dtls);
            flush_dtls(c);
            started = true;
        }
        int t = dtls_conn_timeout_ms(c->dtls);
        if (started && t == 0) {
            dtls_conn_on_timer(c->dtls);
            flush_dtls(c);
        }
        if (wait_readable(c->fd, 20) > 0) {
            ssize_t n = recv(c->fd, buf, sizeof buf, 0);
            if (n > 0)
                handle_control(c, buf, (size_t)n);
        }
        dtls_state_t st = dtls_conn_state(c->dtls);
        if (st == DTLS_FAILED || st == DTLS_CLOSED)
            return -1;
        if (st == DTLS_CONNECTED)
            return key_srtp(c);
    }
    return -1;
}

int wclient_send_srtp(struct wclient *c, uint8_t *buf, size_t len, size_t cap, bool rtcp)
{
    if (!c->srtp)
        return -1;
    int rc = rtcp ? srtpx_protect_rtcp(c->srtp, buf, &len, cap) : srtpx_protect_rtp(c->srtp, buf, &len, cap);
    return rc < 0 ? -1 : wclient_send_raw(c, buf, len);
}

int wclient_recv_srtp(struct wclient *c, uint8_t *buf, size_t cap, int timeout_ms, bool *is_rtcp)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(deadline - now_ms());
        if (wait_readable(c->fd, left) <= 0)
            return 0;
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n <= 0)
            continue;
        if (handle_control(c, buf, (size_t)n) || !c->srtp)
            continue;
        size_t len = (size_t)n;
        bool rtcp = rtp_is_rtcp(buf, len);
        int rc = rtcp ? srtpx_unprotect_rtcp(c->srtp, buf, &len) : srtpx_unprotect_rtp(c->srtp, buf, &len);
        if (rc < 0)
            continue;
        if (is_rtcp)
            *is_rtcp = rtcp;
        return (int)len;
    }
}

void wclient_free(struct wclient *c)
{
    srtpx_session_free(c->srtp);
    dtls_conn_free(c->dtls);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->srtp = NULL;
    c->dtls = NULL;
}

int wclient_input(struct wclient *c, uint8_t *buf, size_t len, bool *is_rtcp)
{
    if (handle_control(c, buf, len))
        return 0;
    if (!c->srtp)
        return -1;
    bool rtcp = rtp_is_rtcp(buf, len);
    int rc = rtcp ? srtpx_unprotect_rtcp(c->srtp, buf, &len) : srtpx_unprotect_rtp(c->srtp, buf, &len);
    if (rc < 0)
        return -1;
    *is_rtcp = rtcp;
    return (int)len;
}

int wclient_advance(struct wclient *c, int64_t now_ms)
{
    if (c->srtp)
        return 1;
    if (!c->ice_ok) {
        if (now_ms >= c->next_check_ms) {
            wclient_send_check(c, true);
            c->next_check_ms = now_ms + 100;
        }
        return 0;
    }
    if (!c->dtls_started) {
        dtls_conn_start(c->dtls);
        c->dtls_started = true;
    } else if (dtls_conn_timeout_ms(c->dtls) == 0) {
        dtls_conn_on_timer(c->dtls);
    }
    flush_dtls(c);
    dtls_state_t st = dtls_conn_state(c->dtls);
    if (st == DTLS_FAILED || st == DTLS_CLOSED)
        return -1;
    if (st != DTLS_CONNECTED)
        return 0;
    return key_srtp(c) < 0 ? -1 : 1;
}
