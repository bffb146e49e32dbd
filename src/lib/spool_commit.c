/*
 * spool_commit.c - the commit pipeline (spool_commit.h): validated events
 * of many callers, encoded and sealed outside the write txn, committed in
 * one txn
 * under the budget policy (spool_append.c), each caller told its own
 * outcome.  The only code that puts events into the spool.
 */
#define _POSIX_C_SOURCE 200809L
#include "spool_commit.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "clock.h"

/* ---- one txn for a list of requests ------------------------------------- */

/* LMDB's MDB_APPEND skips the B-tree search when every key we add sorts
 * after the last key of the database: true when no later stream exists. */
static int can_append(spoolship_spool *s, MDB_txn *txn, uint32_t id)
{
	MDB_cursor *c;
	MDB_val k, d;
	uint32_t last = 0;
	uint64_t seq;
	int rc;

	if (mdb_cursor_open(txn, s->events, &c) != 0)
		return 0;
	rc = mdb_cursor_get(c, &k, &d, MDB_LAST);
	if (rc == 0 && event_key_parse(k.mv_data, k.mv_size, &last, &seq))
		last = UINT32_MAX;
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || (rc == 0 && last <= id);
}

/* A txn of the list: its requests whose rc is 0 (the others failed
 * before it), or with one the first alone; rejected: added to
 * rejected_total with it. */
struct commit_job {
	struct spool_commit_req *reqs;
	int one;
	uint64_t rejected;
};

/* Puts one request's events: records encoded beforehand are copied,
 * others (in the clear only) encoded straight into LMDB's pages
 * (MDB_RESERVE). */
static int put_events(spoolship_spool *s, MDB_txn *txn,
		      struct spool_commit_req *r, struct stream_row *row,
		      int64_t now_ms)
{
	unsigned char key[EVENT_KEY_LEN];
	unsigned flags = MDB_RESERVE;
	uint64_t bytes = 0;
	MDB_cursor *c;
	int rc;

	if (can_append(s, txn, row->id))
		flags |= MDB_APPEND;
	if ((rc = mdb_cursor_open(txn, s->events, &c)) != 0)
		return spool_err(rc);
	for (size_t i = 0, off = 0; i < r->n; i++) {
		MDB_val k = { sizeof(key), key };
		MDB_val v = { spool_record_size(s, r->it[i].len), NULL };

		event_key(key, row->id, row->next_seq + i);
		if ((rc = mdb_cursor_put(c, &k, &v, flags)) != 0) {
			rc = spool_err(rc);
			break;
		}
		if (r->encoded)
			memcpy(v.mv_data, r->recs + off, v.mv_size);
		else
			record_encode(v.mv_data, r->it[i].event_ms, now_ms,
				      r->it[i].data, r->it[i].len);
		off += v.mv_size;
		bytes += v.mv_size - RECORD_HDR_LEN;
	}
	mdb_cursor_close(c);
	row->next_seq += r->n;
	row->pending_events += r->n;
	row->pending_bytes += bytes;
	return rc;
}

static int put_extra(spoolship_spool *s, MDB_txn *txn,
		     const struct spool_commit_extra *e)
{
	MDB_val k = { strlen(e->key), (void *)e->key };
	MDB_val d = { e->len, (void *)e->val };

	return spool_err(mdb_put(txn, s->meta, &k, &d, 0));
}

static int put_req(spoolship_spool *s, MDB_txn *txn,
		   struct spool_commit_req *r, int64_t now_ms)
{
	struct stream_row row;
	int rc = 0;

	/* Never seal in the txn: it would hold LMDB's writer lock while
	 * the cipher runs. */
	if (r->n > 0 && s->sealer != NULL && !r->encoded)
		return SPOOLSHIP_EINVAL;
	if (r->n > 0 &&
	    ((rc = stream_get_or_create(s, txn, r->table, &row)) != 0 ||
	     (rc = put_events(s, txn, r, &row, now_ms)) != 0 ||
	     (rc = stream_put(s, txn, r->table, &row)) != 0 ||
	     (rc = meta_add(s, txn, META_APPENDED, r->n)) != 0))
		return rc;
	for (size_t i = 0; i < r->nextra && rc == 0; i++)
		rc = put_extra(s, txn, &r->extra[i]);
	return rc;
}

static int commit_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	struct commit_job *j = arg;
	int64_t now_ms = clock_wall_ms();
	int rc = 0;

	for (struct spool_commit_req *r = j->reqs; r != NULL && rc == 0;
	     r = j->one ? NULL : r->next)
		if (r->rc == 0)
			rc = put_req(s, txn, r, now_ms);
	return rc != 0 ? rc : meta_add(s, txn, META_REJECTED, j->rejected);
}

/* ---- encoding ----------------------------------------------------------- */

int spool_commit_encode(spoolship_spool *s, struct spool_commit_req *r)
{
	size_t need = 0, off = 0;
	int rc = 0;

	if (r->encoded || r->n == 0)
		return r->rc = 0;
	for (size_t i = 0; i < r->n; i++)
		need += spool_record_size(s, r->it[i].len);
	if (array_grow((void **)&r->recs, &r->recs_cap, need, 1) != 0)
		return r->rc = -ENOMEM;
	r->append_ms = clock_wall_ms();
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		rc = spool_record_write(s, r->recs + off, r->it[i].event_ms,
					r->append_ms, r->it[i].data,
					r->it[i].len);
		off += spool_record_size(s, r->it[i].len);
	}
	r->encoded = rc == 0;
	return r->rc = rc;
}

/* Seals what is not yet: the cipher never runs in the txn. */
static int seal_first(spoolship_spool *s, struct spool_commit_req *r)
{
	return s->sealer != NULL ? spool_commit_encode(s, r) : 0;
}

void spool_commit_req_free(struct spool_commit_req *r)
{
	free(r->recs);
	r->recs = NULL;
	r->recs_cap = 0;
	r->encoded = 0;
}

/* ---- the list's commit -------------------------------------------------- */

static uint64_t need_of(const struct commit_job *j)
{
	uint64_t need = 0;

	for (const struct spool_commit_req *r = j->reqs; r != NULL;
	     r = j->one ? NULL : r->next) {
		if (r->rc != 0)
			continue;
		for (size_t i = 0; i < r->n; i++)
			need += r->it[i].len + RECORD_HDR_LEN +
				EVENT_KEY_LEN + 16;
		for (size_t i = 0; i < r->nextra; i++)
			need += strlen(r->extra[i].key) + r->extra[i].len + 16;
	}
	return spool_need_of(need);
}

static int nothing_to_write(const struct commit_job *j)
{
	for (const struct spool_commit_req *r = j->reqs; r != NULL;
	     r = j->one ? NULL : r->next)
		if (r->rc == 0 && (r->n > 0 || r->nextra > 0))
			return 0;
	return 1;
}

/* One txn for the requests of the list with rc 0 (one: the first only);
 * extra: rejections they bring. */
static int commit_list(spoolship_spool *s, struct spool_commit_req *reqs,
		       int one, uint64_t extra)
{
	struct commit_job j = { reqs, one, 0 };
	int rc;

	if (s->o.readonly)
		return SPOOLSHIP_EREADONLY;
	pthread_mutex_lock(&s->mu);
	j.rejected = s->rejected_unsaved + extra;
	s->rejected_unsaved = 0;
	pthread_mutex_unlock(&s->mu);
	if (j.rejected == 0 && nothing_to_write(&j))
		return 0;
	rc = spool_write_policy(s, need_of(&j), commit_txn, &j);
	if (rc != 0)
		spool_count_rejected(s, j.rejected);
	return rc;
}

/* Sets r->rc to 0 when r is to be tried: encoded (when the spool has a
 * key: sealed), its table a name, its chain not failed. */
static int ready(spoolship_spool *s, struct spool_commit_req *r)
{
	if (r->chain != NULL && r->chain->err != 0)
		r->rc = r->chain->err;
	else if (r->n > 0 && !spoolship_table_name_ok(r->table))
		r->rc = SPOOLSHIP_EINVAL;
	else
		r->rc = seal_first(s, r);
	return r->rc == 0;
}

static void outcome(struct spool_commit_req *r, int rc)
{
	r->rc = rc;
	if (rc != 0 && r->chain != NULL && r->chain->err == 0)
		r->chain->err = rc;
}

/* Each request of the list still to try, alone and in order: after a
 * group that did not fit, those that fit still get in.  The group's
 * rejections went back to rejected_unsaved: the first commit counts
 * them. */
static void commit_alone(spoolship_spool *s, struct spool_commit_req *reqs,
			 unsigned *txns)
{
	for (struct spool_commit_req *r = reqs; r != NULL; r = r->next) {
		if (r->rc != 0)
			continue;
		if (r->chain != NULL && r->chain->err != 0) {
			r->rc = r->chain->err;
			continue;
		}
		outcome(r, commit_list(s, r, 1, 0));
		(*txns)++;
	}
}

int spool_commit_run(spoolship_spool *s, struct spool_commit_req *reqs,
		     unsigned *txns)
{
	unsigned ntx = 0, nreq = 0;
	uint64_t extra = 0;
	int rc;

	for (struct spool_commit_req *r = reqs; r != NULL; r = r->next) {
		if (!ready(s, r)) {
			outcome(r, r->rc);
			continue;
		}
		extra += r->rejected;
		nreq++;
	}
	if (nreq > 0) {
		rc = commit_list(s, reqs, 0, extra);
		ntx++;
		if (rc == SPOOLSHIP_ESPOOL_FULL && nreq > 1)
			commit_alone(s, reqs, &ntx);
		else if (rc != 0)
			for (struct spool_commit_req *r = reqs; r != NULL;
			     r = r->next)
				if (r->rc == 0)
					outcome(r, rc);
	}
	if (txns != NULL)
		*txns = ntx;
	return reqs != NULL ? reqs->rc : 0;
}

/* ---- the pipe ----------------------------------------------------------- */

struct spool_pipe {
	spoolship_spool *s;
	size_t max_events, max_bytes;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* submitted, to encode (encoder thread only); encoded, to commit */
	struct spool_commit_req *in, **in_tail;
	struct spool_commit_req *ready, **ready_tail;
	pthread_t committer, encoder;
	int has_encoder, stop;
	int encoding; /* the encoder holds a request that is in neither list */
	_Atomic uint64_t txns;
};

static void queue_add(struct spool_commit_req ***tail,
		      struct spool_commit_req *r)
{
	r->next = NULL;
	**tail = r;
	*tail = &r->next;
}

static size_t req_bytes(const struct spool_commit_req *r)
{
	size_t b = 0;

	for (size_t i = 0; i < r->n; i++)
		b += r->it[i].len;
	return b;
}

/* Takes the requests one txn serves (at least one).  mu held. */
static struct spool_commit_req *take_group(struct spool_pipe *p)
{
	struct spool_commit_req *g = p->ready, *last = NULL, *r = p->ready;
	size_t events = 0, bytes = 0;

	while (r != NULL) {
		size_t b = req_bytes(r);

		if (last != NULL && (events + r->n > p->max_events ||
				     bytes + b > p->max_bytes))
			break;
		events += r->n;
		bytes += b;
		last = r;
		r = r->next;
	}
	last->next = NULL;
	p->ready = r;
	if (r == NULL)
		p->ready_tail = &p->ready;
	return g;
}

static void *committer_main(void *arg)
{
	struct spool_pipe *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct spool_commit_req *g, *next;
		unsigned ntx;

		if (p->ready == NULL) {
			/* Everything submitted is committed before it stops:
			 * also the request the encoder is working on. */
			if (p->stop && p->in == NULL && !p->encoding)
				break;
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		g = take_group(p);
		pthread_mutex_unlock(&p->mu);
		spool_commit_run(p->s, g, &ntx);
		atomic_fetch_add(&p->txns, ntx);
		/* After its callback a request may be freed at any time. */
		for (struct spool_commit_req *r = g; r != NULL; r = next) {
			next = r->next;
			r->done(r, r->arg);
		}
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Encodes (seals) what was submitted while the committer's txn runs, in
 * order. */
static void *encoder_main(void *arg)
{
	struct spool_pipe *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct spool_commit_req *r = p->in;

		if (r == NULL) {
			if (p->stop)
				break;
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		p->in = r->next;
		if (p->in == NULL)
			p->in_tail = &p->in;
		p->encoding = 1;
		pthread_mutex_unlock(&p->mu);
		/* A failure stays in r: the committer reports it. */
		if (r->chain == NULL || r->chain->err == 0)
			spool_commit_encode(p->s, r);
		pthread_mutex_lock(&p->mu);
		queue_add(&p->ready_tail, r);
		p->encoding = 0;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void pipe_free(struct spool_pipe *p)
{
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int spool_pipe_new(spoolship_spool *s, unsigned flags, size_t max_events,
		   size_t max_bytes, struct spool_pipe **out)
{
	struct spool_pipe *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return -ENOMEM;
	p->s = s;
	p->max_events = max_events;
	p->max_bytes = max_bytes;
	p->in_tail = &p->in;
	p->ready_tail = &p->ready;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if ((rc = pthread_create(&p->committer, NULL, committer_main, p))) {
		pipe_free(p);
		return -rc;
	}
	/* Without its thread the committer seals, outside the txn still. */
	if (((flags & SPOOL_PIPE_ENCODER) ||
	     ((flags & SPOOL_PIPE_SEALER) && s->sealer != NULL)) &&
	    pthread_create(&p->encoder, NULL, encoder_main, p) == 0)
		p->has_encoder = 1;
	*out = p;
	return 0;
}

void spool_pipe_submit(struct spool_pipe *p, struct spool_commit_req *r)
{
	pthread_mutex_lock(&p->mu);
	r->rc = 0;
	if (p->has_encoder && r->n > 0 && !r->encoded)
		queue_add(&p->in_tail, r);
	else
		queue_add(&p->ready_tail, r);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

uint64_t spool_pipe_txns(struct spool_pipe *p)
{
	return atomic_load(&p->txns);
}

uint64_t spool_pipe_close(struct spool_pipe *p)
{
	uint64_t txns;

	if (p == NULL)
		return 0;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->has_encoder)
		pthread_join(p->encoder, NULL);
	pthread_join(p->committer, NULL);
	txns = atomic_load(&p->txns);
	pipe_free(p);
	return txns;
}

/* ---- the room probe ----------------------------------------------------- */

#define PROBE_FITS 1 /* room_txn's "yes" (makes spool_write abort) */
#define PROBE_KEY "ingest-probe"

/* Reserves room for `bytes` in a txn that is then aborted: does a
 * request fit now?  An ESPOOL_FULL from the put grows the map up to the
 * budget first. */
static int room_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	MDB_val k = { sizeof(PROBE_KEY) - 1, PROBE_KEY };
	MDB_val v = { *(size_t *)arg, NULL };
	int rc = mdb_put(txn, s->meta, &k, &v, MDB_RESERVE);

	return rc != 0 ? spool_err(rc) : PROBE_FITS;
}

/* A real commit of that many bytes, and its removal: on an almost full
 * filesystem only a write tells whether LMDB has the pages (pages it
 * reuses need no room on the filesystem, new ones do). */
static int write_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	MDB_val k = { sizeof(PROBE_KEY) - 1, PROBE_KEY };
	MDB_val v = { *(size_t *)arg, NULL };
	int rc = mdb_put(txn, s->meta, &k, &v, MDB_RESERVE);

	if (rc == 0)
		memset(v.mv_data, 0, v.mv_size);
	return spool_err(rc);
}

static int unwrite_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	MDB_val k = { sizeof(PROBE_KEY) - 1, PROBE_KEY };
	int rc = mdb_del(txn, s->meta, &k, NULL);

	(void)arg;
	return rc == MDB_NOTFOUND ? 0 : spool_err(rc);
}

/* A tiny commit (a counter rewritten with its own value): LMDB reuses
 * pages freed by the shipper's deletes only a txn or two later. */
static int touch_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	uint64_t v;
	int rc = meta_get(s, txn, META_APPENDED, &v);

	(void)arg;
	return rc != 0 ? rc : meta_set(s, txn, META_APPENDED, v);
}

int spool_room_probe(spoolship_spool *s, int was, size_t bytes)
{
	uint64_t need;
	int rc;

	if (bytes < 4096)
		bytes = 4096;
	if (was != SPOOLSHIP_ESPOOL_FULL)
		return spool_write(s, 0, touch_txn, NULL);
	/* A tiny txn almost always fits, and says nothing about the
	 * requests being refused: reserve what the failed one needed, as an
	 * append's need (room that leaves the deletes' reserve). */
	need = spool_need_of(bytes);
	rc = spool_write_need(s, 0, need, room_txn, &bytes);
	if (rc == SPOOLSHIP_ESPOOL_FULL &&
	    (rc = spool_write(s, 1, touch_txn, NULL)) == 0)
		rc = spool_write_need(s, 0, need, room_txn, &bytes);
	/* Room in the map; on the filesystem too? */
	if (rc == PROBE_FITS && spool_fs_low(s, bytes) &&
	    (rc = spool_write_need(s, 0, need, write_txn, &bytes)) == 0)
		rc = spool_write(s, 1, unwrite_txn, NULL);
	return rc == PROBE_FITS ? 0 : rc;
}
