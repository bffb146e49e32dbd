/*
 * ship_delete.c - the shipper's deleter thread (ship_delete.h).  Each
 * commit takes every range queued meanwhile, so the deletes group on their
 * own while a sync runs.  It must never drop a range it failed to delete.
 */
#define _GNU_SOURCE
#include "ship_delete.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "clock.h"

#define RETRY_MIN_MS 10
#define RETRY_MAX_MS 1000

static int64_t retry_delay(unsigned failures)
{
	int64_t ms = RETRY_MIN_MS;

	while (failures-- > 1 && ms < RETRY_MAX_MS)
		ms *= 2;
	return ms < RETRY_MAX_MS ? ms : RETRY_MAX_MS;
}

/* Puts the failed commit's ranges back in front of the queue; called with
 * d->mu held.  Returns 0 or -ENOMEM (then they are not deleted by this
 * run: they stay in the spool and go again after a restart). */
static int requeue(struct deleter *d, size_t wn)
{
	size_t total = wn + d->n;

	if (array_grow((void **)&d->work, &d->wcap, total,
		       sizeof(*d->work)) != 0)
		return -ENOMEM;
	if (d->n > 0)
		memcpy(d->work + wn, d->q, d->n * sizeof(*d->q));
	/* Swap: the work buffer, now holding both, becomes the queue. */
	struct spool_range *t = d->q;
	size_t tc = d->cap;

	d->q = d->work;
	d->cap = d->wcap;
	d->n = total;
	d->work = t;
	d->wcap = tc;
	return 0;
}

static void *deleter_main(void *arg)
{
	struct deleter *d = arg;
	struct timespec ts;
	int64_t retry_at = 0;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		int64_t now = clock_mono_ms();

		if (d->n == 0 && d->stop)
			break;
		if (d->n == 0 || (!d->stop && retry_at > now)) {
			if (d->n == 0)
				pthread_cond_wait(&d->cv, &d->mu);
			else {
				clock_deadline(&ts, retry_at - now);
				pthread_cond_timedwait(&d->cv, &d->mu, &ts);
			}
			continue;
		}
		/* Take the whole queue: the buffers swap, nothing is copied. */
		struct spool_range *w = d->q;
		size_t wn = d->n, wc = d->cap;

		d->q = d->work;
		d->cap = d->wcap;
		d->n = 0;
		d->work = w;
		d->wcap = wc;
		d->busy = 1;
		pthread_mutex_unlock(&d->mu);

		uint64_t deleted = 0;
		int rc = spool_batch_delete(d->s, w, wn, &deleted);

		pthread_mutex_lock(&d->mu);
		d->busy = 0;
		if (rc == 0) {
			d->deleted += deleted;
			d->ranges += wn;
			d->failures = 0;
		} else {
			d->err = rc;
			d->err_batches = wn;
			d->failures++;
			retry_at = clock_mono_ms() + retry_delay(d->failures);
			if (requeue(d, wn) != 0)
				d->err = -ENOMEM;
		}
		if (d->notify_fd >= 0) {
			uint64_t one = 1;

			if (write(d->notify_fd, &one, sizeof(one)) < 0)
				(void)0; /* the counter is full: already woken */
		}
		/* Stopping: one attempt of what was left, no more. */
		if (rc != 0 && d->stop)
			break;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

int deleter_start(struct deleter *d, spoolship_spool *s, int notify_fd)
{
	pthread_condattr_t ca;
	int rc;

	memset(d, 0, sizeof(*d));
	d->s = s;
	d->notify_fd = notify_fd;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	d->inited = 1;
	rc = pthread_create(&d->thr, NULL, deleter_main, d);
	if (rc != 0)
		return -rc;
	d->started = 1;
	return 0;
}

int deleter_add(struct deleter *d, const struct spool_range *r, size_t n)
{
	int rc;

	pthread_mutex_lock(&d->mu);
	rc = array_grow((void **)&d->q, &d->cap, d->n + n, sizeof(*d->q));
	if (rc == 0) {
		memcpy(d->q + d->n, r, n * sizeof(*r));
		d->n += n;
		pthread_cond_signal(&d->cv);
	}
	pthread_mutex_unlock(&d->mu);
	return rc;
}

void deleter_collect(struct deleter *d, uint64_t *deleted, size_t *ranges,
		     int *err, size_t *batches)
{
	pthread_mutex_lock(&d->mu);
	*deleted = d->deleted;
	*ranges = d->ranges;
	*err = d->err;
	*batches = d->err_batches;
	d->deleted = 0;
	d->ranges = 0;
	d->err = 0;
	d->err_batches = 0;
	pthread_mutex_unlock(&d->mu);
}

int deleter_pending(struct deleter *d)
{
	int p;

	if (!d->inited)
		return 0;
	pthread_mutex_lock(&d->mu);
	p = d->n > 0 || d->busy;
	pthread_mutex_unlock(&d->mu);
	return p;
}

void deleter_stop(struct deleter *d)
{
	if (!d->started)
		return;
	pthread_mutex_lock(&d->mu);
	d->stop = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thr, NULL);
	d->started = 0;
}

void deleter_free(struct deleter *d)
{
	deleter_stop(d);
	if (!d->inited)
		return;
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d->q);
	free(d->work);
	memset(d, 0, sizeof(*d));
}
