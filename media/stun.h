/* STUN (RFC 5389) as the ICE-lite server and the load generator's controlling agent need it:
 * a pure, allocation-free parser over one UDP datagram, FINGERPRINT and short-term
 * MESSAGE-INTEGRITY checks (RFC 8445 connectivity checks, RFC 7675 consent freshness), and
 * builders that write Binding requests and responses into caller buffers. */
#ifndef MEDIA_STUN_H
#define MEDIA_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_HEADER_LEN 20
#define STUN_TID_LEN 12
#define STUN_MAGIC_COOKIE 0x2112A442u
#define STUN_FINGERPRINT_XOR 0x5354554eu
#define STUN_MAX_UNKNOWN 4 /* unknown comprehension-required types kept for a 420 reply */

enum stun_class {
    STUN_CLASS_REQUEST = 0,
    STUN_CLASS_INDICATION = 1,
    STUN_CLASS_SUCCESS = 2,
    STUN_CLASS_ERROR = 3,
};

#define STUN_METHOD_BINDING 0x001

/* Full message types (method and class bits interleaved, RFC 5389 §6). */
#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_INDICATION 0x0011
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR 0x0111

/* Attribute types used here; 0x0000-0x7FFF are comprehension-required. */
#define STUN_ATTR_MAPPED_ADDRESS 0x0001
#define STUN_ATTR_USERNAME 0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define STUN_ATTR_ERROR_CODE 0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_ATTR_REALM 0x0014
#define STUN_ATTR_NONCE 0x0015
#define STUN_ATTR_MESSAGE_INTEGRITY_SHA256 0x001C
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_PRIORITY 0x0024
#define STUN_ATTR_USE_CANDIDATE 0x0025
#define STUN_ATTR_SOFTWARE 0x8022
#define STUN_ATTR_FINGERPRINT 0x8028
#define STUN_ATTR_ICE_CONTROLLED 0x8029
#define STUN_ATTR_ICE_CONTROLLING 0x802A

/* Every failure has its own code so the server can count drops by reason; stun_strerror()
 * names each one in snake_case for metrics labels. */
enum stun_err {
    STUN_ERR_TRUNCATED = -1,          /* shorter than the header or its length field */
    STUN_ERR_NOT_STUN = -2,           /* top two bits of the type are not zero */
    STUN_ERR_BAD_COOKIE = -3,         /* magic cookie is not 0x2112A442 */
    STUN_ERR_BAD_LENGTH = -4,         /* length field not a multiple of 4 */
    STUN_ERR_TRAILING = -5,           /* datagram longer than header + length */
    STUN_ERR_ATTR_TRUNCATED = -6,     /* attribute header, value or padding overruns */
    STUN_ERR_ATTR_LEN = -7,           /* known attribute with an impossible length */
    STUN_ERR_ATTR_VALUE = -8,         /* known attribute with an invalid value */
    STUN_ERR_FINGERPRINT_NOT_LAST = -9,
    STUN_ERR_NO_FINGERPRINT = -10,
    STUN_ERR_BAD_FINGERPRINT = -11,
    STUN_ERR_NO_INTEGRITY = -12,
    STUN_ERR_BAD_INTEGRITY = -13,
    STUN_ERR_BAD_USERNAME = -14,      /* not "ufrag:ufrag" */
    STUN_ERR_NO_SPACE = -15,          /* builder: caller's buffer too small */
    STUN_ERR_INVALID = -16,           /* builder: bad argument */
    STUN_ERR_CRYPTO = -17,            /* OpenSSL failed */
};
#define STUN_ERR_COUNT 17 /* codes run from -1 to -STUN_ERR_COUNT */

/* A parsed message. Pointers alias the buffer given to stun_parse() and live as long as it;
 * offsets are from the start of that buffer. Only the first occurrence of an attribute
 * counts (RFC 5389 §15). */
typedef struct stun_msg {
    uint16_t type;                 /* raw message type */
    uint16_t method;               /* e.g. STUN_METHOD_BINDING */
    uint8_t cls;                   /* enum stun_class */
    uint16_t length;               /* length field: bytes after the header */
    uint8_t tid[STUN_TID_LEN];     /* transaction id, copied */

    const uint8_t *username;       /* USERNAME value, not NUL-terminated; NULL if absent */
    uint16_t username_len;
    const uint8_t *software;       /* SOFTWARE, REALM, NONCE: same conventions */
    uint16_t software_len;
    const uint8_t *realm;
    uint16_t realm_len;
    const uint8_t *nonce;
    uint16_t nonce_len;

    bool has_integrity;            /* MESSAGE-INTEGRITY present */
    uint32_t integrity_off;        /* offset of its attribute header */
    bool has_fingerprint;          /* FINGERPRINT present (always the last attribute) */
    uint32_t fingerprint_off;      /* offset of its attribute header */

    bool has_priority;
    uint32_t priority;             /* PRIORITY */
    bool use_candidate;            /* USE-CANDIDATE present */
    bool ice_controlling;          /* ICE-CONTROLLING present */
    bool ice_controlled;           /* ICE-CONTROLLED present */
    uint64_t tie_breaker;          /* from the first of the two role attributes */

    bool has_error;
    uint16_t error_code;           /* ERROR-CODE, 300..699 */
    const char *error_reason;      /* UTF-8 reason phrase, not NUL-terminated */
    uint16_t error_reason_len;

    bool has_xor_mapped;
    struct sockaddr_storage xor_mapped; /* XOR-MAPPED-ADDRESS, AF_INET or AF_INET6 */

    uint8_t n_unknown;             /* unknown comprehension-required attributes seen */
    uint16_t unknown[STUN_MAX_UNKNOWN]; /* their types, first STUN_MAX_UNKNOWN only */
} stun_msg_t;

/* RFC 7983 demultiplexing: does this datagram look like STUN (not DTLS, not RTP)? */
static inline bool stun_is_stun(const uint8_t *b, size_t n)
{
    return n >= STUN_HEADER_LEN && b[0] <= 3 && b[4] == 0x21 && b[5] == 0x12 &&
           b[6] == 0xA4 && b[7] == 0x42;
}

/* Parses one datagram of `len` bytes. Fills *out (pointers alias buf) and returns 0, or a
 * negative enum stun_err. Attributes after MESSAGE-INTEGRITY other than FINGERPRINT are
 * walked for framing but otherwise ignored. Integrity is not checked here. */
int stun_parse(const uint8_t *buf, size_t len, stun_msg_t *out);

/* Short snake_case name of an enum stun_err ("stun_truncated"); "stun_ok" for 0. */
const char *stun_strerror(int err);

/* 0 if FINGERPRINT is present and its CRC-32 matches; STUN_ERR_NO_FINGERPRINT or
 * STUN_ERR_BAD_FINGERPRINT otherwise. `m` must come from stun_parse(buf, len). */
int stun_check_fingerprint(const uint8_t *buf, size_t len, const stun_msg_t *m);

/* 0 if MESSAGE-INTEGRITY is present and its HMAC-SHA1 under `key` matches (constant-time
 * compare). Short-term credentials: key is the ice-pwd bytes; long-term: MD5 of
 * "username:realm:password". STUN_ERR_NO_INTEGRITY, STUN_ERR_BAD_INTEGRITY or
 * STUN_ERR_CRYPTO otherwise. */
int stun_check_integrity(const uint8_t *buf, size_t len, const stun_msg_t *m,
                         const uint8_t *key, size_t key_len);

/* Splits an ICE USERNAME "local:remote" (local = ufrag of the agent receiving the request)
 * at the first ':'. Out pointers alias `user`; either pair may be NULL. Both parts must be
 * non-empty, else STUN_ERR_BAD_USERNAME. */
int stun_username_split(const uint8_t *user, size_t user_len,
                        const uint8_t **local, size_t *local_len,
                        const uint8_t **remote, size_t *remote_len);

/* Fills tid with cryptographically random bytes (RFC 5389 §6). 0 or STUN_ERR_CRYPTO. */
int stun_random_tid(uint8_t tid[STUN_TID_LEN]);

/* Builders write a whole message into out[0..cap) and return its length, or
 * STUN_ERR_NO_SPACE / STUN_ERR_INVALID / STUN_ERR_CRYPTO. When `key` is non-NULL a
 * MESSAGE-INTEGRITY is added; a FINGERPRINT always is. The caller owns every buffer. */

/* Binding success with XOR-MAPPED-ADDRESS = `mapped` (AF_INET or AF_INET6; an IPv4-mapped
 * IPv6 address, as a dual-stack socket reports IPv4 peers, is written as IPv4). */
int stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                               const struct sockaddr *mapped,
                               const uint8_t *key, size_t key_len);

/* Binding error with ERROR-CODE `code` (300..699) and `reason` (NULL: a standard phrase for
 * 400, 401, 420, 487, 500). Pass key NULL for 400/401 answers to failed authentication
 * (RFC 5389 §10.1.2). */
int stun_build_binding_error(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                             int code, const char *reason,
                             const uint8_t *key, size_t key_len);

/* 420 Unknown Attribute carrying UNKNOWN-ATTRIBUTES (e.g. m->unknown, m->n_unknown). */
int stun_build_unknown_attributes(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                                  const uint16_t *types, size_t n_types,
                                  const uint8_t *key, size_t key_len);

/* Binding request for a connectivity or consent check: USERNAME (NUL-terminated
 * "remote_ufrag:local_ufrag"), PRIORITY, ICE-CONTROLLING or ICE-CONTROLLED with
 * `tiebreaker`, USE-CANDIDATE if asked (controlling agents only, else STUN_ERR_INVALID). */
int stun_build_binding_request(uint8_t *out, size_t cap, const uint8_t tid[STUN_TID_LEN],
                               const char *username, uint32_t priority, bool controlling,
                               uint64_t tiebreaker, bool use_candidate,
                               const uint8_t *key, size_t key_len);

#endif
