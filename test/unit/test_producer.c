/*
 * test_producer.c - the buffered producer: thresholds, linger, flush,
 * close, threads sharing commits, and errors reported to the caller.
 */
#include "spool_fixture.h"

#include <pthread.h>

static uint64_t pending(struct fixture *f)
{
	struct spoolship_stats st;
	uint64_t n;

	spoolship_stats_init(&st);
	assert_int_equal(spoolship_spool_stats(f->s, &st), 0);
	n = st.pending_events;
	spoolship_stats_free(&st);
	return n;
}

/* Waits (bounded) for the spool to hold want events. */
static int await_pending(struct fixture *f, uint64_t want, int64_t limit_ms)
{
	int64_t end = clock_mono_ms() + limit_ms;
	struct timespec ts = { 0, 2000000 };

	while (pending(f) != want) {
		if (clock_mono_ms() > end)
			return 0;
		nanosleep(&ts, NULL);
	}
	return 1;
}

static void test_count_threshold_commits(void **state)
{
	struct fixture *f = *state;
	struct spoolship_producer_options po;
	spoolship_producer *p;
	char ev[256];

	spoolship_producer_options_init(&po);
	po.max_events = 10;
	po.linger_ms = 600000; /* never by time in this test */
	assert_int_equal(spoolship_producer_new(f->s, "t", &po, &p), 0);
	for (long i = 0; i < 9; i++) {
		size_t n = tu_event(ev, sizeof(ev), i, 8);

		assert_int_equal(spoolship_producer_append(p, ev, n, NULL, 0),
				 0);
	}
	assert_int_equal(pending(f), 0); /* buffered, not committed */
	{
		size_t n = tu_event(ev, sizeof(ev), 9, 8);

		assert_int_equal(spoolship_producer_append(p, ev, n, NULL, 0),
				 0);
	}
	assert_int_equal(pending(f), 10); /* the 10th committed all */
	assert_int_equal(spoolship_producer_close(p), 0);
}

static void test_linger_commits(void **state)
{
	struct fixture *f = *state;
	struct spoolship_producer_options po;
	spoolship_producer *p;
	char ev[256];
	size_t n = tu_event(ev, sizeof(ev), 1, 8);

	spoolship_producer_options_init(&po);
	po.linger_ms = 20;
	assert_int_equal(spoolship_producer_new(f->s, "t", &po, &p), 0);
	assert_int_equal(spoolship_producer_append(p, ev, n, NULL, 0), 0);
	assert_true(await_pending(f, 1, 10000));
	assert_int_equal(spoolship_producer_close(p), 0);
}

static void test_flush_and_close(void **state)
{
	struct fixture *f = *state;
	spoolship_producer *p;
	char ev[256], why[128];
	size_t n = tu_event(ev, sizeof(ev), 1, 8);
	struct spoolship_producer_options po;

	spoolship_producer_options_init(&po);
	po.linger_ms = 600000;
	assert_int_equal(spoolship_producer_new(f->s, "t", &po, &p), 0);
	assert_int_equal(spoolship_producer_flush(p), 0); /* nothing: ok */
	assert_int_equal(spoolship_producer_append(p, ev, n, NULL, 0), 0);
	assert_int_equal(spoolship_producer_flush(p), 0);
	assert_int_equal(pending(f), 1);
	assert_int_equal(spoolship_producer_append(p, "{}", 2, why,
						   sizeof(why)),
			 SPOOLSHIP_ENOTIME);
	assert_non_null(strstr(why, "__time"));
	assert_int_equal(spoolship_producer_append(p, ev, n, NULL, 0), 0);
	assert_int_equal(spoolship_producer_close(p), 0);
	assert_int_equal(pending(f), 2);
	assert_int_equal(spoolship_producer_close(NULL), 0);
	assert_int_equal(spoolship_producer_new(f->s, "no/slash", NULL, &p),
			 SPOOLSHIP_EINVAL);
}

struct worker {
	spoolship_producer *p;
	long first, n;
	int rc;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char ev[256];

	for (long i = w->first; i < w->first + w->n && w->rc == 0; i++) {
		size_t n = tu_event(ev, sizeof(ev), i, 8);

		w->rc = spoolship_producer_append(w->p, ev, n, NULL, 0);
		if (i % 97 == 0 && w->rc == 0)
			w->rc = spoolship_producer_flush(w->p);
	}
	if (w->rc == 0)
		w->rc = spoolship_producer_flush(w->p);
	return NULL;
}

static void test_threads_share_commits(void **state)
{
	struct fixture *f = *state;
	spoolship_producer *p;
	pthread_t th[4];
	struct worker w[4];
	struct spoolship_producer_options po;

	spoolship_producer_options_init(&po);
	po.max_events = 500;
	po.linger_ms = 5;
	assert_int_equal(spoolship_producer_new(f->s, "t", &po, &p), 0);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ p, i * 100000L, 3000, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	/* Every flush returned: every event is in the spool already. */
	assert_int_equal(pending(f), 12000);
	assert_int_equal(spoolship_producer_close(p), 0);
}

static void test_commit_error_reported(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	struct spoolship_producer_options po;
	spoolship_producer *p;
	spoolship_spool *small;
	char *dir = tu_tmpdir(), ev[8192];
	int rc = 0;

	spoolship_options_init(&o);
	o.max_bytes = 512 << 10;
	o.sync = SPOOLSHIP_SYNC_NONE;
	assert_int_equal(spoolship_spool_open(dir, &o, &small), 0);
	spoolship_producer_options_init(&po);
	po.max_events = 20;
	po.linger_ms = 600000;
	assert_int_equal(spoolship_producer_new(small, "t", &po, &p), 0);
	for (long i = 0; i < 1000 && rc == 0; i++) {
		size_t n = tu_event(ev, sizeof(ev), i, 4000);

		rc = spoolship_producer_append(p, ev, n, NULL, 0);
	}
	assert_int_equal(rc, SPOOLSHIP_ESPOOL_FULL);
	spoolship_producer_close(p);
	spoolship_spool_close(small);
	tu_rmdir(dir);
	(void)f;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup_open, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_count_threshold_commits),
		T(test_linger_commits),
		T(test_flush_and_close),
		T(test_threads_share_commits),
		T(test_commit_error_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
