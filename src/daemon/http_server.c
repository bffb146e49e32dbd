/*
 * http_server.c - one libmicrohttpd glue for the daemon's two listeners
 * (see http_server.h): ingest and metrics differ only in the values of
 * struct http_server_conf, so a fix to the start, the stop or the log
 * adapter reaches both.
 */
#define _GNU_SOURCE
#include "http_server.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "spoolship.h"

#define LIMIT_LOG_MS 10000 /* "connection limit reached" warnings */

struct http_server {
	struct MHD_Daemon *mhd;
	struct logger *log;
	const char *name;          /* the caller's static string */
	int quiet_running;
	_Atomic int running;       /* MHD started: quiet_running applies */
	_Atomic int64_t next_limit_log;
	unsigned port;
	MHD_socket lfd;            /* quiesced listening socket, or none */
};

/* ---- the listen address ------------------------------------------------- */

/* A [ingest]/[metrics] listen value as a socket address.  Numeric only
 * (config.c has checked the value): it never resolves a host name over
 * the network. */
static int listen_addr_resolve(const char *listen,
			       struct sockaddr_storage *ss, int *v6)
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

/* ---- libmicrohttpd's messages ------------------------------------------- */

/* What libmicrohttpd says while starting (cannot bind, ...) is a
 * warning.  A quiet server, once running, hears mostly of clients going
 * away: debug, except the connection limit, a warning at most every
 * LIMIT_LOG_MS. */
static int mhd_log_level(struct http_server *h, const char *msg)
{
	int64_t now, next;

	if (!h->quiet_running || !atomic_load(&h->running))
		return LOG_LVL_WARN;
	if (strstr(msg, "limit") == NULL)
		return LOG_LVL_DEBUG;
	now = clock_mono_ms();
	next = atomic_load(&h->next_limit_log);
	if (now < next || !atomic_compare_exchange_strong(
				  &h->next_limit_log, &next,
				  now + LIMIT_LOG_MS))
		return LOG_LVL_DEBUG;
	return LOG_LVL_WARN;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
	LOG_PRINTF(2, 0);

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *h = cls;
	char msg[512], q[600];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_quote(msg, q, sizeof(q));
	log_emit(h->log, mhd_log_level(h, msg),
		 "%s: libmicrohttpd says msg=%s", h->name, q);
}

/* ---- start and stop ----------------------------------------------------- */

/* The numeric options; a zero leaves MHD's default. */
static void numeric_options(const struct http_server_conf *c,
			    struct MHD_OptionItem *o)
{
	size_t i = 0;

	if (c->threads > 0)
		o[i++] = (struct MHD_OptionItem){
			MHD_OPTION_THREAD_POOL_SIZE, c->threads, NULL };
	o[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
					  c->max_connections, NULL };
	o[i++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
					  c->timeout_s, NULL };
	if (c->conn_memory > 0)
		o[i++] = (struct MHD_OptionItem){
			MHD_OPTION_CONNECTION_MEMORY_LIMIT,
			(intptr_t)c->conn_memory, NULL };
	o[i] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
}

static int start_mhd(struct http_server *h, const struct http_server_conf *c)
{
	struct sockaddr_storage ss;
	struct MHD_OptionItem opts[5];
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			 c->flags;
	const union MHD_DaemonInfo *di;
	int v6 = 0, rc;

	if ((rc = listen_addr_resolve(c->listen, &ss, &v6)) != 0) {
		log_error(h->log, "%s: cannot resolve the listen address "
			  "listen=%s", h->name, c->listen);
		return rc;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	numeric_options(c, opts);
	errno = 0;
	h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, c->on_access, c->cls,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_ARRAY, opts,
		MHD_OPTION_NOTIFY_COMPLETED, c->on_completed, c->cls,
		MHD_OPTION_NOTIFY_CONNECTION, c->on_connection, c->cls,
		MHD_OPTION_END);
	if (h->mhd == NULL) {
		rc = errno != 0 ? -errno : -EIO;
		log_error(h->log, "%s: cannot listen listen=%s error=\"%s\"",
			  h->name, c->listen, spoolship_strerror(rc));
		return rc;
	}
	atomic_store(&h->running, 1);
	di = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di != NULL ? di->port : 0;
	return 0;
}

int http_server_start(const struct http_server_conf *c,
		      struct http_server **out)
{
	struct http_server *h;
	int rc;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->log = c->log;
	h->name = c->name;
	h->quiet_running = c->quiet_running;
	h->lfd = MHD_INVALID_SOCKET;
	if ((rc = start_mhd(h, c)) != 0) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

unsigned http_server_port(const struct http_server *h)
{
	return h != NULL ? h->port : 0;
}

void http_server_quiesce(struct http_server *h)
{
	if (h != NULL && h->lfd == MHD_INVALID_SOCKET)
		h->lfd = MHD_quiesce_daemon(h->mhd);
}

void http_server_stop(struct http_server *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->mhd);
	/* A quiesced daemon leaves its listening socket to us. */
	if (h->lfd != MHD_INVALID_SOCKET)
		close(h->lfd);
	free(h);
}
