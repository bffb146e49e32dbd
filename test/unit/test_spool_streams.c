/*
 * test_spool_streams.c - the walks of the spool's databases (spool.c):
 * spool_db_each and stream_each stop where their callback says and hand
 * its result back, a damaged stream row is passed over or refused; and
 * the shipper's list of streams (spool_streams) with their pending
 * counts, the same as the stats give.
 */
#include "spool_fixture.h"

#include <errno.h>

/* Writes a row the append path never would into the stream table. */
static void put_raw_row(struct fixture *f, const char *name, size_t klen,
			size_t vlen)
{
	unsigned char v[64];
	MDB_val k = { klen, (void *)name }, d = { vlen, v };
	MDB_txn *txn;

	memset(v, 0xab, sizeof(v));
	assert_true(vlen <= sizeof(v));
	assert_int_equal(spool_txn_begin(f->s, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, f->s->streams, &k, &d, 0), 0);
	assert_int_equal(spool_txn_commit(f->s, txn), 0);
}

/* ---- spool_streams ------------------------------------------------------ */

static void test_streams_empty(void **state)
{
	struct fixture *f = *state;
	struct spool_stream *rows = (void *)1;
	size_t n = 99;

	assert_int_equal(spool_streams(f->s, &rows, &n), 0);
	assert_null(rows);
	assert_int_equal(n, 0);
}

static void test_streams_pending(void **state)
{
	struct fixture *f = *state;
	struct spoolship_stats st;
	struct spool_stream *rows;
	struct spool_range r;
	uint64_t deleted;
	size_t n;

	append_n(f, "beta", 1, 3, 10);
	append_n(f, "alpha", 10, 2, 20);
	append_n(f, "gamma", 20, 4, 0);
	/* gamma's events shipped: a stream with nothing pending. */
	r = (struct spool_range){ stream_id(f, "gamma"), 1, 4 };
	assert_int_equal(spool_batch_delete(f->s, &r, 1, &deleted), 0);
	assert_int_equal(deleted, 4);

	assert_int_equal(spool_streams(f->s, &rows, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].name, "alpha"); /* name order */
	assert_string_equal(rows[1].name, "beta");
	assert_string_equal(rows[2].name, "gamma");
	assert_int_equal(rows[0].pending_events, 2);
	assert_int_equal(rows[1].pending_events, 3);
	assert_int_equal(rows[2].pending_events, 0);
	assert_int_equal(rows[2].pending_bytes, 0);
	assert_int_equal(rows[2].next_seq, 5);
	/* What the stats say of the same streams. */
	spoolship_stats_init(&st);
	assert_int_equal(spoolship_spool_stats(f->s, &st), 0);
	assert_int_equal(st.nstreams, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(rows[i].name, st.streams[i].name);
		assert_int_equal(rows[i].id, st.streams[i].id);
		assert_int_equal(rows[i].pending_events,
				 st.streams[i].pending_events);
		assert_int_equal(rows[i].pending_bytes,
				 st.streams[i].pending_bytes);
		assert_int_equal(rows[i].next_seq, st.streams[i].next_seq);
	}
	assert_true(rows[0].pending_bytes > 0 && rows[1].pending_bytes > 0);
	spoolship_stats_free(&st);
	free(rows);
}

/* A damaged row fails the list as it fails the stats: the shipper saw
 * an error before, and does still. */
static void test_streams_damaged_row(void **state)
{
	struct fixture *f = *state;
	struct spoolship_stats st;
	struct spool_stream *rows = (void *)1;
	size_t n = 99;

	append_n(f, "t", 1, 1, 0);
	put_raw_row(f, "u", 1, 5);
	assert_int_equal(spool_streams(f->s, &rows, &n), SPOOLSHIP_ECORRUPT);
	assert_null(rows);
	assert_int_equal(n, 0);
	spoolship_stats_init(&st);
	assert_int_equal(spoolship_spool_stats(f->s, &st), SPOOLSHIP_ECORRUPT);
}

/* ---- stream_each -------------------------------------------------------- */

struct seen {
	int calls;
	int stop_at;  /* the call (1-based) that returns ret */
	int ret;
	char names[8][SPOOLSHIP_MAX_TABLE_LEN + 1];
};

static int see_stream(void *arg, const char *name,
		      const struct stream_row *row)
{
	struct seen *w = arg;

	assert_true(row->id != 0);
	if (w->calls < 8)
		snprintf(w->names[w->calls], sizeof(w->names[0]), "%s", name);
	w->calls++;
	return w->calls == w->stop_at ? w->ret : 0;
}

static int each(struct fixture *f, int strict, struct seen *w)
{
	MDB_txn *txn;
	int rc;

	assert_int_equal(spool_txn_begin(f->s, 1, &txn), 0);
	rc = stream_each(f->s, txn, strict, see_stream, w);
	spool_txn_abort(f->s, txn);
	return rc;
}

static void test_stream_each_stops(void **state)
{
	struct fixture *f = *state;
	struct seen all = { 0, 0, 0, { "" } };
	struct seen stop = { 0, 2, 7, { "" } };
	struct seen err = { 0, 1, -ENOMEM, { "" } };
	struct seen corrupt = { 0, 3, SPOOLSHIP_ECORRUPT, { "" } };

	append_n(f, "c", 1, 1, 0);
	append_n(f, "a", 2, 1, 0);
	append_n(f, "b", 3, 1, 0);
	assert_int_equal(each(f, STREAM_EACH_STRICT, &all), 0);
	assert_int_equal(all.calls, 3);
	assert_string_equal(all.names[0], "a");
	assert_string_equal(all.names[2], "c");
	/* A non-zero result stops the walk at once and is handed back. */
	assert_int_equal(each(f, STREAM_EACH_STRICT, &stop), 7);
	assert_int_equal(stop.calls, 2);
	assert_int_equal(each(f, STREAM_EACH_SKIP, &err), -ENOMEM);
	assert_int_equal(err.calls, 1);
	assert_int_equal(each(f, STREAM_EACH_SKIP, &corrupt),
			 SPOOLSHIP_ECORRUPT);
	assert_int_equal(corrupt.calls, 3);
}

static void test_stream_each_damaged(void **state)
{
	struct fixture *f = *state;
	struct seen skip = { 0, 0, 0, { "" } };
	struct seen strict = { 0, 0, 0, { "" } };

	append_n(f, "a", 1, 1, 0);
	append_n(f, "c", 2, 1, 0);
	put_raw_row(f, "b", 1, STREAM_ROW_LEN - 1); /* a short value */
	assert_int_equal(each(f, STREAM_EACH_SKIP, &skip), 0);
	assert_int_equal(skip.calls, 2);
	assert_string_equal(skip.names[1], "c");
	assert_int_equal(each(f, STREAM_EACH_STRICT, &strict),
			 SPOOLSHIP_ECORRUPT);
	assert_int_equal(strict.calls, 1); /* "a", then the damaged "b" */
}

/* A name longer than any stream's, with a value of the right size. */
static void test_stream_each_long_name(void **state)
{
	struct fixture *f = *state;
	char name[SPOOLSHIP_MAX_TABLE_LEN + 1];
	struct seen skip = { 0, 0, 0, { "" } };
	struct seen strict = { 0, 0, 0, { "" } };

	append_n(f, "a", 1, 1, 0);
	append_n(f, "c", 2, 1, 0);
	memset(name, 'b', sizeof(name));
	put_raw_row(f, name, sizeof(name), STREAM_ROW_LEN);
	assert_int_equal(each(f, STREAM_EACH_SKIP, &skip), 0);
	assert_int_equal(skip.calls, 2);
	assert_string_equal(skip.names[1], "c");
	assert_int_equal(each(f, STREAM_EACH_STRICT, &strict),
			 SPOOLSHIP_ECORRUPT);
	assert_int_equal(strict.calls, 1);
}

/* The dead store names a stream whose row is damaged by its id, as one
 * that is gone: its walk passes the row over. */
static int name_of_dead(void *arg, uint64_t dseq, const struct dead_record *d,
			const char *table)
{
	char *out = arg;

	(void)dseq;
	(void)d;
	snprintf(out, 32, "%s", table);
	return 0;
}

static void test_dead_walk_damaged_row(void **state)
{
	struct fixture *f = *state;
	struct dead_info di = { DEAD_REJECTED, 400, NULL, 0 };
	uint64_t seq = 1, moved = 0;
	char table[32] = "";

	append_n(f, "a", 1, 1, 0);
	assert_int_equal(spool_dead_move(f->s, stream_id(f, "a"), &seq, 1, &di,
					 &moved), 0);
	assert_int_equal(moved, 1);
	put_raw_row(f, "b", 1, 3);
	assert_int_equal(spool_dead_walk(f->s, name_of_dead, table), 0);
	assert_string_equal(table, "a");
}

/* ---- spool_db_each ------------------------------------------------------ */

struct kv_count {
	size_t calls, stop_at;
	int ret;
};

static int count_kv(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct kv_count *c = arg;

	assert_true(k->mv_size > 0 && d->mv_data != NULL);
	return ++c->calls == c->stop_at ? c->ret : 0;
}

static void test_db_each(void **state)
{
	struct fixture *f = *state;
	struct kv_count all = { 0, 0, 0 }, stop = { 0, 4, 1 };
	struct kv_count err = { 0, 10, SPOOLSHIP_ECORRUPT };
	MDB_txn *txn;
	MDB_stat ms;

	append_n(f, "t", 1, 10, 0);
	append_n(f, "u", 11, 5, 0);
	assert_int_equal(spool_txn_begin(f->s, 1, &txn), 0);
	assert_int_equal(spool_db_each(txn, f->s->events, count_kv, &all), 0);
	assert_int_equal(all.calls, 15);
	assert_int_equal(spool_db_each(txn, f->s->events, count_kv, &stop), 1);
	assert_int_equal(stop.calls, 4);
	assert_int_equal(spool_db_each(txn, f->s->events, count_kv, &err),
			 SPOOLSHIP_ECORRUPT);
	assert_int_equal(err.calls, 10);
	/* An empty database: no call at all. */
	memset(&all, 0, sizeof(all));
	assert_int_equal(mdb_stat(txn, f->s->dead, &ms), 0);
	assert_int_equal(ms.ms_entries, 0);
	assert_int_equal(spool_db_each(txn, f->s->dead, count_kv, &all), 0);
	assert_int_equal(all.calls, 0);
	spool_txn_abort(f->s, txn);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_open, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_streams_empty),
		T(test_streams_pending),
		T(test_streams_damaged_row),
		T(test_stream_each_stops),
		T(test_stream_each_damaged),
		T(test_stream_each_long_name),
		T(test_dead_walk_damaged_row),
		T(test_db_each),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
