/* Admin and site authentication: argon2id admin passwords and their policy, high-entropy site
 * secrets, in-memory admin sessions and sign-in rate limiting. Pure code with no clock reads
 * (every time is passed in) and no locks: it runs on the signaling thread only. */
#ifndef ROOMS_AUTH_H
#define ROOMS_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_HASH_MAX 128          /* argon2id encoded string incl. NUL (crypto_pwhash_STRBYTES) */
#define AUTH_DIGEST_HEX 65         /* sha-256 hex + NUL */
#define AUTH_TOKEN_MAX 44          /* session token (43 base64url chars) + NUL */
#define AUTH_PASSWORD_MIN_CHARS 10 /* code points, so the policy's sentence is true for any script */
#define AUTH_PASSWORD_MAX_BYTES 128
#define AUTH_SESSIONS_PER_USER 16

/* Initialises libsodium; call once before anything else. 0 / -1. */
int auth_init(void);

/* Admin passwords: argon2id, OPSLIMIT/MEMLIMIT_INTERACTIVE unless auth_set_cost_for_tests(true)
 * switched to the minimum limits. Passwords longer than AUTH_PASSWORD_MAX_BYTES are refused by
 * both hash and verify, so a huge request body cannot buy argon2 work. */
int auth_password_hash(const char *password, char out[AUTH_HASH_MAX]); /* 0 / -1 */
bool auth_password_verify(const char *encoded, const char *password);
/* Spends the work of one auth_password_verify (against an argon2id hash of the current cost,
 * made on first use) and returns false: a sign-in with an unknown or disabled account must take
 * as long as one with a real account, or its timing tells which user names exist. */
bool auth_password_verify_dummy(const char *password);
/* True if encoded was made with other limits than the current ones (rehash after a sign-in). */
bool auth_password_needs_rehash(const char *encoded);
/* At least 10 characters, at most 128 bytes, valid UTF-8, and not all of one class (letters
 * only, digits only or symbols only). 0, or -1 with a sentence for the user in err (may be NULL). */
int auth_password_policy(const char *password, char *err, size_t errlen);
void auth_set_cost_for_tests(bool cheap);

/* A random secret: nbytes of CSPRNG output as base64url without padding. out must hold
 * 4*ceil(nbytes/3)+1 bytes; if it is smaller, out becomes "" (which no digest ever matches).
 * Site credentials are 24 random bytes (32 chars). */
void auth_random_secret(char *out, size_t outlen, size_t nbytes);
/* n bytes from the CSPRNG (server secrets). */
void auth_random_bytes(void *buf, size_t n);
/* Site credentials are high-entropy, so one SHA-256 (lowercase hex) is their stored form. */
void auth_secret_digest(const char *secret, char out[AUTH_DIGEST_HEX]);
/* Constant-time comparison; false for an empty secret or a malformed digest. */
bool auth_secret_matches(const char *digest_hex, const char *secret);

/* Conference PINs have 4 to 12 digits: a plain hash of one is inverted at once, so they are
 * keyed by a random secret of the server (kept in its database; store_pin_key).
 * auth_pin_keyed = HMAC-SHA256(key, SHA-256(pin)) in hex is what a join presents to
 * live_may_join, and the stored pin_digest is auth_pin_digest = auth_secret_digest(keyed).
 * The SHA-256 inside lets auth_pin_rekey turn a digest stored before the key existed (the
 * SHA-256 hex of the PIN) into the keyed form without knowing the PIN: 0, or -1 (out "") if
 * old_hex is not 64 hex digits. */
#define AUTH_PIN_KEY_BYTES 32
void auth_pin_keyed(const unsigned char key[AUTH_PIN_KEY_BYTES], const char *pin, char out[AUTH_DIGEST_HEX]);
void auth_pin_digest(const unsigned char key[AUTH_PIN_KEY_BYTES], const char *pin, char out[AUTH_DIGEST_HEX]);
int auth_pin_rekey(const unsigned char key[AUTH_PIN_KEY_BYTES], const char *old_hex, char out[AUTH_DIGEST_HEX]);

/* Admin sessions in memory: token -> user id (>= 0), with idle and absolute expiry. Only a
 * SHA-256 of each token is kept. A session is expired at the instant its deadline is reached. */
struct auth_sessions;
/* NULL on bad arguments or no memory. Owned by the caller; release with auth_sessions_free. */
struct auth_sessions *auth_sessions_new(int64_t idle_ms, int64_t absolute_ms, int max_sessions);
void auth_sessions_free(struct auth_sessions *s);
/* Writes a new token (43 chars) to token_out (>= AUTH_TOKEN_MAX bytes). A user's oldest session
 * is evicted to keep AUTH_SESSIONS_PER_USER; a full table is purged of expired sessions first.
 * 0, or -1 when still full or user_id < 0 (token_out is then ""). *expires_at_ms (may be NULL)
 * gets the absolute expiry. */
int auth_session_create(struct auth_sessions *s, int64_t user_id, int64_t now_ms, char *token_out,
                        int64_t *expires_at_ms);
/* The user id, refreshing the idle deadline; -1 if unknown or expired (and then forgotten). */
int64_t auth_session_lookup(struct auth_sessions *s, const char *token, int64_t now_ms);
/* The same without refreshing: for checks the server makes by itself (an open events socket),
 * which must not keep an idle sign-in alive. */
int64_t auth_session_peek(struct auth_sessions *s, const char *token, int64_t now_ms);
void auth_session_revoke(struct auth_sessions *s, const char *token);
void auth_sessions_revoke_user(struct auth_sessions *s, int64_t user_id); /* password change, user deleted */
/* Sessions held, including expired ones not yet noticed. */
int auth_sessions_count(const struct auth_sessions *s);

/* Sign-in rate limiting by key ("user:alice", "addr:127.0.0.1"). After `burst` failures within
 * window_ms of the first, attempts are refused until window_ms after the last failure; each
 * further failure doubles that lockout, up to max_lock_ms. A streak is forgotten once a whole
 * window passes after its lockout without a failure. At most max_keys keys are held; the least
 * recently used is dropped for a new one. Keys are stored as a keyed BLAKE2b digest. */
struct auth_limiter;
/* NULL on bad arguments (need burst >= 1, 0 < window_ms <= max_lock_ms) or no memory. */
struct auth_limiter *auth_limiter_new(int burst, int64_t window_ms, int64_t max_lock_ms, int max_keys);
void auth_limiter_free(struct auth_limiter *l);
/* 0 = may try now; > 0 = milliseconds to wait. */
int64_t auth_limiter_check(struct auth_limiter *l, const char *key, int64_t now_ms);
void auth_limiter_fail(struct auth_limiter *l, const char *key, int64_t now_ms);
void auth_limiter_success(struct auth_limiter *l, const char *key);
/* The limiter key of a peer address: "addr:<IPv4>" (an IPv4-mapped IPv6 address is its IPv4),
 * "addr:<prefix>::/64" for IPv6, since one subscriber usually holds a whole /64, or
 * "addr:<text>" for text that is not an address. out should hold 64 bytes. */
void auth_addr_key(const char *addr, char *out, size_t outlen);

#endif
