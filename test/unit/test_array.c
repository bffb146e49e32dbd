/* test_array.c - array_grow and array_grow_max (src/lib/array.c): the one
 * way the project grows a heap array or a bounded buffer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "array.h"

static void test_grow_doubles_from_16(void **state)
{
	int *p = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow((void **)&p, &cap, 1, sizeof(*p)), 0);
	assert_non_null(p);
	assert_int_equal(cap, 16);
	p[15] = 7;
	assert_int_equal(array_grow((void **)&p, &cap, 16, sizeof(*p)), 0);
	assert_int_equal(cap, 16); /* enough already: unchanged */
	assert_int_equal(array_grow((void **)&p, &cap, 100, sizeof(*p)), 0);
	assert_int_equal(cap, 128);
	assert_int_equal(p[15], 7); /* the contents move with it */
	free(p);
}

static void test_grow_refuses_overflow(void **state)
{
	char *p = NULL, *was;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow((void **)&p, &cap, 4, 1), 0);
	was = p;
	/* need x elem would wrap: refused, the array left as it was */
	assert_int_equal(array_grow((void **)&p, &cap, SIZE_MAX / 8, 16),
			 -ENOMEM);
	assert_ptr_equal(p, was);
	assert_int_equal(cap, 16);
	free(p);
}

static void test_grow_max_stops_at_the_limit(void **state)
{
	char *p = NULL, *was;
	size_t cap = 0;

	(void)state;
	assert_int_equal(array_grow_max((void **)&p, &cap, 20, 1, 100), 0);
	assert_int_equal(cap, 32);
	assert_int_equal(array_grow_max((void **)&p, &cap, 70, 1, 100), 0);
	assert_int_equal(cap, 100); /* 128 would pass the limit */
	was = p;
	assert_int_equal(array_grow_max((void **)&p, &cap, 101, 1, 100),
			 -ENOMEM);
	assert_ptr_equal(p, was);
	assert_int_equal(cap, 100);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grow_doubles_from_16),
		cmocka_unit_test(test_grow_refuses_overflow),
		cmocka_unit_test(test_grow_max_stops_at_the_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
