/*
 * notify.h - tells a service manager how the daemon is doing, with the
 * sd_notify(3) datagram protocol and without libsystemd: READY=1,
 * RELOADING=1, STOPPING=1, STATUS=... and the watchdog's WATCHDOG=1.
 * Without NOTIFY_SOCKET in the environment every call does nothing.  A
 * failure to notify is never fatal to the daemon, and no message ever
 * carries a secret.
 */
#ifndef SPOOLSHIP_NOTIFY_H
#define SPOOLSHIP_NOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "log.h"
#include "ship.h"
#include "spoolship.h"

/* How often notify_cron() sends a STATUS= line. */
#define NOTIFY_STATUS_MS 5000

/*
 * The notification channel of one daemon.  Fill it with notify_open();
 * it belongs to the thread that runs the daemon's loop (not thread-safe).
 */
struct notify {
	int fd;                 /* datagram socket; -1 when not notifying */
	struct sockaddr_un addr; /* NOTIFY_SOCKET */
	socklen_t addrlen;
	int64_t watchdog_ms;    /* WATCHDOG=1 period (half of WATCHDOG_USEC),
				 * 0 when the manager watches nothing */
	int64_t next_watchdog;  /* monotonic ms */
	int64_t next_status;    /* monotonic ms */
	struct logger *log;     /* not owned; may be NULL */
	int warned;             /* one warning for failed sends, not more */
};

/*
 * Reads NOTIFY_SOCKET (a path, or an abstract socket name when it starts
 * with '@'), WATCHDOG_USEC and WATCHDOG_PID from the environment and
 * prepares n.  The watchdog applies only when WATCHDOG_PID is unset or is
 * this process.  The environment is left as it is.  Always succeeds as
 * far as the caller is concerned: a bad NOTIFY_SOCKET is logged (log may
 * be NULL) and notifying is turned off.  Release with notify_close().
 */
void notify_open(struct notify *n, struct logger *log);

/* Closes the socket.  Safe on a closed or never-opened (zeroed, fd -1)
 * struct. */
void notify_close(struct notify *n);

/* 1 when NOTIFY_SOCKET named a usable socket. */
int notify_enabled(const struct notify *n);

/*
 * Sends one message, "KEY=value" lines separated by '\n' (at most 4 KiB).
 * Returns 0 (also when not notifying), or -errno of socket or sendto,
 * after logging the first such failure at warn.
 */
int notify_send(struct notify *n, const char *msg);

/* READY=1 with a STATUS= line; RELOADING=1 (with MONOTONIC_USEC, which
 * systemd 253 and later ask for); STOPPING=1.  Return as notify_send(). */
int notify_ready(struct notify *n, const char *status);
int notify_reloading(struct notify *n);
int notify_stopping(struct notify *n);

/*
 * The periodic part, called once per turn of the daemon's loop: sends
 * WATCHDOG=1 when half of WATCHDOG_USEC has passed since the last one,
 * and every NOTIFY_STATUS_MS a STATUS= line with the spool's pending
 * events (from spoolship_spool_stats() on s, when s is not NULL) and the
 * shipper's counters (c may be NULL).
 */
void notify_cron(struct notify *n, spoolship_spool *s,
		 const struct ship_counters *c);

/*
 * The longest the loop may wait before it must call notify_cron() again
 * to keep the watchdog fed: max_ms, or less when a WATCHDOG=1 is due
 * sooner (never below 1 ms).
 */
int64_t notify_wait_ms(const struct notify *n, int64_t max_ms);

#endif
