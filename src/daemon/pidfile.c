/*
 * pidfile.c - [run] pid_file: the check that keeps a second shipper off
 * one spool, the atomic write (temporary file + rename) and the removal
 * on exit.  It must never remove or overwrite a live process's file.
 */
#define _POSIX_C_SOURCE 200809L
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads the pid held by path into *pid (0 when the content is not a
 * pid).  Returns 0, or -errno (-ENOENT when there is no file). */
static int read_pid(const char *path, pid_t *pid)
{
	char buf[32], *end;
	ssize_t n;
	long v;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*pid = 0;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno == 0 && end != buf && (*end == '\n' || *end == '\0') &&
	    v > 0 && v == (long)(pid_t)v)
		*pid = (pid_t)v;
	return 0;
}

/* 0 when /proc shows that pid runs a program other than spoolship (the
 * pid was reused since the file was written): the last part of its
 * argv[0] does not hold "spoolship".  1 otherwise, including when /proc
 * cannot tell. */
static int looks_like_spoolship(pid_t pid)
{
	char path[64], cmd[4096];
	const char *base;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return 1; /* a zombie, or hidden: do not guess */
	cmd[n] = '\0'; /* argv[0] ends at the first NUL */
	base = strrchr(cmd, '/');
	return strstr(base != NULL ? base + 1 : cmd, "spoolship") != NULL;
}

int pidfile_check(const char *path, pid_t *live, pid_t *stale)
{
	pid_t pid;
	int rc = read_pid(path, &pid);

	*live = 0;
	*stale = 0;
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (pid == 0 || pid == getpid())
		return 0;
	if ((kill(pid, 0) == 0 || errno == EPERM) &&
	    looks_like_spoolship(pid)) {
		*live = pid;
		return -EEXIST;
	}
	*stale = pid;
	return 0;
}

int pidfile_write(const char *path)
{
	char tmp[4200], line[32];
	int fd, n, rc = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, line, (size_t)n) != n)
		rc = errno != 0 ? -errno : -EIO;
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int pidfile_remove(const char *path)
{
	pid_t pid;

	if (read_pid(path, &pid) != 0 || pid != getpid())
		return 0;
	return unlink(path) == 0 ? 0 : -errno;
}
