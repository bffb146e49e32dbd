/*
 * producer.c - the buffered producer: validate now, commit many events in
 * one txn later (group commit).  A full buffer, a flush or the linger
 * thread hands the buffer to the commit pipeline (spool_commit.c), which
 * seals it outside the txn and commits every generation waiting at that
 * moment in one txn, so one fsync serves every thread.  Buffered events
 * are in memory only until that commit.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "clock.h"
#include "spool.h"
#include "spool_commit.h"
#include "validate.h"

#define RC_RING 64

/* One generation's buffer: filled under the producer's mu, then handed
 * to the commit pipeline as one request, freed once it is done. */
struct gen {
	struct spoolship_producer *p;
	uint64_t g;
	int bg;                   /* the linger thread's: nobody waits */
	struct spool_item *items; /* data fields are offsets until commit */
	size_t n, items_cap;
	char *data;
	size_t len, data_cap;
	struct spool_commit_req req;
};

struct spoolship_producer {
	spoolship_spool *s;
	char table[SPOOLSHIP_MAX_TABLE_LEN + 1];
	struct spoolship_producer_options o;
	pthread_mutex_t mu;
	pthread_cond_t cv;       /* buffer or commit state changed */
	pthread_t th;
	int stop;
	struct spool_pipe *pipe; /* seals and commits the generations */
	struct gen *cur;         /* the buffer of generation `gen`, or NULL */
	int64_t first_ms;        /* monotonic time of the first in buffer */
	uint64_t gen;            /* generation the buffer will commit as */
	uint64_t done;           /* last generation whose commit finished */
	int rc_of[RC_RING];      /* result by generation % RC_RING */
	int bg_err;              /* failure of a background commit */
};

void spoolship_producer_options_init(struct spoolship_producer_options *o)
{
	o->max_events = 10000;
	o->max_bytes = 8u << 20;
	o->linger_ms = 50;
}

static void gen_free(struct gen *b)
{
	free(b->items);
	free(b->data);
	spool_commit_req_free(&b->req);
	free(b);
}

/* Room in the buffer for one more event of `bytes`.  mu held. */
static int buf_reserve(spoolship_producer *p, size_t bytes)
{
	struct gen *b = p->cur;
	size_t need;

	if (b == NULL && (b = p->cur = calloc(1, sizeof(*b))) == NULL)
		return -ENOMEM;
	need = b->len + bytes < 65536 ? 65536 : b->len + bytes;
	if (array_grow((void **)&b->items, &b->items_cap, b->n + 1,
		       sizeof(*b->items)) != 0 ||
	    array_grow((void **)&b->data, &b->data_cap, need, 1) != 0)
		return -ENOMEM;
	return 0;
}

/* The pipe's callback: generation b's outcome.  Generations are
 * committed in order, so done only grows. */
static void gen_done(struct spool_commit_req *r, void *arg)
{
	struct gen *b = arg;
	spoolship_producer *p = b->p;

	pthread_mutex_lock(&p->mu);
	p->rc_of[b->g % RC_RING] = r->rc;
	p->done = b->g;
	if (b->bg && r->rc != 0 && p->bg_err == 0)
		p->bg_err = r->rc;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	gen_free(b);
}

/* Hands the current buffer to the pipe as its generation.  mu held (so
 * generations reach the pipe in order); the pipe seals and commits. */
static void commit_locked(spoolship_producer *p, int bg)
{
	struct gen *b = p->cur;

	p->cur = NULL;
	b->p = p;
	b->g = p->gen++;
	b->bg = bg;
	for (size_t i = 0; i < b->n; i++)
		b->items[i].data = b->data +
				   (size_t)(uintptr_t)b->items[i].data;
	b->req.table = p->table;
	b->req.it = b->items;
	b->req.n = b->n;
	b->req.done = gen_done;
	b->req.arg = b;
	spool_pipe_submit(p->pipe, &b->req);
}

/* Waits until generation target is committed, handing it to the pipe
 * when it is still the buffer.  mu held. */
static int wait_gen(spoolship_producer *p, uint64_t target)
{
	while (p->done < target) {
		if (p->gen == target && p->cur != NULL)
			commit_locked(p, 0);
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
		if (p->cur == NULL) {
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
		commit_locked(p, 1);
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
	if (opts != NULL)
		p->o = *opts;
	else
		spoolship_producer_options_init(&p->o);
	if (p->o.max_events == 0 || p->o.max_bytes == 0) {
		free(p);
		return SPOOLSHIP_EINVAL;
	}
	p->gen = 1;
	rc = spool_pipe_new(s, SPOOL_PIPE_SEALER, SPOOL_GROUP_EVENTS,
			    SPOOL_GROUP_BYTES, &p->pipe);
	if (rc != 0) {
		free(p);
		return rc;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&p->th, NULL, linger_main, p);
	if (rc != 0) {
		spool_pipe_close(p->pipe);
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
		struct gen *b = p->cur;

		if (b->n == 0) {
			p->first_ms = clock_mono_ms();
			pthread_cond_broadcast(&p->cv); /* start the linger */
		}
		memcpy(b->data + b->len, buf, outlen);
		b->items[b->n].data = (const char *)(uintptr_t)b->len;
		b->items[b->n].len = outlen;
		b->items[b->n].event_ms = event_ms;
		b->n++;
		b->len += outlen;
		/* A full buffer is waited for by the thread that filled it:
		 * that is the producer's back-pressure. */
		if (b->n >= p->o.max_events || b->len >= p->o.max_bytes) {
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
	target = p->cur != NULL ? p->gen : p->gen - 1;
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
	spool_pipe_close(p->pipe); /* every generation handed over done */
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	if (p->cur != NULL)
		gen_free(p->cur);
	free(p);
	return rc;
}
