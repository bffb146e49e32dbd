/*
 * spool_batch.c - the shipper's side of the spool: batches out, deletes
 * after acknowledgement, age-out (its moves to the dead store are
 * spool_dead.c's).  A record that fails its CRC (a sealed one: its tag)
 * is never returned as an event.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "spool.h"

void spool_batch_free(struct spool_batch *b)
{
	free(b->recs);
	free(b->body);
	memset(b, 0, sizeof(*b));
}

/* A read txn and a cursor on the events: the start of both walks. */
static int events_read_open(spoolship_spool *s, MDB_txn **txn,
			    MDB_cursor **c)
{
	int rc;

	if ((rc = spool_txn_begin(s, 1, txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(*txn, s->events, c)) != 0) {
		spool_txn_abort(s, *txn);
		return spool_err(rc);
	}
	return 0;
}

/* Positions c on the first event of stream after after_seq. */
static int seek_after(MDB_cursor *c, uint32_t stream, uint64_t after_seq,
		      unsigned char *key, MDB_val *k, MDB_val *d)
{
	event_key(key, stream, after_seq + 1);
	k->mv_size = EVENT_KEY_LEN;
	k->mv_data = key;
	return mdb_cursor_get(c, k, d, MDB_SET_RANGE);
}

/* A sealed record of the batch being read, opened after the read. */
struct sealed_ref {
	struct record r;
	size_t i;            /* its index in the batch */
};

/* Adds one event; a sealed one only gets its room (it is noted in *sealed
 * and opened by open_sealed()).  The batch is unchanged on error. */
static int batch_add(struct spool_batch *b, uint64_t seq,
		     const struct record *r, struct sealed_ref **sealed,
		     size_t *nsealed, size_t *sealed_cap)
{
	size_t sep = b->n > 0 ? 1 : 0;
	int rc;

	if ((rc = array_grow((void **)&b->recs, &b->recs_cap, b->n + 1,
		       sizeof(*b->recs))) != 0 ||
	    (rc = array_grow((void **)&b->body, &b->body_cap,
		       b->body_len + sep + r->len, 1)) != 0)
		return rc;
	if (r->flags & RECORD_F_SEALED) {
		if ((rc = array_grow((void **)sealed, sealed_cap,
				     *nsealed + 1, sizeof(**sealed))) != 0)
			return rc;
		(*sealed)[(*nsealed)++] = (struct sealed_ref){ *r, b->n };
	} else {
		memcpy(b->body + b->body_len + sep, r->data, r->len);
	}
	if (sep)
		b->body[b->body_len++] = '\n';
	b->recs[b->n].seq = seq;
	b->recs[b->n].event_ms = r->event_ms;
	b->recs[b->n].append_ms = r->append_ms;
	b->recs[b->n].off = b->body_len;
	b->recs[b->n].len = r->len;
	b->body_len += r->len;
	b->n++;
	return 0;
}

/* Opens the batch's sealed records in one run, after the read: OpenSSL's
 * per-record set-up then stays in the cache.  A record that fails its
 * tag ends the batch before it, as a failed CRC does; any other error
 * empties the batch. */
static int open_sealed(spoolship_spool *s, struct spool_batch *b,
		       const struct sealed_ref *sealed, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = sealed[k].i;
		int rc = spool_payload(s, &sealed[k].r,
				       b->body + b->recs[i].off);

		if (rc == SPOOLSHIP_ECORRUPT) {
			if (i == 0)
				b->corrupt_seq = b->recs[0].seq;
			b->n = i;
			b->body_len = i > 0 ? b->recs[i].off - 1 : 0;
			return i == 0 ? SPOOLSHIP_ECORRUPT : 0;
		}
		if (rc != 0) {
			/* No key (or no memory): no batch at all. */
			b->n = 0;
			b->body_len = 0;
			return rc;
		}
	}
	return 0;
}

int spool_batch_next(spoolship_spool *s, uint32_t stream, uint64_t after_seq,
		     size_t max_events, size_t max_bytes,
		     struct spool_batch *b)
{
	unsigned char key[EVENT_KEY_LEN];
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, d;
	struct sealed_ref *sealed = NULL;
	size_t nsealed = 0, sealed_cap = 0;
	int rc;

	b->stream = stream;
	b->n = 0;
	b->body_len = 0;
	b->corrupt_seq = 0;
	if ((rc = events_read_open(s, &txn, &c)) != 0)
		return rc;
	rc = seek_after(c, stream, after_seq, key, &k, &d);
	while (rc == 0 && b->n < max_events) {
		uint32_t sid;
		uint64_t seq;
		struct record r;

		if (event_key_parse(k.mv_data, k.mv_size, &sid, &seq) != 0 ||
		    sid != stream)
			break;
		/* Every sealed record kept is opened below: its tag then
		 * checks it (no key: the open fails, the batch is empty). */
		rc = record_decode_to_open(d.mv_data, d.mv_size, &r, NULL, 0);
		if (rc == 0 && b->n > 0 && b->body_len + 1 + r.len > max_bytes)
			break;
		if (rc == 0)
			rc = batch_add(b, seq, &r, &sealed, &nsealed,
				       &sealed_cap);
		/* A damaged (or tampered) record ends the batch before it;
		 * alone, it is handed to the caller to dead-letter. */
		if (rc == SPOOLSHIP_ECORRUPT || rc == SPOOLSHIP_EVERSION) {
			if (b->n == 0) {
				b->corrupt_seq = seq;
				rc = SPOOLSHIP_ECORRUPT;
			} else {
				rc = 0;
			}
			break;
		}
		if (rc != 0)
			break;
		rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	/* Before the txn ends: the sealed bytes are in LMDB's map. */
	if (rc == 0 && nsealed > 0)
		rc = open_sealed(s, b, sealed, nsealed);
	free(sealed);
	mdb_cursor_close(c);
	spool_txn_abort(s, txn);
	return spool_norm(rc);
}

/* ---- deletes ------------------------------------------------------------ */

struct del_job {
	const struct spool_range *r;
	size_t n;
	uint64_t deleted;
};

/* Deletes keys [first, last] of one stream; counts events and bytes. */
static int del_range(MDB_cursor *c, const struct spool_range *r,
		     uint64_t *n, uint64_t *bytes)
{
	unsigned char key[EVENT_KEY_LEN];
	MDB_val k, d;
	int rc;

	*n = *bytes = 0;
	rc = seek_after(c, r->stream, r->first_seq - 1, key, &k, &d);
	while (rc == 0) {
		uint32_t sid;
		uint64_t seq;

		if (event_key_parse(k.mv_data, k.mv_size, &sid, &seq) != 0 ||
		    sid != r->stream || seq > r->last_seq)
			break;
		*bytes += d.mv_size > RECORD_HDR_LEN ?
				  d.mv_size - RECORD_HDR_LEN : 0;
		(*n)++;
		rc = mdb_cursor_del(c, 0);
		/* Seek again: after a delete LMDB's cursor position is not
		 * dependable (it can be left unset when a page empties). */
		if (rc == 0)
			rc = seek_after(c, r->stream, seq, key, &k, &d);
	}
	return rc == MDB_NOTFOUND ? 0 : spool_err(rc);
}

static int del_txn(spoolship_spool *s, MDB_txn *txn, void *arg)
{
	struct del_job *j = arg;
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->events, &c);

	j->deleted = 0;
	if (rc != 0)
		return spool_err(rc);
	for (size_t i = 0; i < j->n && rc == 0; i++) {
		uint64_t n, bytes;

		if (j->r[i].first_seq == 0 ||
		    j->r[i].last_seq < j->r[i].first_seq) {
			rc = SPOOLSHIP_EINVAL;
			break;
		}
		rc = del_range(c, &j->r[i], &n, &bytes);
		if (rc == 0)
			rc = stream_sub_pending(s, txn, j->r[i].stream, n,
						bytes);
		j->deleted += n;
	}
	mdb_cursor_close(c);
	return rc != 0 ? rc : meta_add(s, txn, META_SHIPPED, j->deleted);
}

int spool_batch_delete(spoolship_spool *s, const struct spool_range *r,
		       size_t n, uint64_t *deleted)
{
	struct del_job j = { r, n, 0 };
	int rc = spool_write(s, 1, del_txn, &j);

	if (deleted != NULL)
		*deleted = rc == 0 ? j.deleted : 0;
	return rc;
}

/* ---- age-out ------------------------------------------------------------ */

/* The last sequence a bounded scan looked at: the one before the key
 * that stopped it (seq), since sequences only grow within a stream. */
static uint64_t after_seq_of_scan(uint64_t after_seq, uint64_t seq,
				  size_t scanned)
{
	return scanned == 0 ? after_seq : seq - 1;
}

int spool_walk_older(spoolship_spool *s, uint32_t stream, uint64_t after_seq,
		     int64_t cutoff_ms, size_t max_scan, spool_walk_fn *fn,
		     void *arg, uint64_t *last)
{
	unsigned char key[EVENT_KEY_LEN];
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, d;
	size_t scanned = 0;
	uint64_t seq = 0;
	int rc, res = 0, end = 1;

	if ((rc = events_read_open(s, &txn, &c)) != 0)
		return rc;
	rc = seek_after(c, stream, after_seq, key, &k, &d);
	while (rc == 0) {
		uint32_t sid;
		struct record r;

		if (event_key_parse(k.mv_data, k.mv_size, &sid, &seq) != 0 ||
		    sid != stream)
			break;
		if (max_scan != 0 && scanned == max_scan) {
			end = 0; /* more to scan after the last one */
			break;
		}
		scanned++;
		/* The CRC is checked only for candidates: a sweep over a
		 * large backlog reads the time alone. */
		if (record_peek_time(d.mv_data, d.mv_size, &r.event_ms) == 0 &&
		    r.event_ms < cutoff_ms &&
		    record_decode(d.mv_data, d.mv_size, &r, NULL, 0) == 0) {
			res = fn(arg, seq, &r);
			if (res != 0)
				break;
		}
		rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
	}
	mdb_cursor_close(c);
	spool_txn_abort(s, txn);
	if (last != NULL)
		*last = end ? 0 : after_seq_of_scan(after_seq, seq, scanned);
	if (res != 0)
		return res;
	return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
}

struct seq_list {
	uint64_t *v;
	size_t n, cap;
};

static int collect_seq(void *arg, uint64_t seq, const struct record *r)
{
	struct seq_list *l = arg;

	(void)r;
	if (array_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != 0)
		return -ENOMEM;
	l->v[l->n++] = seq;
	return 0;
}

int spool_expire(spoolship_spool *s, uint32_t stream, uint64_t after_seq,
		 int64_t cutoff_ms, size_t max_scan, uint64_t *moved,
		 uint64_t *last)
{
	struct dead_info di = { DEAD_EXPIRED, 0, NULL, 0 };
	struct seq_list l = { NULL, 0, 0 };
	uint64_t from = after_seq, next = 0;
	size_t left = max_scan;
	int rc;

	*moved = 0;
	for (;;) {
		size_t chunk = left == 0 || left > 8192 ? 8192 : left;
		uint64_t m = 0;

		l.n = 0;
		rc = spool_walk_older(s, stream, from, cutoff_ms, chunk,
				      collect_seq, &l, &next);
		for (size_t i = 0; rc == 0 && i < l.n; i += 1024) {
			size_t n = l.n - i < 1024 ? l.n - i : 1024;

			rc = spool_dead_move(s, stream, l.v + i, n, &di, &m);
			*moved += m;
		}
		if (rc != 0 || next == 0)
			break;
		from = next;
		if (max_scan != 0 && (left -= chunk) == 0)
			break;
	}
	free(l.v);
	if (last != NULL)
		*last = rc == 0 ? next : 0;
	return rc;
}
