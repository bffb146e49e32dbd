/*
 * bench-append.c - the append benchmark's measuring half (tools/bench.sh
 * is the other): raw LMDB puts as the ceiling, then the library's ways of
 * appending the same events.  Prints one "name events events/s" line.
 *
 *   bench-append gen N FILE                 N events of ~200 bytes
 *   bench-append raw DIR FILE BATCH         plain LMDB puts, sync=full
 *   bench-append many DIR FILE BATCH        spoolship_append_many
 *   bench-append one DIR FILE N             spoolship_append, N events
 *   bench-append producer DIR FILE THREADS [KEYFILE]
 *                                           buffered producer (into an
 *                                           encrypted spool with KEYFILE)
 *   bench-append seal FILE KEYFILE          AES-256-GCM of each event
 *                                           (prints a seal and an open
 *                                           line)
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "record.h"
#include "seal.h"
#include "spoolship.h"
#include "validate.h"

struct input {
	char *buf;
	struct spoolship_event *ev;
	size_t n;
};

static double secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench-append: %s: %s\n", what,
		rc < 0 ? spoolship_strerror(rc) : mdb_strerror(rc));
	exit(1);
}

static void load(const char *path, struct input *in)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	size_t cap = 1024, start = 0;

	if (f == NULL || fstat(fileno(f), &st) != 0)
		die(path, -errno);
	in->buf = malloc((size_t)st.st_size + 1);
	in->ev = malloc(cap * sizeof(*in->ev));
	if (fread(in->buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		die("read", -EIO);
	fclose(f);
	in->n = 0;
	for (size_t i = 0; i < (size_t)st.st_size; i++) {
		if (in->buf[i] != '\n')
			continue;
		if (in->n == cap)
			in->ev = realloc(in->ev, (cap *= 2) * sizeof(*in->ev));
		in->ev[in->n].data = in->buf + start;
		in->ev[in->n++].len = i - start;
		start = i + 1;
	}
}

static void report(const char *name, size_t n, double t)
{
	printf("%s %zu %.0f\n", name, n, (double)n / t);
}

static int gen(long n, const char *path)
{
	FILE *f = fopen(path, "w");
	char t[VALIDATE_TIME_LEN + 1];

	if (f == NULL)
		die(path, -errno);
	validate_time_format(clock_wall_ms(), t);
	for (long i = 0; i < n; i++)
		fprintf(f, "{\"__time\":\"%s\",\"id\":%ld,\"channel\":"
			"\"#en.wikipedia\",\"user\":\"GELongstreet%04ld\","
			"\"page\":\"Battle_of_Gettysburg\",\"added\":%ld,"
			"\"deleted\":%ld,\"delta\":%ld,\"isRobot\":false,"
			"\"comment\":\"typo fix\"}\n",
			t, i, i % 9973, i % 500, i % 37, i % 500 - i % 37);
	return fclose(f) == 0 ? 0 : 1;
}

/* The ceiling: LMDB puts of the same record bytes (header + minified
 * event) with the same keys and txn sizes; no validation, no counters. */
static int raw(const char *dir, struct input *in, size_t batch)
{
	unsigned char key[EVENT_KEY_LEN], *recs;
	size_t *off = malloc(in->n * sizeof(*off)), total = 0;
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	double t0;
	int rc;

	mkdir(dir, 0700);
	for (size_t i = 0; i < in->n; i++)
		total += RECORD_HDR_LEN + in->ev[i].len;
	recs = malloc(total);
	total = 0;
	for (size_t i = 0; i < in->n; i++) {
		off[i] = total;
		record_encode(recs + total, 1, 2, in->ev[i].data,
			      in->ev[i].len);
		total += RECORD_HDR_LEN + in->ev[i].len;
	}
	if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_maxdbs(env, 4)) ||
	    (rc = mdb_env_set_mapsize(env, 4ull << 30)) ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)))
		die("raw open", rc);
	t0 = secs();
	for (size_t i = 0; i < in->n; i += batch) {
		if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
		    (rc = mdb_dbi_open(txn, "events", MDB_CREATE, &dbi)))
			die("raw txn", rc);
		for (size_t j = i; j < i + batch && j < in->n; j++) {
			MDB_val k = { sizeof(key), key };
			MDB_val v = { RECORD_HDR_LEN + in->ev[j].len,
				      recs + off[j] };

			event_key(key, 1, j + 1);
			if ((rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND)))
				die("raw put", rc);
		}
		if ((rc = mdb_txn_commit(txn)))
			die("raw commit", rc);
	}
	report("raw_lmdb", in->n, secs() - t0);
	mdb_env_close(env);
	free(recs);
	free(off);
	return 0;
}

static spoolship_spool *open_spool_key(const char *dir, const char *key)
{
	struct spoolship_options o;
	spoolship_spool *s;
	int rc;

	spoolship_options_init(&o);
	o.max_bytes = 4ull << 30;
	o.key_file = key;
	if ((rc = spoolship_spool_open(dir, &o, &s)) != 0)
		die("open", rc);
	return s;
}

static spoolship_spool *open_spool(const char *dir)
{
	return open_spool_key(dir, NULL);
}

static int many(const char *dir, struct input *in, size_t batch)
{
	spoolship_spool *s = open_spool(dir);
	double t0 = secs();
	int rc;

	for (size_t i = 0; i < in->n; i += batch) {
		size_t n = in->n - i < batch ? in->n - i : batch, acc;

		rc = spoolship_append_many(s, "bench", in->ev + i, n, 0, NULL,
					   NULL, &acc);
		if (rc != 0 || acc != n)
			die("append_many", rc ? rc : SPOOLSHIP_EJSON);
	}
	report("lib_append_many", in->n, secs() - t0);
	return spoolship_spool_close(s) != 0;
}

static int one(const char *dir, struct input *in, size_t n)
{
	spoolship_spool *s = open_spool(dir);
	double t0 = secs();
	int rc;

	if (n > in->n)
		n = in->n;
	for (size_t i = 0; i < n; i++)
		if ((rc = spoolship_append(s, "bench", in->ev[i].data,
					   in->ev[i].len, NULL, 0)) != 0)
			die("append", rc);
	report("lib_append_one", n, secs() - t0);
	return spoolship_spool_close(s) != 0;
}

struct pwork {
	spoolship_producer *p;
	struct input *in;
	size_t from, to;
};

static void *pwork(void *arg)
{
	struct pwork *w = arg;
	int rc;

	for (size_t i = w->from; i < w->to; i++)
		if ((rc = spoolship_producer_append(w->p, w->in->ev[i].data,
						    w->in->ev[i].len, NULL,
						    0)) != 0)
			die("producer_append", rc);
	return NULL;
}

static int producer(const char *dir, struct input *in, int threads,
		    const char *key)
{
	spoolship_spool *s = open_spool_key(dir, key);
	spoolship_producer *p;
	pthread_t th[16];
	struct pwork w[16];
	char name[64];
	double t0;
	int rc;

	if (threads < 1 || threads > 16)
		threads = 1;
	if ((rc = spoolship_producer_new(s, "bench", NULL, &p)) != 0)
		die("producer", rc);
	t0 = secs();
	for (int i = 0; i < threads; i++) {
		w[i] = (struct pwork){ p, in, in->n * (size_t)i / (size_t)threads,
				       in->n * (size_t)(i + 1) / (size_t)threads };
		pthread_create(&th[i], NULL, pwork, &w[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	if ((rc = spoolship_producer_close(p)) != 0)
		die("producer close", rc);
	snprintf(name, sizeof(name), "lib_producer_%dthread%s", threads,
		 key != NULL ? "_encrypted" : "");
	report(name, in->n, secs() - t0);
	return spoolship_spool_close(s) != 0;
}

/* Encryption at rest alone: each event sealed, then opened, as the
 * append path and the shipper's reader do (header as associated data). */
static int seal(struct input *in, const char *keyfile)
{
	unsigned char key[SEAL_KEY_LEN], aad[RECORD_AAD_LEN] = { 0 };
	unsigned char *out = NULL;
	struct sealer *s;
	size_t cap = 0, max = 0;
	double t0;
	int rc;

	if ((rc = seal_key_load(keyfile, key, NULL, 0)) != 0 ||
	    (rc = sealer_new(key, &s)) != 0)
		die(keyfile, rc);
	for (size_t i = 0; i < in->n; i++) {
		cap += in->ev[i].len + SEAL_OVERHEAD;
		if (in->ev[i].len > max)
			max = in->ev[i].len;
	}
	if ((out = malloc(cap + max)) == NULL)
		die("malloc", -ENOMEM);
	memset(out, 0, cap + max); /* its page faults are not the cipher's */
	t0 = secs();
	for (size_t i = 0, o = 0; i < in->n; i++) {
		if ((rc = sealer_seal(s, aad, sizeof(aad), in->ev[i].data,
				      in->ev[i].len, out + o)) != 0)
			die("seal", rc);
		o += in->ev[i].len + SEAL_OVERHEAD;
	}
	report("seal", in->n, secs() - t0);
	t0 = secs();
	for (size_t i = 0, o = 0; i < in->n; i++) {
		if ((rc = sealer_open(s, aad, sizeof(aad), out + o,
				      in->ev[i].len, out + cap)) != 0)
			die("open", rc);
		o += in->ev[i].len + SEAL_OVERHEAD;
	}
	report("open", in->n, secs() - t0);
	sealer_free(s);
	free(out);
	return 0;
}

int main(int argc, char **argv)
{
	struct input in;

	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return gen(strtol(argv[2], NULL, 10), argv[3]);
	if (argc == 4 && strcmp(argv[1], "seal") == 0) {
		load(argv[2], &in);
		return seal(&in, argv[3]);
	}
	if (argc == 6 && strcmp(argv[1], "producer") == 0) {
		load(argv[3], &in);
		return producer(argv[2], &in, (int)strtol(argv[4], NULL, 10),
				argv[5]);
	}
	if (argc != 5) {
		fprintf(stderr, "usage: see the comment in bench-append.c\n");
		return 2;
	}
	load(argv[3], &in);
	if (strcmp(argv[1], "raw") == 0)
		return raw(argv[2], &in, strtoul(argv[4], NULL, 10));
	if (strcmp(argv[1], "many") == 0)
		return many(argv[2], &in, strtoul(argv[4], NULL, 10));
	if (strcmp(argv[1], "one") == 0)
		return one(argv[2], &in, strtoul(argv[4], NULL, 10));
	if (strcmp(argv[1], "producer") == 0)
		return producer(argv[2], &in, (int)strtol(argv[4], NULL, 10),
				NULL);
	fprintf(stderr, "bench-append: unknown mode %s\n", argv[1]);
	return 2;
}
