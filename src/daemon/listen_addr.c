/*
 * listen_addr.c - turns a [ingest]/[metrics] listen value into a socket
 * address.  Numeric only (config.c has checked the value): it never
 * resolves a host name over the network.
 */
#define _POSIX_C_SOURCE 200809L
#include "listen_addr.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

#include "spoolship.h"

int listen_addr_resolve(const char *listen, struct sockaddr_storage *ss,
			int *v6)
{
	struct addrinfo hints, *res = NULL;
	char host[256];
	const char *end, *port, *h = listen;
	size_t n;

	if (listen[0] == '[') {
		end = strchr(listen, ']');
		if (end == NULL || end[1] != ':')
			return SPOOLSHIP_EINVAL;
		h++;
		port = end + 2;
	} else {
		end = strrchr(listen, ':');
		if (end == NULL)
			return SPOOLSHIP_EINVAL;
		port = end + 1;
	}
	n = (size_t)(end - h);
	if (n == 0 || n >= sizeof(host))
		return SPOOLSHIP_EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL)
		return SPOOLSHIP_EINVAL;
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return SPOOLSHIP_EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	return 0;
}
