/*
 * test_layout.c - the public structs' size rule (spoolship.h, "Growing
 * structs"): a size too small, too big or unknown is refused with
 * SPOOLSHIP_EINVAL and a message; an older layout is accepted, its
 * missing fields defaulted (options) or left unwritten (stats); and the
 * library's version.
 */
#include "spool_fixture.h"

#include "layout.h"

/* Room for a struct larger than the library's, as a newer header
 * would make it. */
union big_options {
	struct spoolship_options o;
	char bytes[sizeof(struct spoolship_options) + 64];
};

static const size_t bad_sizes[] = {
	0, sizeof(size_t), sizeof(struct spoolship_options) - 8,
	sizeof(struct spoolship_options) + 8,
};

static void test_options_size_refused(void **state)
{
	struct fixture *f = *state;
	union big_options b;
	spoolship_spool *s = NULL;

	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(*bad_sizes); i++) {
		memset(&b, 0, sizeof(b));
		spoolship_options_init(&b.o);
		b.o.size = bad_sizes[i];
		assert_int_equal(spoolship_spool_open(f->dir, &b.o, &s),
				 SPOOLSHIP_EINVAL);
		assert_null(s);
	}
	spoolship_options_init(&b.o);
	assert_int_equal(b.o.size, sizeof(struct spoolship_options));
	assert_int_equal(spoolship_spool_open(f->dir, &b.o, &f->s), 0);
}

static void test_producer_options_size_refused(void **state)
{
	struct fixture *f = *state;
	struct spoolship_producer_options po;
	spoolship_producer *p = NULL;

	spoolship_producer_options_init(&po);
	assert_int_equal(po.size, sizeof(po));
	po.size = sizeof(po) + 8;
	assert_int_equal(spoolship_producer_new(f->s, "t", &po, &p),
			 SPOOLSHIP_EINVAL);
	po.size = 0;
	assert_int_equal(spoolship_producer_new(f->s, "t", &po, &p),
			 SPOOLSHIP_EINVAL);
	assert_null(p);
	spoolship_producer_options_init(&po);
	assert_int_equal(spoolship_producer_new(f->s, "t", &po, &p), 0);
	assert_int_equal(spoolship_producer_close(p), 0);
}

/* A refused stats struct is not written at all. */
static void test_stats_size_refused(void **state)
{
	struct fixture *f = *state;
	struct spoolship_stats st;

	append_n(f, "t", 0, 3, 10);
	spoolship_stats_init(&st);
	st.size = sizeof(st) + 8;
	assert_int_equal(spoolship_spool_stats(f->s, &st), SPOOLSHIP_EINVAL);
	assert_int_equal(st.pending_events, 0);
	st.size = 8;
	assert_int_equal(spoolship_spool_stats(f->s, &st), SPOOLSHIP_EINVAL);
	assert_int_equal(st.pending_events, 0);
	spoolship_stats_init(&st);
	assert_int_equal(spoolship_spool_stats(f->s, &st), 0);
	assert_int_equal(st.size, sizeof(st));
	assert_int_equal(st.pending_events, 3);
	spoolship_stats_free(&st);
}

/* Two layouts of one struct, as a header and its successor (int64_t:
 * an int added after an int could fit in the padding, sizeof unchanged,
 * which the rule forbids). */
struct v1 {
	size_t size;
	int64_t a;
};
struct v2 {
	size_t size;
	int64_t a;
	int64_t b; /* added later */
};
static const size_t v_sizes[] = { sizeof(struct v1), sizeof(struct v2) };

static void test_older_layout_gets_defaults(void **state)
{
	struct v1 old = { sizeof(old), 5 };
	struct v2 full = { sizeof(full), 1, 2 };

	(void)state;
	assert_int_equal(layout_import(&full, &old, v_sizes, 2, "v", NULL, 0),
			 0);
	assert_int_equal(full.size, sizeof(full));
	assert_int_equal(full.a, 5);
	assert_int_equal(full.b, 2); /* the default: old has no b */
}

static void test_older_layout_written_in_part(void **state)
{
	struct {
		struct v1 v;
		unsigned char guard[16];
	} out;
	struct v2 full = { sizeof(full), 8, 9 };

	(void)state;
	memset(&out, 0xee, sizeof(out));
	out.v.size = sizeof(out.v);
	assert_int_equal(layout_check(out.v.size, v_sizes, 2, "v", NULL, 0),
			 0);
	layout_export(&out, &full);
	assert_int_equal(out.v.size, sizeof(struct v1));
	assert_int_equal(out.v.a, 8);
	for (size_t i = 0; i < sizeof(out.guard); i++)
		assert_int_equal(out.guard[i], 0xee);
}

static void test_unknown_size_message(void **state)
{
	struct v2 full = { sizeof(full), 1, 2 };
	struct v2 in = { sizeof(full) + 8, 3, 4 };
	char msg[256] = "";

	(void)state;
	assert_int_equal(layout_import(&full, &in, v_sizes, 2, "v", msg,
				       sizeof(msg)),
			 SPOOLSHIP_EINVAL);
	assert_non_null(strstr(msg, "struct v: size "));
	assert_non_null(strstr(msg, "_init"));
	assert_int_equal(full.a, 1); /* untouched */
	msg[0] = '\0';
	assert_int_equal(layout_check(sizeof(struct v1) + 1, v_sizes, 2, "v",
				      msg, sizeof(msg)),
			 SPOOLSHIP_EINVAL); /* between two layouts */
	assert_non_null(strstr(msg, "not a layout"));
}

static void test_version(void **state)
{
	unsigned maj, min, pat;

	(void)state;
	assert_string_equal(spoolship_version(), SPOOLSHIP_VERSION_STRING);
	assert_int_equal(sscanf(spoolship_version(), "%u.%u.%u", &maj, &min,
				&pat),
			 3);
	assert_int_equal(spoolship_version_number(),
			 (int)(maj * 10000 + min * 100 + pat));
	assert_int_equal(spoolship_version_number(), SPOOLSHIP_VERSION_NUMBER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_options_size_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_producer_options_size_refused, setup_open,
			teardown),
		cmocka_unit_test_setup_teardown(test_stats_size_refused,
						setup_open, teardown),
		cmocka_unit_test(test_older_layout_gets_defaults),
		cmocka_unit_test(test_older_layout_written_in_part),
		cmocka_unit_test(test_unknown_size_message),
		cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
