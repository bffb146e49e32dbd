/*
 * wake.h - tells the shipper that producers wrote to the spool, without
 * polling it: inotify on the spool's data file.  When inotify is not
 * available the descriptor is -1 and the caller falls back to a short
 * periodic check.
 */
#ifndef SPOOLSHIP_WAKE_H
#define SPOOLSHIP_WAKE_H

struct wake {
	int fd; /* readable when data.mdb was written; -1 if unavailable */
};

/* Watches dir/data.mdb.  Never fails: without inotify, w->fd is -1. */
void wake_open(struct wake *w, const char *dir);
/* Empties the descriptor's queue; returns 1 if anything was there. */
int wake_drain(struct wake *w);
void wake_close(struct wake *w);

#endif
