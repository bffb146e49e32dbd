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

static int stats_streams(spoolship_spool *s, MDB_txn *txn,
			 struct spoolship_stats *st)
{
	MDB_cursor *c;
	MDB_val k, d;
	size_t cap = 0;
	int rc = mdb_cursor_open(txn, s->streams, &c);

	if (rc != 0)
		return spool_err(rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		struct spoolship_stream_stats *ss;
		struct stream_row row;
		struct record r;

		if (d.mv_size != STREAM_ROW_LEN ||
		    k.mv_size > SPOOLSHIP_MAX_TABLE_LEN) {
			rc = SPOOLSHIP_ECORRUPT;
			break;
		}
		if (st->nstreams == cap) {
			size_t nc = cap ? cap * 2 : 8;
			void *p = realloc(st->streams, nc * sizeof(*ss));

			if (p == NULL) {
				rc = -ENOMEM;
				break;
			}
			st->streams = p;
			cap = nc;
		}
		ss = &st->streams[st->nstreams++];
		memset(ss, 0, sizeof(*ss));
		memcpy(ss->name, k.mv_data, k.mv_size);
		stream_get(s, txn, ss->name, &row);
		ss->id = row.id;
		ss->next_seq = row.next_seq;
		ss->pending_events = row.pending_events;
		ss->pending_bytes = row.pending_bytes;
		if (stream_head(s, txn, row.id, &r) == 0) {
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
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
}

int spoolship_spool_stats(spoolship_spool *s, struct spoolship_stats *st)
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

	if (s == NULL || st == NULL)
		return SPOOLSHIP_EINVAL;
	memset(st, 0, sizeof(*st));
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

static int peek_open(spoolship_spool *s, MDB_txn *txn, const char *table,
		     struct peek_src **out, size_t *nout)
{
	struct peek_src *src = NULL;
	size_t n = 0, cap = 0;
	MDB_cursor *c;
	MDB_val k, d;
	int rc = mdb_cursor_open(txn, s->streams, &c);

	if (rc != 0)
		return spool_err(rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		if (k.mv_size > SPOOLSHIP_MAX_TABLE_LEN ||
		    d.mv_size != STREAM_ROW_LEN)
			continue;
		if (table != NULL && (strlen(table) != k.mv_size ||
				      memcmp(table, k.mv_data, k.mv_size)))
			continue;
		if (n == cap) {
			void *p = realloc(src, (cap = cap ? cap * 2 : 4) *
						       sizeof(*src));
			if (p == NULL) {
				rc = -ENOMEM;
				break;
			}
			src = p;
		}
		memset(&src[n], 0, sizeof(src[n]));
		memcpy(src[n].name, k.mv_data, k.mv_size);
		src[n].id = get_be32(d.mv_data);
		n++;
	}
	mdb_cursor_close(c);
	for (size_t i = 0; i < n && (rc == 0 || rc == MDB_NOTFOUND); i++) {
		rc = mdb_cursor_open(txn, s->events, &src[i].c);
		if (rc == 0)
			rc = peek_advance(&src[i], MDB_SET_RANGE);
	}
	*out = src;
	*nout = n;
	return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
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

/* Per-stream tallies to compare with the stream table. */
struct vcount {
	uint32_t id;
	uint64_t events, max_seq;
};

static struct vcount *vcount_of(struct vcount **arr, size_t *n, uint32_t id)
{
	for (size_t i = 0; i < *n; i++)
		if ((*arr)[i].id == id)
			return &(*arr)[i];
	void *p = realloc(*arr, (*n + 1) * sizeof(**arr));

	if (p == NULL)
		return NULL;
	*arr = p;
	memset(&(*arr)[*n], 0, sizeof(**arr));
	(*arr)[*n].id = id;
	return &(*arr)[(*n)++];
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

static int verify_events(spoolship_spool *s, MDB_txn *txn, struct vstate *v,
			 struct vcount **vc, size_t *nvc)
{
	MDB_cursor *c;
	MDB_val k, d;
	char why[128];
	int rc = mdb_cursor_open(txn, s->events, &c);

	if (rc != 0)
		return spool_err(rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		uint32_t sid;
		uint64_t seq;
		struct record r;
		struct vcount *t;

		v->records++;
		if (event_key_parse(k.mv_data, k.mv_size, &sid, &seq) != 0) {
			problem(v, "events", &k, "key is not 12 bytes");
			continue;
		}
		if (record_decode(d.mv_data, d.mv_size, &r, why,
				  sizeof(why)) != 0) {
			problem(v, "events", &k, why);
			continue;
		}
		if ((rc = verify_seal(s, v, "events", &k, &r)) != 0)
			break;
		if ((t = vcount_of(vc, nvc, sid)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		t->events++;
		if (seq > t->max_seq)
			t->max_seq = seq;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
}

static int verify_streams(spoolship_spool *s, MDB_txn *txn, struct vstate *v,
			  struct vcount *vc, size_t nvc)
{
	MDB_cursor *c;
	MDB_val k, d;
	char why[160];
	int rc = mdb_cursor_open(txn, s->streams, &c);

	if (rc != 0)
		return spool_err(rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		struct stream_row row;
		struct vcount none = { 0, 0, 0 }, *t = &none;

		if (d.mv_size != STREAM_ROW_LEN) {
			problem(v, "streams", &k, "row is not 28 bytes");
			continue;
		}
		row.id = get_be32(d.mv_data);
		row.next_seq = get_be64((unsigned char *)d.mv_data + 4);
		row.pending_events = get_be64((unsigned char *)d.mv_data + 12);
		for (size_t i = 0; i < nvc; i++)
			if (vc[i].id == row.id)
				t = &vc[i];
		if (t != &none)
			t->id = 0; /* matched: see the orphan check below */
		if (t->max_seq >= row.next_seq) {
			snprintf(why, sizeof(why),
				 "sequence %llu at or past next_seq %llu",
				 (unsigned long long)t->max_seq,
				 (unsigned long long)row.next_seq);
			problem(v, "streams", &k, why);
		}
		if (t->events != row.pending_events) {
			snprintf(why, sizeof(why),
				 "pending_events %llu but %llu sound records",
				 (unsigned long long)row.pending_events,
				 (unsigned long long)t->events);
			problem(v, "streams", &k, why);
		}
	}
	mdb_cursor_close(c);
	for (size_t i = 0; i < nvc; i++) {
		if (vc[i].id != 0) {
			MDB_val key = { sizeof(vc[i].id), &vc[i].id };

			problem(v, "events", &key, "records of an unknown stream");
		}
	}
	return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
}

static int verify_dead(spoolship_spool *s, MDB_txn *txn, struct vstate *v)
{
	MDB_cursor *c;
	MDB_val k, d;
	char why[128];
	int rc = mdb_cursor_open(txn, s->dead, &c);

	if (rc != 0)
		return spool_err(rc);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		struct dead_record dr;

		v->records++;
		if (k.mv_size != DEAD_KEY_LEN)
			problem(v, "dead", &k, "key is not 8 bytes");
		else if (dead_record_decode(d.mv_data, d.mv_size, &dr, why,
					    sizeof(why)) != 0)
			problem(v, "dead", &k, why);
		else if ((rc = verify_seal(s, v, "dead", &k, &dr.r)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : spool_norm(rc);
}

int spool_verify(spoolship_spool *s, spool_problem_fn *fn, void *arg,
		 uint64_t *records, uint64_t *bad)
{
	struct vstate v = { fn, arg, 0, 0, { NULL, 0 } };
	struct vcount *vc = NULL;
	size_t nvc = 0;
	MDB_txn *txn;
	int rc;

	if ((rc = spool_txn_begin(s, 1, &txn)) != 0)
		return rc;
	rc = verify_events(s, txn, &v, &vc, &nvc);
	if (rc == 0)
		rc = verify_streams(s, txn, &v, vc, nvc);
	if (rc == 0)
		rc = verify_dead(s, txn, &v);
	spool_txn_abort(s, txn);
	free(vc);
	spool_plain_free(&v.plain);
	*records = v.records;
	*bad = v.bad;
	return rc;
}
