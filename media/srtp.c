/* SRTP front: AEAD_AES_128_GCM goes to media/srtp_gcm.c (OpenSSL), AES-CM (and GCM under
 * SRTPX_LIBSRTP_ONLY) to libsrtp2, whose inbound/outbound policy pair is built here from a
 * DTLS-SRTP profile; both report drops as the same few reasons the media path counts.
 * All libsrtp setup lives here so no other file includes <srtp2/srtp.h>. */
#include "media/srtp.h"
#include "media/srtp_gcm.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#define RTP_HEADER_MIN 12
#define RTCP_HEADER_MIN 8
#define SRTCP_INDEX_LEN 4 /* E flag + 31-bit index, after the payload */

struct srtpx_session {
    struct sgcm *gcm;    /* AEAD_AES_128_GCM via media/srtp_gcm.c, else NULL */
    srtp_t tx;           /* ssrc_any_outbound: every SSRC we send; NULL with gcm */
    srtp_t rx;           /* ssrc_any_inbound: every SSRC the peer sends; NULL with gcm */
    size_t rtp_trailer;  /* bytes srtp_protect appends */
    size_t rtcp_trailer; /* bytes srtp_protect_rtcp appends */
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_init_fail;

static void do_init(void)
{
    init_status = srtp_init();
}

int srtpx_init(void)
{
    pthread_once(&init_once, do_init);
    return init_status == srtp_err_status_ok ? 0 : SRTPX_ERR_INIT;
}

/* Tag length per profile: 80-bit HMAC for CM, 128-bit GCM tag. */
static size_t tag_len(int profile)
{
    switch (profile) {
    case SRTPX_AES128_CM_SHA1_80:
        return 10;
    case SRTPX_AEAD_AES_128_GCM:
        return 16;
    default:
        return 0;
    }
}

size_t srtpx_master_len(int profile)
{
    switch (profile) {
    case SRTPX_AES128_CM_SHA1_80:
        return SRTP_AES_ICM_128_KEY_LEN_WSALT; /* 16 + 14 */
    case SRTPX_AEAD_AES_128_GCM:
        return SRTP_AES_GCM_128_KEY_LEN_WSALT; /* 16 + 12 */
    default:
        return 0;
    }
}

static srtp_t make_ctx(int profile, srtp_ssrc_type_t dir, const uint8_t *master)
{
    srtp_policy_t p;
    uint8_t key[SRTP_MAX_KEY_LEN];
    size_t klen = srtpx_master_len(profile);

    memset(&p, 0, sizeof p);
    if (profile == SRTPX_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    }
    memcpy(key, master, klen);
    p.key = key;
    p.ssrc.type = dir;
    p.window_size = SRTPX_REPLAY_WINDOW;
    /* The forwarder re-protects NACKed packets unchanged; only the sender may repeat. */
    p.allow_repeat_tx = dir == ssrc_any_outbound;

    srtp_t ctx = NULL;
    srtp_err_status_t st = srtp_create(&ctx, &p);
    explicit_bzero(key, sizeof key);
    return st == srtp_err_status_ok ? ctx : NULL;
}

srtpx_session_t *srtpx_session_new(int profile, const uint8_t *tx_master,
                                   const uint8_t *rx_master)
{
    return srtpx_session_new_ex(profile, tx_master, rx_master, 0);
}

srtpx_session_t *srtpx_session_new_ex(int profile, const uint8_t *tx_master,
                                      const uint8_t *rx_master, unsigned flags)
{
    if (!tx_master || !rx_master || tag_len(profile) == 0 || srtpx_init() < 0)
        return NULL;
    srtpx_session_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (profile == SRTPX_AEAD_AES_128_GCM && !(flags & SRTPX_LIBSRTP_ONLY)) {
        s->gcm = malloc(sizeof *s->gcm);
        if (!s->gcm || sgcm_init(s->gcm, tx_master, rx_master) < 0) {
            free(s->gcm);
            free(s);
            return NULL;
        }
    }
    s->rtp_trailer = tag_len(profile);
    s->rtcp_trailer = tag_len(profile) + SRTCP_INDEX_LEN;
    if (s->gcm)
        return s; /* libsrtp2 would never see a packet: no contexts to key and keep */
    s->tx = make_ctx(profile, ssrc_any_outbound, tx_master);
    if (!s->tx)
        goto out_free;
    s->rx = make_ctx(profile, ssrc_any_inbound, rx_master);
    if (!s->rx)
        goto out_free_tx;
    return s;
out_free_tx:
    srtp_dealloc(s->tx);
out_free:
    if (s->gcm)
        sgcm_free(s->gcm);
    free(s->gcm);
    free(s);
    return NULL;
}

void srtpx_session_free(srtpx_session_t *s)
{
    if (!s)
        return;
    if (s->gcm)
        sgcm_free(s->gcm);
    free(s->gcm);
    if (s->tx)
        srtp_dealloc(s->tx);
    if (s->rx)
        srtp_dealloc(s->rx);
    free(s);
}

static int map_status(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_auth_fail:
        return SRTPX_ERR_AUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return SRTPX_ERR_REPLAY;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
        return SRTPX_ERR_MALFORMED;
    default:
        return SRTPX_ERR_OTHER;
    }
}

static int map_gcm(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case SGCM_ERR_AUTH:
        return SRTPX_ERR_AUTH;
    case SGCM_ERR_REPLAY:
        return SRTPX_ERR_REPLAY;
    case SGCM_ERR_SPACE:
        return SRTPX_ERR_SPACE;
    case SGCM_ERR_MALFORMED:
        return SRTPX_ERR_MALFORMED;
    default:
        return SRTPX_ERR_OTHER;
    }
}

/* Shared argument checks; leaves the length as libsrtp's int in *n. */
static int check(const srtpx_session_t *s, const uint8_t *buf, const size_t *len, size_t min,
                 int *n)
{
    if (!s || !buf || !len || *len > INT_MAX - SRTPX_MAX_TRAILER)
        return SRTPX_ERR_PARAM;
    if (*len < min)
        return SRTPX_ERR_MALFORMED;
    *n = (int)*len;
    return 0;
}

int srtpx_protect_rtp(srtpx_session_t *s, uint8_t *buf, size_t *len, size_t cap)
{
    int n, rc = check(s, buf, len, RTP_HEADER_MIN, &n);
    if (rc < 0)
        return rc;
    if (cap < *len || cap - *len < s->rtp_trailer)
        return SRTPX_ERR_SPACE;
    if (s->gcm)
        return map_gcm(sgcm_protect(s->gcm, buf, len, cap));
    rc = map_status(srtp_protect(s->tx, buf, &n));
    if (rc == 0)
        *len = (size_t)n;
    return rc;
}

int srtpx_unprotect_rtp(srtpx_session_t *s, uint8_t *buf, size_t *len)
{
    int n, rc = check(s, buf, len, RTP_HEADER_MIN + (s ? s->rtp_trailer : 0), &n);
    if (rc < 0)
        return rc;
    if (s->gcm)
        return map_gcm(sgcm_unprotect(s->gcm, buf, len));
    rc = map_status(srtp_unprotect(s->rx, buf, &n));
    if (rc == 0)
        *len = (size_t)n;
    return rc;
}

int srtpx_protect_rtcp(srtpx_session_t *s, uint8_t *buf, size_t *len, size_t cap)
{
    int n, rc = check(s, buf, len, RTCP_HEADER_MIN, &n);
    if (rc < 0)
        return rc;
    if (cap < *len || cap - *len < s->rtcp_trailer)
        return SRTPX_ERR_SPACE;
    if (s->gcm)
        return map_gcm(sgcm_protect_rtcp(s->gcm, buf, len, cap));
    rc = map_status(srtp_protect_rtcp(s->tx, buf, &n));
    if (rc == 0)
        *len = (size_t)n;
    return rc;
}

int srtpx_unprotect_rtcp(srtpx_session_t *s, uint8_t *buf, size_t *len)
{
    int n, rc = check(s, buf, len, RTCP_HEADER_MIN + (s ? s->rtcp_trailer : 0), &n);
    if (rc < 0)
        return rc;
    if (s->gcm)
        return map_gcm(sgcm_unprotect_rtcp(s->gcm, buf, len));
    rc = map_status(srtp_unprotect_rtcp(s->rx, buf, &n));
    if (rc == 0)
        *len = (size_t)n;
    return rc;
}

const char *srtpx_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case SRTPX_ERR_AUTH:
        return "SRTP authentication failed";
    case SRTPX_ERR_REPLAY:
        return "SRTP replayed or too old packet";
    case SRTPX_ERR_MALFORMED:
        return "malformed RTP/RTCP packet";
    case SRTPX_ERR_SPACE:
        return "no room for the SRTP trailer";
    case SRTPX_ERR_PARAM:
        return "invalid SRTP argument";
    case SRTPX_ERR_INIT:
        return "SRTP initialisation failed";
    case SRTPX_ERR_OTHER:
        return "SRTP error";
    default:
        return "unknown SRTP error";
    }
}
