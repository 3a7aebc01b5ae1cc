/* Running the synthetic sites from a network namespace the caller created (bench/netns.sh);
 * loss, delay and jitter come from tools/load/impair.c. */
#ifndef LOAD_NETNS_H
#define LOAD_NETNS_H

#include <stddef.h>

/* Moves this process (before it opens any socket) into the namespace. 0 or -1. */
int lnetns_enter(const char *ns, char *err, size_t errlen);

#endif
