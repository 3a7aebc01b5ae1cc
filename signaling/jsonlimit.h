/* A cheap check on JSON text before a parser sees it: how deeply arrays and objects nest,
 * counted by one scan that skips over strings. jansson would stop only at depth 2048; a
 * message from the network is refused far sooner, so it cannot make the parser build
 * thousands of nested containers. */
#ifndef SIGNALING_JSONLIMIT_H
#define SIGNALING_JSONLIMIT_H

#include <stddef.h>

#define JSONLIMIT_DEPTH 32 /* the deepest nesting any request of the API or the protocol needs is 4 */

/* 0 when text nests at most max_depth arrays and objects, -1 when deeper. Text that is not
 * JSON at all is left for the parser to refuse. Pure: no allocation, no globals. */
int jsonlimit_depth(const char *text, size_t len, int max_depth);

#endif
