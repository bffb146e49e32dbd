/*
 * wake.c - see wake.h.  LMDB writes the data file with pwrite(), so every
 * commit of any process raises IN_MODIFY on it; inotify merges repeats,
 * and the shipper only needs "something changed", never what.
 */
#define _GNU_SOURCE
#include "wake.h"

#include <errno.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>

void wake_open(struct wake *w, const char *dir)
{
	char path[4096];

	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (inotify_add_watch(w->fd, path, IN_MODIFY) < 0) {
		close(w->fd);
		w->fd = -1;
	}
}

int wake_drain(struct wake *w)
{
	char buf[4096];
	int any = 0;

	if (w->fd < 0)
		return 0;
	for (;;) {
		ssize_t r = read(w->fd, buf, sizeof(buf));

		if (r > 0) {
			any = 1;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		return any;
	}
}

void wake_close(struct wake *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
