/*
 * http_server.h - the daemon's HTTP listeners ([ingest] and [metrics]) on
 * libmicrohttpd: the listen address, the thread model, connection limits
 * and timeouts, libmicrohttpd's messages in our log, start and stop.  The
 * request handlers stay with their owners (ingest.c, metrics.c).
 */
#ifndef SPOOLSHIP_HTTP_SERVER_H
#define SPOOLSHIP_HTTP_SERVER_H

#include <stddef.h>

#include <microhttpd.h>

#include "log.h"

struct http_server_conf {
	const char *name;         /* "ingest", "metrics": the log prefix */
	const char *listen;       /* HOST:PORT or [V6]:PORT, numeric */
	struct logger *log;
	unsigned flags;           /* thread model on top of MHD's internal
				   * polling thread (MHD_USE_EPOLL, ...) */
	unsigned threads;         /* worker pool; 0: the one thread */
	unsigned max_connections;
	unsigned timeout_s;       /* idle connections are closed */
	size_t conn_memory;       /* buffers per connection; 0: MHD's */
	int quiet_running;        /* 1: once listening, what MHD says is
				   * debug, except its connection limit
				   * (a warning every 10 s at most) */
	MHD_AccessHandlerCallback on_access;
	MHD_RequestCompletedCallback on_completed;  /* may be NULL */
	MHD_NotifyConnectionCallback on_connection; /* may be NULL */
	void *cls;                /* the three callbacks' closure */
};

struct http_server;

/*
 * Resolves c->listen and starts listening.  Stores a server the caller
 * owns (http_server_stop) in *out.  Returns 0, SPOOLSHIP_EINVAL (the
 * address does not resolve), -ENOMEM or -errno of the listen; each
 * failure is logged as "NAME: cannot ...".
 */
int http_server_start(const struct http_server_conf *c,
		      struct http_server **out);

/* The port bound (the one chosen by the kernel for port 0). */
unsigned http_server_port(const struct http_server *h);

/* Stops accepting connections; those open go on until the stop. */
void http_server_quiesce(struct http_server *h);

/* Stops the server (after the handlers have returned) and frees it.
 * NULL is a no-op. */
void http_server_stop(struct http_server *h);

#endif
