/*
 * test_spool.c - the spool: layout and modes of files, append and stats,
 * the reader primitives the shipper uses, the disk budget's policies,
 * format versions and damaged records.
 */
#include "spool_fixture.h"

#include <errno.h>
#include <sys/stat.h>

static void open_with(struct fixture *f, const struct spoolship_options *o)
{
	assert_int_equal(spoolship_spool_open(f->dir, o, &f->s), 0);
}

static void get_stats(struct fixture *f, struct spoolship_stats *st)
{
	spoolship_stats_init(st);
	assert_int_equal(spoolship_spool_stats(f->s, st), 0);
}

static void test_open_modes_and_layout(void **state)
{
	struct fixture *f = *state;
	char sub[4200], path[4300];
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/sp", f->dir);
	assert_int_equal(spoolship_spool_open(sub, NULL, &f->s), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/lock.mdb", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	spoolship_spool *s = NULL;
	char path[4200];
	FILE *fp;

	/* A file where the directory should be. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(spoolship_spool_open(path, NULL, &s), -ENOTDIR);
	/* A directory that is not an LMDB environment. */
	snprintf(path, sizeof(path), "%s/junk", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/junk/data.mdb", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 8192; i++)
		fputc('j', fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/junk", f->dir);
	assert_int_equal(spoolship_spool_open(path, NULL, &s),
			 SPOOLSHIP_ECORRUPT);
	/* Bad options. */
	spoolship_options_init(&o);
	o.sync = 7;
	assert_int_equal(spoolship_spool_open(f->dir, &o, &s),
			 SPOOLSHIP_EINVAL);
	spoolship_options_init(&o);
	o.max_bytes = 1000;
	assert_int_equal(spoolship_spool_open(f->dir, &o, &s),
			 SPOOLSHIP_EINVAL);
	assert_null(s);
}

static void test_newer_format_refused(void **state)
{
	struct fixture *f = *state;
	spoolship_spool *s = NULL;
	MDB_txn *txn;

	open_with(f, NULL);
	assert_int_equal(spool_txn_begin(f->s, 0, &txn), 0);
	assert_int_equal(meta_set(f->s, txn, META_VERSION,
				  SPOOLSHIP_FORMAT_VERSION + 1), 0);
	assert_int_equal(spool_txn_commit(f->s, txn), 0);
	spoolship_spool_close(f->s);
	f->s = NULL;
	assert_int_equal(spoolship_spool_open(f->dir, NULL, &s),
			 SPOOLSHIP_EVERSION);
}

static void test_append_and_stats(void **state)
{
	struct fixture *f = *state;
	struct spoolship_stats st;
	char ev[512], why[256];
	size_t n;

	open_with(f, NULL);
	n = tu_event(ev, sizeof(ev), 101, 10);
	assert_int_equal(spoolship_append(f->s, "t1", ev, n, why, sizeof(why)),
			 0);
	append_n(f, "t1", 102, 9, 10);
	append_n(f, "t2", 100, 5, 10);
	assert_int_equal(spoolship_append(f->s, "t1", "{", 1, why, sizeof(why)),
			 SPOOLSHIP_EJSON);
	assert_true(strlen(why) > 0);
	assert_int_equal(spoolship_append(f->s, "bad/name", ev, n, NULL, 0),
			 SPOOLSHIP_EINVAL);
	get_stats(f, &st);
	assert_int_equal(st.pending_events, 15);
	assert_int_equal(st.appended_total, 15);
	assert_int_equal(st.rejected_total, 1);
	assert_int_equal(st.nstreams, 2);
	assert_string_equal(st.streams[0].name, "t1");
	assert_int_equal(st.streams[0].pending_events, 10);
	assert_int_equal(st.streams[0].pending_bytes, 10 * n);
	assert_int_equal(st.streams[1].pending_events, 5);
	assert_true(st.oldest_event_ms > 0);
	spoolship_stats_free(&st);
	/* Counters survive a reopen, rejections included. */
	spoolship_spool_close(f->s);
	open_with(f, NULL);
	get_stats(f, &st);
	assert_int_equal(st.appended_total, 15);
	assert_int_equal(st.rejected_total, 1);
	spoolship_stats_free(&st);
}

struct rejects {
	size_t idx[8];
	int err[8];
	size_t n;
};

static void on_reject(void *arg, size_t i, int err, const char *why)
{
	struct rejects *r = arg;

	assert_true(strlen(why) > 0);
	r->idx[r->n] = i;
	r->err[r->n++] = err;
}

static void test_append_many_rejects(void **state)
{
	struct fixture *f = *state;
	char good[512];
	size_t n = tu_event(good, sizeof(good), 1, 4), acc = 99;
	struct spoolship_event ev[4] = {
		{ good, n }, { "{\"a\":1}", 7 }, { good, n }, { "[]", 2 },
	};
	struct rejects r = { { 0 }, { 0 }, 0 };
	struct spoolship_stats st;

	open_with(f, NULL);
	assert_int_equal(spoolship_append_many(f->s, "t", ev, 4, 0, on_reject,
					       &r, &acc), 0);
	assert_int_equal(acc, 2);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.idx[0], 1);
	assert_int_equal(r.err[0], SPOOLSHIP_ENOTIME);
	assert_int_equal(r.idx[1], 3);
	assert_int_equal(r.err[1], SPOOLSHIP_ENOTOBJECT);
	/* All or nothing: the good ones are not appended either. */
	assert_int_equal(spoolship_append_many(f->s, "t", ev, 4,
					       SPOOLSHIP_ALL_OR_NOTHING, NULL,
					       NULL, &acc),
			 SPOOLSHIP_ENOTIME);
	assert_int_equal(acc, 0);
	get_stats(f, &st);
	assert_int_equal(st.pending_events, 2);
	assert_int_equal(st.rejected_total, 3);
	spoolship_stats_free(&st);
}

/* The library's errbuf carries validation's hints, in the words append
 * and the ingest endpoint print (0021-hints). */
static void test_append_errbuf_hints(void **state)
{
	struct fixture *f = *state;
	char why[256];

	open_with(f, NULL);
	assert_int_equal(spoolship_append(f->s, "t", "{\"a\":1}", 7, why,
					  sizeof(why)), SPOOLSHIP_ENOTIME);
	assert_string_equal(why, "missing __time (add it, or use "
			    "--fill-time / [spool] fill_time)");
	assert_int_equal(spoolship_append(f->s, "t", "[{}]", 4, why,
					  sizeof(why)), SPOOLSHIP_ENOTOBJECT);
	assert_string_equal(why, "event is an array, not an object; send "
			    "NDJSON: one object per line");
}

static void test_batch_bounds(void **state)
{
	struct fixture *f = *state;
	struct spool_batch b;
	char ev[512];
	size_t len = tu_event(ev, sizeof(ev), 1000, 100);
	uint32_t id;

	open_with(f, NULL);
	append_n(f, "t", 1000, 150, 100);
	id = stream_id(f, "t");
	memset(&b, 0, sizeof(b));
	/* Count bound. */
	assert_int_equal(spool_batch_next(f->s, id, 0, 60, 1000000, &b), 0);
	assert_int_equal(b.n, 60);
	assert_int_equal(b.recs[0].seq, 1);
	assert_int_equal(b.recs[59].seq, 60);
	assert_int_equal(b.body_len, 60 * len + 59);
	assert_int_equal(b.body[len], '\n');
	assert_memory_equal(b.body + b.recs[1].off, ev, 10); /* {"__time" */
	/* Byte bound, exact: 3 events and 2 newlines fit, one byte less
	 * does not. */
	assert_int_equal(spool_batch_next(f->s, id, 0, 60, 3 * len + 2, &b), 0);
	assert_int_equal(b.n, 3);
	assert_int_equal(spool_batch_next(f->s, id, 0, 60, 3 * len + 1, &b), 0);
	assert_int_equal(b.n, 2);
	/* An event larger than the bound still comes out, alone. */
	assert_int_equal(spool_batch_next(f->s, id, 0, 60, 10, &b), 0);
	assert_int_equal(b.n, 1);
	/* After a sequence; the tail; then nothing. */
	assert_int_equal(spool_batch_next(f->s, id, 120, 60, 1000000, &b), 0);
	assert_int_equal(b.n, 30);
	assert_int_equal(b.recs[0].seq, 121);
	assert_int_equal(spool_batch_next(f->s, id, 150, 60, 1000000, &b), 0);
	assert_int_equal(b.n, 0);
	/* An unknown stream has nothing. */
	assert_int_equal(spool_batch_next(f->s, id + 1, 0, 60, 1000000, &b), 0);
	assert_int_equal(b.n, 0);
	spool_batch_free(&b);
}

static void test_delete_ranges(void **state)
{
	struct fixture *f = *state;
	struct spoolship_stats st;
	struct spool_batch b;
	struct spool_range r[2];
	uint64_t del;
	uint32_t a, c;

	open_with(f, NULL);
	append_n(f, "a", 1, 100, 20);
	append_n(f, "c", 1, 100, 20);
	a = stream_id(f, "a");
	c = stream_id(f, "c");
	r[0] = (struct spool_range){ a, 1, 60 };
	r[1] = (struct spool_range){ c, 41, 100 };
	assert_int_equal(spool_batch_delete(f->s, r, 2, &del), 0);
	assert_int_equal(del, 120);
	/* Deleting again finds nothing; a bad range is refused. */
	assert_int_equal(spool_batch_delete(f->s, r, 1, &del), 0);
	assert_int_equal(del, 0);
	r[0].first_seq = 0;
	assert_int_equal(spool_batch_delete(f->s, r, 1, &del),
			 SPOOLSHIP_EINVAL);
	get_stats(f, &st);
	assert_int_equal(st.pending_events, 80);
	assert_int_equal(st.shipped_total, 120);
	assert_int_equal(st.streams[0].pending_events, 40);
	assert_int_equal(st.streams[1].pending_events, 40);
	spoolship_stats_free(&st);
	memset(&b, 0, sizeof(b));
	assert_int_equal(spool_batch_next(f->s, a, 0, 60, 1000000, &b), 0);
	assert_int_equal(b.recs[0].seq, 61);
	assert_int_equal(spool_batch_next(f->s, c, 0, 60, 1000000, &b), 0);
	assert_int_equal(b.n, 40);
	assert_int_equal(b.recs[39].seq, 40);
	spool_batch_free(&b);
	/* Large records live on overflow pages: deleting them works too. */
	append_n(f, "big", 1, 20, 3000);
	r[0] = (struct spool_range){ stream_id(f, "big"), 1, 20 };
	assert_int_equal(spool_batch_delete(f->s, r, 1, &del), 0);
	assert_int_equal(del, 20);
	/* Sequences keep growing after deletes: never reused. */
	append_n(f, "a", 1000, 1, 20);
	assert_int_equal(spool_batch_next(f->s, a, 100, 60, 1000000, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.recs[0].seq, 101);
	spool_batch_free(&b);
}

struct dead_seen {
	int n;
	unsigned reason[4], status[4];
	char excerpt[4][32];
	char table[4][16];
};

static int dead_cb(void *arg, uint64_t dseq, const struct dead_record *d,
		   const char *table)
{
	struct dead_seen *s = arg;

	assert_true(dseq > 0);
	s->reason[s->n] = d->reason;
	s->status[s->n] = d->status;
	snprintf(s->excerpt[s->n], 32, "%.*s", (int)d->excerpt_len,
		 d->excerpt);
	snprintf(s->table[s->n], 16, "%s", table);
	s->n++;
	return 0;
}

static void test_dead_move(void **state)
{
	struct fixture *f = *state;
	struct dead_info di = { DEAD_REJECTED, 400, "bad field", 9 };
	struct dead_seen seen;
	struct spoolship_stats st;
	uint64_t seqs[] = { 3, 5, 999 }, moved;
	uint32_t id;

	open_with(f, NULL);
	append_n(f, "t", 1, 10, 8);
	id = stream_id(f, "t");
	assert_int_equal(spool_dead_move(f->s, id, seqs, 3, &di, &moved), 0);
	assert_int_equal(moved, 2); /* 999 does not exist */
	di.reason = 0;
	assert_int_equal(spool_dead_move(f->s, id, seqs, 1, &di, &moved),
			 SPOOLSHIP_EINVAL);
	get_stats(f, &st);
	assert_int_equal(st.pending_events, 8);
	assert_int_equal(st.dead_total, 2);
	assert_int_equal(st.dead_events, 2);
	assert_int_equal(st.expired_total, 0);
	spoolship_stats_free(&st);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(spool_dead_walk(f->s, dead_cb, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.reason[0], DEAD_REJECTED);
	assert_int_equal(seen.status[1], 400);
	assert_string_equal(seen.excerpt[0], "bad field");
	assert_string_equal(seen.table[0], "t");
}

static int count_cb(void *arg, uint64_t seq, const struct record *r)
{
	(void)seq;
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static void test_age_out(void **state)
{
	struct fixture *f = *state;
	struct spoolship_stats st;
	struct spoolship_options o;
	char old[128], t[VALIDATE_TIME_LEN + 1];
	uint64_t moved, last;
	uint32_t id;
	int n = 0;

	spoolship_options_init(&o);
	o.max_age_ms = 0; /* accept anything so we can age it out */
	open_with(f, &o);
	append_n(f, "t", 1, 5, 8);
	for (int i = 0; i < 3; i++) {
		int len;

		validate_time_format(clock_wall_ms() - 3600000LL * (i + 2), t);
		len = snprintf(old, sizeof(old), "{\"__time\":\"%s\",\"i\":%d}",
			       t, i);
		assert_int_equal(spoolship_append(f->s, "t", old, (size_t)len,
						  NULL, 0), 0);
	}
	append_n(f, "t", 10, 5, 8);
	id = stream_id(f, "t");
	assert_int_equal(spool_walk_older(f->s, id, 0,
					  clock_wall_ms() - 3600000, 0,
					  count_cb, &n, &last), 0);
	assert_int_equal(n, 3);
	assert_int_equal(last, 0); /* reached the end */
	/* A bounded scan: the first 6 events hold one old one. */
	n = 0;
	assert_int_equal(spool_walk_older(f->s, id, 0,
					  clock_wall_ms() - 3600000, 6,
					  count_cb, &n, &last), 0);
	assert_int_equal(n, 1);
	assert_int_equal(last, 6);
	n = 0;
	assert_int_equal(spool_walk_older(f->s, id, last,
					  clock_wall_ms() - 3600000, 6,
					  count_cb, &n, &last), 0);
	assert_int_equal(n, 2);
	assert_int_equal(last, 12);
	/* Events at or before after_seq (in flight) are left alone. */
	assert_int_equal(spool_expire(f->s, id, 6, clock_wall_ms() - 3600000,
				      0, &moved, &last), 0);
	assert_int_equal(moved, 2);
	assert_int_equal(last, 0);
	assert_int_equal(spool_expire(f->s, id, 0, clock_wall_ms() - 3600000,
				      3, &moved, &last), 0);
	assert_int_equal(moved, 0); /* 1..3 are fresh */
	assert_int_equal(last, 3);
	assert_int_equal(spool_expire(f->s, id, last,
				      clock_wall_ms() - 3600000, 0, &moved,
				      &last), 0);
	assert_int_equal(moved, 1);
	get_stats(f, &st);
	assert_int_equal(st.pending_events, 10);
	assert_int_equal(st.expired_total, 3);
	assert_int_equal(st.dead_total, 3);
	spoolship_stats_free(&st);
}

static void test_full_reject_then_resume(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	struct spoolship_stats st;
	struct spool_range r;
	uint64_t del;
	size_t n;
	int rc;

	spoolship_options_init(&o);
	o.max_bytes = 512 << 10;
	o.sync = SPOOLSHIP_SYNC_NONE;
	open_with(f, &o);
	n = fill(f, 0, 4000, &rc);
	assert_int_equal(rc, SPOOLSHIP_ESPOOL_FULL);
	assert_true(n > 10);
	get_stats(f, &st);
	assert_int_equal(st.pending_events, n); /* nothing accepted lost */
	assert_true(st.map_bytes <= o.max_bytes + (1 << 20));
	spoolship_stats_free(&st);
	/* Shipping frees space: appends resume without a reopen. */
	r = (struct spool_range){ stream_id(f, "t"), 1, n / 2 };
	assert_int_equal(spool_batch_delete(f->s, &r, 1, &del), 0);
	assert_int_equal(del, n / 2);
	{
		char ev[8192];
		size_t len = tu_event(ev, sizeof(ev), 1, 4000);

		assert_int_equal(spoolship_append(f->s, "t", ev, len, NULL, 0),
				 0);
	}
}

static void test_full_drop_oldest(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	struct spoolship_stats st;
	char ev[8192];

	spoolship_options_init(&o);
	o.max_bytes = 512 << 10;
	o.sync = SPOOLSHIP_SYNC_NONE;
	o.full_policy = SPOOLSHIP_FULL_DROP_OLDEST;
	open_with(f, &o);
	for (long i = 0; i < 400; i++) {
		size_t len = tu_event(ev, sizeof(ev), i, 4000);

		assert_int_equal(spoolship_append(f->s, "t", ev, len, NULL, 0),
				 0);
	}
	get_stats(f, &st);
	assert_true(st.dropped_total > 0);
	assert_int_equal(st.pending_events + st.dropped_total, 400);
	assert_int_equal(st.streams[0].next_seq, 401);
	spoolship_stats_free(&st);
	/* The newest survived, the oldest went. */
	{
		struct spool_batch b;

		memset(&b, 0, sizeof(b));
		assert_int_equal(spool_batch_next(f->s, stream_id(f, "t"), 0,
						  1, 1000000, &b), 0);
		assert_true(b.recs[0].seq > 1);
		assert_int_equal(spool_batch_next(f->s, stream_id(f, "t"), 399,
						  1, 1000000, &b), 0);
		assert_int_equal(b.n, 1);
		spool_batch_free(&b);
	}
}

static void test_full_block_times_out(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	int64_t t0;
	int rc;

	spoolship_options_init(&o);
	o.max_bytes = 512 << 10;
	o.sync = SPOOLSHIP_SYNC_NONE;
	o.full_policy = SPOOLSHIP_FULL_BLOCK;
	o.block_timeout_ms = 100;
	open_with(f, &o);
	t0 = clock_mono_ms();
	fill(f, 0, 4000, &rc);
	assert_int_equal(rc, SPOOLSHIP_ESPOOL_FULL);
	/* It waited rather than failing at once (no upper bound asserted). */
	assert_true(clock_mono_ms() - t0 >= 100);
}

static void test_map_grows(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	struct spoolship_stats st;
	uint64_t first_map;

	spoolship_options_init(&o);
	o.sync = SPOOLSHIP_SYNC_NONE;
	open_with(f, &o);
	get_stats(f, &st);
	first_map = st.map_bytes;
	spoolship_stats_free(&st);
	for (int i = 0; i < 12; i++)
		append_n(f, "t", i * 1000, 1000, 8000);
	get_stats(f, &st);
	assert_true(st.map_bytes > first_map);
	assert_int_equal(st.pending_events, 12000);
	spoolship_stats_free(&st);
}

static void corrupt_seq(struct fixture *f, uint32_t id, uint64_t seq)
{
	unsigned char key[EVENT_KEY_LEN], *copy;
	MDB_val k = { sizeof(key), key }, d;
	MDB_txn *txn;

	event_key(key, id, seq);
	assert_int_equal(spool_txn_begin(f->s, 0, &txn), 0);
	assert_int_equal(mdb_get(txn, f->s->events, &k, &d), 0);
	copy = malloc(d.mv_size);
	memcpy(copy, d.mv_data, d.mv_size);
	copy[d.mv_size - 3] ^= 0x20; /* one flipped bit in the event */
	d.mv_data = copy;
	assert_int_equal(mdb_put(txn, f->s->events, &k, &d, 0), 0);
	assert_int_equal(spool_txn_commit(f->s, txn), 0);
	free(copy);
}

static void problem_cb(void *arg, const char *db, const char *key,
		       const char *why)
{
	char *out = arg;

	snprintf(out, 256, "%s %s %s", db, key, why);
}

static void test_corrupt_record(void **state)
{
	struct fixture *f = *state;
	struct dead_info di = { DEAD_CORRUPT, 0, NULL, 0 };
	struct spool_batch b;
	char what[256] = "";
	uint64_t records, bad, moved, seq = 5;
	uint32_t id;

	open_with(f, NULL);
	append_n(f, "t", 1, 10, 8);
	id = stream_id(f, "t");
	corrupt_seq(f, id, 5);
	assert_int_equal(spool_verify(f->s, problem_cb, what, &records, &bad),
			 0);
	assert_int_equal(records, 10);
	assert_int_equal(bad, 2); /* the record, and the stream's count */
	memset(&b, 0, sizeof(b));
	/* The batch stops before it... */
	assert_int_equal(spool_batch_next(f->s, id, 0, 60, 1000000, &b), 0);
	assert_int_equal(b.n, 4);
	/* ...and names it when it is first. */
	assert_int_equal(spool_batch_next(f->s, id, 4, 60, 1000000, &b),
			 SPOOLSHIP_ECORRUPT);
	assert_int_equal(b.corrupt_seq, 5);
	assert_int_equal(spool_dead_move(f->s, id, &seq, 1, &di, &moved), 0);
	assert_int_equal(moved, 1);
	assert_int_equal(spool_batch_next(f->s, id, 4, 60, 1000000, &b), 0);
	assert_int_equal(b.n, 5);
	spool_batch_free(&b);
	what[0] = '\0';
	assert_int_equal(spool_verify(f->s, problem_cb, what, &records, &bad),
			 0);
	assert_int_equal(bad, 0);
	assert_string_equal(what, "");
}

static void test_sync_batch_mode(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	struct spoolship_stats st;

	spoolship_options_init(&o);
	o.sync = SPOOLSHIP_SYNC_BATCH;
	o.sync_interval_ms = 10;
	open_with(f, &o);
	append_n(f, "t", 1, 100, 8);
	assert_int_equal(spoolship_spool_sync(f->s), 0);
	spoolship_spool_close(f->s);
	f->s = NULL;
	open_with(f, NULL);
	get_stats(f, &st);
	assert_int_equal(st.pending_events, 100);
	spoolship_stats_free(&st);
}

static void test_option_names(void **state)
{
	int v;

	(void)state;
	assert_int_equal(spoolship_sync_parse("batch", &v), 0);
	assert_int_equal(v, SPOOLSHIP_SYNC_BATCH);
	assert_int_equal(spoolship_sync_parse("fast", &v), SPOOLSHIP_EINVAL);
	assert_int_equal(spoolship_full_policy_parse("drop_oldest", &v), 0);
	assert_int_equal(v, SPOOLSHIP_FULL_DROP_OLDEST);
	assert_int_equal(spoolship_full_policy_parse(NULL, &v),
			 SPOOLSHIP_EINVAL);
	assert_true(spoolship_table_name_ok("f972c0f5-e5f2-41b5.x_y"));
	assert_false(spoolship_table_name_ok(""));
	assert_false(spoolship_table_name_ok("a b"));
	assert_false(spoolship_table_name_ok("../x/"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_modes_and_layout),
		T(test_open_errors),
		T(test_newer_format_refused),
		T(test_append_and_stats),
		T(test_append_many_rejects),
		T(test_append_errbuf_hints),
		T(test_batch_bounds),
		T(test_delete_ranges),
		T(test_dead_move),
		T(test_age_out),
		T(test_full_reject_then_resume),
		T(test_full_drop_oldest),
		T(test_full_block_times_out),
		T(test_map_grows),
		T(test_corrupt_record),
		T(test_sync_batch_mode),
		cmocka_unit_test(test_option_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
