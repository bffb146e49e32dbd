/*
 * test_spool_dead.c - the dead store's ways out (spool_dead.c) and
 * compaction (spool_compact.c): select, requeue and purge with their
 * filters and counters, corrupt records refused, the spool lock.
 */
#include "spool_fixture.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void kill_seqs(struct fixture *f, const char *table,
		      const uint64_t *seqs, size_t n, unsigned reason)
{
	struct dead_info di = { reason, reason == DEAD_REJECTED ? 400 : 0,
				"poison event", 12 };
	uint64_t moved = 0;

	assert_int_equal(spool_dead_move(f->s, stream_id(f, table), seqs, n,
					 &di, &moved), 0);
	assert_int_equal(moved, n);
}

static void stats(struct fixture *f, struct spoolship_stats *st)
{
	spoolship_stats_init(st);
	assert_int_equal(spoolship_spool_stats(f->s, st), 0);
	/* The invariant docs/spool-format.md states. */
	assert_int_equal(st->dead_events, st->dead_total - st->requeued_total -
						  st->purged_total);
}

static void no_problem(void *arg, const char *db, const char *key,
		       const char *why)
{
	(void)arg;
	fail_msg("verify: %s %s: %s", db, key, why);
}

static void verify_clean(struct fixture *f)
{
	uint64_t records, bad;

	assert_int_equal(spool_verify(f->s, no_problem, NULL, &records, &bad),
			 0);
	assert_int_equal(bad, 0);
}

/* The event bytes of a pending sequence, copied into out. */
static size_t event_at(struct fixture *f, const char *table, uint64_t seq,
		       char *out, size_t cap, int64_t *event_ms)
{
	struct spool_batch b;
	size_t len;

	memset(&b, 0, sizeof(b));
	assert_int_equal(spool_batch_next(f->s, stream_id(f, table), seq - 1,
					  1, 1000000, &b), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.recs[0].seq, seq);
	len = b.recs[0].len;
	assert_true(len <= cap);
	memcpy(out, b.body, len);
	if (event_ms != NULL)
		*event_ms = b.recs[0].event_ms;
	spool_batch_free(&b);
	return len;
}

struct refusals {
	size_t n;
	uint64_t dseq[8];
	char why[8][160];
};

static void on_refuse(void *arg, uint64_t dseq, const char *why)
{
	struct refusals *r = arg;

	if (r->n < 8) {
		r->dseq[r->n] = dseq;
		snprintf(r->why[r->n], sizeof(r->why[0]), "%s", why);
	}
	r->n++;
}

static void test_requeue_moves_and_counts(void **state)
{
	struct fixture *f = *state;
	struct dead_filter rej = { DEAD_REJECTED, NULL, NULL, 0, 0 };
	struct spoolship_stats st;
	const uint64_t seqs[] = { 2, 4, 6 }, one = 1;
	char before[3][512], after[512];
	size_t blen[3];
	int64_t bms[3], ams;
	uint64_t moved = 9, refused = 9;

	append_n(f, "t", 1, 10, 20);
	append_n(f, "u", 100, 5, 20);
	for (int i = 0; i < 3; i++)
		blen[i] = event_at(f, "t", seqs[i], before[i], 512, &bms[i]);
	kill_seqs(f, "t", seqs, 3, DEAD_REJECTED);
	kill_seqs(f, "u", &one, 1, DEAD_EXPIRED);
	stats(f, &st);
	assert_int_equal(st.dead_events, 4);
	assert_int_equal(st.pending_events, 11);
	spoolship_stats_free(&st);

	assert_int_equal(spool_dead_requeue(f->s, &rej, NULL, NULL, &moved,
					    &refused), 0);
	assert_int_equal(moved, 3);
	assert_int_equal(refused, 0);
	stats(f, &st);
	assert_int_equal(st.requeued_total, 3);
	assert_int_equal(st.dead_total, 4);    /* monotonic */
	assert_int_equal(st.expired_total, 1); /* untouched */
	assert_int_equal(st.dead_events, 1);
	assert_int_equal(st.pending_events, 14);
	assert_int_equal(st.appended_total, 15); /* not appended twice */
	assert_string_equal(st.streams[0].name, "t");
	assert_int_equal(st.streams[0].pending_events, 10);
	assert_int_equal(st.streams[0].next_seq, 14);
	spoolship_stats_free(&st);
	/* At the end of the stream, in dead order, bytes and __time as they
	 * were. */
	for (int i = 0; i < 3; i++) {
		size_t len = event_at(f, "t", 11 + (uint64_t)i, after, 512,
				      &ams);

		assert_int_equal(len, blen[i]);
		assert_memory_equal(after, before[i], len);
		assert_int_equal(ams, bms[i]);
	}
	verify_clean(f);
	/* Nothing left to requeue of that reason: 0, not an error. */
	assert_int_equal(spool_dead_requeue(f->s, &rej, NULL, NULL, &moved,
					    &refused), 0);
	assert_int_equal(moved, 0);
	/* NULL filter: all. */
	assert_int_equal(spool_dead_requeue(f->s, NULL, NULL, NULL, &moved,
					    NULL), 0);
	assert_int_equal(moved, 1);
	stats(f, &st);
	assert_int_equal(st.dead_events, 0);
	assert_int_equal(st.requeued_total, 4);
	assert_int_equal(st.pending_events, 15);
	spoolship_stats_free(&st);
	verify_clean(f);
}

static void test_requeue_filters(void **state)
{
	struct fixture *f = *state;
	const uint64_t ts[] = { 1, 2, 3, 4 }, us[] = { 1, 2 };
	const uint64_t pick[] = { 6, 2, 99 };
	struct dead_filter none = { 0, "nosuch", NULL, 0, 0 };
	struct dead_filter tab = { 0, "u", NULL, 0, 0 };
	struct dead_filter seq = { 0, NULL, pick, 3, 0 };
	struct dead_filter both = { DEAD_EXPIRED, "t", NULL, 0, 0 };
	struct dead_filter old = { 0, NULL, NULL, 0, 1 };
	struct spoolship_stats st;
	uint64_t moved;

	append_n(f, "t", 1, 4, 8);
	append_n(f, "u", 1, 2, 8);
	kill_seqs(f, "t", ts, 2, DEAD_REJECTED);     /* dead 1, 2 */
	kill_seqs(f, "t", ts + 2, 2, DEAD_EXPIRED);  /* dead 3, 4 */
	kill_seqs(f, "u", us, 2, DEAD_TOOBIG);       /* dead 5, 6 */
	assert_int_equal(spool_dead_requeue(f->s, &none, NULL, NULL, &moved,
					    NULL), 0);
	assert_int_equal(moved, 0);
	/* Died before 1970-01-01T00:00:00.001Z: none. */
	assert_int_equal(spool_dead_requeue(f->s, &old, NULL, NULL, &moved,
					    NULL), 0);
	assert_int_equal(moved, 0);
	assert_int_equal(spool_dead_requeue(f->s, &seq, NULL, NULL, &moved,
					    NULL), 0);
	assert_int_equal(moved, 2); /* 99 does not exist */
	assert_int_equal(spool_dead_requeue(f->s, &tab, NULL, NULL, &moved,
					    NULL), 0);
	assert_int_equal(moved, 1); /* dead 5; 6 went already */
	assert_int_equal(spool_dead_requeue(f->s, &both, NULL, NULL, &moved,
					    NULL), 0);
	assert_int_equal(moved, 2);
	stats(f, &st);
	assert_int_equal(st.dead_events, 1); /* dead 1 */
	assert_int_equal(st.requeued_total, 5);
	spoolship_stats_free(&st);
	verify_clean(f);
}

static int count_cb(void *arg, uint64_t dseq, const struct dead_record *d,
		    const char *table)
{
	uint64_t *n = arg;

	(void)dseq;
	(void)d;
	assert_string_equal(table, "t");
	(*n)++;
	return 0;
}

/* More than one txn's worth (1024): order kept, counters exact. */
static void test_requeue_many(void **state)
{
	struct fixture *f = *state;
	uint64_t *seqs = malloc(2500 * sizeof(*seqs)), moved, n = 0;
	struct spoolship_stats st;
	struct spool_batch b;
	uint32_t id;

	append_n(f, "t", 1, 2500, 8);
	for (uint64_t i = 0; i < 2500; i++)
		seqs[i] = i + 1;
	for (size_t i = 0; i < 2500; i += 1000)
		kill_seqs(f, "t", seqs + i, i + 1000 > 2500 ? 500 : 1000,
			  DEAD_EXPIRED);
	assert_int_equal(spool_dead_select(f->s, NULL, 0, count_cb, &n), 0);
	assert_int_equal(n, 2500);
	n = 0;
	assert_int_equal(spool_dead_select(f->s, NULL, 7, count_cb, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(spool_dead_requeue(f->s, NULL, NULL, NULL, &moved,
					    NULL), 0);
	assert_int_equal(moved, 2500);
	stats(f, &st);
	assert_int_equal(st.pending_events, 2500);
	assert_int_equal(st.dead_events, 0);
	spoolship_stats_free(&st);
	id = stream_id(f, "t");
	memset(&b, 0, sizeof(b));
	assert_int_equal(spool_batch_next(f->s, id, 0, 3000, 100000000, &b),
			 0);
	assert_int_equal(b.n, 2500);
	for (size_t i = 0; i < b.n; i++) {
		char want[32], ev[256];

		snprintf(want, sizeof(want), "\"id\":%zu,", i + 1);
		assert_int_equal(b.recs[i].seq, 2501 + i);
		assert_true(b.recs[i].len < sizeof(ev));
		memcpy(ev, b.body + b.recs[i].off, b.recs[i].len);
		ev[b.recs[i].len] = '\0';
		assert_non_null(strstr(ev, want));
	}
	spool_batch_free(&b);
	free(seqs);
	verify_clean(f);
}

/* Flips one bit of the event in the pending record (stream, seq). */
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
	copy[d.mv_size - 3] ^= 0x20;
	d.mv_data = copy;
	assert_int_equal(mdb_put(txn, f->s->events, &k, &d, 0), 0);
	assert_int_equal(spool_txn_commit(f->s, txn), 0);
	free(copy);
}

static void test_corrupt_refused(void **state)
{
	struct fixture *f = *state;
	struct dead_info di = { DEAD_CORRUPT, 0, NULL, 0 };
	struct refusals r;
	struct spoolship_stats st;
	struct spool_batch b;
	uint64_t seq = 5, moved, refused;
	uint32_t id;

	append_n(f, "t", 1, 10, 8);
	id = stream_id(f, "t");
	corrupt_seq(f, id, 5);
	memset(&b, 0, sizeof(b));
	assert_int_equal(spool_batch_next(f->s, id, 4, 60, 1000000, &b),
			 SPOOLSHIP_ECORRUPT);
	spool_batch_free(&b);
	assert_int_equal(spool_dead_move(f->s, id, &seq, 1, &di, &moved), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(spool_dead_requeue(f->s, NULL, on_refuse, &r, &moved,
					    &refused), 0);
	assert_int_equal(moved, 0);
	assert_int_equal(refused, 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.dseq[0], 1);
	assert_non_null(strstr(r.why[0], "CRC mismatch"));
	stats(f, &st);
	assert_int_equal(st.dead_events, 1); /* still there */
	assert_int_equal(st.requeued_total, 0);
	assert_int_equal(st.pending_events, 9);
	spoolship_stats_free(&st);
	verify_clean(f);
}

/* Writes a dead record by hand: reason corrupt, payload given. */
static void put_dead(struct fixture *f, uint64_t dseq, uint32_t stream,
		     const void *payload, size_t len)
{
	struct dead_record dr;
	unsigned char key[DEAD_KEY_LEN], *buf;
	MDB_val k = { sizeof(key), key }, v;
	MDB_txn *txn;

	memset(&dr, 0, sizeof(dr));
	dr.r.data = payload;
	dr.r.len = len;
	dr.stream = stream;
	dr.seq = 77;
	dr.dead_ms = clock_wall_ms();
	dr.reason = DEAD_CORRUPT;
	v.mv_size = dead_record_size(len, 0);
	buf = malloc(v.mv_size);
	dead_record_encode(buf, &dr);
	v.mv_data = buf;
	put_be64(key, dseq);
	assert_int_equal(spool_txn_begin(f->s, 0, &txn), 0);
	assert_int_equal(mdb_put(txn, f->s->dead, &k, &v, 0), 0);
	assert_int_equal(meta_add(f->s, txn, META_DEAD, 1), 0);
	assert_int_equal(meta_set(f->s, txn, META_NEXT_DEAD, dseq + 1), 0);
	assert_int_equal(spool_txn_commit(f->s, txn), 0);
	free(buf);
}

/* A corrupt record whose bytes now pass their check (say, flags a later
 * build decodes), or one moved as corrupt that holds a sound event, is
 * requeued: "unless their payload now decodes". */
static void test_corrupt_that_decodes(void **state)
{
	struct fixture *f = *state;
	struct dead_info di = { DEAD_CORRUPT, 0, NULL, 0 };
	char ev[256], got[512];
	unsigned char rec[RECORD_HDR_LEN + 256];
	size_t len = tu_event(ev, sizeof(ev), 4242, 4);
	int64_t ms = 1600000000123, got_ms;
	uint64_t moved, refused, seq = 1;
	struct dead_record dr;
	struct spool_plain plain = { NULL, 0 };
	const char *data;
	size_t dlen;
	int64_t dms;
	uint32_t id;

	append_n(f, "t", 1, 1, 8);
	id = stream_id(f, "t");
	/* Moved as corrupt while sound: the payload is the event. */
	assert_int_equal(spool_dead_move(f->s, id, &seq, 1, &di, &moved), 0);
	/* A raw record that passes its CRC. */
	record_encode(rec, ms, 1, ev, len);
	put_dead(f, 2, id, rec, RECORD_HDR_LEN + len);
	/* spool_dead_event sees through both. */
	memset(&dr, 0, sizeof(dr));
	dr.reason = DEAD_CORRUPT;
	dr.r.data = (const char *)rec;
	dr.r.len = RECORD_HDR_LEN + len;
	assert_int_equal(spool_dead_event(f->s, &dr, &plain, &data, &dlen,
					  &dms, NULL, 0), 0);
	assert_int_equal(dlen, len);
	assert_memory_equal(data, ev, len);
	assert_int_equal(dms, ms);
	assert_int_equal(spool_dead_requeue(f->s, NULL, NULL, NULL, &moved,
					    &refused), 0);
	assert_int_equal(moved, 2);
	assert_int_equal(refused, 0);
	assert_int_equal(event_at(f, "t", 3, got, sizeof(got), &got_ms), len);
	assert_memory_equal(got, ev, len);
	assert_int_equal(got_ms, ms);
	verify_clean(f);
}

static void test_purge(void **state)
{
	struct fixture *f = *state;
	const uint64_t s1[] = { 1, 2 }, s2[] = { 3 }, s3[] = { 4, 5, 6 };
	struct dead_filter exp = { DEAD_EXPIRED, NULL, NULL, 0, 0 };
	struct dead_filter older = { 0, NULL, NULL, 0, 0 };
	struct dead_filter tab = { 0, "nosuch", NULL, 0, 0 };
	struct spoolship_stats st;
	uint64_t n;

	append_n(f, "t", 1, 6, 8);
	kill_seqs(f, "t", s1, 2, DEAD_EXPIRED);
	kill_seqs(f, "t", s2, 1, DEAD_TOOBIG);
	kill_seqs(f, "t", s3, 3, DEAD_REJECTED);
	assert_int_equal(spool_dead_purge(f->s, &tab, &n), 0);
	assert_int_equal(n, 0);
	/* Older than an hour: none yet. */
	older.died_before_ms = clock_wall_ms() - 3600 * 1000;
	assert_int_equal(spool_dead_purge(f->s, &older, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(spool_dead_purge(f->s, &exp, &n), 0);
	assert_int_equal(n, 2);
	stats(f, &st);
	assert_int_equal(st.purged_total, 2);
	assert_int_equal(st.dead_events, 4);
	assert_int_equal(st.dead_total, 6);
	spoolship_stats_free(&st);
	older.died_before_ms = clock_wall_ms() + 1;
	assert_int_equal(spool_dead_purge(f->s, &older, &n), 0);
	assert_int_equal(n, 4);
	stats(f, &st);
	assert_int_equal(st.purged_total, 6);
	assert_int_equal(st.dead_events, 0);
	assert_int_equal(st.pending_events, 0);
	spoolship_stats_free(&st);
	verify_clean(f);
}

/* A dead record that fails its own check: select skips it, requeue
 * refuses it, purge deletes it only when asked for everything. */
static void test_damaged_dead_record(void **state)
{
	struct fixture *f = *state;
	struct dead_filter rej = { DEAD_REJECTED, NULL, NULL, 0, 0 };
	const uint64_t s[] = { 1, 2 };
	unsigned char key[DEAD_KEY_LEN], *copy;
	MDB_val k = { sizeof(key), key }, d;
	struct refusals r;
	MDB_txn *txn;
	uint64_t n = 0, moved, refused;

	append_n(f, "t", 1, 2, 8);
	kill_seqs(f, "t", s, 2, DEAD_REJECTED);
	put_be64(key, 1);
	assert_int_equal(spool_txn_begin(f->s, 0, &txn), 0);
	assert_int_equal(mdb_get(txn, f->s->dead, &k, &d), 0);
	copy = malloc(d.mv_size);
	memcpy(copy, d.mv_data, d.mv_size);
	copy[d.mv_size - 2] ^= 0x01;
	d.mv_data = copy;
	assert_int_equal(mdb_put(txn, f->s->dead, &k, &d, 0), 0);
	assert_int_equal(spool_txn_commit(f->s, txn), 0);
	free(copy);
	assert_int_equal(spool_dead_select(f->s, NULL, 0, count_cb, &n), 0);
	assert_int_equal(n, 1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(spool_dead_requeue(f->s, NULL, on_refuse, &r, &moved,
					    &refused), 0);
	assert_int_equal(moved, 1);
	assert_int_equal(refused, 1);
	assert_int_equal(r.dseq[0], 1);
	assert_non_null(strstr(r.why[0], "damaged"));
	assert_int_equal(spool_dead_purge(f->s, &rej, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(spool_dead_purge(f->s, NULL, &n), 0);
	assert_int_equal(n, 1);
	verify_clean(f);
}

/* ---- compact --------------------------------------------------------- */

struct dump {
	char *buf;
	size_t len, cap;
};

static int dump_dead(void *arg, uint64_t dseq, const struct dead_record *d,
		     const char *table)
{
	struct dump *x = arg;
	size_t need = x->len + d->r.len + 128;

	if (need > x->cap) {
		x->cap = need * 2;
		x->buf = realloc(x->buf, x->cap);
	}
	x->len += (size_t)snprintf(x->buf + x->len, 128, "%llu %s %u %lld ",
				   (unsigned long long)dseq, table, d->reason,
				   (long long)d->dead_ms);
	memcpy(x->buf + x->len, d->r.data, d->r.len);
	x->len += d->r.len;
	return 0;
}

static int dump_pending(void *arg, const char *table, uint64_t seq,
			const struct record *r)
{
	struct dump *x = arg;

	return dump_dead(x, seq, &(struct dead_record){ .r = *r, .reason = 0 },
			 table);
}

static void snapshot(struct fixture *f, struct dump *x)
{
	memset(x, 0, sizeof(*x));
	assert_int_equal(spool_dead_select(f->s, NULL, 0, dump_dead, x), 0);
	assert_int_equal(spool_peek(f->s, NULL, 0, dump_pending, x), 0);
}

static uint64_t file_bytes(struct fixture *f)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/data.mdb", f->dir);
	assert_int_equal(stat(p, &st), 0);
	return (uint64_t)st.st_size;
}

static void test_compact(void **state)
{
	struct fixture *f = *state;
	struct spool_compact_info info;
	struct spoolship_stats a, b;
	struct spool_range r;
	struct dump before, after;
	const uint64_t s[] = { 3001, 3002, 3003 };
	char why[512], p[4200];
	uint64_t del;
	struct stat st;

	append_n(f, "t", 1, 4000, 200);
	append_n(f, "u", 1, 10, 20);
	kill_seqs(f, "t", s, 3, DEAD_REJECTED);
	r = (struct spool_range){ stream_id(f, "t"), 1, 3000 };
	assert_int_equal(spool_batch_delete(f->s, &r, 1, &del), 0);
	assert_int_equal(del, 3000);
	stats(f, &a);
	snapshot(f, &before);
	spoolship_spool_close(f->s);
	f->s = NULL;
	assert_int_equal(spool_compact(f->dir, &info, why, sizeof(why)), 0);
	assert_true(info.after_bytes < info.before_bytes);
	assert_int_equal(info.after_bytes, file_bytes(f));
	assert_true(info.records > 1000);
	snprintf(p, sizeof(p), "%s/data.mdb", f->dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s/data.mdb.old", f->dir);
	assert_int_not_equal(stat(p, &st), 0);
	assert_int_equal(spoolship_spool_open(f->dir, NULL, &f->s), 0);
	stats(f, &b);
	assert_int_equal(b.pending_events, a.pending_events);
	assert_int_equal(b.dead_events, a.dead_events);
	assert_int_equal(b.appended_total, a.appended_total);
	assert_int_equal(b.shipped_total, a.shipped_total);
	assert_int_equal(b.streams[0].next_seq, a.streams[0].next_seq);
	snapshot(f, &after);
	assert_int_equal(after.len, before.len);
	assert_memory_equal(after.buf, before.buf, before.len);
	verify_clean(f);
	/* Still a working spool. */
	append_n(f, "t", 5000, 10, 20);
	verify_clean(f);
	spoolship_stats_free(&a);
	spoolship_stats_free(&b);
	free(before.buf);
	free(after.buf);
}

/* Another process holding the spool open: refused, whatever it does. */
static void test_compact_refused_while_open_elsewhere(void **state)
{
	struct fixture *f = *state;
	struct spool_compact_info info;
	char why[512], c;
	int up[2], down[2], status;
	uint64_t size;
	pid_t pid;

	append_n(f, "t", 1, 100, 20);
	spoolship_spool_close(f->s);
	f->s = NULL;
	size = file_bytes(f);
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		spoolship_spool *s;

		if (spoolship_spool_open(f->dir, NULL, &s) != 0)
			_exit(1);
		if (write(up[1], "k", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(1);
		spoolship_spool_close(s);
		_exit(0);
	}
	assert_int_equal(read(up[0], &c, 1), 1);
	assert_int_equal(spool_compact(f->dir, &info, why, sizeof(why)),
			 -EBUSY);
	assert_non_null(strstr(why, "in use"));
	assert_int_equal(file_bytes(f), size);
	assert_int_equal(write(down[1], "k", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Once it is gone: fine. */
	assert_int_equal(spool_compact(f->dir, &info, why, sizeof(why)), 0);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	assert_int_equal(spoolship_spool_open(f->dir, NULL, &f->s), 0);
	verify_clean(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_open, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_requeue_moves_and_counts),
		T(test_requeue_filters),
		T(test_requeue_many),
		T(test_corrupt_refused),
		T(test_corrupt_that_decodes),
		T(test_purge),
		T(test_damaged_dead_record),
		T(test_compact),
		T(test_compact_refused_while_open_elsewhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
