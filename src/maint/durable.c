/*
 * durable.c - see durable.h.  Only fsyncs: it never creates, renames or
 * removes anything.
 */
#define _POSIX_C_SOURCE 200809L
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int durable_sync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

int durable_sync_parent(const char *path)
{
	char dir[4096];
	size_t n = strlen(path);
	char *slash;

	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n + 1);
	while (n > 1 && dir[n - 1] == '/') /* "a/b/" is in "a" */
		dir[--n] = '\0';
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return durable_sync_path(dir, O_RDONLY | O_DIRECTORY);
}
