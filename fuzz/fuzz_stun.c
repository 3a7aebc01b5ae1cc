/* libFuzzer target for media/stun: parse any datagram; when it parses, every offset and
 * pointer must stay inside it, the checks must run cleanly under a fixed key, and what the
 * parser decoded must survive a rebuild by our own builders. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/stun.h"

#define KEY ((const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBt")
#define KEY_LEN 22

static void check_inside(const uint8_t *buf, size_t len, const void *p, size_t n)
{
    const uint8_t *b = p;

    if (b && (b < buf || b + n > buf + len))
        abort();
}

/* Same transport address, allowing for an IPv4-mapped IPv6 address written back as IPv4. */
static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;

    if (a->ss_family == AF_INET)
        return b->ss_family == AF_INET &&
               memcmp(a, b, sizeof(struct sockaddr_in)) == 0;
    if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
        return b->ss_family == AF_INET && b4->sin_port == a6->sin6_port &&
               memcmp(&b4->sin_addr, a6->sin6_addr.s6_addr + 12, 4) == 0;
    return b->ss_family == AF_INET6 && memcmp(a, b, sizeof(struct sockaddr_in6)) == 0;
}

static void check_rebuild(const stun_msg_t *m)
{
    uint8_t out[1024];
    stun_msg_t r;
    int n;

    if (m->has_xor_mapped) {
        n = stun_build_binding_success(out, sizeof out, m->tid,
                                       (const struct sockaddr *)&m->xor_mapped, KEY, KEY_LEN);
        if (n < 0 || stun_parse(out, (size_t)n, &r) != 0 || !r.has_xor_mapped ||
            !same_address(&m->xor_mapped, &r.xor_mapped) ||
            stun_check_integrity(out, (size_t)n, &r, KEY, KEY_LEN) != 0 ||
            stun_check_fingerprint(out, (size_t)n, &r) != 0)
            abort();
    }
    if (m->has_error) {
        n = stun_build_binding_error(out, sizeof out, m->tid, m->error_code, "x", NULL, 0);
        if (n < 0 || stun_parse(out, (size_t)n, &r) != 0 || r.error_code != m->error_code)
            abort();
    }
    if (m->n_unknown) {
        n = stun_build_unknown_attributes(out, sizeof out, m->tid, m->unknown, m->n_unknown,
                                          KEY, KEY_LEN);
        if (n < 0 || stun_parse(out, (size_t)n, &r) != 0 || r.error_code != 420)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *l, *r;
    size_t ll, rl;
    stun_msg_t m;
    int rc = stun_parse(data, size, &m);

    if (stun_strerror(rc) == NULL)
        abort();
    if (rc != 0)
        return 0;
    /* stun_is_stun() is the narrower RFC 7983 test (first byte 0..3); the parser accepts
     * any RFC 5389 type, so only one direction holds */
    if ((data[0] <= 3 && !stun_is_stun(data, size)) || size != STUN_HEADER_LEN + (size_t)m.length)
        abort();
    check_inside(data, size, m.username, m.username_len);
    check_inside(data, size, m.software, m.software_len);
    check_inside(data, size, m.realm, m.realm_len);
    check_inside(data, size, m.nonce, m.nonce_len);
    check_inside(data, size, m.error_reason, m.error_reason_len);
    if (m.has_integrity && m.integrity_off + 24 > size)
        abort();
    if (m.has_fingerprint && m.fingerprint_off + 8 != size)
        abort();

    rc = stun_check_fingerprint(data, size, &m);
    if (rc != 0 && rc != STUN_ERR_NO_FINGERPRINT && rc != STUN_ERR_BAD_FINGERPRINT)
        abort();
    rc = stun_check_integrity(data, size, &m, KEY, KEY_LEN);
    if (rc != 0 && rc != STUN_ERR_NO_INTEGRITY && rc != STUN_ERR_BAD_INTEGRITY)
        abort();
    if (m.username && stun_username_split(m.username, m.username_len, &l, &ll, &r, &rl) == 0) {
        check_inside(data, size, l, ll);
        check_inside(data, size, r, rl);
        if (ll + 1 + rl != m.username_len)
            abort();
    }
    check_rebuild(&m);
    return 0;
}
