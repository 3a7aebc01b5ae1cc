/* Admin and site authentication for the signaling thread (see auth.h). The two tables here,
 * sessions and limiter keys, are fixed arrays allocated once, chained into hash buckets by
 * index, so a sign-in never allocates and memory stays bounded however many clients try. */
#include "rooms/auth.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(AUTH_HASH_MAX == crypto_pwhash_STRBYTES, "AUTH_HASH_MAX must match libsodium");
_Static_assert(AUTH_DIGEST_HEX == 2 * crypto_hash_sha256_BYTES + 1, "AUTH_DIGEST_HEX");

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define TOKEN_BYTES 32
#define TOKEN_CHARS (AUTH_TOKEN_MAX - 1)
#define MAX_TABLE (1 << 24)

static bool cheap_cost; /* set by tests only: minimum argon2 limits */

int auth_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void auth_set_cost_for_tests(bool cheap)
{
    cheap_cost = cheap;
}

static unsigned long long ops_limit(void)
{
    return cheap_cost ? crypto_pwhash_argon2id_OPSLIMIT_MIN : crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
}

static size_t mem_limit(void)
{
    return cheap_cost ? crypto_pwhash_argon2id_MEMLIMIT_MIN : crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
}

static bool password_too_long(const char *password)
{
    return strnlen(password, AUTH_PASSWORD_MAX_BYTES + 1) > AUTH_PASSWORD_MAX_BYTES;
}

int auth_password_hash(const char *password, char out[AUTH_HASH_MAX])
{
    out[0] = '\0';
    if (!password || password_too_long(password))
        return -1;
    if (crypto_pwhash_str_alg(out, password, strlen(password), ops_limit(), mem_limit(),
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

bool auth_password_verify(const char *encoded, const char *password)
{
    if (!encoded || !password || password_too_long(password) ||
        strnlen(encoded, AUTH_HASH_MAX) >= AUTH_HASH_MAX)
        return false;
    return crypto_pwhash_str_verify(encoded, password, strlen(password)) == 0;
}

bool auth_password_verify_dummy(const char *password)
{
    static char dummy[AUTH_HASH_MAX]; /* the signaling thread only; remade if the cost changes */
    if (!dummy[0] || auth_password_needs_rehash(dummy)) {
        char random[40];
        auth_random_secret(random, sizeof random, 24);
        if (auth_password_hash(random, dummy) < 0)
            return false;
    }
    (void)auth_password_verify(dummy, password); /* a random password nobody knows: false */
    return false;
}

bool auth_password_needs_rehash(const char *encoded)
{
    if (!encoded || strnlen(encoded, AUTH_HASH_MAX) >= AUTH_HASH_MAX)
        return true;
    return crypto_pwhash_str_needs_rehash(encoded, ops_limit(), mem_limit()) != 0;
}

/* Decodes one UTF-8 sequence of the NUL-terminated s: its length with *cp set, or 0 if it is
 * truncated, overlong, a surrogate or above U+10FFFF. A NUL fails the continuation test, so
 * this never reads past the terminator. */
static int utf8_next(const unsigned char *s, uint32_t *cp)
{
    uint32_t v, min;
    int n;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        n = 2, v = s[0] & 0x1F, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3, v = s[0] & 0x0F, min = 0x800;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        n = 4, v = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

enum { CLASS_LETTER = 1, CLASS_DIGIT = 2, CLASS_SYMBOL = 4 };

/* Anything beyond ASCII counts as a letter: in practice it is accented Latin (Vietnamese) or
 * another script, and an all-"ậ" password is as weak as an all-"a" one. */
static unsigned char_class(uint32_t cp)
{
    if (cp >= '0' && cp <= '9')
        return CLASS_DIGIT;
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp >= 0x80)
        return CLASS_LETTER;
    return CLASS_SYMBOL;
}

/* The first rule the password breaks, as a sentence for the user, or NULL. */
static const char *policy_problem(const char *password)
{
    if (!password)
        return "the password must have at least 10 characters";
    if (password_too_long(password))
        return "the password must be at most 128 bytes long";
    int chars = 0;
    unsigned classes = 0;
    for (const unsigned char *p = (const unsigned char *)password; *p; chars++) {
        uint32_t cp;
        int n = utf8_next(p, &cp);
        if (n == 0)
            return "the password is not valid UTF-8 text";
        classes |= char_class(cp);
        p += n;
    }
    if (chars < AUTH_PASSWORD_MIN_CHARS)
        return "the password must have at least 10 characters";
    if (classes == CLASS_LETTER)
        return "the password must not be letters only: add a digit or a symbol";
    if (classes == CLASS_DIGIT)
        return "the password must not be digits only: add a letter or a symbol";
    if (classes == CLASS_SYMBOL)
        return "the password must not be symbols only: add a letter or a digit";
    return NULL;
}

int auth_password_policy(const char *password, char *err, size_t errlen)
{
    const char *why = policy_problem(password);
    if (err && errlen > 0)
        snprintf(err, errlen, "%s", why ? why : "");
    return why ? -1 : 0;
}

void auth_random_secret(char *out, size_t outlen, size_t nbytes)
{
    if (!out || outlen == 0)
        return;
    out[0] = '\0';
    if (nbytes >= outlen || outlen < sodium_base64_ENCODED_LEN(nbytes, B64))
        return;
    /* Chunks of a multiple of 3 bytes encode to whole base64 groups, so they concatenate. */
    unsigned char buf[48];
    size_t pos = 0;
    while (nbytes > 0) {
        size_t k = nbytes < sizeof buf ? nbytes : sizeof buf;
        randombytes_buf(buf, k);
        sodium_bin2base64(out + pos, outlen - pos, buf, k, B64);
        pos += strlen(out + pos);
        nbytes -= k;
    }
    sodium_memzero(buf, sizeof buf);
}

void auth_random_bytes(void *buf, size_t n)
{
    randombytes_buf(buf, n);
}

static void sha256(const char *s, unsigned char d[crypto_hash_sha256_BYTES])
{
    crypto_hash_sha256(d, (const unsigned char *)s, strlen(s));
}

void auth_secret_digest(const char *secret, char out[AUTH_DIGEST_HEX])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    sha256(secret ? secret : "", d);
    sodium_bin2hex(out, AUTH_DIGEST_HEX, d, sizeof d);
}

bool auth_secret_matches(const char *digest_hex, const char *secret)
{
    unsigned char want[crypto_hash_sha256_BYTES], got[crypto_hash_sha256_BYTES];
    size_t len = 0;
    if (!digest_hex || !secret || !secret[0])
        return false;
    size_t hexlen = strnlen(digest_hex, AUTH_DIGEST_HEX);
    if (hexlen != AUTH_DIGEST_HEX - 1 ||
        sodium_hex2bin(want, sizeof want, digest_hex, hexlen, NULL, &len, NULL) != 0 || len != sizeof want)
        return false;
    sha256(secret, got);
    return sodium_memcmp(want, got, sizeof want) == 0;
}

_Static_assert(AUTH_PIN_KEY_BYTES == crypto_auth_hmacsha256_KEYBYTES, "AUTH_PIN_KEY_BYTES");

/* HMAC-SHA256(key, the 32 bytes of a PIN's SHA-256), in hex. */
static void pin_hmac(const unsigned char *key, const unsigned char d[crypto_hash_sha256_BYTES],
                     char out[AUTH_DIGEST_HEX])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, AUTH_PIN_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, d, crypto_hash_sha256_BYTES);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, AUTH_DIGEST_HEX, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}

void auth_pin_keyed(const unsigned char key[AUTH_PIN_KEY_BYTES], const char *pin, char out[AUTH_DIGEST_HEX])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    sha256(pin ? pin : "", d);
    pin_hmac(key, d, out);
}

void auth_pin_digest(const unsigned char key[AUTH_PIN_KEY_BYTES], const char *pin, char out[AUTH_DIGEST_HEX])
{
    char keyed[AUTH_DIGEST_HEX];
    auth_pin_keyed(key, pin, keyed);
    auth_secret_digest(keyed, out);
}

int auth_pin_rekey(const unsigned char key[AUTH_PIN_KEY_BYTES], const char *old_hex, char out[AUTH_DIGEST_HEX])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    size_t len = 0;
    char keyed[AUTH_DIGEST_HEX];
    out[0] = '\0';
    if (!old_hex || strnlen(old_hex, AUTH_DIGEST_HEX) != AUTH_DIGEST_HEX - 1 ||
        sodium_hex2bin(d, sizeof d, old_hex, AUTH_DIGEST_HEX - 1, NULL, &len, NULL) != 0 || len != sizeof d)
        return -1;
    pin_hmac(key, d, keyed);
    auth_secret_digest(keyed, out);
    return 0;
}

void auth_addr_key(const char *addr, char *out, size_t outlen)
{
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    if (!addr || inet_pton(AF_INET6, addr, a) != 1) { /* IPv4, or not an address: as it is */
        snprintf(out, outlen, "addr:%s", addr ? addr : "");
        return;
    }
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(a, v4mapped, sizeof v4mapped)) {
        inet_ntop(AF_INET, a + 12, text, sizeof text);
        snprintf(out, outlen, "addr:%s", text);
        return;
    }
    memset(a + 8, 0, 8);
    inet_ntop(AF_INET6, a, text, sizeof text);
    snprintf(out, outlen, "addr:%s/64", text);
}

/* The smallest power of two >= n (n <= MAX_TABLE), used as a bucket count. */
static unsigned pow2_at_least(int n)
{
    unsigned b = 1;
    while (b < (unsigned)n)
        b <<= 1;
    return b;
}

/* Bucket of a uniformly random digest: its first bytes are as good a hash as any. */
static unsigned bucket_of(const unsigned char *digest, unsigned mask)
{
    uint32_t h;
    memcpy(&h, digest, sizeof h);
    return h & mask;
}

/* ---- Admin sessions ---- */

struct session {
    unsigned char digest[crypto_hash_sha256_BYTES]; /* SHA-256 of the token; never the token */
    int64_t user_id;                                /* -1 while the slot is free */
    uint64_t seq;                                   /* creation order, to find a user's oldest */
    int64_t idle_deadline_ms;                       /* expired at this instant unless used before */
    int64_t absolute_deadline_ms;                   /* expired at this instant whatever happens */
    int next;                                       /* next in the bucket chain or free list, -1 ends */
};

struct auth_sessions {
    int64_t idle_ms, absolute_ms; /* lifetimes given to new sessions */
    int max, count;               /* slots, and slots in use */
    uint64_t next_seq;            /* seq of the next session created */
    int free_head;                /* first free slot, -1 when full */
    unsigned mask;                /* bucket count - 1 */
    int *buckets;                 /* head slot of each chain, -1 if empty */
    struct session *slots;        /* max entries, owned */
};

struct auth_sessions *auth_sessions_new(int64_t idle_ms, int64_t absolute_ms, int max_sessions)
{
    if (idle_ms <= 0 || absolute_ms <= 0 || max_sessions <= 0 || max_sessions > MAX_TABLE)
        return NULL;
    struct auth_sessions *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    unsigned nb = pow2_at_least(max_sessions);
    s->slots = calloc((size_t)max_sessions, sizeof *s->slots);
    s->buckets = malloc(nb * sizeof *s->buckets);
    if (!s->slots || !s->buckets) {
        auth_sessions_free(s);
        return NULL;
    }
    s->idle_ms = idle_ms;
    s->absolute_ms = absolute_ms;
    s->max = max_sessions;
    s->free_head = 0;
    s->mask = nb - 1;
    memset(s->buckets, 0xff, nb * sizeof *s->buckets);
    for (int i = 0; i < max_sessions; i++) {
        s->slots[i].user_id = -1;
        s->slots[i].next = i + 1 < max_sessions ? i + 1 : -1;
    }
    return s;
}

void auth_sessions_free(struct auth_sessions *s)
{
    if (!s)
        return;
    if (s->slots)
        sodium_memzero(s->slots, (size_t)s->max * sizeof *s->slots);
    free(s->slots);
    free(s->buckets);
    free(s);
}

/* The link (bucket head or a chain's next field) that points at the session with this digest,
 * or NULL. Returning the link lets the caller unlink without walking the chain again. */
static int *session_find(struct auth_sessions *s, const unsigned char *digest)
{
    int *link = &s->buckets[bucket_of(digest, s->mask)];
    while (*link >= 0 && sodium_memcmp(s->slots[*link].digest, digest, crypto_hash_sha256_BYTES) != 0)
        link = &s->slots[*link].next;
    return *link >= 0 ? link : NULL;
}

static int *session_link(struct auth_sessions *s, int i)
{
    int *link = &s->buckets[bucket_of(s->slots[i].digest, s->mask)];
    while (*link != i)
        link = &s->slots[*link].next;
    return link;
}

static void session_remove(struct auth_sessions *s, int *link)
{
    int i = *link;
    struct session *e = &s->slots[i];
    *link = e->next;
    sodium_memzero(e, sizeof *e);
    e->user_id = -1;
    e->next = s->free_head;
    s->free_head = i;
    s->count--;
}

static bool session_expired(const struct session *e, int64_t now_ms)
{
    return now_ms >= e->idle_deadline_ms || now_ms >= e->absolute_deadline_ms;
}

static void purge_expired(struct auth_sessions *s, int64_t now_ms)
{
    for (int i = 0; i < s->max; i++)
        if (s->slots[i].user_id >= 0 && session_expired(&s->slots[i], now_ms))
            session_remove(s, session_link(s, i));
}

/* Makes room for one more session of this user by dropping its oldest if it has the most. */
static void limit_user(struct auth_sessions *s, int64_t user_id)
{
    int n = 0, oldest = -1;
    for (int i = 0; i < s->max; i++) {
        if (s->slots[i].user_id != user_id)
            continue;
        n++;
        if (oldest < 0 || s->slots[i].seq < s->slots[oldest].seq)
            oldest = i;
    }
    if (n >= AUTH_SESSIONS_PER_USER)
        session_remove(s, session_link(s, oldest));
}

int auth_session_create(struct auth_sessions *s, int64_t user_id, int64_t now_ms, char *token_out,
                        int64_t *expires_at_ms)
{
    token_out[0] = '\0';
    if (user_id < 0)
        return -1;
    limit_user(s, user_id);
    if (s->free_head < 0)
        purge_expired(s, now_ms);
    if (s->free_head < 0)
        return -1;
    unsigned char raw[TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token_out, AUTH_TOKEN_MAX, raw, sizeof raw, B64);
    sodium_memzero(raw, sizeof raw);

    int i = s->free_head;
    struct session *e = &s->slots[i];
    s->free_head = e->next;
    sha256(token_out, e->digest);
    e->user_id = user_id;
    e->seq = s->next_seq++;
    e->idle_deadline_ms = now_ms + s->idle_ms;
    e->absolute_deadline_ms = now_ms + s->absolute_ms;
    int *head = &s->buckets[bucket_of(e->digest, s->mask)];
    e->next = *head;
    *head = i;
    s->count++;
    if (expires_at_ms)
        *expires_at_ms = e->absolute_deadline_ms;
    return 0;
}

/* The link to the token's session, or NULL; tokens of the wrong length are not even hashed. */
static int *session_by_token(struct auth_sessions *s, const char *token)
{
    unsigned char d[crypto_hash_sha256_BYTES];
    if (!token || strnlen(token, AUTH_TOKEN_MAX) != TOKEN_CHARS)
        return NULL;
    sha256(token, d);
    return session_find(s, d);
}

/* The live session of token (an expired one is forgotten), or NULL. */
static struct session *session_live(struct auth_sessions *s, const char *token, int64_t now_ms)
{
    int *link = session_by_token(s, token);
    if (!link)
        return NULL;
    if (session_expired(&s->slots[*link], now_ms)) {
        session_remove(s, link);
        return NULL;
    }
    return &s->slots[*link];
}

int64_t auth_session_lookup(struct auth_sessions *s, const char *token, int64_t now_ms)
{
    struct session *e = session_live(s, token, now_ms);
    if (!e)
        return -1;
    e->idle_deadline_ms = now_ms + s->idle_ms;
    return e->user_id;
}

int64_t auth_session_peek(struct auth_sessions *s, const char *token, int64_t now_ms)
{
    struct session *e = session_live(s, token, now_ms);
    return e ? e->user_id : -1;
}

void auth_session_revoke(struct auth_sessions *s, const char *token)
{
    int *link = session_by_token(s, token);
    if (link)
        session_remove(s, link);
}

void auth_sessions_revoke_user(struct auth_sessions *s, int64_t user_id)
{
    for (int i = 0; i < s->max; i++)
        if (user_id >= 0 && s->slots[i].user_id == user_id)
            session_remove(s, session_link(s, i));
}

int auth_sessions_count(const struct auth_sessions *s)
{
    return s->count;
}

/* ---- Sign-in rate limiting ---- */

#define KEY_BYTES 16
#define MAX_FAILS 1000000 /* the lockout saturates long before; keeps the counter from wrapping */

struct limit_entry {
    unsigned char key[KEY_BYTES]; /* keyed BLAKE2b of the key string: fixed size, no names kept */
    int fails;                    /* failures in the current streak, 0 while the slot is free */
    int64_t first_fail_ms;        /* the streak's first failure */
    int64_t last_fail_ms;         /* the streak's latest failure */
    int next;                     /* next in the bucket chain or free list, -1 ends */
    int newer, older;             /* neighbours in recency order, -1 ends */
};

struct auth_limiter {
    int burst;                                        /* failures allowed before a lockout */
    int64_t window_ms, max_lock_ms;                   /* first lockout, and the doubling's cap */
    int max;                                          /* entries */
    int free_head;                                    /* first free entry, -1 when full */
    int newest, oldest;                               /* recency list ends, -1 when empty */
    unsigned mask;                                    /* bucket count - 1 */
    int *buckets;                                     /* head entry of each chain, -1 if empty */
    struct limit_entry *e;                            /* max entries, owned */
    unsigned char hkey[crypto_generichash_KEYBYTES];  /* random, so nobody can aim keys at one bucket */
};

struct auth_limiter *auth_limiter_new(int burst, int64_t window_ms, int64_t max_lock_ms, int max_keys)
{
    if (burst < 1 || window_ms <= 0 || max_lock_ms < window_ms || max_lock_ms > INT64_MAX / 4 ||
        max_keys <= 0 || max_keys > MAX_TABLE)
        return NULL;
    struct auth_limiter *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    unsigned nb = pow2_at_least(max_keys);
    l->e = calloc((size_t)max_keys, sizeof *l->e);
    l->buckets = malloc(nb * sizeof *l->buckets);
    if (!l->e || !l->buckets) {
        auth_limiter_free(l);
        return NULL;
    }
    l->burst = burst;
    l->window_ms = window_ms;
    l->max_lock_ms = max_lock_ms;
    l->max = max_keys;
    l->free_head = 0;
    l->mask = nb - 1;
    l->newest = l->oldest = -1;
    memset(l->buckets, 0xff, nb * sizeof *l->buckets);
    for (int i = 0; i < max_keys; i++)
        l->e[i].next = i + 1 < max_keys ? i + 1 : -1;
    randombytes_buf(l->hkey, sizeof l->hkey);
    return l;
}

void auth_limiter_free(struct auth_limiter *l)
{
    if (!l)
        return;
    free(l->e);
    free(l->buckets);
    free(l);
}

static int64_t lock_ms(const struct auth_limiter *l, int fails)
{
    if (fails < l->burst)
        return 0;
    int64_t lock = l->window_ms;
    for (int k = fails - l->burst; k > 0 && lock < l->max_lock_ms; k--)
        lock *= 2;
    return lock < l->max_lock_ms ? lock : l->max_lock_ms;
}

/* A streak that never reached the burst within its window, or whose lockout has been followed
 * by a whole quiet window, is forgiven. */
static bool streak_over(const struct auth_limiter *l, const struct limit_entry *e, int64_t now_ms)
{
    if (e->fails < l->burst)
        return now_ms - e->first_fail_ms >= l->window_ms;
    return now_ms - e->last_fail_ms >= lock_ms(l, e->fails) + l->window_ms;
}

static void lru_unlink(struct auth_limiter *l, int i)
{
    struct limit_entry *e = &l->e[i];
    if (e->newer >= 0)
        l->e[e->newer].older = e->older;
    else
        l->newest = e->older;
    if (e->older >= 0)
        l->e[e->older].newer = e->newer;
    else
        l->oldest = e->newer;
}

static void lru_push(struct auth_limiter *l, int i)
{
    l->e[i].newer = -1;
    l->e[i].older = l->newest;
    if (l->newest >= 0)
        l->e[l->newest].newer = i;
    else
        l->oldest = i;
    l->newest = i;
}

static int *limit_link(struct auth_limiter *l, const unsigned char *key)
{
    int *link = &l->buckets[bucket_of(key, l->mask)];
    while (*link >= 0 && memcmp(l->e[*link].key, key, KEY_BYTES) != 0)
        link = &l->e[*link].next;
    return link;
}

static void limit_remove(struct auth_limiter *l, int *link)
{
    int i = *link;
    *link = l->e[i].next;
    lru_unlink(l, i);
    memset(&l->e[i], 0, sizeof l->e[i]);
    l->e[i].next = l->free_head;
    l->free_head = i;
}

/* The entry of key (moved to the newest end), or -1; with create, a new zeroed entry, dropping
 * the least recently used one if the table is full. */
static int limit_get(struct auth_limiter *l, const char *key, bool create)
{
    unsigned char h[KEY_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), l->hkey, sizeof l->hkey);
    int *link = limit_link(l, h);
    int i = *link;
    if (i >= 0) {
        lru_unlink(l, i);
        lru_push(l, i);
        return i;
    }
    if (!create)
        return -1;
    if (l->free_head < 0) {
        unsigned char victim[KEY_BYTES];
        memcpy(victim, l->e[l->oldest].key, KEY_BYTES);
        limit_remove(l, limit_link(l, victim));
        link = limit_link(l, h); /* the victim may have been the link's owner */
    }
    i = l->free_head;
    l->free_head = l->e[i].next;
    memcpy(l->e[i].key, h, KEY_BYTES);
    l->e[i].next = -1;
    *link = i;
    lru_push(l, i);
    return i;
}

int64_t auth_limiter_check(struct auth_limiter *l, const char *key, int64_t now_ms)
{
    int i = key ? limit_get(l, key, false) : -1;
    if (i < 0)
        return 0;
    struct limit_entry *e = &l->e[i];
    if (streak_over(l, e, now_ms)) {
        limit_remove(l, limit_link(l, e->key));
        return 0;
    }
    int64_t wait = e->last_fail_ms + lock_ms(l, e->fails) - now_ms;
    return wait > 0 ? wait : 0;
}

void auth_limiter_fail(struct auth_limiter *l, const char *key, int64_t now_ms)
{
    int i = key ? limit_get(l, key, true) : -1;
    if (i < 0)
        return;
    struct limit_entry *e = &l->e[i];
    if (e->fails > 0 && streak_over(l, e, now_ms))
        e->fails = 0;
    if (e->fails == 0)
        e->first_fail_ms = now_ms;
    if (e->fails < MAX_FAILS)
        e->fails++;
    e->last_fail_ms = now_ms;
}

void auth_limiter_success(struct auth_limiter *l, const char *key)
{
    int i = key ? limit_get(l, key, false) : -1;
    if (i >= 0)
        limit_remove(l, limit_link(l, l->e[i].key));
}
