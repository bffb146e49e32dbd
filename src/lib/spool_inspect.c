/*
 * spool_inspect.c - read-only views of a spool: stats, peek, verify (the
 * dead store's walks are spool_dead.c's).  Nothing here writes; a damaged
 * record is reported, never repaired.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "array.h"
#include "spool.h"

/* Reads the head record (oldest sequence) of a stream. */
static int stream_head(spoolship_spool *s, MDB_txn *txn, uint32_t id,
		       struct record *r)
{
	unsigned char key[EVENT_KEY_LEN];
	MDB_cursor *c;
	MDB_val k = { sizeof(key), key }, d;
	uint32_t sid;
	uint64_t seq;
	int rc = mdb_cursor_open(txn, s->events, &c);

	if (rc != 0)
		return spool_err(rc);
	event_key(key, id, 0);
	rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
	if (rc == 0 && (event_key_parse(k.mv_data, k.mv_size, &sid, &seq) ||
			sid != id))
		rc = MDB_NOTFOUND;
	if (rc == 0)
		rc = record_decode(d.mv_data, d.mv_size, r, NULL, 0);
	mdb_cursor_close(c);
	return spool_norm(rc);
}

/* One stream's stats: its row, and its head's times. */
static void stats_stream(spoolship_spool *s, MDB_txn *txn,
			 struct spoolship_stats *st,
			 const struct spool_stream *row)
{
	struct spoolship_stream_stats *ss = &st->streams[st->nstreams++];
	struct record r;

	memset(ss, 0, sizeof(*ss));
	memcpy(ss->name, row->name, sizeof(ss->name));
	ss->id = row->id;
	ss->next_seq = row->next_seq;
	ss->pending_events = row->pending_events;
	ss->pending_bytes = row->pending_bytes;
	if (stream_head(s, txn, row->id, &r) == 0) {
		ss->oldest_event_ms = r.event_ms;
		ss->oldest_append_ms = r.append_ms;
	}
	st->pending_events += ss->pending_events;
	st->pending_bytes += ss->pending_bytes;
	if (ss->oldest_append_ms != 0 &&
	    (st->oldest_append_ms == 0 ||
	     ss->oldest_append_ms < st->oldest_append_ms)) {
		st->oldest_append_ms = ss->oldest_append_ms;
		st->oldest_event_ms = ss->oldest_event_ms;
	}
}

static int stats_streams(spoolship_spool *s, MDB_txn *txn,
			 struct spoolship_stats *st)
{
	struct spool_stream *rows;
	size_t n;
	int rc = stream_list(s, txn, STREAM_EACH_STRICT, &rows, &n);

	if (rc != 0)
		return rc;
	if (n > 0 && (st->streams = calloc(n, sizeof(*st->streams))) == NULL)
		rc = -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++)
		stats_stream(s, txn, st, &rows[i]);
	free(rows);
	return rc;
}

static int stats_fill(spoolship_spool *s, struct spoolship_stats *st)
{
	static const char *const keys[] = { META_APPENDED, META_SHIPPED,
					    META_EXPIRED,  META_DEAD,
					    META_REJECTED, META_DROPPED,
					    META_REQUEUED, META_PURGED };
	uint64_t *const dst[] = { &st->appended_total, &st->shipped_total,
				  &st->expired_total,  &st->dead_total,
				  &st->rejected_total, &st->dropped_total,
				  &st->requeued_total, &st->purged_total };
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn;
	uint64_t v = 0;
	int rc;

	spoolship_stats_init(st);
	if ((rc = spool_txn_begin(s, 1, &txn)) != 0)
		return rc;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && rc == 0; i++)
		rc = meta_get(s, txn, keys[i], dst[i]);
	if (rc == 0)
		rc = meta_get(s, txn, META_CREATED, &v);
	st->created_ms = (int64_t)v;
	if (rc == 0)
		rc = meta_get(s, txn, META_VERSION, &v);
	st->format_version = (unsigned)v;
	if (rc == 0 && (rc = mdb_stat(txn, s->dead, &ms)) == 0)
		st->dead_events = ms.ms_entries;
	if (rc == 0)
		rc = stats_streams(s, txn, st);
	if (rc == 0 && mdb_env_info(s->env, &info) == 0 &&
	    mdb_env_stat(s->env, &ms) == 0) {
		st->map_bytes = info.me_mapsize;
		st->used_bytes = (info.me_last_pgno + 1) * (uint64_t)ms.ms_psize;
	}
	st->max_bytes = s->o.max_bytes;
	spool_txn_abort(s, txn);
	/* Rejections this process counted but has not committed yet. */
	pthread_mutex_lock(&s->mu);
	st->rejected_total += s->rejected_unsaved;
	pthread_mutex_unlock(&s->mu);
	if (rc != 0)
		spoolship_stats_free(st);
	return spool_norm(rc);
}

/* Filled in the library's layout, handed out in the caller's. */
int spoolship_spool_stats(spoolship_spool *s, struct spoolship_stats *st)
{
	struct spoolship_stats full;
	int rc;

	if (s == NULL || st == NULL || stats_check(st, NULL, 0) != 0)
		return SPOOLSHIP_EINVAL;
	rc = stats_fill(s, &full);
	layout_export(st, &full);
	return rc;
}

void spoolship_stats_free(struct spoolship_stats *st)
{
	if (st == NULL)
		return;
	free(st->streams);
	st->streams = NULL;
	st->nstreams = 0;
}

/* ---- peek: merge streams by append time ---------------------------------- */

struct peek_src {
	MDB_cursor *c;
	uint32_t id;
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	int live;
	uint64_t seq;
	struct record r;
};

/* Moves src to its next sound record (or marks it done). */
static int peek_advance(struct peek_src *p, MDB_cursor_op op)
{
	MDB_val k, d;
	int rc;

	for (;;) {
		uint32_t sid;

		if (op == MDB_SET_RANGE) {
			unsigned char key[EVENT_KEY_LEN];

			event_key(key, p->id, 0);
			k.mv_size = sizeof(key);
			k.mv_data = key;
			rc = mdb_cursor_get(p->c, &k, &d, MDB_SET_RANGE);
		} else {
			rc = mdb_cursor_get(p->c, &k, &d, MDB_NEXT);
		}
		op = MDB_NEXT;
		if (rc != 0 ||
		    event_key_parse(k.mv_data, k.mv_size, &sid, &p->seq) ||
		    sid != p->id) {
			p->live = 0;
			return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
		}
		if (record_decode(d.mv_data, d.mv_size, &p->r, NULL, 0) == 0) {
			p->live = 1;
			return 0;
		}
		/* peek shows sound events only; verify names the rest. */
	}
}

struct peek_list {
	const char *table; /* NULL: every stream */
	struct peek_src *v;
	size_t n, cap;
};

static int peek_add(void *arg, const char *name, const struct stream_row *row)
{
	struct peek_list *l = arg;
	int rc;

	if (l->table != NULL && strcmp(l->table, name) != 0)
		return 0;
	rc = array_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	if (rc != 0)
		return rc;
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	snprintf(l->v[l->n].name, sizeof(l->v[l->n].name), "%s", name);
	l->v[l->n].id = row->id;
	l->n++;
	return 0;
}

static int peek_open(spoolship_spool *s, MDB_txn *txn, const char *table,
		     struct peek_src **out, size_t *nout)
{
	struct peek_list l = { table, NULL, 0, 0 };
	int rc = stream_each(s, txn, STREAM_EACH_SKIP, peek_add, &l);

	for (size_t i = 0; i < l.n && rc == 0; i++) {
		rc = mdb_cursor_open(txn, s->events, &l.v[i].c);
		if (rc == 0)
			rc = peek_advance(&l.v[i], MDB_SET_RANGE);
	}
	*out = l.v;
	*nout = l.n;
	return spool_norm(rc);
}

int spool_peek(spoolship_spool *s, const char *table, size_t max,
	       spool_peek_fn *fn, void *arg)
{
	struct peek_src *src = NULL;
	struct spool_plain plain = { NULL, 0 };
	struct record r;
	size_t n = 0, shown = 0;
	MDB_txn *txn;
	int rc;

	if ((rc = spool_txn_begin(s, 1, &txn)) != 0)
		return rc;
	rc = peek_open(s, txn, table, &src, &n);
	while (rc == 0 && (max == 0 || shown < max)) {
		struct peek_src *best = NULL;

		for (size_t i = 0; i < n; i++)
			if (src[i].live &&
			    (best == NULL ||
			     src[i].r.append_ms < best->r.append_ms))
				best = &src[i];
		if (best == NULL)
			break;
		r = best->r;
		if ((rc = spool_unseal(s, &r, &plain)) != 0)
			break;
		rc = fn(arg, best->name, best->seq, &r);
		shown++;
		if (rc == 0)
			rc = peek_advance(best, MDB_NEXT);
	}
	for (size_t i = 0; i < n; i++)
		if (src[i].c != NULL)
			mdb_cursor_close(src[i].c);
	free(src);
	spool_plain_free(&plain);
	spool_txn_abort(s, txn);
	return rc;
}

/* ---- verify --------------------------------------------------------------- */

static void hexkey(const MDB_val *k, char *out, size_t outlen)
{
	const unsigned char *p = k->mv_data;
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < k->mv_size && o + 3 <= outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", p[i]);
}

struct vstate {
	spool_problem_fn *fn;
	void *arg;
	uint64_t records, bad;
	struct spool_plain plain;
};

static void problem(struct vstate *v, const char *db, const MDB_val *k,
		    const char *why)
{
	char hex[96];

	hexkey(k, hex, sizeof(hex));
	v->bad++;
	v->fn(v->arg, db, hex, why);
}

/* With the key, a sealed record's tag is checked too: a record whose CRC
 * was recomputed after tampering still fails here.  Without it, the CRC
 * alone is checked (the CLI says so). */
static int verify_seal(spoolship_spool *s, struct vstate *v, const char *db,
		       const MDB_val *k, const struct record *r)
{
	struct record copy = *r;
	int rc;

	if (s->sealer == NULL)
		return 0;
	rc = spool_unseal(s, &copy, &v->plain);
	if (rc == SPOOLSHIP_ECORRUPT) {
		problem(v, db, k, "sealed event fails authentication "
			"(tampered, or sealed with another key)");
		return 0;
	}
	return rc;
}

struct vevents {
	spoolship_spool *s;
	struct vstate *v;
	struct stream_tallies *vc;
};

static int verify_event(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct vevents *w = arg;
	struct vstate *v = w->v;
	char why[128];
	uint32_t sid;
	uint64_t seq;
	struct record r;
	struct stream_tally *t;
	int rc;

	v->records++;
	if (event_key_parse(k->mv_data, k->mv_size, &sid, &seq) != 0) {
		problem(v, "events", k, "key is not 12 bytes");
		return 0;
	}
	if (record_decode(d->mv_data, d->mv_size, &r, why, sizeof(why)) != 0) {
		problem(v, "events", k, why);
		return 0;
	}
	if ((rc = verify_seal(w->s, v, "events", k, &r)) != 0)
		return rc;
	if ((t = stream_tally_of(w->vc, sid)) == NULL)
		return -ENOMEM;
	t->events++;
	if (seq > t->max_seq)
		t->max_seq = seq;
	return 0;
}

static int verify_events(spoolship_spool *s, MDB_txn *txn, struct vstate *v,
			 struct stream_tallies *vc)
{
	struct vevents w = { s, v, vc };

	return spool_db_each(txn, s->events, verify_event, &w);
}

struct vstreams {
	struct vstate *v;
	struct stream_tally *vc;
	size_t nvc;
};

/* One row of the stream table against the tallies of its records: the
 * raw rows, a damaged one included (the stream walk would pass it over). */
static int verify_row(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct vstreams *w = arg;
	struct vstate *v = w->v;
	struct stream_row row;
	struct stream_tally none = { 0, 0, 0, 0 }, *t = &none;
	char why[160];

	if (d->mv_size != STREAM_ROW_LEN) {
		problem(v, "streams", k, "row is not 28 bytes");
		return 0;
	}
	row.id = get_be32(d->mv_data);
	row.next_seq = get_be64((unsigned char *)d->mv_data + 4);
	row.pending_events = get_be64((unsigned char *)d->mv_data + 12);
	for (size_t i = 0; i < w->nvc; i++)
		if (w->vc[i].id == row.id)
			t = &w->vc[i];
	if (t != &none)
		t->id = 0; /* matched: see the orphan check below */
	if (t->max_seq >= row.next_seq) {
		snprintf(why, sizeof(why),
			 "sequence %llu at or past next_seq %llu",
			 (unsigned long long)t->max_seq,
			 (unsigned long long)row.next_seq);
		problem(v, "streams", k, why);
	}
	if (t->events != row.pending_events) {
		snprintf(why, sizeof(why),
			 "pending_events %llu but %llu sound records",
			 (unsigned long long)row.pending_events,
			 (unsigned long long)t->events);
		problem(v, "streams", k, why);
	}
	return 0;
}

static int verify_streams(spoolship_spool *s, MDB_txn *txn, struct vstate *v,
			  struct stream_tally *vc, size_t nvc)
{
	struct vstreams w = { v, vc, nvc };
	int rc = spool_db_each(txn, s->streams, verify_row, &w);

	for (size_t i = 0; i < nvc; i++) {
		if (vc[i].id != 0) {
			MDB_val key = { sizeof(vc[i].id), &vc[i].id };

			problem(v, "events", &key, "records of an unknown stream");
		}
	}
	return rc;
}

struct vdead {
	spoolship_spool *s;
	struct vstate *v;
};

static int verify_dead_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct vdead *w = arg;
	struct dead_record dr;
	char why[128];

	w->v->records++;
	if (k->mv_size != DEAD_KEY_LEN)
		problem(w->v, "dead", k, "key is not 8 bytes");
	else if (dead_record_decode(d->mv_data, d->mv_size, &dr, why,
				    sizeof(why)) != 0)
		problem(w->v, "dead", k, why);
	else
		return verify_seal(w->s, w->v, "dead", k, &dr.r);
	return 0;
}

static int verify_dead(spoolship_spool *s, MDB_txn *txn, struct vstate *v)
{
	struct vdead w = { s, v };

	return spool_db_each(txn, s->dead, verify_dead_one, &w);
}

int spool_verify(spoolship_spool *s, spool_problem_fn *fn, void *arg,
		 uint64_t *records, uint64_t *bad)
{
	struct vstate v = { fn, arg, 0, 0, { NULL, 0 } };
	struct stream_tallies vc = { NULL, 0, 0 };
	MDB_txn *txn;
	int rc;

	if ((rc = spool_txn_begin(s, 1, &txn)) != 0)
		return rc;
	rc = verify_events(s, txn, &v, &vc);
	if (rc == 0)
		rc = verify_streams(s, txn, &v, vc.v, vc.n);
	if (rc == 0)
		rc = verify_dead(s, txn, &v);
	spool_txn_abort(s, txn);
	free(vc.v);
	spool_plain_free(&v.plain);
	*records = v.records;
	*bad = v.bad;
	return rc;
}
