/* Limits on the server's TCP connections: how many one peer address may hold open (past
 * max_per_addr its new connections are answered with an error and closed; IPv6 peers are
 * counted per /64, the block one subscriber is normally given), and how fast
 * each connection may make HTTP requests (a token bucket). Some addresses can be exempt
 * from the count (loopback by default: the host itself, or a TLS proxy in front of it,
 * through which every client would seem to come from one address). Pure bookkeeping with no
 * sockets, no clock and no locks: the signaling thread owns it. */
#ifndef SIGNALING_CONNLIMIT_H
#define SIGNALING_CONNLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CONNLIMIT_ADDR_MAX 48 /* INET6_ADDRSTRLEN rounded up */

struct connlimit;

/* One open connection; made by connlimit_open, released by connlimit_close. */
struct connlimit_conn {
    struct connlimit_addr *addr; /* its address's entry; NULL when exempt */
    const void *owner;           /* whatever the caller ties it to (a wsi) */
    bool over;                   /* the address was over its limit when this one opened */
    double tokens;               /* requests it may make at once now */
    int64_t tokens_at_ms;        /* when tokens was brought up to date; 0 = never */
};

/* max_per_addr 0 means no limit. exempt: addresses separated by commas or spaces ("" or
 * "none": none). Each connection may make `rate` requests a second, `burst` at once. NULL
 * when exempt holds something that is not an IP address, or no memory. */
struct connlimit *connlimit_new(int max_per_addr, const char *exempt, double rate, double burst);
void connlimit_free(struct connlimit *cl); /* after every connection was closed */

/* The text form of a peer's address for the functions below: numeric, with an IPv4-mapped
 * IPv6 address as plain IPv4. 0, or -1 for a family other than IPv4/IPv6. */
int connlimit_addr_text(const struct sockaddr *sa, char out[CONNLIMIT_ADDR_MAX]);

/* Counts one more connection from addr: under addr itself for IPv4, under its /64 for IPv6;
 * not at all when addr is exempt (exemption is by exact address). NULL when out of memory
 * (the caller should then refuse the connection). */
struct connlimit_conn *connlimit_open(struct connlimit *cl, const char *addr, const void *owner);
void connlimit_close(struct connlimit *cl, struct connlimit_conn *cc);

/* Takes one request from the connection's budget: false when it has none left now_ms
 * (any monotonic milliseconds, > 0). */
bool connlimit_take(const struct connlimit *cl, struct connlimit_conn *cc, int64_t now_ms);

/* Connections open now from addr (from its /64 for IPv6); 0 for an exempt address. */
int connlimit_count(const struct connlimit *cl, const char *addr);
int connlimit_max(const struct connlimit *cl);

#endif
