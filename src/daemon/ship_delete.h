/*
 * ship_delete.h - the shipper's deleter: one thread that deletes
 * acknowledged batches from the spool in group commits, so that a
 * commit's fsync never stalls reading, sending and answering.
 *
 * It deletes only what it is given, and never forgets a range it could not
 * delete: a failed commit is tried again (its ranges first); after a crash
 * those events are simply sent again (duplicates, never a loss).
 */
#ifndef SPOOLSHIP_SHIP_DELETE_H
#define SPOOLSHIP_SHIP_DELETE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "spool.h"

struct deleter {
	spoolship_spool *s;
	int notify_fd;             /* eventfd written after each commit */
	pthread_t thr;
	int inited, started;
	pthread_mutex_t mu;        /* guards everything below */
	pthread_cond_t cv;         /* work, a retry due, or stop */
	struct spool_range *q;     /* waiting for the next commit */
	size_t n, cap;
	struct spool_range *work;  /* the commit running (thread only) */
	size_t wcap;
	int busy;                  /* a commit is running */
	int stop;
	unsigned failures;         /* commits failed in a row */
	uint64_t deleted;          /* events deleted, not yet collected */
	size_t ranges;             /* ranges deleted, not yet collected */
	int err;                   /* last failure, not yet collected */
	size_t err_batches;        /* batches that failure left waiting */
};

/*
 * Starts the thread over s (which must outlive the deleter).  notify_fd,
 * if not -1, is an eventfd the thread adds 1 to after every commit, so that
 * a caller waiting in poll() sees the result at once.  Returns 0, -ENOMEM
 * or -errno of pthread_create; d->started tells whether the thread runs.
 * Either way deleter_free() releases d.
 */
int deleter_start(struct deleter *d, spoolship_spool *s, int notify_fd);

/*
 * Queues n acknowledged ranges for the next commit (copied) and wakes the
 * thread.  Returns 0, or -ENOMEM with nothing queued (the caller keeps
 * them and tries again).  Thread-safe.
 */
int deleter_add(struct deleter *d, const struct spool_range *r, size_t n);

/*
 * Takes the results since the last call: events deleted and ranges done
 * (each range added is done once, when its commit succeeded); *err gets
 * the last failure (0 if none) and *batches how many ranges it left
 * waiting for the retry.  Thread-safe.
 */
void deleter_collect(struct deleter *d, uint64_t *deleted, size_t *ranges,
		     int *err, size_t *batches);

/* 1 while a range is queued or being deleted.  Thread-safe. */
int deleter_pending(struct deleter *d);

/*
 * Deletes what is queued (one more attempt if the last one failed), then
 * stops the thread; deleter_collect() still works.  What could not be
 * deleted stays in the spool (deleter_pending() says so).  Not to be
 * called concurrently with deleter_add().
 */
void deleter_stop(struct deleter *d);
/* Stops the thread if it runs and frees everything; d is zeroed. */
void deleter_free(struct deleter *d);

#endif
