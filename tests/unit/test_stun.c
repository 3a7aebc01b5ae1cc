/* Unit tests for media/stun: the RFC 5769 test vectors (parse, FINGERPRINT, short- and
 * long-term MESSAGE-INTEGRITY, XOR-MAPPED-ADDRESS over IPv4 and IPv6), builder round trips,
 * and the malformations the parser must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <openssl/evp.h>

#include "media/stun.h"

/* RFC 5769 §2.1: Binding request, short-term credentials, SOFTWARE "STUN test client",
 * USERNAME "evtj:h6vY" (padded with spaces, as the RFC does), ICE-CONTROLLED. */
static const uint8_t rfc_req[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10,
    0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
    0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
    0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
    0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
    0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 §2.2: Binding success, XOR-MAPPED-ADDRESS 192.0.2.1:32853. */
static const uint8_t rfc_resp4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
    0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
    0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
    0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 §2.3: Binding success, XOR-MAPPED-ADDRESS
 * [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t rfc_resp6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b,
    0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
    0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
    0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
    0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

/* RFC 5769 §2.4: Binding request, long-term credentials: USERNAME "マトリックス" (UTF-8),
 * NONCE, REALM "example.org", MESSAGE-INTEGRITY, and no FINGERPRINT. */
static const uint8_t rfc_req_lt[] = {
    0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33,
    0xc6, 0xad, 0x72, 0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12,
    0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88, 0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83,
    0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00, 0x15, 0x00, 0x1c,
    0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
    0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79,
    0x36, 0x34, 0x73, 0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d,
    0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x08, 0x00, 0x14,
    0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02, 0xb8, 0xe0, 0x71,
    0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
};

static const uint8_t rfc_tid[STUN_TID_LEN] = {
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};

#define RFC_KEY ((const uint8_t *)"VOkJxbRl1RmTxUk/WvJxBt")
#define RFC_KEY_LEN 22
#define KEY ((const uint8_t *)"0123456789abcdefghijkl")
#define KEY_LEN 22

static void assert_bytes(const void *got, size_t got_len, const char *want)
{
    assert_int_equal(got_len, strlen(want));
    assert_memory_equal(got, want, got_len);
}

static void assert_sa4(const struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
    char text[INET_ADDRSTRLEN];

    assert_int_equal(ss->ss_family, AF_INET);
    assert_non_null(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text));
    assert_string_equal(text, ip);
    assert_int_equal(ntohs(sin->sin_port), port);
}

static void assert_sa6(const struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
    char text[INET6_ADDRSTRLEN];

    assert_int_equal(ss->ss_family, AF_INET6);
    assert_non_null(inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text));
    assert_string_equal(text, ip);
    assert_int_equal(ntohs(sin6->sin6_port), port);
}

static struct sockaddr_storage make_sa(const char *ip, uint16_t port)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof ss);
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
    }
    return ss;
}

/* ---- RFC 5769 vectors ---- */

static void test_rfc5769_request(void **state)
{
    const uint8_t *local, *remote;
    size_t local_len, remote_len;
    stun_msg_t m;
    (void)state;

    assert_true(stun_is_stun(rfc_req, sizeof rfc_req));
    assert_int_equal(stun_parse(rfc_req, sizeof rfc_req, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_REQUEST);
    assert_int_equal(m.cls, STUN_CLASS_REQUEST);
    assert_int_equal(m.method, STUN_METHOD_BINDING);
    assert_int_equal(m.length, 0x58);
    assert_memory_equal(m.tid, rfc_tid, STUN_TID_LEN);
    assert_bytes(m.software, m.software_len, "STUN test client");
    assert_bytes(m.username, m.username_len, "evtj:h6vY");
    assert_true(m.has_priority);
    assert_int_equal(m.priority, 0x6e0001ff);
    assert_true(m.ice_controlled);
    assert_false(m.ice_controlling);
    assert_true(m.tie_breaker == 0x932ff9b151263b36ull);
    assert_false(m.use_candidate);
    assert_false(m.has_xor_mapped);
    assert_false(m.has_error);
    assert_int_equal(m.n_unknown, 0);
    assert_true(m.has_integrity);
    assert_int_equal(m.integrity_off, 76);
    assert_true(m.has_fingerprint);
    assert_int_equal(m.fingerprint_off, 100);

    assert_int_equal(stun_check_fingerprint(rfc_req, sizeof rfc_req, &m), 0);
    assert_int_equal(stun_check_integrity(rfc_req, sizeof rfc_req, &m, RFC_KEY, RFC_KEY_LEN), 0);
    assert_int_equal(stun_check_integrity(rfc_req, sizeof rfc_req, &m, RFC_KEY, RFC_KEY_LEN - 1),
                     STUN_ERR_BAD_INTEGRITY);
    assert_int_equal(stun_check_integrity(rfc_req, sizeof rfc_req, &m, KEY, KEY_LEN),
                     STUN_ERR_BAD_INTEGRITY);

    assert_int_equal(stun_username_split(m.username, m.username_len, &local, &local_len,
                                         &remote, &remote_len), 0);
    assert_bytes(local, local_len, "evtj");
    assert_bytes(remote, remote_len, "h6vY");
}

static void test_rfc5769_ipv4_response(void **state)
{
    stun_msg_t m;
    (void)state;

    assert_int_equal(stun_parse(rfc_resp4, sizeof rfc_resp4, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_SUCCESS);
    assert_int_equal(m.cls, STUN_CLASS_SUCCESS);
    assert_int_equal(m.method, STUN_METHOD_BINDING);
    assert_memory_equal(m.tid, rfc_tid, STUN_TID_LEN);
    assert_bytes(m.software, m.software_len, "test vector");
    assert_true(m.has_xor_mapped);
    assert_sa4(&m.xor_mapped, "192.0.2.1", 32853);
    assert_int_equal(stun_check_fingerprint(rfc_resp4, sizeof rfc_resp4, &m), 0);
    assert_int_equal(stun_check_integrity(rfc_resp4, sizeof rfc_resp4, &m, RFC_KEY,
                                          RFC_KEY_LEN), 0);
}

static void test_rfc5769_ipv6_response(void **state)
{
    stun_msg_t m;
    (void)state;

    assert_int_equal(stun_parse(rfc_resp6, sizeof rfc_resp6, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_SUCCESS);
    assert_memory_equal(m.tid, rfc_tid, STUN_TID_LEN);
    assert_true(m.has_xor_mapped);
    assert_sa6(&m.xor_mapped, "2001:db8:1234:5678:11:2233:4455:6677", 32853);
    assert_int_equal(stun_check_fingerprint(rfc_resp6, sizeof rfc_resp6, &m), 0);
    assert_int_equal(stun_check_integrity(rfc_resp6, sizeof rfc_resp6, &m, RFC_KEY,
                                          RFC_KEY_LEN), 0);
}

/* Long-term credentials: key = MD5(username ":" realm ":" SASLprep(password)); the RFC's
 * password "The<U+00AD>M<U+00AA>tr<U+2168>" is "TheMatrIX" after SASLprep. */
static void test_rfc5769_long_term(void **state)
{
    static const char user_utf8[] = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83"
                                    "\xe3\x82\xaf\xe3\x82\xb9";
    uint8_t material[128], key[EVP_MAX_MD_SIZE];
    unsigned key_len = 0;
    size_t n = 0;
    stun_msg_t m;
    (void)state;

    assert_int_equal(stun_parse(rfc_req_lt, sizeof rfc_req_lt, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_REQUEST);
    assert_bytes(m.username, m.username_len, user_utf8);
    assert_bytes(m.nonce, m.nonce_len, "f//499k954d6OL34oL9FSTvy64sA");
    assert_bytes(m.realm, m.realm_len, "example.org");
    assert_true(m.has_integrity);
    assert_false(m.has_fingerprint); /* this vector carries none */
    assert_int_equal(stun_check_fingerprint(rfc_req_lt, sizeof rfc_req_lt, &m),
                     STUN_ERR_NO_FINGERPRINT);

    memcpy(material + n, m.username, m.username_len);
    n += m.username_len;
    material[n++] = ':';
    memcpy(material + n, m.realm, m.realm_len);
    n += m.realm_len;
    material[n++] = ':';
    memcpy(material + n, "TheMatrIX", 9);
    n += 9;
    assert_int_equal(EVP_Digest(material, n, key, &key_len, EVP_md5(), NULL), 1);
    assert_int_equal(key_len, 16);
    assert_int_equal(stun_check_integrity(rfc_req_lt, sizeof rfc_req_lt, &m, key, key_len), 0);
    key[0] ^= 1;
    assert_int_equal(stun_check_integrity(rfc_req_lt, sizeof rfc_req_lt, &m, key, key_len),
                     STUN_ERR_BAD_INTEGRITY);
}

/* The builder reproduces §2.2 and §2.3 byte for byte once SOFTWARE is set aside: build
 * without SOFTWARE, and its XOR-MAPPED-ADDRESS value must equal the vector's. */
static void test_builder_matches_rfc_xor_address(void **state)
{
    struct sockaddr_storage v4 = make_sa("192.0.2.1", 32853);
    struct sockaddr_storage v6 = make_sa("2001:db8:1234:5678:11:2233:4455:6677", 32853);
    uint8_t out[128];
    int n;
    (void)state;

    n = stun_build_binding_success(out, sizeof out, rfc_tid, (struct sockaddr *)&v4, NULL, 0);
    assert_true(n > 0);
    assert_memory_equal(out + 20, rfc_resp4 + 36, 12);
    n = stun_build_binding_success(out, sizeof out, rfc_tid, (struct sockaddr *)&v6, NULL, 0);
    assert_true(n > 0);
    assert_memory_equal(out + 20, rfc_resp6 + 36, 24);
}

/* ---- builder round trips ---- */

static void round_trip_success(const char *ip, uint16_t port, const char *want_ip, bool v6)
{
    struct sockaddr_storage sa = make_sa(ip, port);
    uint8_t tid[STUN_TID_LEN], out[128];
    stun_msg_t m;
    int n;

    assert_int_equal(stun_random_tid(tid), 0);
    n = stun_build_binding_success(out, sizeof out, tid, (struct sockaddr *)&sa, KEY, KEY_LEN);
    assert_int_equal(n, v6 ? 20 + 24 + 24 + 8 : 20 + 12 + 24 + 8);
    assert_true(stun_is_stun(out, (size_t)n));
    assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_SUCCESS);
    assert_memory_equal(m.tid, tid, STUN_TID_LEN);
    assert_true(m.has_xor_mapped);
    if (v6)
        assert_sa6(&m.xor_mapped, want_ip, port);
    else
        assert_sa4(&m.xor_mapped, want_ip, port);
    assert_int_equal(stun_check_fingerprint(out, (size_t)n, &m), 0);
    assert_int_equal(stun_check_integrity(out, (size_t)n, &m, KEY, KEY_LEN), 0);
    assert_int_equal(stun_check_integrity(out, (size_t)n, &m, RFC_KEY, RFC_KEY_LEN),
                     STUN_ERR_BAD_INTEGRITY);
}

static void test_success_round_trip_ipv4(void **state)
{
    (void)state;
    round_trip_success("203.0.113.7", 50000, "203.0.113.7", false);
    round_trip_success("0.0.0.0", 0, "0.0.0.0", false);
    round_trip_success("255.255.255.255", 65535, "255.255.255.255", false);
}

static void test_success_round_trip_ipv6(void **state)
{
    (void)state;
    round_trip_success("2001:db8::1", 10000, "2001:db8::1", true);
    round_trip_success("fe80::1:2:3:4", 1, "fe80::1:2:3:4", true);
    /* a dual-stack socket's view of an IPv4 peer goes out as IPv4 */
    round_trip_success("::ffff:198.51.100.20", 4242, "198.51.100.20", false);
}

static void test_success_without_key(void **state)
{
    struct sockaddr_storage sa = make_sa("192.0.2.9", 9);
    uint8_t out[64];
    stun_msg_t m;
    int n;
    (void)state;

    n = stun_build_binding_success(out, sizeof out, rfc_tid, (struct sockaddr *)&sa, NULL, 0);
    assert_int_equal(n, 20 + 12 + 8);
    assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
    assert_false(m.has_integrity);
    assert_int_equal(stun_check_integrity(out, (size_t)n, &m, KEY, KEY_LEN),
                     STUN_ERR_NO_INTEGRITY);
    assert_int_equal(stun_check_fingerprint(out, (size_t)n, &m), 0);
}

static void test_request_round_trip(void **state)
{
    uint8_t out[256];
    stun_msg_t m;
    int n;
    (void)state;

    n = stun_build_binding_request(out, sizeof out, rfc_tid, "srvF:cliF", 0x6e0001ff, true,
                                   0x0102030405060708ull, true, KEY, KEY_LEN);
    assert_true(n > 0);
    assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_REQUEST);
    assert_bytes(m.username, m.username_len, "srvF:cliF");
    assert_true(m.has_priority);
    assert_int_equal(m.priority, 0x6e0001ff);
    assert_true(m.ice_controlling);
    assert_false(m.ice_controlled);
    assert_true(m.tie_breaker == 0x0102030405060708ull);
    assert_true(m.use_candidate);
    assert_int_equal(stun_check_integrity(out, (size_t)n, &m, KEY, KEY_LEN), 0);
    assert_int_equal(stun_check_fingerprint(out, (size_t)n, &m), 0);

    n = stun_build_binding_request(out, sizeof out, rfc_tid, "a:b", 1, false,
                                   UINT64_MAX, false, KEY, KEY_LEN);
    assert_true(n > 0);
    assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
    assert_true(m.ice_controlled);
    assert_false(m.ice_controlling);
    assert_false(m.use_candidate);
    assert_true(m.tie_breaker == UINT64_MAX);
    assert_int_equal(stun_check_integrity(out, (size_t)n, &m, KEY, KEY_LEN), 0);

    /* only the controlling agent nominates */
    assert_int_equal(stun_build_binding_request(out, sizeof out, rfc_tid, "a:b", 1, false, 0,
                                                true, KEY, KEY_LEN), STUN_ERR_INVALID);
}

static void test_error_round_trip(void **state)
{
    uint8_t out[256];
    stun_msg_t m;
    int n;
    (void)state;

    n = stun_build_binding_error(out, sizeof out, rfc_tid, 487, NULL, KEY, KEY_LEN);
    assert_true(n > 0);
    assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
    assert_int_equal(m.type, STUN_BINDING_ERROR);
    assert_int_equal(m.cls, STUN_CLASS_ERROR);
    assert_int_equal(m.method, STUN_METHOD_BINDING);
    assert_true(m.has_error);
    assert_int_equal(m.error_code, 487);
    assert_bytes(m.error_reason, m.error_reason_len, "Role Conflict");
    assert_int_equal(stun_check_integrity(out, (size_t)n, &m, KEY, KEY_LEN), 0);
    assert_int_equal(stun_check_fingerprint(out, (size_t)n, &m), 0);

    /* 401 for a failed check goes out without MESSAGE-INTEGRITY */
    n = stun_build_binding_error(out, sizeof out, rfc_tid, 401, "who are you", NULL, 0);
    assert_true(n > 0);
    assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
    assert_int_equal(m.error_code, 401);
    assert_bytes(m.error_reason, m.error_reason_len, "who are you");
    assert_false(m.has_integrity);
    assert_int_equal(stun_check_fingerprint(out, (size_t)n, &m), 0);

    n = stun_build_binding_error(out, sizeof out, rfc_tid, 400, NULL, NULL, 0);
    assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
    assert_int_equal(m.error_code, 400);
    assert_bytes(m.error_reason, m.error_reason_len, "Bad Request");

    assert_int_equal(stun_build_binding_error(out, sizeof out, rfc_tid, 200, NULL, NULL, 0),
                     STUN_ERR_INVALID);
    assert_int_equal(stun_build_binding_error(out, sizeof out, rfc_tid, 700, NULL, NULL, 0),
                     STUN_ERR_INVALID);
}

static void test_unknown_attributes(void **state)
{
    /* a request carrying two unknown comprehension-required attributes and one optional */
    static const uint8_t req[] = {
        0x00, 0x01, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x7f, 0x01, 0x00, 0x00,                   /* unknown, required */
        0xc0, 0x57, 0x00, 0x04, 0x00, 0x01, 0x00, 0x0a, /* GOOG-NETWORK-INFO: optional */
        0x00, 0x30, 0x00, 0x03, 0xaa, 0xbb, 0xcc, 0x00, /* unknown, required */
        0x00, 0x25, 0x00, 0x00,                   /* USE-CANDIDATE */
    };
    uint8_t out[256];
    stun_msg_t m, r;
    int n;
    (void)state;

    assert_int_equal(stun_parse(req, sizeof req, &m), 0);
    assert_true(m.use_candidate);
    assert_int_equal(m.n_unknown, 2);
    assert_int_equal(m.unknown[0], 0x7f01);
    assert_int_equal(m.unknown[1], 0x0030);

    n = stun_build_unknown_attributes(out, sizeof out, m.tid, m.unknown, m.n_unknown, KEY,
                                      KEY_LEN);
    assert_true(n > 0);
    assert_int_equal(stun_parse(out, (size_t)n, &r), 0);
    assert_int_equal(r.error_code, 420);
    assert_int_equal(stun_check_integrity(out, (size_t)n, &r, KEY, KEY_LEN), 0);
    /* ERROR-CODE (4 + 4 + 17 -> 28), then UNKNOWN-ATTRIBUTES listing both types */
    assert_int_equal(out[20 + 28 + 1], 0x0A);
    assert_int_equal(out[20 + 28 + 3], 4);
    assert_int_equal(out[20 + 28 + 4], 0x7f);
    assert_int_equal(out[20 + 28 + 5], 0x01);
    assert_int_equal(out[20 + 28 + 7], 0x30);
    assert_int_equal(stun_build_unknown_attributes(out, sizeof out, m.tid, NULL, 0, NULL, 0),
                     STUN_ERR_INVALID);
}

/* Every buffer too small by any amount is refused, and nothing is written past cap. */
static void test_builders_respect_capacity(void **state)
{
    struct sockaddr_storage sa = make_sa("2001:db8::1", 1);
    uint8_t out[256];
    int full;
    (void)state;

    full = stun_build_binding_success(out, sizeof out, rfc_tid, (struct sockaddr *)&sa, KEY,
                                      KEY_LEN);
    assert_true(full > 0);
    for (int cap = 0; cap < full; cap++) {
        memset(out, 0xEE, sizeof out);
        assert_int_equal(stun_build_binding_success(out, (size_t)cap, rfc_tid,
                                                    (struct sockaddr *)&sa, KEY, KEY_LEN),
                         STUN_ERR_NO_SPACE);
        for (size_t i = (size_t)cap; i < sizeof out; i++)
            assert_int_equal(out[i], 0xEE);
    }
    full = stun_build_binding_request(out, sizeof out, rfc_tid, "abcd:efgh", 7, true, 1, true,
                                      KEY, KEY_LEN);
    assert_true(full > 0);
    for (int cap = 0; cap < full; cap++)
        assert_int_equal(stun_build_binding_request(out, (size_t)cap, rfc_tid, "abcd:efgh", 7,
                                                    true, 1, true, KEY, KEY_LEN),
                         STUN_ERR_NO_SPACE);
    full = stun_build_binding_error(out, sizeof out, rfc_tid, 487, NULL, KEY, KEY_LEN);
    for (int cap = 0; cap < full; cap++)
        assert_int_equal(stun_build_binding_error(out, (size_t)cap, rfc_tid, 487, NULL, KEY,
                                                  KEY_LEN), STUN_ERR_NO_SPACE);
    assert_int_equal(stun_build_binding_success(out, sizeof out, rfc_tid, NULL, KEY, KEY_LEN),
                     STUN_ERR_INVALID);
    sa.ss_family = AF_UNIX;
    assert_int_equal(stun_build_binding_success(out, sizeof out, rfc_tid,
                                                (struct sockaddr *)&sa, KEY, KEY_LEN),
                     STUN_ERR_INVALID);
}

/* ---- tampering and malformation ---- */

/* Flipping any bit before MESSAGE-INTEGRITY, or inside it, must never pass the check: the
 * parse fails, or the integrity check does. */
static void test_tampered_byte_fails_integrity(void **state)
{
    uint8_t buf[sizeof rfc_req];
    stun_msg_t m;
    (void)state;

    for (size_t i = 0; i < 100; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, rfc_req, sizeof buf);
            buf[i] ^= (uint8_t)(1u << bit);
            if (stun_parse(buf, sizeof buf, &m) != 0)
                continue;
            if (!m.has_integrity)
                continue; /* MESSAGE-INTEGRITY itself renamed: the server would reject it */
            assert_int_not_equal(stun_check_integrity(buf, sizeof buf, &m, RFC_KEY,
                                                      RFC_KEY_LEN), 0);
        }
    }
    /* the FINGERPRINT lies outside MESSAGE-INTEGRITY: changing it leaves integrity intact */
    memcpy(buf, rfc_req, sizeof buf);
    buf[sizeof buf - 1] ^= 0x01;
    assert_int_equal(stun_parse(buf, sizeof buf, &m), 0);
    assert_int_equal(stun_check_integrity(buf, sizeof buf, &m, RFC_KEY, RFC_KEY_LEN), 0);
    assert_int_equal(stun_check_fingerprint(buf, sizeof buf, &m), STUN_ERR_BAD_FINGERPRINT);
}

static void test_bad_fingerprint(void **state)
{
    uint8_t buf[sizeof rfc_resp6];
    stun_msg_t m;
    (void)state;

    for (size_t i = 0; i < sizeof buf; i++) {
        memcpy(buf, rfc_resp6, sizeof buf);
        buf[i] ^= 0x80;
        if (stun_parse(buf, sizeof buf, &m) != 0 || !m.has_fingerprint)
            continue;
        assert_int_equal(stun_check_fingerprint(buf, sizeof buf, &m), STUN_ERR_BAD_FINGERPRINT);
    }
}

static void test_truncated(void **state)
{
    uint8_t buf[sizeof rfc_req + 4];
    stun_msg_t m;
    (void)state;

    for (size_t n = 0; n < sizeof rfc_req; n++)
        assert_int_equal(stun_parse(rfc_req, n, &m), STUN_ERR_TRUNCATED);
    memcpy(buf, rfc_req, sizeof rfc_req);
    memset(buf + sizeof rfc_req, 0, 4);
    assert_int_equal(stun_parse(buf, sizeof buf, &m), STUN_ERR_TRAILING);
    /* header length shortened to cut the FINGERPRINT value in half */
    buf[3] = 0x56;
    assert_int_equal(stun_parse(buf, sizeof rfc_req - 2, &m), STUN_ERR_BAD_LENGTH);
    /* length shortened by 4 so FINGERPRINT's value is missing */
    buf[3] = 0x54;
    assert_int_equal(stun_parse(buf, sizeof rfc_req - 4, &m), STUN_ERR_ATTR_TRUNCATED);
}

static void test_bad_header(void **state)
{
    uint8_t buf[sizeof rfc_resp4];
    stun_msg_t m;
    (void)state;

    memcpy(buf, rfc_resp4, sizeof buf);
    buf[0] |= 0x80;
    assert_int_equal(stun_parse(buf, sizeof buf, &m), STUN_ERR_NOT_STUN);
    assert_false(stun_is_stun(buf, sizeof buf));
    memcpy(buf, rfc_resp4, sizeof buf);
    buf[0] |= 0x40;
    assert_int_equal(stun_parse(buf, sizeof buf, &m), STUN_ERR_NOT_STUN);
    memcpy(buf, rfc_resp4, sizeof buf);
    buf[7] ^= 1;
    assert_int_equal(stun_parse(buf, sizeof buf, &m), STUN_ERR_BAD_COOKIE);
    assert_false(stun_is_stun(buf, sizeof buf));
    memcpy(buf, rfc_resp4, sizeof buf);
    buf[3] = 0x3e;
    assert_int_equal(stun_parse(buf, sizeof buf, &m), STUN_ERR_BAD_LENGTH);
    assert_false(stun_is_stun(rfc_resp4, 19));
    assert_true(stun_is_stun(rfc_resp4, 20));
    /* RFC 7983: DTLS (20..63) and RTP (128..191) first bytes are not STUN */
    memcpy(buf, rfc_resp4, sizeof buf);
    buf[0] = 22;
    assert_false(stun_is_stun(buf, sizeof buf));
}

/* Attribute lengths that overrun the message, or are wrong for the attribute. */
static void test_bad_attribute_lengths(void **state)
{
    uint8_t buf[sizeof rfc_req];
    stun_msg_t m;
    (void)state;

    /* SOFTWARE at offset 20 claims more than the whole message */
    memcpy(buf, rfc_req, sizeof buf);
    buf[22] = 0xff;
    buf[23] = 0xff;
    assert_int_equal(stun_parse(buf, sizeof buf, &m), STUN_ERR_ATTR_TRUNCATED);
    /* FINGERPRINT (offset 100) one byte longer: its padding would overrun */
    memcpy(buf, rfc_req, sizeof buf);
    buf[103] = 5;
    assert_int_equal(stun_parse(buf, sizeof buf, &m), STUN_ERR_ATTR_TRUNCATED);
    /* PRIORITY (offset 40) with length 3 */
    memcpy(buf, rfc_req, sizeof buf);
    buf[43] = 3;
    assert_int_equal(stun_parse(buf, sizeof buf, &m), STUN_ERR_ATTR_LEN);
    /* ICE-CONTROLLED (offset 48) with length 4 leaves garbage framing behind it */
    memcpy(buf, rfc_req, sizeof buf);
    buf[51] = 4;
    assert_int_not_equal(stun_parse(buf, sizeof buf, &m), 0);
    /* MESSAGE-INTEGRITY (offset 76) with length 16 */
    memcpy(buf, rfc_req, sizeof buf);
    buf[79] = 16;
    assert_int_not_equal(stun_parse(buf, sizeof buf, &m), 0);
    /* XOR-MAPPED-ADDRESS (offset 36 of §2.2): family 3, then an IPv4 family with length 20 */
    uint8_t r[sizeof rfc_resp6];
    memcpy(r, rfc_resp4, sizeof rfc_resp4);
    r[41] = 3;
    assert_int_equal(stun_parse(r, sizeof rfc_resp4, &m), STUN_ERR_ATTR_VALUE);
    memcpy(r, rfc_resp6, sizeof rfc_resp6);
    r[41] = 1;
    assert_int_equal(stun_parse(r, sizeof rfc_resp6, &m), STUN_ERR_ATTR_LEN);
}

static void test_bad_error_code(void **state)
{
    uint8_t out[128];
    stun_msg_t m;
    int n;
    (void)state;

    n = stun_build_binding_error(out, sizeof out, rfc_tid, 487, "x", NULL, 0);
    assert_true(n > 0);
    out[20 + 4 + 2] = 2; /* class 2 is not an error */
    assert_int_equal(stun_parse(out, (size_t)n, &m), STUN_ERR_ATTR_VALUE);
    out[20 + 4 + 2] = 4;
    out[20 + 4 + 3] = 100; /* number above 99 */
    assert_int_equal(stun_parse(out, (size_t)n, &m), STUN_ERR_ATTR_VALUE);
}

/* Appends one attribute to a message and fixes up the header length. */
static size_t append_attr(uint8_t *buf, size_t len, uint16_t type, const void *v, uint16_t vlen)
{
    size_t padded = ((size_t)vlen + 3) & ~(size_t)3;

    buf[len] = (uint8_t)(type >> 8);
    buf[len + 1] = (uint8_t)type;
    buf[len + 2] = (uint8_t)(vlen >> 8);
    buf[len + 3] = (uint8_t)vlen;
    memset(buf + len + 4, 0, padded);
    if (vlen)
        memcpy(buf + len + 4, v, vlen);
    len += 4 + padded;
    buf[2] = (uint8_t)((len - 20) >> 8);
    buf[3] = (uint8_t)(len - 20);
    return len;
}

/* RFC 5389 §15.4: attributes after MESSAGE-INTEGRITY (other than FINGERPRINT) are ignored,
 * so an on-path attacker cannot add USE-CANDIDATE or change PRIORITY that way. */
static void test_attribute_after_integrity_ignored(void **state)
{
    static const uint8_t prio[4] = { 0xde, 0xad, 0xbe, 0xef };
    static const uint8_t junk[4] = { 1, 2, 3, 4 };
    uint8_t buf[256];
    stun_msg_t m;
    int n;
    size_t len;
    (void)state;

    n = stun_build_binding_request(buf, sizeof buf, rfc_tid, "a:b", 100, false, 5, false,
                                   KEY, KEY_LEN);
    assert_true(n > 0);
    len = (size_t)n - 8; /* drop FINGERPRINT */
    len = append_attr(buf, len, STUN_ATTR_PRIORITY, prio, 4);
    len = append_attr(buf, len, STUN_ATTR_USE_CANDIDATE, NULL, 0);
    len = append_attr(buf, len, STUN_ATTR_ICE_CONTROLLING, "ABCDEFGH", 8);
    len = append_attr(buf, len, 0x7123, junk, 3); /* unknown required: ignored too */
    assert_int_equal(stun_parse(buf, len, &m), 0);
    assert_int_equal(m.priority, 100);
    assert_false(m.use_candidate);
    assert_false(m.ice_controlling);
    assert_true(m.ice_controlled);
    assert_int_equal(m.n_unknown, 0);
    assert_false(m.has_fingerprint);
    assert_int_equal(stun_check_integrity(buf, len, &m, KEY, KEY_LEN), 0);

    /* a FINGERPRINT after them is still found and checked */
    uint8_t crc_input[4] = { 0 };
    len = append_attr(buf, len, STUN_ATTR_FINGERPRINT, crc_input, 4);
    assert_int_equal(stun_parse(buf, len, &m), 0);
    assert_true(m.has_fingerprint);
    assert_int_equal(m.fingerprint_off, len - 8);
    assert_int_equal(stun_check_fingerprint(buf, len, &m), STUN_ERR_BAD_FINGERPRINT);
    assert_int_equal(stun_check_integrity(buf, len, &m, KEY, KEY_LEN), 0);
}

static void test_fingerprint_must_be_last(void **state)
{
    uint8_t buf[sizeof rfc_req + 8];
    stun_msg_t m;
    (void)state;

    memcpy(buf, rfc_req, sizeof rfc_req);
    size_t len = append_attr(buf, sizeof rfc_req, STUN_ATTR_SOFTWARE, "x", 1);
    assert_int_equal(stun_parse(buf, len, &m), STUN_ERR_FINGERPRINT_NOT_LAST);
}

static void test_first_occurrence_wins(void **state)
{
    uint8_t buf[128];
    stun_msg_t m;
    size_t len;
    (void)state;

    memcpy(buf, rfc_req, 20);
    buf[2] = buf[3] = 0;
    len = append_attr(buf, 20, STUN_ATTR_USERNAME, "one:two", 7);
    len = append_attr(buf, len, STUN_ATTR_USERNAME, "three:four", 10);
    len = append_attr(buf, len, STUN_ATTR_PRIORITY, "\x00\x00\x00\x01", 4);
    len = append_attr(buf, len, STUN_ATTR_PRIORITY, "\x00\x00\x00\x02", 4);
    len = append_attr(buf, len, STUN_ATTR_ICE_CONTROLLING, "\0\0\0\0\0\0\0\x07", 8);
    len = append_attr(buf, len, STUN_ATTR_ICE_CONTROLLED, "\0\0\0\0\0\0\0\x08", 8);
    assert_int_equal(stun_parse(buf, len, &m), 0);
    assert_bytes(m.username, m.username_len, "one:two");
    assert_int_equal(m.priority, 1);
    assert_true(m.ice_controlling && m.ice_controlled); /* both are visible to the caller */
    assert_true(m.tie_breaker == 7);
    assert_int_equal(stun_check_fingerprint(buf, len, &m), STUN_ERR_NO_FINGERPRINT);
    assert_int_equal(stun_check_integrity(buf, len, &m, KEY, KEY_LEN), STUN_ERR_NO_INTEGRITY);
}

static void test_oversized_username(void **state)
{
    static uint8_t buf[20 + 4 + 516];
    static char name[515];
    stun_msg_t m;
    size_t len;
    (void)state;

    memset(name, 'u', sizeof name);
    memcpy(buf, rfc_req, 20);
    len = append_attr(buf, 20, STUN_ATTR_USERNAME, name, 514);
    assert_int_equal(stun_parse(buf, len, &m), STUN_ERR_ATTR_LEN);
    len = append_attr(buf, 20, STUN_ATTR_USERNAME, name, 513);
    assert_int_equal(stun_parse(buf, len, &m), 0);
    name[514] = '\0';
    assert_int_equal(stun_build_binding_request(buf, sizeof buf, rfc_tid, name, 1, true, 1,
                                                false, NULL, 0), STUN_ERR_INVALID);
}

static void test_username_split(void **state)
{
    const uint8_t *l = NULL, *r = NULL;
    size_t ll = 0, rl = 0;
    (void)state;

    assert_int_equal(stun_username_split((const uint8_t *)"ab:cd:ef", 8, &l, &ll, &r, &rl), 0);
    assert_bytes(l, ll, "ab");
    assert_bytes(r, rl, "cd:ef");
    assert_int_equal(stun_username_split((const uint8_t *)"abc:d", 5, &l, &ll, NULL, NULL), 0);
    assert_bytes(l, ll, "abc");
    assert_int_equal(stun_username_split((const uint8_t *)"abcd", 4, &l, &ll, &r, &rl),
                     STUN_ERR_BAD_USERNAME);
    assert_int_equal(stun_username_split((const uint8_t *)":abcd", 5, &l, &ll, &r, &rl),
                     STUN_ERR_BAD_USERNAME);
    assert_int_equal(stun_username_split((const uint8_t *)"abcd:", 5, &l, &ll, &r, &rl),
                     STUN_ERR_BAD_USERNAME);
    assert_int_equal(stun_username_split(NULL, 0, &l, &ll, &r, &rl), STUN_ERR_BAD_USERNAME);
    /* the colon must be inside the given length */
    assert_int_equal(stun_username_split((const uint8_t *)"ab:cd", 2, &l, &ll, &r, &rl),
                     STUN_ERR_BAD_USERNAME);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(stun_strerror(0), "stun_ok");
    assert_string_equal(stun_strerror(STUN_ERR_TRUNCATED), "stun_truncated");
    assert_string_equal(stun_strerror(STUN_ERR_BAD_INTEGRITY), "stun_bad_integrity");
    assert_string_equal(stun_strerror(1), "stun_unknown_error");
    assert_string_equal(stun_strerror(-STUN_ERR_COUNT - 1), "stun_unknown_error");
    for (int e = -1; e >= -STUN_ERR_COUNT; e--) {
        const char *s = stun_strerror(e);

        assert_non_null(s);
        assert_true(strncmp(s, "stun_", 5) == 0);
        for (const char *p = s; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
        for (int f = e - 1; f >= -STUN_ERR_COUNT; f--)
            assert_string_not_equal(s, stun_strerror(f));
    }
}

static void test_empty_key(void **state)
{
    struct sockaddr_storage sa = make_sa("192.0.2.1", 1);
    uint8_t out[64];
    stun_msg_t m;
    int n;
    (void)state;

    n = stun_build_binding_success(out, sizeof out, rfc_tid, (struct sockaddr *)&sa,
                                   (const uint8_t *)"", 0);
    assert_true(n > 0);
    assert_int_equal(stun_parse(out, (size_t)n, &m), 0);
    assert_int_equal(stun_check_integrity(out, (size_t)n, &m, (const uint8_t *)"", 0), 0);
    assert_int_equal(stun_check_integrity(out, (size_t)n, &m, KEY, 1), STUN_ERR_BAD_INTEGRITY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5769_request),
        cmocka_unit_test(test_rfc5769_ipv4_response),
        cmocka_unit_test(test_rfc5769_ipv6_response),
        cmocka_unit_test(test_rfc5769_long_term),
        cmocka_unit_test(test_builder_matches_rfc_xor_address),
        cmocka_unit_test(test_success_round_trip_ipv4),
        cmocka_unit_test(test_success_round_trip_ipv6),
        cmocka_unit_test(test_success_without_key),
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_error_round_trip),
        cmocka_unit_test(test_unknown_attributes),
        cmocka_unit_test(test_builders_respect_capacity),
        cmocka_unit_test(test_tampered_byte_fails_integrity),
        cmocka_unit_test(test_bad_fingerprint),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_bad_attribute_lengths),
        cmocka_unit_test(test_bad_error_code),
        cmocka_unit_test(test_attribute_after_integrity_ignored),
        cmocka_unit_test(test_fingerprint_must_be_last),
        cmocka_unit_test(test_first_occurrence_wins),
        cmocka_unit_test(test_oversized_username),
        cmocka_unit_test(test_username_split),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_empty_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
