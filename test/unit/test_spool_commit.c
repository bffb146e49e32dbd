/*
 * test_spool_commit.c - the commit pipeline (spool_commit.c): many
 * callers in one txn each get their own outcome, a refused txn fails each
 * of its callers and commits nothing, a chain stops at its first failure,
 * extra keys commit with the events (and not without them), and sealing
 * happens before the txn, which only copies the sealed records.
 */
#include "spool_fixture.h"

#include <pthread.h>

#include "spool_commit.h"

#define NREQ 16
#define PER_REQ 10

static uint64_t pending(spoolship_spool *s, const char *table)
{
	struct spoolship_stats st;
	uint64_t n = 0;

	spoolship_stats_init(&st);
	assert_int_equal(spoolship_spool_stats(s, &st), 0);
	if (table == NULL)
		n = st.pending_events;
	for (size_t i = 0; table != NULL && i < st.nstreams; i++)
		if (strcmp(st.streams[i].name, table) == 0)
			n = st.streams[i].pending_events;
	spoolship_stats_free(&st);
	return n;
}

/* Events of pad bytes with ids first.., validated into items (their
 * bytes in *arena, freed by the caller). */
static struct spool_item *items_of(long first, size_t n, size_t pad,
				   char **arena)
{
	struct spool_item *it = calloc(n, sizeof(*it));
	size_t step = pad + 128;

	*arena = malloc(n * step);
	assert_non_null(it);
	assert_non_null(*arena);
	for (size_t i = 0; i < n; i++) {
		it[i].data = *arena + i * step;
		it[i].len = tu_event(*arena + i * step, step, first + (long)i,
				     pad);
		it[i].event_ms = clock_wall_ms();
	}
	return it;
}

/* The meta value of key, or NULL (a copy to free). */
static char *meta_str(spoolship_spool *s, const char *key)
{
	MDB_txn *txn;
	MDB_val k = { strlen(key), (void *)key }, d;
	char *v = NULL;

	assert_int_equal(spool_txn_begin(s, 1, &txn), 0);
	if (mdb_get(txn, s->meta, &k, &d) == 0) {
		v = calloc(1, d.mv_size + 1);
		memcpy(v, d.mv_data, d.mv_size);
	}
	spool_txn_abort(s, txn);
	return v;
}

/* ---- one list, one txn -------------------------------------------------- */

static void test_list_one_txn_own_outcomes(void **state)
{
	struct fixture *f = *state;
	struct spool_commit_req r[3] = { { 0 } };
	const char *tables[3] = { "a", "no/slash", "b" };
	struct spool_item *it[3];
	char *arena[3];
	unsigned txns = 0;

	for (int i = 0; i < 3; i++) {
		it[i] = items_of(i * 100, PER_REQ, 8, &arena[i]);
		r[i].table = tables[i];
		r[i].it = it[i];
		r[i].n = PER_REQ;
		r[i].next = i < 2 ? &r[i + 1] : NULL;
	}
	spool_commit_run(f->s, r, &txns);
	assert_int_equal(txns, 1);
	assert_int_equal(r[0].rc, 0);
	assert_int_equal(r[1].rc, SPOOLSHIP_EINVAL); /* its own outcome */
	assert_int_equal(r[2].rc, 0);
	assert_int_equal(pending(f->s, "a"), PER_REQ);
	assert_int_equal(pending(f->s, "b"), PER_REQ);
	assert_int_equal(pending(f->s, NULL), 2 * PER_REQ);
	for (int i = 0; i < 3; i++) {
		spool_commit_req_free(&r[i]);
		free(it[i]);
		free(arena[i]);
	}
}

/* ---- the pipe: concurrent callers --------------------------------------- */

struct caller {
	struct spool_pipe *pipe;
	struct spool_commit_req req;
	struct spool_item *it;
	char *arena;
	char table[8];
	pthread_mutex_t *mu;
	pthread_cond_t *cv;
	int done;
};

static void caller_done(struct spool_commit_req *r, void *arg)
{
	struct caller *c = arg;

	(void)r;
	pthread_mutex_lock(c->mu);
	c->done = 1;
	pthread_cond_broadcast(c->cv);
	pthread_mutex_unlock(c->mu);
}

static void *caller_main(void *arg)
{
	struct caller *c = arg;

	spool_pipe_submit(c->pipe, &c->req);
	pthread_mutex_lock(c->mu);
	while (!c->done)
		pthread_cond_wait(c->cv, c->mu);
	pthread_mutex_unlock(c->mu);
	return NULL;
}

static void test_pipe_callers_share_txns(void **state)
{
	struct fixture *f = *state;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct caller c[NREQ];
	pthread_t th[NREQ];
	struct spool_pipe *pipe;
	MDB_txn *hold;

	assert_int_equal(spool_pipe_new(f->s, 0, SPOOL_GROUP_EVENTS,
					SPOOL_GROUP_BYTES, &pipe), 0);
	/* LMDB's writer lock held here: the committer blocks on its first
	 * group, and the others queue up behind it meanwhile. */
	assert_int_equal(spool_txn_begin(f->s, 0, &hold), 0);
	for (int i = 0; i < NREQ; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].pipe = pipe;
		c[i].mu = &mu;
		c[i].cv = &cv;
		c[i].it = items_of(i * 1000, PER_REQ + (size_t)i, 8,
				   &c[i].arena);
		snprintf(c[i].table, sizeof(c[i].table), "t%d", i % 3);
		c[i].req.table = i == 5 ? "bad table" : c[i].table;
		c[i].req.it = c[i].it;
		c[i].req.n = PER_REQ + (size_t)i;
		c[i].req.done = caller_done;
		c[i].req.arg = &c[i];
		assert_int_equal(pthread_create(&th[i], NULL, caller_main,
						&c[i]), 0);
	}
	{
		struct timespec ts = { 0, 100 * 1000000L };

		nanosleep(&ts, NULL);
	}
	spool_txn_abort(f->s, hold);
	for (int i = 0; i < NREQ; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NREQ; i++) {
		assert_int_equal(c[i].req.rc,
				 i == 5 ? SPOOLSHIP_EINVAL : 0);
	}
	{
		uint64_t want[3] = { 0, 0, 0 }, all = 0;

		for (int i = 0; i < NREQ; i++)
			if (i != 5) {
				want[i % 3] += PER_REQ + (uint64_t)i;
				all += PER_REQ + (uint64_t)i;
			}
		assert_int_equal(pending(f->s, "t0"), want[0]);
		assert_int_equal(pending(f->s, "t1"), want[1]);
		assert_int_equal(pending(f->s, "t2"), want[2]);
		assert_int_equal(pending(f->s, NULL), all);
	}
	/* 16 callers, far fewer txns: they shared them. */
	assert_true(spool_pipe_txns(pipe) < NREQ / 2);
	assert_true(spool_pipe_close(pipe) < NREQ / 2);
	for (int i = 0; i < NREQ; i++) {
		free(c[i].it);
		free(c[i].arena);
	}
}

/* ---- refusals ----------------------------------------------------------- */

/* A spool of a small budget, filled until an append is refused. */
static spoolship_spool *full_spool(const char *dir)
{
	struct spoolship_options o;
	spoolship_spool *s;
	char *arena;
	struct spool_item *it = items_of(0, 1, 4000, &arena);
	int rc = 0;

	spoolship_options_init(&o);
	o.max_bytes = 512 << 10;
	o.sync = SPOOLSHIP_SYNC_NONE;
	assert_int_equal(spoolship_spool_open(dir, &o, &s), 0);
	for (int i = 0; i < 10000 && rc == 0; i++)
		rc = spool_append_items(s, "t", it, 1, 0);
	assert_int_equal(rc, SPOOLSHIP_ESPOOL_FULL);
	free(it);
	free(arena);
	return s;
}

static void test_refusal_fails_every_caller(void **state)
{
	struct fixture *f = *state;
	spoolship_spool *s = full_spool(f->dir);
	struct spool_commit_extra ex = { "cp.refused", "42", 2 };
	struct spool_commit_req r[2] = { { 0 } };
	struct spool_item *it[2];
	char *arena[2], *v;
	uint64_t before = pending(s, NULL);

	for (int i = 0; i < 2; i++) {
		it[i] = items_of(i * 100, 40, 4000, &arena[i]);
		r[i].table = "t";
		r[i].it = it[i];
		r[i].n = 40;
	}
	r[0].next = &r[1];
	r[1].extra = &ex;
	r[1].nextra = 1;
	spool_commit_run(s, r, NULL);
	assert_int_equal(r[0].rc, SPOOLSHIP_ESPOOL_FULL);
	assert_int_equal(r[1].rc, SPOOLSHIP_ESPOOL_FULL);
	assert_int_equal(pending(s, NULL), before);
	v = meta_str(s, "cp.refused");
	assert_null(v); /* the extra key of a refused commit is absent */
	spoolship_spool_close(s);
	for (int i = 0; i < 2; i++) {
		spool_commit_req_free(&r[i]);
		free(it[i]);
		free(arena[i]);
	}
}

/* Another refusal (a key LMDB refuses) fails the whole txn: the first
 * request, fine alone, is not committed either, nor its extra key. */
static void test_refused_txn_commits_nothing(void **state)
{
	struct fixture *f = *state;
	struct spool_commit_extra good = { "cp.good", "1", 1 };
	struct spool_commit_extra bad = { "", "x", 1 }; /* empty key */
	struct spool_commit_req r[2] = { { 0 } };
	struct spool_item *it;
	char *arena, *v;

	it = items_of(0, PER_REQ, 8, &arena);
	r[0].table = "t";
	r[0].it = it;
	r[0].n = PER_REQ;
	r[0].extra = &good;
	r[0].nextra = 1;
	r[0].next = &r[1];
	r[1].extra = &bad;
	r[1].nextra = 1;
	spool_commit_run(f->s, r, NULL);
	assert_int_not_equal(r[0].rc, 0);
	assert_int_equal(r[0].rc, r[1].rc);
	assert_int_equal(pending(f->s, NULL), 0);
	v = meta_str(f->s, "cp.good");
	assert_null(v);
	free(it);
	free(arena);
}

static void test_chain_stops_at_failure(void **state)
{
	struct fixture *f = *state;
	struct spool_commit_chain chain = { 0 };
	struct spool_commit_req r[3] = { { 0 } };
	struct spool_item *it;
	char *arena;

	it = items_of(0, PER_REQ, 8, &arena);
	for (int i = 0; i < 3; i++) {
		r[i].table = i == 1 ? "bad table" : "t";
		r[i].it = it;
		r[i].n = PER_REQ;
		r[i].chain = &chain;
		r[i].next = i < 2 ? &r[i + 1] : NULL;
	}
	spool_commit_run(f->s, r, NULL);
	assert_int_equal(r[0].rc, 0);
	assert_int_equal(r[1].rc, SPOOLSHIP_EINVAL);
	assert_int_equal(r[2].rc, SPOOLSHIP_EINVAL); /* after it: not tried */
	assert_int_equal(chain.err, SPOOLSHIP_EINVAL);
	assert_int_equal(pending(f->s, NULL), PER_REQ);
	free(it);
	free(arena);
}

/* ---- extras ------------------------------------------------------------- */

static void test_extra_commits_with_events(void **state)
{
	struct fixture *f = *state;
	struct spool_commit_extra ex[2] = { { "cp.file-a", "offset=42", 9 },
					    { "cp.file-b", "7", 1 } };
	struct spool_commit_req r = { 0 };
	struct spool_item *it;
	char *arena, *v;

	assert_null(meta_str(f->s, "cp.file-a"));
	it = items_of(0, PER_REQ, 8, &arena);
	r.table = "t";
	r.it = it;
	r.n = PER_REQ;
	r.extra = ex;
	r.nextra = 2;
	assert_int_equal(spool_commit_run(f->s, &r, NULL), 0);
	assert_int_equal(pending(f->s, NULL), PER_REQ);
	v = meta_str(f->s, "cp.file-a");
	assert_string_equal(v, "offset=42");
	free(v);
	v = meta_str(f->s, "cp.file-b");
	assert_string_equal(v, "7");
	free(v);
	free(it);
	free(arena);
}

/* ---- sealing outside the txn -------------------------------------------- */

/* The records stored for stream "t", back to back. */
static size_t stored(spoolship_spool *s, unsigned char *out, size_t cap)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, d;
	size_t off = 0;
	int rc;

	assert_int_equal(spool_txn_begin(s, 1, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, s->events, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
		assert_true(off + d.mv_size <= cap);
		memcpy(out + off, d.mv_data, d.mv_size);
		off += d.mv_size;
	}
	mdb_cursor_close(c);
	spool_txn_abort(s, txn);
	return off;
}

static void test_sealed_before_the_txn(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	struct spool_commit_req r = { 0 };
	struct spool_item *it;
	spoolship_spool *s;
	char key[4200], *arena;
	unsigned char got[65536];
	size_t len;

	snprintf(key, sizeof(key), "%s.key", f->dir);
	assert_int_equal(spoolship_key_generate(key, NULL, 0), 0);
	spoolship_options_init(&o);
	o.key_file = key;
	assert_int_equal(spoolship_spool_open(f->dir, &o, &s), 0);
	it = items_of(0, PER_REQ, 8, &arena);
	r.table = "t";
	r.it = it;
	r.n = PER_REQ;
	/* Sealed by the caller, before any txn: the records exist. */
	assert_int_equal(spool_commit_encode(s, &r), 0);
	assert_true(r.encoded);
	assert_int_equal(spool_commit_run(s, &r, NULL), 0);
	/* What the txn stored is byte for byte what was sealed before it
	 * (AES-GCM with a fresh random nonce: sealing again in the txn
	 * could not give the same bytes). */
	len = stored(s, got, sizeof(got));
	assert_int_equal(len, PER_REQ * spool_record_size(s, it[0].len));
	assert_memory_equal(got, r.recs, len);
	spool_commit_req_free(&r);
	assert_int_equal(spoolship_spool_close(s), 0);
	remove(key);
	free(it);
	free(arena);
}

/* A pipe with its sealer thread: the same, for a request that comes in
 * unsealed. */
static void pipe_done(struct spool_commit_req *r, void *arg)
{
	(void)r;
	*(int *)arg = 1;
}

static void test_pipe_sealer_seals(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	struct spool_commit_req r = { 0 };
	struct spool_pipe *pipe;
	struct spool_item *it;
	spoolship_spool *s;
	char key[4200], *arena;
	unsigned char got[65536];
	int done = 0;

	snprintf(key, sizeof(key), "%s.key", f->dir);
	assert_int_equal(spoolship_key_generate(key, NULL, 0), 0);
	spoolship_options_init(&o);
	o.key_file = key;
	assert_int_equal(spoolship_spool_open(f->dir, &o, &s), 0);
	assert_int_equal(spool_pipe_new(s, SPOOL_PIPE_SEALER, 100, 1 << 20,
					&pipe), 0);
	it = items_of(0, PER_REQ, 8, &arena);
	r.table = "t";
	r.it = it;
	r.n = PER_REQ;
	r.done = pipe_done;
	r.arg = &done;
	spool_pipe_submit(pipe, &r);
	assert_int_equal(spool_pipe_close(pipe), 1);
	assert_true(done);
	assert_int_equal(r.rc, 0);
	assert_true(r.encoded);
	assert_memory_equal(got, r.recs, stored(s, got, sizeof(got)));
	spool_commit_req_free(&r);
	assert_int_equal(spoolship_spool_close(s), 0);
	remove(key);
	free(it);
	free(arena);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_open, teardown)
#define TD(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_list_one_txn_own_outcomes),
		T(test_pipe_callers_share_txns),
		TD(test_refusal_fails_every_caller),
		T(test_refused_txn_commits_nothing),
		T(test_chain_stops_at_failure),
		T(test_extra_commits_with_events),
		TD(test_sealed_before_the_txn),
		TD(test_pipe_sealer_seals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
