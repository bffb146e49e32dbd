/*
 * test_spool_room.c - the room kept for deletes (spool_room.c): the
 * reserve's figures, a budget whose reserve appends may not take, and
 * dead-letter moves split to fit the reserve.  The full filesystem itself
 * needs a mount: test/integration/0712-fs-full-drain.sh.
 */
#include "spool_fixture.h"

#include <errno.h>

static void test_reserve_figures(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;

	spoolship_options_init(&o);
	o.max_bytes = 64ull << 20;
	assert_int_equal(spoolship_spool_open(f->dir, &o, &f->s), 0);
	assert_int_equal(spool_reserve(f->s), 4ull << 20); /* the floor */
	f->s->o.max_bytes = 1ull << 30;
	assert_int_equal(spool_reserve(f->s), (1ull << 30) / 100);
	f->s->o.max_bytes = 1ull << 40;
	assert_int_equal(spool_reserve(f->s), 64ull << 20); /* the cap */
	f->s->o.max_bytes = 64ull << 20;
	/* avail must hold need and leave the whole reserve. */
	assert_true(spool_room_enough(10, 4, 6));
	assert_false(spool_room_enough(10, 5, 6));
	assert_false(spool_room_enough(3, 4, 0));
	assert_true(spool_room_enough(4, 4, 0));
}

/*
 * The budget's hole: a delete on a full map grows it into the reserve
 * above the budget; appends then must not take those pages, or the next
 * delete finds neither free pages nor map and the spool never drains.
 * Round after round of "fill to full, ship half" every delete succeeds.
 */
static void test_budget_reserve_kept(void **state)
{
	struct fixture *f = *state;
	struct spoolship_options o;
	struct spoolship_stats st;
	uint64_t lo = 1, hi = 0, del;
	uint32_t id = 0;
	int rc;

	spoolship_options_init(&o);
	o.max_bytes = 1ull << 20;
	o.sync = SPOOLSHIP_SYNC_NONE;
	assert_int_equal(spoolship_spool_open(f->dir, &o, &f->s), 0);
	for (int round = 0; round < 8; round++) {
		uint64_t n = fill(f, (long)hi + 1, 2000, &rc);
		struct spool_range r;

		assert_int_equal(rc, SPOOLSHIP_ESPOOL_FULL);
		assert_string_equal(spool_full_limit(f->s), "budget");
		hi += n;
		if (id == 0)
			id = stream_id(f, "t");
		r = (struct spool_range){ id, lo, lo + (hi - lo + 1) / 2 - 1 };
		rc = spool_batch_delete(f->s, &r, 1, &del);
		assert_int_equal(rc, 0);
		assert_int_equal(del, r.last_seq - r.first_seq + 1);
		lo = r.last_seq + 1;
		assert_true(n > 0 || round == 0);
	}
	spoolship_stats_init(&st);
	assert_int_equal(spoolship_spool_stats(f->s, &st), 0);
	assert_int_equal(st.pending_events, hi - lo + 1);
	assert_true(st.map_bytes <= o.max_bytes + spool_reserve(f->s));
	spoolship_stats_free(&st);
}

/* A dead-letter move of more than half the reserve goes in several txns
 * (each fits the room kept for it) and still moves every event. */
static void test_dead_move_split(void **state)
{
	struct fixture *f = *state;
	struct dead_info di = { DEAD_REJECTED, 400, NULL, 0 };
	struct spoolship_options o;
	struct spoolship_stats st;
	uint64_t seqs[6], moved;
	MDB_envinfo before, after;
	size_t cap = 1000000, len;
	char *ev = malloc(cap);

	spoolship_options_init(&o);
	o.sync = SPOOLSHIP_SYNC_NONE;
	o.max_bytes = 64ull << 20; /* a reserve of 4 MiB */
	assert_int_equal(spoolship_spool_open(f->dir, &o, &f->s), 0);
	for (int i = 0; i < 6; i++) {
		len = tu_event(ev, cap, i + 1, 900000);
		assert_int_equal(spoolship_append(f->s, "t", ev, len, NULL, 0),
				 0);
		seqs[i] = (uint64_t)i + 1;
	}
	free(ev);
	assert_int_equal(mdb_env_info(f->s->env, &before), 0);
	assert_int_equal(spool_dead_move(f->s, stream_id(f, "t"), seqs, 6,
					 &di, &moved), 0);
	assert_int_equal(moved, 6);
	assert_int_equal(mdb_env_info(f->s->env, &after), 0);
	/* 5.4 MB, a txn closing once 2 MiB went in: 2 txns of 3. */
	assert_true(after.me_last_txnid - before.me_last_txnid >= 2);
	spoolship_stats_init(&st);
	assert_int_equal(spoolship_spool_stats(f->s, &st), 0);
	assert_int_equal(st.pending_events, 0);
	assert_int_equal(st.dead_total, 6);
	spoolship_stats_free(&st);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reserve_figures),
		T(test_budget_reserve_kept),
		T(test_dead_move_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
