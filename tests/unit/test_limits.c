/* The signaling limits that need no socket: JSON nesting (jsonlimit), endpoint messages
 * checked before dispatch (wsmsg), and open connections counted per address or IPv6 /64
 * (connlimit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/connlimit.h"
#include "signaling/jsonlimit.h"
#include "signaling/wsmsg.h"

static char *nested(int depth, char open, char close)
{
    char *s = malloc((size_t)depth * 2 + 1);
    memset(s, open, (size_t)depth);
    memset(s + depth, close, (size_t)depth);
    s[depth * 2] = 0;
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    const char *ok = "{\"a\":[1,{\"b\":[]}],\"c\":\"[[[[[[[[[[\"}";
    assert_int_equal(jsonlimit_depth(ok, strlen(ok), 4), 0);
    assert_int_equal(jsonlimit_depth(ok, strlen(ok), 3), -1);
    /* brackets inside strings, also after an escaped quote, do not count */
    const char *esc = "[\"\\\"[[[[\"]";
    assert_int_equal(jsonlimit_depth(esc, strlen(esc), 1), 0);
    char *deep = nested(10000, '[', ']');
    assert_int_equal(jsonlimit_depth(deep, strlen(deep), JSONLIMIT_DEPTH), -1);
    assert_int_equal(jsonlimit_depth(deep, JSONLIMIT_DEPTH, JSONLIMIT_DEPTH), 0); /* 32 open: allowed */
    assert_int_equal(jsonlimit_depth(deep, JSONLIMIT_DEPTH + 1, JSONLIMIT_DEPTH), -1);
    free(deep);
    /* unbalanced closers do not let later openers through */
    const char *odd = "]]]]]]]][[[";
    assert_int_equal(jsonlimit_depth(odd, strlen(odd), 2), -1);
    assert_int_equal(jsonlimit_depth("", 0, 0), 0);
}

static void test_wsmsg(void **state)
{
    (void)state;
    struct wsmsg_error e;
    const char *ping = "{\"type\":\"ping\",\"id\":[1]}";
    json_t *j = wsmsg_parse(ping, strlen(ping), &e);
    assert_non_null(j);
    assert_null(e.code);
    json_decref(j);

    assert_null(wsmsg_parse("{not json", 9, &e));
    assert_string_equal(e.code, "bad_json");
    assert_null(wsmsg_parse("[1,2]", 5, &e));
    assert_string_equal(e.code, "bad_json");
    assert_null(wsmsg_parse("{\"type\":\"a\",\"type\":\"b\"}", 23, &e)); /* duplicate keys */
    assert_string_equal(e.code, "bad_json");
    const char *bad_utf8 = "{\"type\":\"ping\",\"x\":\"\xff\xfe\"}";
    assert_null(wsmsg_parse(bad_utf8, strlen(bad_utf8), &e));
    assert_string_equal(e.code, "bad_json");

    j = wsmsg_parse("{\"id\":5}", 8, &e); /* no type: the object comes back for its id */
    assert_non_null(j);
    assert_string_equal(e.code, "bad_request");
    json_decref(j);

    char *deep = nested(10000, '[', ']');
    assert_null(wsmsg_parse(deep, strlen(deep), &e));
    assert_string_equal(e.code, "bad_json");
    assert_non_null(strstr(e.message, "nested"));
    free(deep);

    /* per-type length: a ping is small, a join may carry an SDP offer */
    size_t n = 8000;
    char *big = malloc(n + 64);
    int k = snprintf(big, n + 64, "{\"type\":\"ping\",\"id\":7,\"pad\":\"");
    memset(big + k, 'x', n);
    strcpy(big + k + n, "\"}");
    j = wsmsg_parse(big, strlen(big), &e);
    assert_non_null(j);
    assert_string_equal(e.code, "too_large");
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 7);
    json_decref(j);
    memcpy(big + 9, "join", 4); /* {"type":"join",...: same length, now within its limit */
    j = wsmsg_parse(big, strlen(big), &e);
    assert_non_null(j);
    assert_null(e.code);
    json_decref(j);
    free(big);
    assert_int_equal(wsmsg_max_len("join"), 64 * 1024);
    assert_int_equal(wsmsg_max_len("nonsense"), WSMSG_SMALL_MAX);

    assert_int_equal(wsmsg_precheck("{\"type\":\"watch\"}", 16, 10, &e), -1);
    assert_string_equal(e.code, "too_large");
    assert_int_equal(wsmsg_precheck("{\"type\":\"watch\"}", 16, 100, &e), 0);
    assert_null(e.code);
}

static void test_connlimit_counts(void **state)
{
    (void)state;
    struct connlimit *cl = connlimit_new(2, "127.0.0.1, ::1", 50, 200);
    assert_non_null(cl);
    int owner[4];
    struct connlimit_conn *a = connlimit_open(cl, "10.0.0.1", &owner[0]);
    struct connlimit_conn *b = connlimit_open(cl, "10.0.0.1", &owner[1]);
    struct connlimit_conn *c = connlimit_open(cl, "10.0.0.1", &owner[2]);
    struct connlimit_conn *other = connlimit_open(cl, "10.0.0.2", &owner[3]);
    assert_false(a->over);
    assert_false(b->over);
    assert_true(c->over);
    assert_false(other->over);
    assert_ptr_equal(c->owner, &owner[2]);
    assert_int_equal(connlimit_count(cl, "10.0.0.1"), 3);
    connlimit_close(cl, c);
    connlimit_close(cl, b);
    struct connlimit_conn *d = connlimit_open(cl, "10.0.0.1", NULL); /* room again */
    assert_false(d->over);
    connlimit_close(cl, a);
    connlimit_close(cl, d);
    assert_int_equal(connlimit_count(cl, "10.0.0.1"), 0);
    connlimit_close(cl, other);

    /* exempt addresses are never counted, however many connect */
    struct connlimit_conn *loop[5];
    for (int i = 0; i < 5; i++) {
        loop[i] = connlimit_open(cl, "::1", NULL);
        assert_false(loop[i]->over);
    }
    assert_int_equal(connlimit_count(cl, "::1"), 0);
    for (int i = 0; i < 5; i++)
        connlimit_close(cl, loop[i]);
    connlimit_close(cl, NULL);
    connlimit_free(cl);
}

/* IPv6 peers count per /64 (a subscriber's usual block); IPv4 per address; exemption stays
 * per address. */
static void test_connlimit_ipv6_prefix(void **state)
{
    (void)state;
    struct connlimit *cl = connlimit_new(2, "::1", 50, 200);
    assert_non_null(cl);
    struct connlimit_conn *a = connlimit_open(cl, "2001:db8:1:2::1", NULL);
    struct connlimit_conn *b = connlimit_open(cl, "2001:db8:1:2:aaaa::7", NULL);
    struct connlimit_conn *c = connlimit_open(cl, "2001:db8:1:2:ffff:ffff:ffff:ffff", NULL);
    struct connlimit_conn *other = connlimit_open(cl, "2001:db8:1:3::1", NULL); /* the next /64 */
    assert_false(a->over);
    assert_false(b->over);
    assert_true(c->over);
    assert_false(other->over);
    assert_int_equal(connlimit_count(cl, "2001:db8:1:2::1234"), 3); /* any address of the /64 */
    assert_int_equal(connlimit_count(cl, "2001:DB8:1:2:0:0:0:9"), 3);
    assert_int_equal(connlimit_count(cl, "2001:db8:1:3::99"), 1);
    assert_int_equal(connlimit_count(cl, "2001:db8:1::1"), 0);
    connlimit_close(cl, c);
    connlimit_close(cl, b);
    connlimit_close(cl, a);
    connlimit_close(cl, other);
    assert_int_equal(connlimit_count(cl, "2001:db8:1:2::1"), 0);

    /* IPv4 addresses next to each other are still counted apart */
    struct connlimit_conn *v4[3];
    for (int i = 0; i < 3; i++)
        v4[i] = connlimit_open(cl, "192.0.2.1", NULL);
    struct connlimit_conn *v4b = connlimit_open(cl, "192.0.2.2", NULL);
    assert_true(v4[2]->over);
    assert_false(v4b->over);
    assert_int_equal(connlimit_count(cl, "192.0.2.1"), 3);
    assert_int_equal(connlimit_count(cl, "192.0.2.2"), 1);
    assert_int_equal(connlimit_count(cl, "::ffff:192.0.2.1"), 3); /* the mapped form is the same peer */
    for (int i = 0; i < 3; i++)
        connlimit_close(cl, v4[i]);
    connlimit_close(cl, v4b);

    /* the exempt ::1 is not counted, ::2 in the same /64 is */
    struct connlimit_conn *lo[3], *lo2 = connlimit_open(cl, "::2", NULL);
    for (int i = 0; i < 3; i++) {
        lo[i] = connlimit_open(cl, "::1", NULL);
        assert_false(lo[i]->over);
    }
    assert_int_equal(connlimit_count(cl, "::1"), 0);
    assert_int_equal(connlimit_count(cl, "::2"), 1);
    for (int i = 0; i < 3; i++)
        connlimit_close(cl, lo[i]);
    connlimit_close(cl, lo2);
    connlimit_free(cl);
}

static void test_connlimit_config(void **state)
{
    (void)state;
    assert_null(connlimit_new(1, "127.0.0.1,localhost", 50, 200)); /* names are not addresses */
    assert_null(connlimit_new(-1, NULL, 50, 200));
    assert_null(connlimit_new(1, NULL, 0, 200));
    struct connlimit *cl = connlimit_new(0, "none", 50, 200); /* no limit, nothing exempt */
    assert_non_null(cl);
    struct connlimit_conn *cc[100];
    for (int i = 0; i < 100; i++) {
        cc[i] = connlimit_open(cl, "127.0.0.1", NULL);
        assert_false(cc[i]->over);
    }
    assert_int_equal(connlimit_count(cl, "127.0.0.1"), 100);
    for (int i = 0; i < 100; i++)
        connlimit_close(cl, cc[i]);
    connlimit_free(cl);
    cl = connlimit_new(1, "none", 50, 200);
    assert_non_null(cl);
    connlimit_free(cl);
    cl = connlimit_new(1, "0:0:0:0:0:0:0:1", 50, 200); /* exempt entries are compared in canonical form */
    struct connlimit_conn *x = connlimit_open(cl, "::1", NULL), *y = connlimit_open(cl, "::1", NULL);
    assert_false(y->over);
    connlimit_close(cl, x);
    connlimit_close(cl, y);
    connlimit_free(cl);
}

static void test_request_rate(void **state)
{
    (void)state;
    struct connlimit *cl = connlimit_new(0, NULL, 10, 5); /* 10 a second, 5 at once */
    struct connlimit_conn *cc = connlimit_open(cl, "10.0.0.1", NULL);
    int64_t t = 1000;
    for (int i = 0; i < 5; i++)
        assert_true(connlimit_take(cl, cc, t));
    assert_false(connlimit_take(cl, cc, t));
    assert_false(connlimit_take(cl, cc, t + 50)); /* half a token back */
    assert_true(connlimit_take(cl, cc, t + 100));
    assert_false(connlimit_take(cl, cc, t + 100));
    int ok = 0;
    for (int i = 0; i < 20; i++) /* a long pause refills only up to the burst */
        ok += connlimit_take(cl, cc, t + 60000);
    assert_int_equal(ok, 5);
    struct connlimit_conn *other = connlimit_open(cl, "10.0.0.1", NULL); /* budgets are per connection */
    assert_true(connlimit_take(cl, other, t + 60000));
    connlimit_close(cl, cc);
    connlimit_close(cl, other);
    connlimit_free(cl);
}

static void test_addr_text(void **state)
{
    (void)state;
    char out[CONNLIMIT_ADDR_MAX];
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof s6);
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
    assert_int_equal(connlimit_addr_text((struct sockaddr *)&s6, out), 0);
    assert_string_equal(out, "192.0.2.7"); /* one key for a v4 peer, dual-stack socket or not */
    inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
    assert_int_equal(connlimit_addr_text((struct sockaddr *)&s6, out), 0);
    assert_string_equal(out, "2001:db8::1");
    struct sockaddr sa = {.sa_family = AF_UNIX};
    assert_int_equal(connlimit_addr_text(&sa, out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_wsmsg),
        cmocka_unit_test(test_connlimit_counts),
        cmocka_unit_test(test_connlimit_ipv6_prefix),
        cmocka_unit_test(test_connlimit_config),
        cmocka_unit_test(test_request_rate),
        cmocka_unit_test(test_addr_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
