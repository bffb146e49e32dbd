/*
 * testutil.h - shared helpers of the cmocka unit tests: temporary spool
 * directories and events stamped with the current time.
 */
#ifndef SPOOLSHIP_TESTUTIL_H
#define SPOOLSHIP_TESTUTIL_H

#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "validate.h"

/* Makes a fresh directory under TMPDIR; returns a path to free(). */
static inline char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p = malloc(4096);

	assert_non_null(p);
	snprintf(p, 4096, "%s/spoolship-unit-XXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(p));
	return p;
}

static inline void tu_rmdir(char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

/* Writes an event with the current time, an id and pad bytes of 'x'. */
static inline size_t tu_event(char *buf, size_t cap, long id, size_t pad)
{
	char t[VALIDATE_TIME_LEN + 1];
	int n;

	validate_time_format(clock_wall_ms(), t);
	n = snprintf(buf, cap, "{\"__time\":\"%s\",\"id\":%ld,\"pad\":\"", t,
		     id);
	assert_true(n > 0 && (size_t)n + pad + 3 < cap);
	memset(buf + n, 'x', pad);
	memcpy(buf + n + pad, "\"}", 3);
	return (size_t)n + pad + 2;
}

#endif
