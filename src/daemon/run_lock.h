/*
 * run_lock.h - one shipper per spool.  `spoolship run` holds an
 * exclusive flock(2) on DIR/ship.lock for its whole life, taken before
 * anything that could send or listen; a second `run` on the same spool,
 * whatever config or path (a symlink, a trailing slash) names it, finds
 * the lock held and refuses to start.  The kernel releases the lock when
 * its holder dies, even by kill -9, so a restart starts at once.
 *
 * It is not the spool's own DIR/spool.lock (shared by every handle,
 * exclusive for compact and salvage): appenders and readers never take
 * ship.lock, so they run beside the shipper as before.
 */
#ifndef SPOOLSHIP_RUN_LOCK_H
#define SPOOLSHIP_RUN_LOCK_H

#include <stddef.h>
#include <sys/types.h>

#define RUN_LOCK_NAME "ship.lock"

/*
 * Creates the directory dir when it does not exist (mode 0700, as the
 * spool would), opens DIR/ship.lock (mode 0600) and takes the lock
 * without waiting; on success writes this process's id into it (flock
 * cannot tell who holds a lock) and stores the descriptor in *fd, which
 * the caller keeps open as long as it ships.
 *
 * Returns 0; -EWOULDBLOCK when another process holds it, with that
 * process's id in *holder (0 when the file does not say yet); or -errno.
 * In every case where holds the directory's absolute path (or dir as
 * given when it cannot be resolved), for messages.
 */
int run_lock_take(const char *dir, int *fd, pid_t *holder, char *where,
		  size_t wherelen);

/* Releases the lock (closes fd; -1 is ignored).  The file stays: removing
 * it could let two processes lock two different files. */
void run_lock_release(int fd);

#endif
