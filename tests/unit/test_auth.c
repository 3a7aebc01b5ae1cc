/* Admin and site authentication: password hashing and policy, site secrets, conference PINs
 * (keyed, and the migration that keys the old ones), the session table (expiry, revocation,
 * per-user and table limits), the sign-in limiter and its address keys, and audit entries
 * reaching the log and syslog. Times are passed in, so every expiry is tested to the ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syslog.h>
#include <unistd.h>

#include "mcu/log.h"
#include "rooms/auth.h"
#include "rooms/db.h"
#include "rooms/store.h"

static int setup(void **state)
{
    (void)state;
    auth_set_cost_for_tests(true);
    return auth_init();
}

static void test_hash_and_verify(void **state)
{
    (void)state;
    char h1[AUTH_HASH_MAX], h2[AUTH_HASH_MAX];
    assert_int_equal(auth_password_hash("correct horse 9", h1), 0);
    assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
    assert_true(auth_password_verify(h1, "correct horse 9"));
    assert_false(auth_password_verify(h1, "correct horse 8"));
    assert_false(auth_password_verify(h1, "correct horse 9 "));
    assert_false(auth_password_verify(h1, ""));
    /* A fresh salt each time: equal passwords do not give equal hashes. */
    assert_int_equal(auth_password_hash("correct horse 9", h2), 0);
    assert_string_not_equal(h1, h2);
    assert_true(auth_password_verify(h2, "correct horse 9"));
    assert_false(auth_password_verify("not a hash", "correct horse 9"));
    assert_false(auth_password_verify("", "correct horse 9"));
    assert_false(auth_password_verify(NULL, "correct horse 9"));
    assert_false(auth_password_verify(h1, NULL));
    /* Cheap test hashes are flagged for rehash once the real cost is back. */
    assert_false(auth_password_needs_rehash(h1));
    auth_set_cost_for_tests(false);
    assert_true(auth_password_needs_rehash(h1));
    auth_set_cost_for_tests(true);
}

static void test_hash_refuses_oversized(void **state)
{
    (void)state;
    char big[AUTH_PASSWORD_MAX_BYTES + 2], h[AUTH_HASH_MAX];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(auth_password_hash(big, h), -1);
    assert_string_equal(h, "");
    big[AUTH_PASSWORD_MAX_BYTES] = '\0'; /* exactly the limit is fine */
    assert_int_equal(auth_password_hash(big, h), 0);
    assert_true(auth_password_verify(h, big));
    big[AUTH_PASSWORD_MAX_BYTES] = 'a';
    assert_false(auth_password_verify(h, big));
}

static void expect_policy(const char *pw, int rc, const char *words)
{
    char err[160] = "untouched";
    assert_int_equal(auth_password_policy(pw, err, sizeof err), rc);
    if (rc == 0)
        assert_string_equal(err, "");
    else if (!strstr(err, words))
        fail_msg("policy on \"%s\" said \"%s\", expected \"%s\"", pw ? pw : "(null)", err, words);
}

static void test_policy(void **state)
{
    (void)state;
    expect_policy("correcthorse7", 0, NULL);
    expect_policy("correct horse", 0, NULL);        /* letters and a space */
    expect_policy("2024-05-17!!", 0, NULL);         /* digits and symbols */
    expect_policy("mậtkhẩu2025", 0, NULL);          /* Vietnamese letters and digits */
    expect_policy("short7!", -1, "at least 10 characters");
    expect_policy("abc12345!", -1, "at least 10 characters"); /* 9 */
    expect_policy("abc123456!", 0, NULL);                     /* 10 */
    expect_policy("", -1, "at least 10 characters");
    expect_policy(NULL, -1, "at least 10 characters");
    /* 7 characters in 19 bytes: the rule counts characters, as its sentence says. */
    expect_policy("ầầầ1ộộộ", -1, "at least 10 characters");
    expect_policy("abcdefghijkl", -1, "letters only");
    expect_policy("mậtkhẩuđẹpquá", -1, "letters only");
    expect_policy("0123456789", -1, "digits only");
    expect_policy("!!!!!!!!!!!!", -1, "symbols only");
    expect_policy("          ", -1, "symbols only");
    expect_policy("abcdefghij\xC3\x28" "1", -1, "UTF-8");        /* bad continuation */
    expect_policy("abcdefghij1\xC0\xAF", -1, "UTF-8");           /* overlong '/' */
    expect_policy("abcdefghij1\xE0\x80\xAF", -1, "UTF-8");       /* overlong '/', 3 bytes */
    expect_policy("abcdefghij1\xF0\x80\x80\xAF", -1, "UTF-8");   /* overlong '/', 4 bytes */
    expect_policy("abcdefghij1\xED\xA0\x80", -1, "UTF-8");       /* surrogate */
    expect_policy("abcdefghij1\xF4\x90\x80\x80", -1, "UTF-8");   /* above U+10FFFF */
    expect_policy("abcdefghij1\xE1\x80", -1, "UTF-8");           /* truncated at the end */
    char pw[AUTH_PASSWORD_MAX_BYTES + 2];
    memset(pw, 'x', sizeof pw - 1);
    pw[0] = '1';
    pw[sizeof pw - 1] = '\0';
    expect_policy(pw, -1, "at most 128 bytes");
    pw[AUTH_PASSWORD_MAX_BYTES] = '\0';
    expect_policy(pw, 0, NULL);
    assert_int_equal(auth_password_policy("short", NULL, 0), -1); /* err is optional */
}

static void test_secret_digest(void **state)
{
    (void)state;
    char d[AUTH_DIGEST_HEX];
    auth_secret_digest("abc", d); /* FIPS 180-2 example */
    assert_string_equal(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(auth_secret_matches(d, "abc"));
    assert_false(auth_secret_matches(d, "abd"));
    assert_false(auth_secret_matches(d, "abc "));
    assert_false(auth_secret_matches(d, ""));
    assert_false(auth_secret_matches(d, NULL));
    assert_true(auth_secret_matches("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", "abc"));
    assert_false(auth_secret_matches("ba7816bf", "abc"));
    assert_false(auth_secret_matches("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad00", "abc"));
    assert_false(auth_secret_matches("zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc"));
    assert_false(auth_secret_matches("", "abc"));
    assert_false(auth_secret_matches(NULL, "abc"));
    /* The empty secret has a digest, but it never matches: a failed secret must not sign in. */
    auth_secret_digest("", d);
    assert_false(auth_secret_matches(d, ""));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_random_secret(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 100; n++) {
        char out[4 * ((100 + 2) / 3) + 1];
        auth_random_secret(out, 4 * ((n + 2) / 3) + 1, n);
        assert_int_equal(strlen(out), (4 * n + 2) / 3); /* ceil(4n/3): unpadded */
        for (const char *p = out; *p; p++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p))
                fail_msg("'%c' is not base64url", *p);
    }
    enum { N = 2000 };
    static char all[N][33];
    for (int i = 0; i < N; i++) {
        auth_random_secret(all[i], sizeof all[i], 24);
        assert_int_equal(strlen(all[i]), 32);
    }
    qsort(all, N, sizeof all[0], cmp_str);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(all[i - 1], all[i]);
    /* Both ends of each alphabet range, and '-' and '_', show up in 64,000 random characters. */
    for (const char *c = "AZaz09-_"; *c; c++) {
        bool seen = false;
        for (int i = 0; i < N && !seen; i++)
            seen = strchr(all[i], *c) != NULL;
        assert_true(seen);
    }
    char small[32] = "junk";
    auth_random_secret(small, sizeof small, 24); /* needs 33 */
    assert_string_equal(small, "");
}

static void test_session_create_lookup(void **state)
{
    (void)state;
    struct auth_sessions *s = auth_sessions_new(1000, 10000, 8);
    assert_non_null(s);
    char t1[AUTH_TOKEN_MAX], t2[AUTH_TOKEN_MAX];
    int64_t exp = 0;
    assert_int_equal(auth_session_create(s, 7, 5000, t1, &exp), 0);
    assert_int_equal(exp, 15000);
    assert_int_equal(strlen(t1), 43);
    assert_int_equal(auth_session_create(s, 8, 5000, t2, NULL), 0);
    assert_string_not_equal(t1, t2);
    assert_int_equal(auth_sessions_count(s), 2);
    assert_int_equal(auth_session_lookup(s, t1, 5001), 7);
    assert_int_equal(auth_session_lookup(s, t2, 5001), 8);
    char forged[AUTH_TOKEN_MAX];
    memcpy(forged, t1, sizeof forged);
    forged[0] = forged[0] == 'A' ? 'B' : 'A';
    assert_int_equal(auth_session_lookup(s, forged, 5001), -1);
    forged[42] = '\0';
    assert_int_equal(auth_session_lookup(s, forged, 5001), -1);
    assert_int_equal(auth_session_lookup(s, "", 5001), -1);
    assert_int_equal(auth_session_lookup(s, NULL, 5001), -1);
    assert_int_equal(auth_session_create(s, -1, 5000, forged, NULL), -1);
    assert_string_equal(forged, "");
    assert_int_equal(auth_sessions_count(s), 2);
    auth_sessions_free(s);
    assert_null(auth_sessions_new(0, 1000, 8));
    assert_null(auth_sessions_new(1000, 1000, 0));
}

static void test_session_idle_expiry(void **state)
{
    (void)state;
    struct auth_sessions *s = auth_sessions_new(1000, 10000, 8);
    char t[AUTH_TOKEN_MAX];
    assert_int_equal(auth_session_create(s, 1, 0, t, NULL), 0);
    assert_int_equal(auth_session_lookup(s, t, 999), 1);  /* idle deadline now 1999 */
    assert_int_equal(auth_session_lookup(s, t, 1998), 1); /* now 2998 */
    assert_int_equal(auth_session_lookup(s, t, 2998), -1);
    assert_int_equal(auth_sessions_count(s), 0);          /* forgotten */
    assert_int_equal(auth_session_lookup(s, t, 2000), -1); /* even if the clock steps back */
    auth_sessions_free(s);
}

/* A peek (the server checking an open events socket) is not a use: it never moves the idle
 * deadline, yet it still sees, and forgets, an expired session. */
static void test_session_peek(void **state)
{
    (void)state;
    struct auth_sessions *s = auth_sessions_new(1000, 10000, 8);
    char t[AUTH_TOKEN_MAX];
    assert_int_equal(auth_session_create(s, 7, 0, t, NULL), 0);
    for (int64_t now = 0; now < 1000; now += 100)
        assert_int_equal(auth_session_peek(s, t, now), 7);
    assert_int_equal(auth_session_peek(s, t, 999), 7);
    assert_int_equal(auth_session_peek(s, t, 1000), -1); /* idle since 0, peeks or not */
    assert_int_equal(auth_sessions_count(s), 0);
    assert_int_equal(auth_session_lookup(s, t, 500), -1);
    /* A real use still refreshes, and a peek sees the refreshed deadline. */
    assert_int_equal(auth_session_create(s, 7, 0, t, NULL), 0);
    assert_int_equal(auth_session_lookup(s, t, 900), 7); /* idle deadline now 1900 */
    assert_int_equal(auth_session_peek(s, t, 1899), 7);
    assert_int_equal(auth_session_peek(s, t, 1900), -1);
    assert_int_equal(auth_session_peek(s, "not-a-token", 0), -1);
    auth_sessions_free(s);
}

static void test_session_absolute_expiry(void **state)
{
    (void)state;
    struct auth_sessions *s = auth_sessions_new(1000, 10000, 8);
    char t[AUTH_TOKEN_MAX];
    int64_t exp;
    assert_int_equal(auth_session_create(s, 1, 100, t, &exp), 0);
    assert_int_equal(exp, 10100);
    for (int64_t now = 600; now < 10100; now += 500)
        assert_int_equal(auth_session_lookup(s, t, now), 1);
    assert_int_equal(auth_session_lookup(s, t, 10099), 1);
    assert_int_equal(auth_session_lookup(s, t, 10100), -1); /* in use, yet over */
    assert_int_equal(auth_sessions_count(s), 0);
    auth_sessions_free(s);
}

static void test_session_revoke(void **state)
{
    (void)state;
    struct auth_sessions *s = auth_sessions_new(60000, 600000, 16);
    char a[3][AUTH_TOKEN_MAX], b[2][AUTH_TOKEN_MAX];
    for (int i = 0; i < 3; i++)
        assert_int_equal(auth_session_create(s, 1, 0, a[i], NULL), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(auth_session_create(s, 2, 0, b[i], NULL), 0);
    auth_session_revoke(s, a[1]);
    assert_int_equal(auth_session_lookup(s, a[1], 1), -1);
    assert_int_equal(auth_session_lookup(s, a[0], 1), 1);
    assert_int_equal(auth_sessions_count(s), 4);
    auth_session_revoke(s, a[1]); /* twice, and unknown ones, change nothing */
    auth_session_revoke(s, "nonsense");
    auth_session_revoke(s, NULL);
    assert_int_equal(auth_sessions_count(s), 4);
    auth_sessions_revoke_user(s, 1);
    assert_int_equal(auth_sessions_count(s), 2);
    assert_int_equal(auth_session_lookup(s, a[0], 2), -1);
    assert_int_equal(auth_session_lookup(s, a[2], 2), -1);
    assert_int_equal(auth_session_lookup(s, b[0], 2), 2);
    assert_int_equal(auth_session_lookup(s, b[1], 2), 2);
    auth_sessions_free(s);
}

static void test_session_per_user_cap(void **state)
{
    (void)state;
    struct auth_sessions *s = auth_sessions_new(60000, 600000, 64);
    char t[AUTH_SESSIONS_PER_USER + 2][AUTH_TOKEN_MAX], other[AUTH_TOKEN_MAX];
    assert_int_equal(auth_session_create(s, 9, 0, other, NULL), 0);
    for (int i = 0; i < AUTH_SESSIONS_PER_USER + 2; i++)
        assert_int_equal(auth_session_create(s, 5, i, t[i], NULL), 0);
    assert_int_equal(auth_sessions_count(s), AUTH_SESSIONS_PER_USER + 1);
    /* The user's two oldest went; the other user's session stayed. */
    assert_int_equal(auth_session_lookup(s, t[0], 100), -1);
    assert_int_equal(auth_session_lookup(s, t[1], 100), -1);
    for (int i = 2; i < AUTH_SESSIONS_PER_USER + 2; i++)
        assert_int_equal(auth_session_lookup(s, t[i], 100), 5);
    assert_int_equal(auth_session_lookup(s, other, 100), 9);
    auth_sessions_free(s);
}

static void test_session_full_table(void **state)
{
    (void)state;
    struct auth_sessions *s = auth_sessions_new(1000, 10000, 4);
    char t[6][AUTH_TOKEN_MAX];
    for (int i = 0; i < 4; i++)
        assert_int_equal(auth_session_create(s, i + 1, i * 100, t[i], NULL), 0);
    assert_int_equal(auth_session_create(s, 5, 500, t[4], NULL), -1);
    assert_string_equal(t[4], "");
    assert_int_equal(auth_sessions_count(s), 4);
    /* At 1150 the sessions made at 0 and 100 are idle-expired: purged to make room. */
    assert_int_equal(auth_session_create(s, 5, 1150, t[4], NULL), 0);
    assert_int_equal(auth_sessions_count(s), 3);
    assert_int_equal(auth_session_create(s, 6, 1150, t[5], NULL), 0);
    assert_int_equal(auth_session_lookup(s, t[0], 1150), -1);
    assert_int_equal(auth_session_lookup(s, t[2], 1150), 3);
    assert_int_equal(auth_session_lookup(s, t[3], 1150), 4);
    assert_int_equal(auth_session_lookup(s, t[4], 1150), 5);
    assert_int_equal(auth_session_lookup(s, t[5], 1150), 6);
    auth_sessions_free(s);
}

static void test_session_many(void **state)
{
    (void)state;
    enum { N = 1000 };
    struct auth_sessions *s = auth_sessions_new(60000, 600000, N);
    static char t[N][AUTH_TOKEN_MAX];
    for (int i = 0; i < N; i++)
        assert_int_equal(auth_session_create(s, i, 0, t[i], NULL), 0);
    for (int i = 0; i < N; i += 2)
        auth_session_revoke(s, t[i]);
    for (int i = 0; i < N; i++)
        assert_int_equal(auth_session_lookup(s, t[i], 1), i % 2 ? i : -1);
    assert_int_equal(auth_sessions_count(s), N / 2);
    auth_sessions_free(s);
}

static void test_limiter_burst_and_lockout(void **state)
{
    (void)state;
    struct auth_limiter *l = auth_limiter_new(3, 1000, 8000, 16);
    assert_non_null(l);
    assert_int_equal(auth_limiter_check(l, "user:alice", 0), 0);
    auth_limiter_fail(l, "user:alice", 0);
    auth_limiter_fail(l, "user:alice", 10);
    assert_int_equal(auth_limiter_check(l, "user:alice", 20), 0);
    auth_limiter_fail(l, "user:alice", 20);
    assert_int_equal(auth_limiter_check(l, "user:alice", 20), 1000);
    assert_int_equal(auth_limiter_check(l, "user:alice", 1019), 1);
    assert_int_equal(auth_limiter_check(l, "user:alice", 1020), 0);
    assert_int_equal(auth_limiter_check(l, "addr:127.0.0.1", 20), 0); /* keys are separate */
    assert_int_equal(auth_limiter_check(l, "user:alicE", 20), 0);
    /* Doubling: each further failure after the lockout doubles it, up to 8000. */
    const int64_t want[] = {2000, 4000, 8000, 8000, 8000};
    int64_t now = 1020;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        auth_limiter_fail(l, "user:alice", now);
        assert_int_equal(auth_limiter_check(l, "user:alice", now), want[i]);
        now += want[i];
        assert_int_equal(auth_limiter_check(l, "user:alice", now), 0);
    }
    /* After the lockout plus a quiet window the streak is forgiven. */
    assert_int_equal(auth_limiter_check(l, "user:alice", now + 999), 0);
    auth_limiter_fail(l, "user:alice", now + 999);
    assert_int_equal(auth_limiter_check(l, "user:alice", now + 999), 8000);
    now += 999 + 8000 + 1000;
    auth_limiter_fail(l, "user:alice", now);
    assert_int_equal(auth_limiter_check(l, "user:alice", now), 0);
    auth_limiter_free(l);
    assert_null(auth_limiter_new(0, 1000, 8000, 16));
    assert_null(auth_limiter_new(3, 1000, 500, 16));
}

static void test_limiter_window(void **state)
{
    (void)state;
    struct auth_limiter *l = auth_limiter_new(3, 1000, 8000, 16);
    /* Three failures, but not within one window of the first: no lockout. */
    auth_limiter_fail(l, "addr:10.0.0.1", 0);
    auth_limiter_fail(l, "addr:10.0.0.1", 600);
    auth_limiter_fail(l, "addr:10.0.0.1", 1000);
    assert_int_equal(auth_limiter_check(l, "addr:10.0.0.1", 1000), 0);
    auth_limiter_fail(l, "addr:10.0.0.1", 1500);
    auth_limiter_fail(l, "addr:10.0.0.1", 1999);
    assert_int_equal(auth_limiter_check(l, "addr:10.0.0.1", 1999), 1000);
    auth_limiter_free(l);
}

static void test_limiter_success_resets(void **state)
{
    (void)state;
    struct auth_limiter *l = auth_limiter_new(3, 1000, 8000, 16);
    auth_limiter_fail(l, "user:bob", 0);
    auth_limiter_fail(l, "user:bob", 1);
    auth_limiter_success(l, "user:bob");
    auth_limiter_fail(l, "user:bob", 2);
    auth_limiter_fail(l, "user:bob", 3);
    assert_int_equal(auth_limiter_check(l, "user:bob", 3), 0);
    auth_limiter_fail(l, "user:bob", 4);
    assert_int_equal(auth_limiter_check(l, "user:bob", 4), 1000);
    auth_limiter_success(l, "user:bob");
    assert_int_equal(auth_limiter_check(l, "user:bob", 5), 0);
    auth_limiter_success(l, "user:nobody"); /* unknown key: nothing to do */
    auth_limiter_free(l);
}

static void lock_out(struct auth_limiter *l, const char *key, int64_t now)
{
    for (int i = 0; i < 3; i++)
        auth_limiter_fail(l, key, now);
}

static void test_limiter_lru_bound(void **state)
{
    (void)state;
    struct auth_limiter *l = auth_limiter_new(3, 1000, 8000, 2);
    lock_out(l, "a", 0);
    lock_out(l, "b", 0);
    assert_int_equal(auth_limiter_check(l, "a", 10), 990); /* a is now the most recent */
    auth_limiter_fail(l, "c", 10);                          /* drops b */
    assert_int_equal(auth_limiter_check(l, "b", 10), 0);
    assert_int_equal(auth_limiter_check(l, "a", 10), 990);
    auth_limiter_fail(l, "c", 11);
    auth_limiter_fail(l, "c", 12);
    assert_int_equal(auth_limiter_check(l, "c", 12), 1000); /* c kept its first failure */
    /* Many keys through a small table stay bounded and consistent. */
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "addr:10.0.%d.%d", i / 256, i % 256);
        lock_out(l, key, 20);
        assert_int_equal(auth_limiter_check(l, key, 20), 1000);
    }
    assert_int_equal(auth_limiter_check(l, "a", 20), 0);
    assert_int_equal(auth_limiter_check(l, "addr:10.0.19.135", 20), 1000); /* i = 4999 */
    assert_int_equal(auth_limiter_check(l, "addr:10.0.19.134", 20), 1000);
    assert_int_equal(auth_limiter_check(l, "addr:10.0.19.133", 20), 0);
    auth_limiter_free(l);
}

static void test_password_verify_dummy(void **state)
{
    (void)state;
    /* The unknown-account path: argon2 work against a hash nobody has the password of. */
    assert_false(auth_password_verify_dummy("Quang-Truong-2026"));
    assert_false(auth_password_verify_dummy("")); /* the same hash, made once */
    assert_false(auth_password_verify_dummy(NULL));
    char big[AUTH_PASSWORD_MAX_BYTES + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(auth_password_verify_dummy(big));
    auth_set_cost_for_tests(false); /* the cost changed: the hash is remade at the new one */
    assert_false(auth_password_verify_dummy("Quang-Truong-2026"));
    auth_set_cost_for_tests(true);
    assert_false(auth_password_verify_dummy("Quang-Truong-2026"));
}

static void test_addr_key(void **state)
{
    (void)state;
    char a[64], b[64];
    auth_addr_key("192.0.2.7", a, sizeof a);
    assert_string_equal(a, "addr:192.0.2.7");
    auth_addr_key("::ffff:192.0.2.7", b, sizeof b); /* a dual-stack socket's view of it */
    assert_string_equal(b, "addr:192.0.2.7");
    /* One /64, one key: a subscriber cannot dodge the limit by walking its own prefix. */
    auth_addr_key("2001:db8:1:2::1", a, sizeof a);
    assert_string_equal(a, "addr:2001:db8:1:2::/64");
    auth_addr_key("2001:0db8:0001:0002:ffff:ee:dd:9", b, sizeof b);
    assert_string_equal(a, b);
    auth_addr_key("2001:db8:1:3::1", b, sizeof b);
    assert_string_equal(b, "addr:2001:db8:1:3::/64");
    auth_addr_key("::1", a, sizeof a);
    assert_string_equal(a, "addr:::/64");
    auth_addr_key("not an address", a, sizeof a);
    assert_string_equal(a, "addr:not an address");
    auth_addr_key(NULL, a, sizeof a);
    assert_string_equal(a, "addr:");
}

static void test_pin_keyed(void **state)
{
    (void)state;
    unsigned char k1[AUTH_PIN_KEY_BYTES], k2[AUTH_PIN_KEY_BYTES];
    memset(k1, 1, sizeof k1);
    memset(k2, 2, sizeof k2);
    char d1[AUTH_DIGEST_HEX], d2[AUTH_DIGEST_HEX], keyed[AUTH_DIGEST_HEX], plain[AUTH_DIGEST_HEX];
    auth_pin_digest(k1, "4711", d1);
    auth_pin_digest(k2, "4711", d2);
    auth_secret_digest("4711", plain);
    assert_int_equal(strlen(d1), 64);
    assert_string_not_equal(d1, d2);    /* another server, another digest */
    assert_string_not_equal(d1, plain); /* not the bare hash */
    /* What a join presents (the keyed PIN) matches the stored digest; the bare PIN does not. */
    auth_pin_keyed(k1, "4711", keyed);
    assert_true(auth_secret_matches(d1, keyed));
    assert_false(auth_secret_matches(d1, "4711"));
    auth_pin_keyed(k1, "4712", keyed);
    assert_false(auth_secret_matches(d1, keyed));
    auth_pin_keyed(k2, "4711", keyed);
    assert_false(auth_secret_matches(d1, keyed));
    /* An old digest (plain SHA-256) keyed without the PIN equals the PIN keyed directly. */
    char re[AUTH_DIGEST_HEX];
    assert_int_equal(auth_pin_rekey(k1, plain, re), 0);
    assert_string_equal(re, d1);
    assert_int_equal(auth_pin_rekey(k1, "abc", re), -1);
    assert_string_equal(re, "");
    assert_int_equal(auth_pin_rekey(k1, NULL, re), -1);
    plain[5] = 'z';
    assert_int_equal(auth_pin_rekey(k1, plain, re), -1);
}

static int exec_sql(struct db *db, const char *sql)
{
    return sqlite3_exec(db->h, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Migration 6 makes the PIN key and keys the PINs stored before it. The database is rolled
 * back to schema 5 by hand (PIN as plain SHA-256, no key), then opened again. */
static void test_pin_migration(void **state)
{
    (void)state;
    char path[] = "/tmp/test_auth_db_XXXXXX", file[64], sql[512], old[AUTH_DIGEST_HEX];
    assert_non_null(mkdtemp(path));
    snprintf(file, sizeof file, "%s/mcu.db", path);
    struct db db;
    char err[200];
    unsigned char key[AUTH_PIN_KEY_BYTES], key2[AUTH_PIN_KEY_BYTES];
    assert_int_equal(db_open(&db, file, err, sizeof err), 0);
    assert_int_equal(store_pin_key(&db, key), STORE_OK);
    auth_secret_digest("4711", old);
    snprintf(sql, sizeof sql,
             "INSERT INTO units(id, level, name) VALUES ('89', 1, 'An Giang');"
             "INSERT INTO conferences(host_unit, title, invite, pin_digest, created_at) VALUES "
             "('89', 'with PIN', '{}', '%s', 1), ('89', 'no PIN', '{}', NULL, 1), ('89', 'odd', '{}', 'xyz', 1);"
             "DROP TABLE server_secrets; PRAGMA user_version = 5;", old);
    assert_int_equal(exec_sql(&db, sql), 0);
    db_close(&db);

    assert_int_equal(db_open(&db, file, err, sizeof err), 0);
    assert_int_equal(db.schema_version, db_schema_latest());
    assert_int_equal(store_pin_key(&db, key2), STORE_OK);
    assert_memory_not_equal(key, key2, sizeof key); /* a fresh random key */
    struct store_conf c;
    char want[AUTH_DIGEST_HEX], keyed[AUTH_DIGEST_HEX];
    auth_pin_digest(key2, "4711", want);
    assert_int_equal(store_conf_get(&db, 1, &c), 0);
    assert_string_equal(c.pin_digest, want);
    auth_pin_keyed(key2, "4711", keyed);
    assert_true(auth_secret_matches(c.pin_digest, keyed));
    assert_int_equal(store_conf_get(&db, 2, &c), 0);
    assert_string_equal(c.pin_digest, ""); /* no PIN stays no PIN */
    assert_int_equal(store_conf_get(&db, 3, &c), 0);
    assert_string_equal(c.pin_digest, "xyz"); /* matched nothing, still matches nothing */
    db_close(&db);
    snprintf(sql, sizeof sql, "rm -rf %s", path);
    assert_int_equal(system(sql), 0);
}

/* What the syslog hook received. */
static struct {
    int n, prio;
    char line[1200];
} syslogged;

static void syslog_hook(int prio, const char *line)
{
    syslogged.n++;
    syslogged.prio = prio;
    snprintf(syslogged.line, sizeof syslogged.line, "%s", line);
}

/* Runs store_audit with stderr sent to a file; returns what was written there. */
static void audit_to(struct db *db, const char *actor, const char *target, const char *address,
                     const char *result, const char *detail, char *out, size_t outlen)
{
    char tmp[] = "/tmp/test_auth_log_XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    unlink(tmp);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    assert_int_equal(store_audit(db, actor, "auth.login", target, address, result, detail, "89"), 0);
    dup2(saved, STDERR_FILENO);
    close(saved);
    ssize_t n = pread(fd, out, outlen - 1, 0);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
}

/* Every audit entry is a log line even at log_level=warn, and goes to syslog's authpriv
 * facility; a value cannot break the line or forge a field. */
static void test_audit_reaches_log(void **state)
{
    (void)state;
    struct db db;
    char err[200], out[2048];
    assert_int_equal(db_open(&db, ":memory:", err, sizeof err), 0);
    log_set_syslog_hook(syslog_hook);
    log_init(LOG_LVL_WARN, true);

    audit_to(&db, "-", "mallory", "192.0.2.7", "denied", "", out, sizeof out);
    assert_non_null(strstr(out, " audit audit     actor=- action=auth.login target=mallory "
                                "address=192.0.2.7 result=denied\n"));
    assert_int_equal(syslogged.n, 1);
    assert_int_equal(syslogged.prio, LOG_AUTHPRIV | LOG_NOTICE);
    assert_string_equal(syslogged.line, "audit: actor=- action=auth.login target=mallory address=192.0.2.7 "
                                        "result=denied");

    /* A user name with a newline and a fake field stays inside its quotes, on one line. */
    audit_to(&db, "admin", "eve\nx result=ok", "", "ok", "Hội nghị \"A\"", out, sizeof out);
    assert_non_null(strstr(out, "actor=admin action=auth.login target=\"eve\\x0ax result=ok\" address=\"\" "
                                "result=ok detail=\"Hội nghị \\\"A\\\"\"\n"));
    assert_int_equal((int)(strchr(out, '\n') - out), (int)strlen(out) - 1); /* one line */
    assert_int_equal(syslogged.n, 2);

    /* Nothing else reaches the log at warn. */
    audit_to(&db, "admin", "x", "", "ok", "", out, sizeof out);
    log_info("test", "an info line");
    assert_int_equal(syslogged.n, 3);

    /* The entries are in the database too. */
    json_t *rows = store_audit_json(&db, "", 10, 0);
    assert_int_equal(json_array_size(rows), 3);
    json_decref(rows);
    log_close();
    log_set_syslog_hook(NULL);
    db_close(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_and_verify),
        cmocka_unit_test(test_hash_refuses_oversized),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_secret_digest),
        cmocka_unit_test(test_random_secret),
        cmocka_unit_test(test_session_create_lookup),
        cmocka_unit_test(test_session_idle_expiry),
        cmocka_unit_test(test_session_peek),
        cmocka_unit_test(test_session_absolute_expiry),
        cmocka_unit_test(test_session_revoke),
        cmocka_unit_test(test_session_per_user_cap),
        cmocka_unit_test(test_session_full_table),
        cmocka_unit_test(test_session_many),
        cmocka_unit_test(test_limiter_burst_and_lockout),
        cmocka_unit_test(test_limiter_window),
        cmocka_unit_test(test_limiter_success_resets),
        cmocka_unit_test(test_limiter_lru_bound),
        cmocka_unit_test(test_password_verify_dummy),
        cmocka_unit_test(test_addr_key),
        cmocka_unit_test(test_pin_keyed),
        cmocka_unit_test(test_pin_migration),
        cmocka_unit_test(test_audit_reaches_log),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
