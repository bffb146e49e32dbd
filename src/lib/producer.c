/*
 * producer.c - the buffered producer: validate now, commit many events in
 * one txn later (group commit).  Whoever needs a commit first does it while
 * the others wait for its result, so one fsync serves every thread waiting
 * at that moment: the buffer goes through the commit pipeline
 * (spool_append_items, spool_commit.c) in that thread, which seals it
 * outside the txn in an encrypted spool.  A pipe's thread would cost two
 * thread wake-ups per commit that nothing overlaps here (one thread
 * fills, then waits for its own generation).  Buffered events are in
 * memory only until that commit.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "clock.h"
#include "layout.h"
#include "spool.h"
#include "validate.h"

#define RC_RING 64

struct spoolship_producer {
	spoolship_spool *s;
	char table[SPOOLSHIP_MAX_TABLE_LEN + 1];
	struct spoolship_producer_options o;
	pthread_mutex_t mu;
	pthread_cond_t cv;       /* buffer or commit state changed */
	pthread_t th;
	int stop;
	/* the buffer of generation `gen` */
	struct spool_item *items; /* data fields are offsets until commit */
	size_t n, items_cap;
	char *data;
	size_t len, data_cap;
	int64_t first_ms;        /* monotonic time of the first in buffer */
	uint64_t gen;            /* generation the buffer will commit as */
	uint64_t done;           /* last generation whose commit finished */
	int committing;
	int rc_of[RC_RING];      /* result by generation % RC_RING */
	int bg_err;              /* failure of a background commit */
};

void spoolship_producer_options_init(struct spoolship_producer_options *o)
{
	o->size = sizeof(*o);
	o->max_events = 10000;
	o->max_bytes = 8u << 20;
	o->linger_ms = 50;
}

static int buf_reserve(spoolship_producer *p, size_t bytes)
{
	size_t need = p->len + bytes < 65536 ? 65536 : p->len + bytes;

	if (array_grow((void **)&p->items, &p->items_cap, p->n + 1,
		       sizeof(*p->items)) != 0 ||
	    array_grow((void **)&p->data, &p->data_cap, need, 1) != 0)
		return -ENOMEM;
	return 0;
}

/* Commits the current buffer as its generation; called with mu held and
 * committing == 0, returns with mu held. */
static void commit_locked(spoolship_producer *p)
{
	struct spool_item *items = p->items;
	char *data = p->data;
	size_t n = p->n;
	uint64_t g = p->gen;
	int rc;

	p->items = NULL;
	p->data = NULL;
	p->n = p->len = p->items_cap = p->data_cap = 0;
	p->gen++;
	p->committing = 1;
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < n; i++)
		items[i].data = data + (size_t)(uintptr_t)items[i].data;
	rc = spool_append_items(p->s, p->table, items, n, 0);
	free(items);
	free(data);
	pthread_mutex_lock(&p->mu);
	p->rc_of[g % RC_RING] = rc;
	p->done = g;
	p->committing = 0;
	pthread_cond_broadcast(&p->cv);
}

/* Waits until generation target is committed, committing it ourselves
 * when nobody else is.  mu held. */
static int wait_gen(spoolship_producer *p, uint64_t target)
{
	while (p->done < target) {
		if (!p->committing && p->gen == target)
			commit_locked(p);
		else
			pthread_cond_wait(&p->cv, &p->mu);
	}
	return p->rc_of[target % RC_RING];
}

static void *linger_main(void *arg)
{
	spoolship_producer *p = arg;
	struct timespec ts;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		if (p->n == 0 || p->committing) {
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		int64_t due = p->first_ms + p->o.linger_ms;
		int64_t now = clock_mono_ms();

		if (now < due) {
			clock_deadline(&ts, due - now);
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
			continue;
		}
		uint64_t g = p->gen;

		commit_locked(p);
		if (p->rc_of[g % RC_RING] != 0 && p->bg_err == 0)
			p->bg_err = p->rc_of[g % RC_RING];
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int spoolship_producer_new(spoolship_spool *s, const char *table,
			   const struct spoolship_producer_options *opts,
			   spoolship_producer **out)
{
	spoolship_producer *p;
	pthread_condattr_t ca;
	int rc;

	if (s == NULL || out == NULL || !spoolship_table_name_ok(table))
		return SPOOLSHIP_EINVAL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	p->s = s;
	memcpy(p->table, table, strlen(table) + 1);
	if (producer_options_import(opts, &p->o, NULL, 0) != 0 ||
	    p->o.max_events == 0 || p->o.max_bytes == 0) {
		free(p);
		return SPOOLSHIP_EINVAL;
	}
	p->gen = 1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&p->th, NULL, linger_main, p);
	if (rc != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return -rc;
	}
	*out = p;
	return 0;
}

int spoolship_producer_append(spoolship_producer *p, const char *event,
			      size_t len, char *errbuf, size_t errlen)
{
	struct validate_opts vo;
	char stackbuf[4096], *buf = stackbuf;
	size_t cap = len + VALIDATE_SLACK, outlen;
	int64_t event_ms;
	int rc;

	if (p == NULL || (event == NULL && len > 0))
		return SPOOLSHIP_EINVAL;
	if (cap > sizeof(stackbuf) && (buf = malloc(cap)) == NULL)
		return -ENOMEM;
	spool_validate_opts(p->s, &vo);
	rc = validate_event(event, len, &vo, buf, cap, &outlen, &event_ms,
			    errbuf, errlen);
	if (rc != 0) {
		spool_count_rejected(p->s, 1);
		goto out;
	}
	pthread_mutex_lock(&p->mu);
	if (p->bg_err != 0) {
		rc = p->bg_err;
		p->bg_err = 0;
	} else if ((rc = buf_reserve(p, outlen)) == 0) {
		if (p->n == 0) {
			p->first_ms = clock_mono_ms();
			pthread_cond_broadcast(&p->cv); /* start the linger */
		}
		memcpy(p->data + p->len, buf, outlen);
		p->items[p->n].data = (const char *)(uintptr_t)p->len;
		p->items[p->n].len = outlen;
		p->items[p->n].event_ms = event_ms;
		p->n++;
		p->len += outlen;
		/* A full buffer is committed by the thread that filled it:
		 * that is the producer's back-pressure. */
		if (p->n >= p->o.max_events || p->len >= p->o.max_bytes) {
			uint64_t g = p->gen;

			if (wait_gen(p, g) != 0)
				rc = p->rc_of[g % RC_RING];
		}
	}
	pthread_mutex_unlock(&p->mu);
out:
	if (buf != stackbuf)
		free(buf);
	return rc;
}

int spoolship_producer_flush(spoolship_producer *p)
{
	uint64_t target;
	int rc;

	if (p == NULL)
		return SPOOLSHIP_EINVAL;
	pthread_mutex_lock(&p->mu);
	/* Our events are in the buffer (gen) or in the commit under way. */
	target = p->n > 0 ? p->gen : p->gen - 1;
	rc = target == 0 ? 0 : wait_gen(p, target);
	if (rc == 0 && p->bg_err != 0) {
		rc = p->bg_err;
		p->bg_err = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int spoolship_producer_close(spoolship_producer *p)
{
	int rc;

	if (p == NULL)
		return 0;
	rc = spoolship_producer_flush(p);
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->items);
	free(p->data);
	free(p);
	return rc;
}
