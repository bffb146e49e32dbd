/*
 * listen_addr.h - "HOST:PORT" or "[V6]:PORT" to a socket address, for the
 * daemon's HTTP listeners.
 */
#ifndef SPOOLSHIP_LISTEN_ADDR_H
#define SPOOLSHIP_LISTEN_ADDR_H

#include <sys/socket.h>

/* Fills *ss and sets *v6 (1 for IPv6).  Returns 0 or SPOOLSHIP_EINVAL. */
int listen_addr_resolve(const char *listen, struct sockaddr_storage *ss,
			int *v6);

#endif
