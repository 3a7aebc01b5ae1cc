/* IP address text to a socket address. */
#ifndef MCU_NETADDR_H
#define MCU_NETADDR_H

#include <sys/socket.h>

/* Parses an IPv4 or IPv6 literal (no brackets) with a port into *ss. 0, or -EINVAL. */
int netaddr_parse(const char *text, int port, struct sockaddr_storage *ss, socklen_t *len);

#endif
