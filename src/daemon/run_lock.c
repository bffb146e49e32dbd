/*
 * run_lock.c - DIR/ship.lock: one `spoolship run` per spool (see
 * run_lock.h for why a kernel lock and why this file).
 */
#define _GNU_SOURCE
#include "run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* How long a refused run waits for the holder to write its id: the
 * holder writes it right after taking the lock, so only a start at the
 * same moment sees an empty file. */
#define PID_WAIT_MS 500

static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long v;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || v <= 0 || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

/* The holder's id, waiting a little for a holder that just started. */
static pid_t holder_of(int fd)
{
	int64_t end = clock_mono_ms() + PID_WAIT_MS;
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	pid_t p;

	while ((p = read_pid(fd)) == 0 && clock_mono_ms() < end)
		nanosleep(&ts, NULL);
	return p;
}

/*
 * The pid is written in place, padded to a fixed width, never truncated
 * first: the file keeps the block its first write took, so a run on a
 * full filesystem (started to drain it) still records its pid.  A write
 * that fails even so (the very first on a full filesystem) is not fatal:
 * the lock is what keeps a second shipper out; the refusal then says
 * pid 0 (unknown).
 */
#define PID_WIDTH 20
static void write_pid(int fd)
{
	char buf[PID_WIDTH + 2];
	int n = snprintf(buf, sizeof(buf), "%-*ld\n", PID_WIDTH,
			 (long)getpid());

	if (pwrite(fd, buf, (size_t)n, 0) != (ssize_t)n) {
		/* Nothing useful in the file: say "unknown", not a stale
		 * pid (ftruncate frees blocks, so it cannot fail for room). */
		if (ftruncate(fd, 0) != 0)
			return;
	}
}

static void resolve(const char *dir, char *where, size_t wherelen)
{
	char *abs = realpath(dir, NULL);

	snprintf(where, wherelen, "%s", abs != NULL ? abs : dir);
	free(abs);
}

int run_lock_take(const char *dir, int *fd, pid_t *holder, char *where,
		  size_t wherelen)
{
	char path[PATH_MAX];
	int f = -1, rc = 0;

	*fd = -1;
	*holder = 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		goto out;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, RUN_LOCK_NAME) >=
	    (int)sizeof(path)) {
		rc = -ENAMETOOLONG;
		goto out;
	}
	/* O_CLOEXEC: a child must not keep the spool locked after we die */
	f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f < 0) {
		rc = -errno;
		goto out;
	}
	if (flock(f, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
		if (rc == -EWOULDBLOCK)
			*holder = holder_of(f);
		goto out;
	}
	write_pid(f);
out:
	resolve(dir, where, wherelen);
	if (rc != 0 && f >= 0)
		close(f);
	else if (rc == 0)
		*fd = f;
	return rc;
}

void run_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
