/*
 * spool-tool.c - a test helper that drives the spool's private interface
 * from shell tests.  Not installed; never used outside test/.
 *
 *   spool-tool ack-append DIR TABLE FIRST N [full|batch|none [keep-going]]
 *       appends events with ids FIRST.., one per commit, and prints
 *       "ok ID" only after spoolship_append returned 0 (for kill -9 tests);
 *       keep-going: after a failed append go on with the next id (a
 *       producer that outlives an I/O error), exit 1 if any failed
 *   spool-tool set-meta DIR KEY VALUE      write a meta counter
 *   spool-tool ship DIR TABLE              read and delete every batch
 *   spool-tool dead DIR TABLE SEQ REASON [STATUS [EXCERPT]]
 *       moves pending event SEQ of TABLE to the dead store (REASON:
 *       expired, rejected, corrupt, too_big), as the shipper would
 *   spool-tool hold-read DIR [open-only]
 *       opens a read txn (open-only: just the spool), prints "holding"
 *       and waits to be killed: a reader that dies holding its LMDB
 *       slot, or a process that keeps the environment open
 *   spool-tool shift-append DIR MS
 *       adds MS to the append time of every pending event (in the
 *       clear) with a fresh CRC: events from a producer whose clock was
 *       ahead, as a shipper whose clock was set back sees them
 *   spool-tool tamper DIR KEYFILE TABLE N
 *       flips a byte of the Nth pending event of TABLE (1 = oldest)
 *       after its header and writes a fresh CRC, as an attacker who
 *       knows the format would: only a sealed record's tag can tell
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "validate.h"

static int ack_append(int argc, char **argv)
{
	struct spoolship_options o;
	spoolship_spool *s;
	long first, n;
	char ev[256], why[256], t[VALIDATE_TIME_LEN + 1];
	struct timespec ts;
	int rc, failed = 0;
	int keep_going = argc > 7 && strcmp(argv[7], "keep-going") == 0;

	if (argc < 6)
		return 2;
	first = strtol(argv[4], NULL, 10);
	n = strtol(argv[5], NULL, 10);
	spoolship_options_init(&o);
	if (argc > 6 && spoolship_sync_parse(argv[6], &o.sync) != 0)
		return 2;
	if ((rc = spoolship_spool_open(argv[2], &o, &s)) != 0) {
		fprintf(stderr, "open: %s\n", spoolship_strerror(rc));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long i = first; i < first + n; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		validate_time_format((int64_t)ts.tv_sec * 1000, t);
		int len = snprintf(ev, sizeof(ev),
				   "{\"__time\":\"%s\",\"id\":%ld,"
				   "\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}",
				   t, i);
		rc = spoolship_append(s, argv[3], ev, (size_t)len, why,
				      sizeof(why));
		if (rc != 0) {
			fprintf(stderr, "append %ld: %s\n", i,
				spoolship_strerror(rc));
			failed = 1;
			if (!keep_going)
				break;
			continue;
		}
		printf("ok %ld\n", i);
	}
	spoolship_spool_close(s);
	return failed ? 1 : 0;
}

static int set_meta(int argc, char **argv)
{
	spoolship_spool *s;
	MDB_txn *txn;
	int rc;

	if (argc < 5)
		return 2;
	if ((rc = spoolship_spool_open(argv[2], NULL, &s)) != 0) {
		fprintf(stderr, "open: %s\n", spoolship_strerror(rc));
		return 1;
	}
	rc = spool_txn_begin(s, 0, &txn);
	if (rc == 0) {
		rc = meta_set(s, txn, argv[3], strtoull(argv[4], NULL, 10));
		if (rc == 0)
			rc = spool_txn_commit(s, txn);
		else
			spool_txn_abort(s, txn);
	}
	spoolship_spool_close(s);
	return rc == 0 ? 0 : 1;
}

static int ship(int argc, char **argv)
{
	struct spool_batch b;
	struct stream_row row;
	spoolship_spool *s;
	MDB_txn *txn;
	uint64_t total = 0;
	int rc;

	if (argc < 4)
		return 2;
	if ((rc = spoolship_spool_open(argv[2], NULL, &s)) != 0)
		return 1;
	if ((rc = spool_txn_begin(s, 1, &txn)) == 0) {
		rc = stream_get(s, txn, argv[3], &row);
		spool_txn_abort(s, txn);
	}
	memset(&b, 0, sizeof(b));
	while (rc == 0) {
		struct spool_range r;
		uint64_t d;

		rc = spool_batch_next(s, row.id, 0, 60, 1000000, &b);
		if (rc != 0 || b.n == 0)
			break;
		r.stream = row.id;
		r.first_seq = b.recs[0].seq;
		r.last_seq = b.recs[b.n - 1].seq;
		rc = spool_batch_delete(s, &r, 1, &d);
		total += d;
	}
	spool_batch_free(&b);
	spoolship_spool_close(s);
	printf("shipped %llu\n", (unsigned long long)total);
	if (rc != 0)
		fprintf(stderr, "ship: %s\n", spoolship_strerror(rc));
	return rc == 0 ? 0 : 1;
}

static int dead(int argc, char **argv)
{
	struct dead_info di = { 0, 0, NULL, 0 };
	struct stream_row row;
	spoolship_spool *s;
	MDB_txn *txn;
	uint64_t seq, moved = 0;
	int rc;

	if (argc < 6 || (di.reason = dead_reason_parse(argv[5])) == 0)
		return 2;
	seq = strtoull(argv[4], NULL, 10);
	if (argc > 6)
		di.status = (unsigned)strtoul(argv[6], NULL, 10);
	if (argc > 7) {
		di.excerpt = argv[7];
		di.excerpt_len = strlen(argv[7]);
	}
	if ((rc = spoolship_spool_open(argv[2], NULL, &s)) != 0)
		return 1;
	if ((rc = spool_txn_begin(s, 1, &txn)) == 0) {
		rc = stream_get(s, txn, argv[3], &row);
		spool_txn_abort(s, txn);
	}
	if (rc == 0)
		rc = spool_dead_move(s, row.id, &seq, 1, &di, &moved);
	spoolship_spool_close(s);
	printf("moved %llu\n", (unsigned long long)moved);
	if (rc != 0)
		fprintf(stderr, "dead: %s\n", spoolship_strerror(rc));
	return rc == 0 && moved == 1 ? 0 : 1;
}

static int hold_read(int argc, char **argv)
{
	struct spoolship_options o;
	spoolship_spool *s;
	MDB_txn *txn;

	if (argc < 3)
		return 2;
	spoolship_options_init(&o);
	o.readonly = 1;
	if (spoolship_spool_open(argv[2], &o, &s) != 0)
		return 1;
	if ((argc < 4 || strcmp(argv[3], "open-only") != 0) &&
	    spool_txn_begin(s, 1, &txn) != 0)
		return 1;
	printf("holding\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int shift_append(int argc, char **argv)
{
	spoolship_spool *s;
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val k, d;
	int64_t ms;
	int rc;

	if (argc < 4)
		return 2;
	ms = strtoll(argv[3], NULL, 10);
	if ((rc = spoolship_spool_open(argv[2], NULL, &s)) != 0)
		return 1;
	if ((rc = spool_txn_begin(s, 0, &txn)) == 0 &&
	    (rc = mdb_cursor_open(txn, s->events, &c)) == 0) {
		for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
			unsigned char *v = malloc(d.mv_size);
			MDB_val nv = { d.mv_size, v };

			memcpy(v, d.mv_data, d.mv_size);
			put_be64(v + 16, get_be64(v + 16) + (uint64_t)ms);
			record_finish(v, d.mv_size);
			rc = mdb_cursor_put(c, &k, &nv, MDB_CURRENT);
			free(v);
			if (rc != 0)
				break;
		}
		mdb_cursor_close(c);
		rc = rc == MDB_NOTFOUND ? spool_txn_commit(s, txn) : rc;
	}
	spoolship_spool_close(s);
	return rc == 0 ? 0 : 1;
}

static int tamper(int argc, char **argv)
{
	struct spoolship_options o;
	struct stream_row row;
	unsigned char key[EVENT_KEY_LEN], *copy = NULL;
	MDB_val k = { sizeof(key), key }, d;
	spoolship_spool *s;
	MDB_cursor *c;
	MDB_txn *txn;
	long n;
	int rc;

	if (argc < 6 || (n = strtol(argv[5], NULL, 10)) < 1)
		return 2;
	spoolship_options_init(&o);
	o.key_file = argv[3];
	if ((rc = spoolship_spool_open(argv[2], &o, &s)) != 0)
		goto out;
	if ((rc = spool_txn_begin(s, 0, &txn)) != 0)
		goto close;
	if ((rc = stream_get(s, txn, argv[4], &row)) == 0 &&
	    (rc = mdb_cursor_open(txn, s->events, &c)) == 0) {
		event_key(key, row.id, 0);
		rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
		while (rc == 0 && --n > 0)
			rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
		if (rc == 0 && (copy = malloc(d.mv_size)) != NULL) {
			memcpy(copy, d.mv_data, d.mv_size);
			copy[RECORD_HDR_LEN + 13] ^= 0x01;
			record_finish(copy, d.mv_size);
			d.mv_data = copy;
			rc = mdb_cursor_put(c, &k, &d, MDB_CURRENT);
		}
		mdb_cursor_close(c);
	}
	if (rc == 0)
		rc = spool_txn_commit(s, txn);
	else
		spool_txn_abort(s, txn);
	free(copy);
close:
	spoolship_spool_close(s);
out:
	if (rc != 0)
		fprintf(stderr, "tamper: %s\n", rc < -30000 && rc > -31000 ?
			mdb_strerror(rc) : spoolship_strerror(rc));
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "ack-append") == 0)
		return ack_append(argc, argv);
	if (argc > 1 && strcmp(argv[1], "set-meta") == 0)
		return set_meta(argc, argv);
	if (argc > 1 && strcmp(argv[1], "ship") == 0)
		return ship(argc, argv);
	if (argc > 1 && strcmp(argv[1], "dead") == 0)
		return dead(argc, argv);
	if (argc > 1 && strcmp(argv[1], "tamper") == 0)
		return tamper(argc, argv);
	if (argc > 1 && strcmp(argv[1], "hold-read") == 0)
		return hold_read(argc, argv);
	if (argc > 1 && strcmp(argv[1], "shift-append") == 0)
		return shift_append(argc, argv);
	fprintf(stderr, "usage: see the comment at the top of spool-tool.c\n");
	return 2;
}
