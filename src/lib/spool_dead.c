/*
 * spool_dead.c - the dead store, all of it but the record format
 * (record.c): events moved in (the shipper's dead letters and age-out),
 * the walks that select them (list, export) with their sealed events
 * opened, and the ways out: requeue to the end of a stream, purge.  Every
 * move and delete is counted in meta in the txn that does it; a record
 * that fails its check is never requeued as an event.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errf.h"
#include "array.h"
#include "spool.h"
#include "validate.h"

#define DEAD_TXN_MAX 1024    /* events moved or deleted per txn */
#define DEAD_SCAN_MAX 65536  /* records looked at per write txn */

/* ---- in: events moved from their stream -------------------------------- */

struct dead_job {
	uint32_t stream;
	const uint64_t *seqs;
	size_t n;
	const struct dead_info *di;
	uint64_t moved;
	int64_t now_ms;
	size_t from, upto;  /* seqs[from..upto) went in this txn */
	uint64_t cap;       /* bytes one txn moves at most (beyond one) */
};

static int dead_put_one(spoolship_spool *s, MDB_txn *txn, uint64_t dseq,
			const struct dead_record *dr)
{
	unsigned char key[DEAD_KEY_LEN];
	MDB_val k = { sizeof(key), key };
	MDB_val v = { dead_record_size(record_stored_len(&dr->r),
				       dr->excerpt_len), NULL };
	int rc;

	put_be64(key, dseq);
	rc = mdb_put(txn, s->dead, &k, &v, MDB_RESERVE | MDB_APPEND);
	if (rc != 0)
		return spool_err(rc);
	dead_record_encode(v.mv_data, dr);
	return 0;
}

static int dead_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	struct dead_job *j = arg;
	unsigned char key[EVENT_KEY_LEN];
	uint64_t next, bytes = 0;
	int rc = meta_get(s, txn, META_NEXT_DEAD, &next);

	j->moved = 0;
	if (rc != 0)
		return rc;
	if (next == 0)
		next = 1;
	for (j->upto = j->from; j->upto < j->n; j->upto++) {
		MDB_val k = { sizeof(key), key }, d;
		struct dead_record dr;
		unsigned char *copy;
		size_t i = j->upto;

		/* Each moved byte takes fresh pages from the reserve on a
		 * full disk: the rest goes in the next txn. */
		if (i > j->from && bytes >= j->cap)
			break;
		event_key(key, j->stream, j->seqs[i]);
		rc = mdb_get(txn, s->events, &k, &d);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0)
			return spool_err(rc);
		memset(&dr, 0, sizeof(dr));
		/* A copy: the put below may spill the page d points into. */
		if ((copy = malloc(d.mv_size)) == NULL)
			return -ENOMEM;
		memcpy(copy, d.mv_data, d.mv_size);
		if (record_decode(copy, d.mv_size, &dr.r, NULL, 0) != 0) {
			/* Keep a damaged record's bytes for inspection. */
			memset(&dr.r, 0, sizeof(dr.r));
			dr.r.data = (const char *)copy;
			dr.r.len = d.mv_size;
		}
		dr.stream = j->stream;
		dr.seq = j->seqs[i];
		dr.dead_ms = j->now_ms;
		dr.status = j->di->status;
		dr.reason = j->di->reason;
		dr.excerpt = j->di->excerpt;
		dr.excerpt_len = j->di->excerpt_len > 1024 ?
					 1024 : j->di->excerpt_len;
		if (dr.excerpt == NULL)
			dr.excerpt_len = 0;
		bytes += d.mv_size > RECORD_HDR_LEN ?
				 d.mv_size - RECORD_HDR_LEN : 0;
		rc = dead_put_one(s, txn, next++, &dr);
		free(copy);
		if (rc != 0)
			return rc;
		if ((rc = mdb_del(txn, s->events, &k, NULL)) != 0)
			return spool_err(rc);
		j->moved++;
	}
	if ((rc = stream_sub_pending(s, txn, j->stream, j->moved, bytes)) ||
	    (rc = meta_set(s, txn, META_NEXT_DEAD, next)) != 0 ||
	    (rc = meta_add(s, txn, META_DEAD, j->moved)) != 0)
		return rc;
	if (j->di->reason == DEAD_EXPIRED)
		rc = meta_add(s, txn, META_EXPIRED, j->moved);
	return rc;
}

int spool_dead_move(spoolship_spool *s, uint32_t stream, const uint64_t *seqs,
		    size_t n, const struct dead_info *di, uint64_t *moved)
{
	struct dead_job j = { stream, seqs, n, di, 0, clock_wall_ms(), 0, 0,
			      spool_reserve(s) / 2 };
	uint64_t total = 0;
	int rc;

	if (di == NULL || di->reason == 0 || di->reason > DEAD_REASON_MAX)
		return SPOOLSHIP_EINVAL;
	do {
		rc = spool_write(s, 1, dead_txn, &j);
		total += j.moved;
		j.from = j.upto;
	} while (rc == 0 && j.from < n);
	if (moved != NULL)
		*moved = total;
	return rc;
}

/* ---- filters ----------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A filter made ready for a walk: its sequences sorted, its table's
 * stream id looked up in the walk's txn. */
struct dfilt {
	const struct dead_filter *f;
	uint64_t *seqs; /* sorted copy, or NULL */
	size_t nseqs;
	uint32_t stream;
	int none;       /* the table does not exist: nothing matches */
};

static int dfilt_init(struct dfilt *df, const struct dead_filter *f)
{
	memset(df, 0, sizeof(*df));
	df->f = f;
	if (f == NULL || f->seqs == NULL || f->nseqs == 0)
		return 0;
	df->seqs = malloc(f->nseqs * sizeof(*df->seqs));
	if (df->seqs == NULL)
		return -ENOMEM;
	memcpy(df->seqs, f->seqs, f->nseqs * sizeof(*df->seqs));
	qsort(df->seqs, f->nseqs, sizeof(*df->seqs), cmp_u64);
	df->nseqs = f->nseqs;
	return 0;
}

static int dfilt_table(spoolship_spool *s, MDB_txn *txn, struct dfilt *df)
{
	struct stream_row row;
	int rc;

	df->none = 0;
	if (df->f == NULL || df->f->table == NULL)
		return 0;
	rc = stream_get(s, txn, df->f->table, &row);
	if (rc == SPOOLSHIP_ENOTFOUND) {
		df->none = 1;
		return 0;
	}
	df->stream = row.id;
	return rc;
}

/* The first dead sequence a walk needs to look at. */
static uint64_t dfilt_first(const struct dfilt *df)
{
	return df->nseqs > 0 ? df->seqs[0] : 1;
}

/* The start of requeue and purge: the filter checked and made ready,
 * and the first dead sequence their batches begin at. */
static int dfilt_start(spoolship_spool *s, const struct dead_filter *f,
		       struct dfilt *df, uint64_t *from)
{
	int rc;

	if (s == NULL || (f != NULL && f->reason > DEAD_REASON_MAX))
		return SPOOLSHIP_EINVAL;
	if ((rc = dfilt_init(df, f)) != 0)
		return rc;
	*from = dfilt_first(df);
	return 0;
}

/* 1 when dseq lies past every sequence the filter names. */
static int dfilt_past(const struct dfilt *df, uint64_t dseq)
{
	return df->nseqs > 0 && dseq > df->seqs[df->nseqs - 1];
}

static int dfilt_has_seq(const struct dfilt *df, uint64_t dseq)
{
	return df->nseqs == 0 || bsearch(&dseq, df->seqs, df->nseqs,
					 sizeof(*df->seqs), cmp_u64) != NULL;
}

/* Does a sound dead record match? */
static int dfilt_match(const struct dfilt *df, uint64_t dseq,
		       const struct dead_record *d)
{
	const struct dead_filter *f = df->f;

	if (df->none || !dfilt_has_seq(df, dseq))
		return 0;
	if (f == NULL)
		return 1;
	return (f->reason == 0 || d->reason == f->reason) &&
	       (f->table == NULL || d->stream == df->stream) &&
	       (f->died_before_ms == 0 || d->dead_ms < f->died_before_ms);
}

/* A damaged dead record matches only a filter that asks nothing it
 * would have to read from the record. */
static int dfilt_match_damaged(const struct dfilt *df, uint64_t dseq)
{
	const struct dead_filter *f = df->f;

	if (df->none || !dfilt_has_seq(df, dseq))
		return 0;
	return f == NULL || (f->reason == 0 && f->table == NULL &&
			     f->died_before_ms == 0);
}

/* Positions c on the first dead record at or after from.  On success k
 * points at the key in the page, not at the local buffer. */
static int seek_dead(MDB_cursor *c, uint64_t from, MDB_val *k, MDB_val *d)
{
	unsigned char buf[DEAD_KEY_LEN];

	put_be64(buf, from);
	k->mv_size = sizeof(buf);
	k->mv_data = buf;
	return mdb_cursor_get(c, k, d, MDB_SET_RANGE);
}

/* ---- stream names ------------------------------------------------------ */

/* The name of stream id among the streams read at the start of a walk
 * (dead records name their stream by id, and a walk over many of them
 * should not scan the table each time); "#ID" when it is gone. */
static const char *name_find(const struct spool_stream *v, size_t n,
			     uint32_t id, char *fallback, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == id)
			return v[i].name;
	snprintf(fallback, len, "#%u", id);
	return fallback;
}

/* ---- a dead record, opened -------------------------------------------- */

/* For the walks: decodes the dead record in d and opens its event when
 * sealed (not a corrupt one's bytes).  Returns 0, 1 when it is to be
 * skipped (unsound, or its tag fails: verify names it), or an error
 * (SPOOLSHIP_EKEYNEEDED, -ENOMEM). */
static int dead_record_open(spoolship_spool *s, const MDB_val *d,
			    struct dead_record *dr, struct spool_plain *p)
{
	int rc;

	if (dead_record_decode(d->mv_data, d->mv_size, dr, NULL, 0) != 0)
		return 1;
	/* A corrupt one keeps its bytes as they were: not opened. */
	if (dr->reason == DEAD_CORRUPT)
		return 0;
	rc = spool_unseal(s, &dr->r, p);
	return rc == SPOOLSHIP_ECORRUPT ? 1 : rc;
}

/* ---- select ------------------------------------------------------------ */

int spool_dead_select(spoolship_spool *s, const struct dead_filter *f,
		      size_t max, spool_dead_fn *fn, void *arg)
{
	struct spool_stream *names = NULL;
	struct dfilt df;
	size_t nnames = 0, shown = 0;
	char fallback[16];
	struct spool_plain plain = { NULL, 0 };
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, d;
	int rc, res = 0;

	if ((rc = dfilt_init(&df, f)) != 0)
		return rc;
	if ((rc = spool_txn_begin(s, 1, &txn)) != 0)
		goto out;
	if ((rc = dfilt_table(s, txn, &df)) != 0 ||
	    (rc = stream_list(s, txn, STREAM_EACH_SKIP, &names,
			      &nnames)) != 0)
		goto out;
	if (df.none)
		goto out;
	if ((rc = mdb_cursor_open(txn, s->dead, &c)) != 0) {
		rc = spool_err(rc);
		goto out;
	}
	for (rc = seek_dead(c, dfilt_first(&df), &k, &d);
	     rc == 0 && res == 0 && (max == 0 || shown < max);
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		struct dead_record dr;
		uint64_t dseq;

		if (k.mv_size != DEAD_KEY_LEN)
			continue;
		dseq = get_be64(k.mv_data);
		if (dfilt_past(&df, dseq))
			break;
		if ((res = dead_record_open(s, &d, &dr, &plain)) != 0 ||
		    !dfilt_match(&df, dseq, &dr)) {
			if (res < 0)
				break;
			res = 0;
			continue;
		}
		res = fn(arg, dseq, &dr,
			 name_find(names, nnames, dr.stream, fallback,
				   sizeof(fallback)));
		shown++;
	}
	rc = rc == MDB_NOTFOUND ? 0 : spool_err(rc);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		spool_txn_abort(s, txn);
	free(names);
	free(df.seqs);
	spool_plain_free(&plain);
	return res != 0 ? res : rc;
}

int spool_dead_walk(spoolship_spool *s, spool_dead_fn *fn, void *arg)
{
	return spool_dead_select(s, NULL, 0, fn, arg);
}

/* ---- the event of a dead record ---------------------------------------- */

/* 1 when data is an event exactly as validation at the door stores it. */
static int stored_form(const char *data, size_t len, int64_t *event_ms)
{
	struct validate_opts vo = { clock_wall_ms(), 0, 0,
				    SPOOLSHIP_MAX_EVENT_BYTES };
	size_t outlen = 0;
	char *out;
	int ok;

	if (len == 0 || len > SPOOLSHIP_MAX_EVENT_BYTES)
		return 0;
	out = malloc(len + VALIDATE_SLACK);
	if (out == NULL)
		return -ENOMEM;
	ok = validate_event(data, len, &vo, out, len + VALIDATE_SLACK, &outlen,
			    event_ms, NULL, 0) == 0 &&
	     outlen == len && memcmp(out, data, len) == 0;
	free(out);
	return ok;
}

/* Opens a sealed event (into p) for spool_dead_event(). */
static int dead_open(spoolship_spool *s, struct record *r,
		     struct spool_plain *p, char *why, size_t whylen)
{
	int rc = spool_unseal(s, r, p);

	if (rc == SPOOLSHIP_ECORRUPT)
		return errf(why, whylen, rc, "its sealed event fails "
			    "authentication (tampered, or another key)");
	return rc;
}

int spool_dead_event(spoolship_spool *s, const struct dead_record *d,
		     struct spool_plain *p, const char **data, size_t *len,
		     int64_t *event_ms, char *why, size_t whylen)
{
	struct record inner;
	char reason[128];
	int rc;

	if (d->reason != DEAD_CORRUPT) {
		inner = d->r;
		if ((rc = dead_open(s, &inner, p, why, whylen)) != 0)
			return rc;
		*data = inner.data;
		*len = inner.len;
		*event_ms = inner.event_ms;
		return 0;
	}
	/* A corrupt record was moved as it was: header, CRC and all. */
	if (!(d->r.flags & RECORD_F_SEALED) &&
	    record_decode(d->r.data, d->r.len, &inner, reason,
			  sizeof(reason)) == 0) {
		if ((rc = dead_open(s, &inner, p, why, whylen)) != 0)
			return rc;
		*data = inner.data;
		*len = inner.len;
		*event_ms = inner.event_ms;
		return 0;
	}
	if (d->r.flags & RECORD_F_SEALED)
		return errf(why, whylen, SPOOLSHIP_ECORRUPT, "its sealed event "
			    "failed authentication when it was shipped");
	rc = stored_form(d->r.data, d->r.len, event_ms);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		*data = d->r.data;
		*len = d->r.len;
		return 0;
	}
	return errf(why, whylen, SPOOLSHIP_ECORRUPT,
		    "its bytes still fail their check (%s)", reason);
}

/* ---- the sweeps of requeue and purge ----------------------------------- */

/* One dead record of a sweep: fn decides, sets *del when the sweep is to
 * delete it, and counts what it took; non-zero stops the sweep. */
typedef int dead_sweep_fn(spoolship_spool *s, MDB_txn *txn, void *arg,
			  uint64_t dseq, const MDB_val *d, int *del);

/* Walks the dead records of one write txn from `from` on, as far as the
 * filter may match, until *taken (fn's count) reaches DEAD_TXN_MAX or
 * DEAD_SCAN_MAX were looked at, deleting those fn asks for.  *next gets
 * where the next txn goes on (0: done).  The filter's table is looked up
 * in this txn first: none, nothing to sweep. */
static int dead_sweep(spoolship_spool *s, MDB_txn *txn, struct dfilt *df,
		      uint64_t from, dead_sweep_fn *fn, void *arg,
		      const size_t *taken, uint64_t *next)
{
	MDB_cursor *c;
	MDB_val k, d;
	size_t scanned = 0;
	int rc;

	*next = 0;
	if ((rc = dfilt_table(s, txn, df)) != 0 || df->none)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->dead, &c)) != 0)
		return spool_err(rc);
	rc = seek_dead(c, from, &k, &d);
	while (rc == 0) {
		uint64_t dseq;
		int del = 0;

		if (k.mv_size != DEAD_KEY_LEN) {
			rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
			continue;
		}
		dseq = get_be64(k.mv_data);
		if (dfilt_past(df, dseq))
			break;
		if (*taken >= DEAD_TXN_MAX || scanned >= DEAD_SCAN_MAX) {
			*next = dseq; /* the next txn goes on from here */
			break;
		}
		scanned++;
		if ((rc = fn(s, txn, arg, dseq, &d, &del)) != 0)
			break;
		if (!del) {
			rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
			continue;
		}
		/* Delete, then seek again: after a delete LMDB's cursor
		 * position is not dependable (see del_range). */
		if ((rc = mdb_cursor_del(c, 0)) == 0)
			rc = seek_dead(c, dseq + 1, &k, &d);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
}

/* ---- requeue ----------------------------------------------------------- */

struct refusal {
	uint64_t dseq;
	char why[160];
};

/* A stream's row as this txn changes it. */
struct touched {
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	struct stream_row row;
};

struct rq_job {
	struct dfilt df;
	uint64_t from;      /* first dead sequence this txn looks at */
	int64_t now_ms;
	/* results of one txn: reset when it (re)starts */
	uint64_t next;      /* where the next txn starts; 0 = done */
	uint64_t moved;
	size_t taken;       /* moved and refused */
	struct refusal *ref;
	size_t nref, ref_cap;
	struct touched *st;
	size_t nst, st_cap;
	char *buf;          /* the event being moved, copied out */
	size_t buf_cap;
	struct spool_plain plain; /* a sealed event, opened */
};

static int refuse(struct rq_job *j, uint64_t dseq, const char *why)
{
	int rc = array_grow((void **)&j->ref, &j->ref_cap, j->nref + 1,
		      sizeof(*j->ref));

	if (rc != 0)
		return rc;
	j->ref[j->nref].dseq = dseq;
	snprintf(j->ref[j->nref].why, sizeof(j->ref[j->nref].why), "%s",
		 why);
	j->nref++;
	return 0;
}

/* The row of stream id as this txn has it; *row NULL when it is gone. */
static int touched_row(spoolship_spool *s, MDB_txn *txn, struct rq_job *j,
		       uint32_t id, struct stream_row **row)
{
	struct touched *t;
	int rc;

	*row = NULL;
	for (size_t i = 0; i < j->nst; i++) {
		if (j->st[i].row.id == id) {
			*row = &j->st[i].row;
			return 0;
		}
	}
	rc = array_grow((void **)&j->st, &j->st_cap, j->nst + 1,
			sizeof(*j->st));
	if (rc != 0)
		return rc;
	t = &j->st[j->nst];
	rc = stream_name_of(s, txn, id, t->name);
	if (rc == SPOOLSHIP_ENOTFOUND)
		return 0;
	if (rc != 0 || (rc = stream_get(s, txn, t->name, &t->row)) != 0)
		return rc;
	j->nst++;
	*row = &t->row;
	return 0;
}

/* Appends one event to the end of its stream. */
static int rq_append(spoolship_spool *s, MDB_txn *txn, struct rq_job *j,
		     struct stream_row *row, int64_t event_ms, size_t len)
{
	unsigned char key[EVENT_KEY_LEN];
	MDB_val k = { sizeof(key), key };
	MDB_val v = { spool_record_size(s, len), NULL };
	int rc;

	event_key(key, row->id, row->next_seq);
	rc = mdb_put(txn, s->events, &k, &v, MDB_RESERVE | MDB_NOOVERWRITE);
	if (rc != 0)
		return rc == MDB_KEYEXIST ? SPOOLSHIP_ECORRUPT : spool_err(rc);
	rc = spool_record_write(s, v.mv_data, event_ms, j->now_ms, j->buf,
				len);
	if (rc != 0)
		return rc;
	row->next_seq++;
	row->pending_events++;
	row->pending_bytes += v.mv_size - RECORD_HDR_LEN;
	return 0;
}

/* Requeues one sound dead record; the cursor stays on it.  *done is 1
 * when it moved (the caller deletes it), 0 when it was refused. */
static int rq_one(spoolship_spool *s, MDB_txn *txn, struct rq_job *j,
		  uint64_t dseq, const struct dead_record *dr, int *done)
{
	struct stream_row *row;
	const char *data;
	size_t len;
	int64_t event_ms;
	char why[160];
	int rc;

	*done = 0;
	rc = spool_dead_event(s, dr, &j->plain, &data, &len, &event_ms, why,
			      sizeof(why));
	if (rc == SPOOLSHIP_ECORRUPT)
		return refuse(j, dseq, why);
	if (rc != 0)
		return rc;
	/* Copy it out: the dead page it lies in may be touched by the
	 * writes below (LMDB may spill dirty pages). */
	if ((rc = array_grow((void **)&j->buf, &j->buf_cap, len, 1)) != 0)
		return rc;
	memcpy(j->buf, data, len);
	if ((rc = touched_row(s, txn, j, dr->stream, &row)) != 0)
		return rc;
	if (row == NULL) {
		snprintf(why, sizeof(why), "its stream #%u no longer exists",
			 dr->stream);
		return refuse(j, dseq, why);
	}
	if ((rc = rq_append(s, txn, j, row, event_ms, len)) != 0)
		return rc;
	*done = 1;
	return 0;
}

static int rq_each(spoolship_spool *s, MDB_txn *txn, void *arg,
		   uint64_t dseq, const MDB_val *d, int *del)
{
	struct rq_job *j = arg;
	struct dead_record dr;
	char why[128];
	int rc = 0;

	if (dead_record_decode(d->mv_data, d->mv_size, &dr, why,
			       sizeof(why)) != 0) {
		if (dfilt_match_damaged(&j->df, dseq)) {
			char w[160];

			snprintf(w, sizeof(w), "the dead record is "
				 "damaged (%s)", why);
			rc = refuse(j, dseq, w);
		}
	} else if (dfilt_match(&j->df, dseq, &dr)) {
		rc = rq_one(s, txn, j, dseq, &dr, del);
	}
	if (rc == 0 && *del)
		j->moved++;
	j->taken = j->moved + j->nref;
	return rc;
}

static int rq_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	struct rq_job *j = arg;
	int rc;

	j->next = 0;
	j->moved = 0;
	j->taken = 0;
	j->nref = 0;
	j->nst = 0;
	rc = dead_sweep(s, txn, &j->df, j->from, rq_each, j, &j->taken,
			&j->next);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < j->nst; i++)
		if ((rc = stream_put(s, txn, j->st[i].name, &j->st[i].row)))
			return rc;
	return meta_add(s, txn, META_REQUEUED, j->moved);
}

int spool_dead_requeue(spoolship_spool *s, const struct dead_filter *f,
		       spool_refuse_fn *on_refuse, void *arg,
		       uint64_t *requeued, uint64_t *refused)
{
	struct rq_job j;
	uint64_t nmoved = 0, nref = 0;
	int rc;

	memset(&j, 0, sizeof(j));
	if ((rc = dfilt_start(s, f, &j.df, &j.from)) != 0)
		return rc;
	for (;;) {
		j.now_ms = clock_wall_ms();
		/* An append to the streams: it leaves the reserve alone. */
		rc = spool_write(s, 0, rq_txn, &j);
		if (rc != 0)
			break;
		nmoved += j.moved;
		nref += j.nref;
		for (size_t i = 0; on_refuse != NULL && i < j.nref; i++)
			on_refuse(arg, j.ref[i].dseq, j.ref[i].why);
		if (j.next == 0)
			break;
		j.from = j.next;
	}
	free(j.df.seqs);
	free(j.ref);
	free(j.st);
	free(j.buf);
	spool_plain_free(&j.plain);
	if (requeued != NULL)
		*requeued = nmoved;
	if (refused != NULL)
		*refused = nref;
	return rc;
}

/* ---- purge ------------------------------------------------------------- */

struct purge_job {
	struct dfilt df;
	uint64_t from;
	uint64_t next;    /* 0 = done */
	size_t deleted;   /* by this txn */
};

static int purge_each(spoolship_spool *s, MDB_txn *txn, void *arg,
		      uint64_t dseq, const MDB_val *d, int *del)
{
	struct purge_job *j = arg;
	struct dead_record dr;

	(void)s;
	(void)txn;
	if (dead_record_decode(d->mv_data, d->mv_size, &dr, NULL, 0))
		*del = dfilt_match_damaged(&j->df, dseq);
	else
		*del = dfilt_match(&j->df, dseq, &dr);
	j->deleted += (size_t)*del;
	return 0;
}

static int purge_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	struct purge_job *j = arg;
	int rc;

	j->next = 0;
	j->deleted = 0;
	rc = dead_sweep(s, txn, &j->df, j->from, purge_each, j, &j->deleted,
			&j->next);
	return rc != 0 ? rc : meta_add(s, txn, META_PURGED, j->deleted);
}

int spool_dead_purge(spoolship_spool *s, const struct dead_filter *f,
		     uint64_t *purged)
{
	struct purge_job j;
	uint64_t n = 0;
	int rc;

	memset(&j, 0, sizeof(j));
	if ((rc = dfilt_start(s, f, &j.df, &j.from)) != 0)
		return rc;
	for (;;) {
		rc = spool_write(s, 1, purge_txn, &j);
		if (rc != 0)
			break;
		n += j.deleted;
		if (j.next == 0)
			break;
		j.from = j.next;
	}
	free(j.df.seqs);
	if (purged != NULL)
		*purged = n;
	return rc;
}
