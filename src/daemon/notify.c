/*
 * notify.c - the sd_notify(3) protocol spoken by hand: one AF_UNIX
 * datagram of "KEY=value" lines per message to $NOTIFY_SOCKET.  libsystemd
 * is not a dependency, and nothing here may stop the daemon: a manager
 * that does not listen costs a warning, never an exit.
 */
#define _GNU_SOURCE
#include "notify.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

#define NOTIFY_MSG_MAX 4096

/* Parses a decimal unsigned number that fills all of s. */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* The watchdog period from WATCHDOG_USEC / WATCHDOG_PID: 0 for none. */
static int64_t watchdog_period_ms(void)
{
	const char *pid = getenv("WATCHDOG_PID");
	uint64_t usec, p;

	if (parse_u64(getenv("WATCHDOG_USEC"), &usec) != 0 || usec == 0)
		return 0;
	/* A watchdog meant for another process (our parent, say). */
	if (pid != NULL && *pid != '\0' &&
	    (parse_u64(pid, &p) != 0 || p != (uint64_t)getpid()))
		return 0;
	/* Half the manager's limit, as sd_watchdog_enabled(3) advises. */
	usec /= 2000;
	return usec == 0 ? 1 : usec > INT64_MAX / 4 ? INT64_MAX / 4
						    : (int64_t)usec;
}

void notify_open(struct notify *n, struct logger *log)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->log = log;
	if (path == NULL || *path == '\0')
		return;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len < 2 ||
	    len >= sizeof(n->addr.sun_path)) {
		log_warn(log, "NOTIFY_SOCKET is not a socket path this "
			 "spoolship can use, not notifying socket=%s", path);
		return;
	}
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@') {
		/* Abstract namespace: a leading NUL, no terminator. */
		n->addr.sun_path[0] = '\0';
		n->addrlen = (socklen_t)(offsetof(struct sockaddr_un,
						  sun_path) + len);
	} else {
		n->addrlen = (socklen_t)(offsetof(struct sockaddr_un,
						  sun_path) + len + 1);
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		log_warn(log, "cannot create the notification socket, not "
			 "notifying error=\"%s\"", strerror(errno));
		return;
	}
	n->watchdog_ms = watchdog_period_ms();
	n->next_watchdog = clock_mono_ms(); /* the first cron feeds it */
	n->next_status = clock_mono_ms() + NOTIFY_STATUS_MS;
	if (n->watchdog_ms > 0)
		log_info(log, "watchdog enabled interval_ms=%lld",
			 (long long)n->watchdog_ms);
}

void notify_close(struct notify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

int notify_enabled(const struct notify *n)
{
	return n->fd >= 0;
}

int notify_send(struct notify *n, const char *msg)
{
	size_t len = strlen(msg);
	ssize_t w;

	if (n->fd < 0)
		return 0;
	if (len > NOTIFY_MSG_MAX)
		return -EMSGSIZE;
	do {
		w = sendto(n->fd, msg, len, MSG_NOSIGNAL,
			   (const struct sockaddr *)&n->addr, n->addrlen);
	} while (w < 0 && errno == EINTR);
	if (w < 0) {
		int err = errno;

		if (!n->warned)
			log_warn(n->log, "cannot notify the service manager "
				 "error=\"%s\"", strerror(err));
		n->warned = 1;
		return -err;
	}
	if (n->warned)
		log_info(n->log, "notifying the service manager again");
	n->warned = 0;
	return 0;
}

int notify_ready(struct notify *n, const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	return notify_send(n, msg);
}

int notify_reloading(struct notify *n)
{
	char msg[128];

	/* CLOCK_MONOTONIC in usec: how systemd 253+ tells reloads apart. */
	snprintf(msg, sizeof(msg),
		 "RELOADING=1\nSTATUS=reloading the configuration\n"
		 "MONOTONIC_USEC=%" PRId64, clock_mono_ms() * 1000);
	return notify_send(n, msg);
}

int notify_stopping(struct notify *n)
{
	return notify_send(n, "STOPPING=1\nSTATUS=stopping: waiting for "
			   "requests in flight");
}

static void send_status(struct notify *n, spoolship_spool *s,
			const struct ship_counters *c)
{
	struct spoolship_stats st;
	char msg[256];
	int len = snprintf(msg, sizeof(msg), "STATUS=shipping");

	spoolship_stats_init(&st);
	if (s != NULL && spoolship_spool_stats(s, &st) == 0) {
		len += snprintf(msg + len, sizeof(msg) - (size_t)len,
				": %llu pending",
				(unsigned long long)st.pending_events);
		spoolship_stats_free(&st);
	}
	if (c != NULL)
		snprintf(msg + len, sizeof(msg) - (size_t)len,
			 "%s%llu shipped, %u in flight, %llu requests",
			 strchr(msg, ':') != NULL ? ", " : ": ",
			 (unsigned long long)c->events_shipped, c->in_flight,
			 (unsigned long long)c->requests);
	notify_send(n, msg);
}

void notify_cron(struct notify *n, spoolship_spool *s,
		 const struct ship_counters *c)
{
	int64_t now;

	if (n->fd < 0)
		return;
	now = clock_mono_ms();
	if (n->watchdog_ms > 0 && now >= n->next_watchdog) {
		notify_send(n, "WATCHDOG=1");
		n->next_watchdog = now + n->watchdog_ms;
	}
	if (now >= n->next_status) {
		send_status(n, s, c);
		n->next_status = now + NOTIFY_STATUS_MS;
	}
}

int64_t notify_wait_ms(const struct notify *n, int64_t max_ms)
{
	int64_t left;

	if (n->fd < 0 || n->watchdog_ms == 0)
		return max_ms;
	left = n->next_watchdog - clock_mono_ms();
	if (left < 1)
		left = 1;
	return left < max_ms ? left : max_ms;
}
