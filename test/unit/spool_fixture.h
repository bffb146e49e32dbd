/*
 * spool_fixture.h - the cmocka fixture the spool's unit tests share: a
 * fresh spool directory per test, and helpers to fill and inspect it.
 */
#ifndef SPOOLSHIP_SPOOL_FIXTURE_H
#define SPOOLSHIP_SPOOL_FIXTURE_H

#include "testutil.h"

#include "spool.h"

struct fixture {
	char *dir;
	spoolship_spool *s;  /* NULL until a test (or setup_open) opens it */
};

/* A fresh directory; the test opens the spool with its own options. */
static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = tu_tmpdir();
	*state = f;
	return 0;
}

/* A fresh directory with the spool opened with the default options. */
static inline int setup_open(void **state)
{
	struct fixture *f;

	setup(state);
	f = *state;
	assert_int_equal(spoolship_spool_open(f->dir, NULL, &f->s), 0);
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;

	spoolship_spool_close(f->s);
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static inline uint32_t stream_id(struct fixture *f, const char *table)
{
	struct stream_row row;
	MDB_txn *txn;

	assert_int_equal(spool_txn_begin(f->s, 1, &txn), 0);
	assert_int_equal(stream_get(f->s, txn, table, &row), 0);
	spool_txn_abort(f->s, txn);
	return row.id;
}

/* Appends n events with ids first.. of pad bytes each, in one commit. */
static inline void append_n(struct fixture *f, const char *table,
			    long first, size_t n, size_t pad)
{
	struct spoolship_event *ev = calloc(n, sizeof(*ev));
	char *buf = malloc(n * (pad + 128));
	size_t acc = 0;

	for (size_t i = 0; i < n; i++) {
		char *p = buf + i * (pad + 128);

		ev[i].len = tu_event(p, pad + 128, first + (long)i, pad);
		ev[i].data = p;
	}
	assert_int_equal(spoolship_append_many(f->s, table, ev, n, 0, NULL,
					       NULL, &acc), 0);
	assert_int_equal(acc, n);
	free(ev);
	free(buf);
}

/* Appends events of pad bytes (ids first..) to table t one by one until
 * refused; returns how many went in, the refusal in *last_rc. */
static inline size_t fill(struct fixture *f, long first, size_t pad,
			  int *last_rc)
{
	char ev[8192];
	size_t n = 0;

	for (;;) {
		size_t len = tu_event(ev, sizeof(ev), first + (long)n, pad);

		*last_rc = spoolship_append(f->s, "t", ev, len, NULL, 0);
		if (*last_rc != 0 || n > 100000)
			return n;
		n++;
	}
}

#endif
