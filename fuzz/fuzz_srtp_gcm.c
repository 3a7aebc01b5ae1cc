/* Arbitrary datagrams into the server's own SRTP-GCM and SRTCP-GCM unprotect
 * (media/srtp_gcm.c): they must reject, never crash or read out of bounds; a packet that a
 * sender protected must come back, and an SRTCP one always does (its index never repeats). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/srtp_gcm.h"

/* rx takes the raw inputs (a seed protected under b verifies there); tx protects and back
 * unprotects, apart, so a genuine raw input cannot take the index tx is about to use. */
static struct sgcm rx, tx, back;

/* Fresh contexts: once 16 SSRCs filled the tables, protect would only say SGCM_ERR_STREAMS. */
static void keys(void)
{
    uint8_t a[SGCM_MASTER_LEN], b[SGCM_MASTER_LEN];
    memset(a, 0x11, sizeof a);
    memset(b, 0x22, sizeof b);
    if (sgcm_init(&rx, a, b) < 0 || sgcm_init(&tx, b, a) < 0 || sgcm_init(&back, a, b) < 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        keys();
        ready = 1;
    }
    if (size > 1500)
        return 0;
    uint8_t buf[1600];
    memcpy(buf, data, size);
    size_t len = size;
    sgcm_unprotect(&rx, buf, &len); /* garbage: any verdict, no crash */
    memcpy(buf, data, size);
    len = size;
    sgcm_unprotect_rtcp(&rx, buf, &len);

    /* The same bytes as a clear packet: protect, then unprotect must give them back. */
    memcpy(buf, data, size);
    len = size;
    if (sgcm_protect(&tx, buf, &len, sizeof buf) == 0) {
        int rc = sgcm_unprotect(&back, buf, &len);
        if (rc == 0 && (len != size || memcmp(buf, data, size)))
            abort();
    }
    memcpy(buf, data, size);
    len = size;
    int rc = sgcm_protect_rtcp(&tx, buf, &len, sizeof buf);
    if (rc == SGCM_ERR_STREAMS) {
        sgcm_free(&rx);
        sgcm_free(&tx);
        sgcm_free(&back);
        keys();
    } else if (rc == 0) {
        if (sgcm_unprotect_rtcp(&back, buf, &len) != 0 || len != size || memcmp(buf, data, size))
            abort();
    }
    return 0;
}
