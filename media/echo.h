/* The echo conference: every participant receives its own audio and video back, on the
 * SSRCs our answer announced. It proves the transport end to end before the mixer lands. */
#ifndef MEDIA_ECHO_H
#define MEDIA_ECHO_H

#include <stddef.h>
#include <stdint.h>

struct engine;
struct peer;

/* buf holds one decrypted packet (in the worker's receive buffer). */
void echo_on_rtp(struct engine *e, struct peer *p, const uint8_t *buf, size_t len);
void echo_on_rtcp(struct engine *e, struct peer *p, const uint8_t *buf, size_t len);

#endif
