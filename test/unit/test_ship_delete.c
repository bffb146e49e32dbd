/*
 * test_ship_delete.c - the shipper's deleter thread (ship_delete.c):
 * acknowledged ranges deleted in group commits and counted, a failed
 * commit reported and its ranges kept, stop deleting what is queued.
 */
#define _GNU_SOURCE
#include "spool_fixture.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ship_delete.h"

static struct spool_range range_of(uint32_t stream, uint64_t first,
				   uint64_t n)
{
	return (struct spool_range){ stream, first, first + n - 1 };
}

/* Waits (bounded) on the deleter's eventfd until done(d) holds. */
static void await(struct deleter *d, int efd, int (*done)(void *),
		  void *arg)
{
	for (int i = 0; i < 200 && !done(arg); i++) {
		struct pollfd p = { efd, POLLIN, 0 };
		uint64_t v;

		if (poll(&p, 1, 100) > 0 && read(efd, &v, sizeof(v)) < 0)
			fail_msg("read eventfd: %s", strerror(errno));
	}
	assert_true(done(arg));
	(void)d;
}

static int not_pending(void *arg)
{
	return !deleter_pending(arg);
}

static uint64_t pending_events(spoolship_spool *s)
{
	struct spoolship_stats st;
	uint64_t n;

	spoolship_stats_init(&st);
	assert_int_equal(spoolship_spool_stats(s, &st), 0);
	n = st.pending_events;
	spoolship_stats_free(&st);
	return n;
}

static void test_deletes_and_counts(void **state)
{
	struct fixture *f = *state;
	struct deleter d;
	uint64_t deleted;
	size_t ranges, batches;
	int err, efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint32_t id;

	append_n(f, "t", 1, 600, 10);
	id = stream_id(f, "t");
	assert_int_equal(deleter_start(&d, f->s, efd), 0);
	assert_true(d.started);
	/* Ten batches of 60, handed over one by one as answers come in;
	 * the last 60 are left in the spool. */
	for (uint64_t b = 0; b < 9; b++) {
		struct spool_range r = range_of(id, 1 + b * 60, 60);

		assert_int_equal(deleter_add(&d, &r, 1), 0);
	}
	await(&d, efd, not_pending, &d);
	deleter_collect(&d, &deleted, &ranges, &err, &batches);
	assert_int_equal(deleted, 540);
	assert_int_equal(ranges, 9);
	assert_int_equal(err, 0);
	assert_int_equal(batches, 0);
	/* Taken once: a second look finds nothing new. */
	deleter_collect(&d, &deleted, &ranges, &err, &batches);
	assert_int_equal(deleted, 0);
	assert_int_equal(ranges, 0);
	assert_int_equal(pending_events(f->s), 60);
	deleter_free(&d);
	close(efd);
}

static void test_stop_deletes_what_is_queued(void **state)
{
	struct fixture *f = *state;
	struct spool_range r[3];
	struct deleter d;
	uint64_t deleted;
	size_t ranges, batches;
	int err;
	uint32_t id;

	append_n(f, "t", 1, 180, 10);
	id = stream_id(f, "t");
	for (int i = 0; i < 3; i++)
		r[i] = range_of(id, 1 + (uint64_t)i * 60, 60);
	/* No eventfd: the caller may do without one. */
	assert_int_equal(deleter_start(&d, f->s, -1), 0);
	assert_int_equal(deleter_add(&d, r, 3), 0);
	deleter_stop(&d);
	assert_false(deleter_pending(&d));
	deleter_collect(&d, &deleted, &ranges, &err, &batches);
	assert_int_equal(deleted, 180);
	assert_int_equal(ranges, 3);
	assert_int_equal(err, 0);
	assert_int_equal(pending_events(f->s), 0);
	deleter_free(&d);
}

struct failed {
	struct deleter *d;
	int err;
	size_t batches;
};

static int saw_failure(void *arg)
{
	struct failed *fl = arg;
	uint64_t deleted;
	size_t ranges, batches;
	int err;

	deleter_collect(fl->d, &deleted, &ranges, &err, &batches);
	assert_int_equal(deleted, 0);
	assert_int_equal(ranges, 0);
	if (err != 0) {
		fl->err = err;
		fl->batches = batches;
	}
	return fl->err != 0;
}

/* A spool opened read-only: every commit fails, like a disk that fails
 * every write.  The ranges are reported, kept and tried again. */
static void test_failure_keeps_ranges(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	spoolship_spool *ro;
	struct spool_range r[2];
	struct deleter d;
	struct failed fl = { &d, 0, 0 };
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint32_t id;

	append_n(f, "t", 1, 120, 10);
	id = stream_id(f, "t");
	spoolship_options_init(&o);
	o.readonly = 1;
	assert_int_equal(spoolship_spool_open(f->dir, &o, &ro), 0);
	r[0] = range_of(id, 1, 60);
	r[1] = range_of(id, 61, 60);
	assert_int_equal(deleter_start(&d, ro, efd), 0);
	assert_int_equal(deleter_add(&d, r, 2), 0);
	await(&d, efd, saw_failure, &fl);
	assert_int_not_equal(fl.err, 0);
	assert_int_equal(fl.batches, 2);
	assert_true(deleter_pending(&d)); /* kept for the retry */
	/* Stopping tries once more, fails, and keeps them: never dropped
	 * as if deleted. */
	deleter_stop(&d);
	assert_true(deleter_pending(&d));
	assert_true(saw_failure(&fl));
	assert_int_equal(pending_events(f->s), 120);
	deleter_free(&d);
	assert_false(deleter_pending(&d));
	spoolship_spool_close(ro);
	close(efd);
}

static void test_unstarted_is_inert(void **state)
{
	struct deleter d;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_false(deleter_pending(&d));
	deleter_stop(&d);
	deleter_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deletes_and_counts,
						setup_open, teardown),
		cmocka_unit_test_setup_teardown(
			test_stop_deletes_what_is_queued, setup_open,
			teardown),
		cmocka_unit_test_setup_teardown(test_failure_keeps_ranges,
						setup_open, teardown),
		cmocka_unit_test(test_unstarted_is_inert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
