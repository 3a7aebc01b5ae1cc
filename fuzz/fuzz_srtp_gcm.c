/* Arbitrary datagrams into the server's own SRTP-GCM unprotect (media/srtp_gcm.c): it must
 * reject, never crash or read out of bounds; a packet that a sender protected must come back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/srtp_gcm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sgcm rx, tx;
    static int ready;
    if (!ready) {
        uint8_t a[SGCM_MASTER_LEN], b[SGCM_MASTER_LEN];
        memset(a, 0x11, sizeof a);
        memset(b, 0x22, sizeof b);
        if (sgcm_init(&rx, a, b) < 0 || sgcm_init(&tx, b, a) < 0)
            abort();
        ready = 1;
    }
    if (size > 1500)
        return 0;
    uint8_t buf[1600];
    memcpy(buf, data, size);
    size_t len = size;
    sgcm_unprotect(&rx, buf, &len); /* garbage: any verdict, no crash */

    /* The same bytes as a clear packet: protect, then unprotect must give them back. */
    memcpy(buf, data, size);
    len = size;
    if (sgcm_protect(&tx, buf, &len, sizeof buf) == 0) {
        int rc = sgcm_unprotect(&rx, buf, &len);
        if (rc == 0 && (len != size || memcmp(buf, data, size)))
            abort();
    }
    return 0;
}
