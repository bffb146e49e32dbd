/*
 * cli_append.c - `spoolship append`: NDJSON from files or stdin into the
 * spool, many lines per commit.  A bad line is reported and skipped; it
 * never stops the lines after it.  Empty lines are not events.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "cli.h"
#include "clock.h"
#include "spool.h"
#include "spool_commit.h"
#include "validate.h"

#define CHUNK (8u << 20)     /* read buffer; also the longest line */
#define BATCH_EVENTS 8192    /* events per commit */
#define GROUP (4u << 20)     /* bytes read before a commit, at most */

/* One batch of validated events, one request to the commit pipeline
 * (spool_commit.c).  The main thread validates into a free slot while
 * the pipe commits the others, so parsing overlaps the commit's I/O, and
 * the pipe's encoder thread encodes a batch between the two (CRCs; for
 * an encrypted spool the cipher), so that overlaps the commit's fsync
 * too: three slots rotate. */
#define NSLOTS 3
struct slot {
	struct appender *a;
	struct spool_item *it;
	char *arena;               /* the normalised events */
	size_t arena_len, arena_cap;
	char *msgs;                /* "FILE:LINE: reason\n" of rejects */
	size_t msgs_len, msgs_cap;
	unsigned long first_line;
	const char *fname;
	struct spool_commit_req req;
	int inuse;                 /* handed over, until done (mu) */
};

struct appender {
	spoolship_spool *s;
	const char *table;
	const char *fname;         /* for messages: "FILE" or "-" */
	struct spoolship_event *ev; /* lines of the batch being built */
	unsigned long *lineno;     /* line of each ev[] */
	size_t n;
	struct slot slot[NSLOTS];
	int cur;                   /* the slot main fills next */
	struct spool_pipe *pipe;
	struct spool_commit_chain chain; /* the first failure stops all */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* written by the pipe's callback under mu */
	uint64_t accepted, rejected;
	int err;                   /* first spool error; stops everything */
	int progress;              /* print progress to a TTY */
	int64_t started, last_progress;
};

static void progress(struct appender *a, int final)
{
	int64_t now = clock_mono_ms(), dt;

	if (!a->progress || (!final && now - a->last_progress < 500))
		return;
	a->last_progress = now;
	dt = now - a->started;
	fprintf(stderr, "\rappended %llu events (%.0f/s), rejected %llu%s",
		(unsigned long long)a->accepted,
		dt > 0 ? (double)a->accepted * 1000.0 / (double)dt : 0.0,
		(unsigned long long)a->rejected, final ? "\n" : "");
}

/* Which limit refused: the budget is the operator's to raise, a full
 * filesystem is not. */
static void full_why(spoolship_spool *s)
{
	if (strcmp(spool_full_limit(s), "filesystem") == 0)
		fprintf(stderr, "spoolship: append: spool full: the filesystem "
			"refused, not the max_bytes budget\n");
	else
		fprintf(stderr, "spoolship: append: spool full: the max_bytes "
			"budget refused\n");
}

/* The pipe's callback, in input order.  Reports come out in input
 * order, and only for batches that were attempted: once one failed, the
 * chain fails the later ones without a commit, and they say nothing. */
static void batch_done(struct spool_commit_req *r, void *arg)
{
	struct slot *sl = arg;
	struct appender *a = sl->a;
	int rc = r->rc;

	pthread_mutex_lock(&a->mu);
	if (a->err == 0) {
		if (sl->msgs_len > 0)
			fwrite(sl->msgs, 1, sl->msgs_len, stderr);
		if (rc != 0)
			fprintf(stderr, "%s:%lu: %s: %llu events before this "
				"batch were appended; the input from this "
				"line on was not\n", sl->fname,
				sl->first_line, spoolship_strerror(rc),
				(unsigned long long)a->accepted);
		if (rc == SPOOLSHIP_ESPOOL_FULL)
			full_why(a->s);
		if (rc != 0) {
			a->err = rc;
		} else {
			a->accepted += r->n;
			a->rejected += r->rejected;
		}
	}
	sl->inuse = 0;
	pthread_cond_broadcast(&a->cv);
	progress(a, 0);
	pthread_mutex_unlock(&a->mu);
}

static int add_msg(struct slot *sl, const char *fname, unsigned long line,
		   const char *why)
{
	char m[512];
	int n = snprintf(m, sizeof(m), "%s:%lu: %s\n", fname, line, why);

	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(m))
		n = sizeof(m) - 1;
	if (array_grow((void **)&sl->msgs, &sl->msgs_cap,
		       sl->msgs_len + (size_t)n, 1))
		return -ENOMEM;
	memcpy(sl->msgs + sl->msgs_len, m, (size_t)n);
	sl->msgs_len += (size_t)n;
	return 0;
}

/* Validates the queued lines into the free slot. */
static int validate_batch(struct appender *a, struct slot *sl)
{
	struct validate_opts vo;
	char why[256];
	size_t need = 0;

	sl->req.n = sl->arena_len = sl->msgs_len = 0;
	sl->req.rejected = 0;
	sl->req.encoded = 0;
	sl->fname = a->fname;
	sl->first_line = a->lineno[0];
	for (size_t i = 0; i < a->n; i++)
		need += a->ev[i].len + VALIDATE_SLACK;
	if (array_grow((void **)&sl->arena, &sl->arena_cap, need, 1) != 0)
		return -ENOMEM;
	vo.now_ms = clock_wall_ms();
	vo.max_age_ms = a->s->o.max_age_ms;
	vo.fill_time = a->s->o.fill_time;
	vo.max_bytes = SPOOLSHIP_MAX_EVENT_BYTES;
	for (size_t i = 0; i < a->n; i++) {
		struct spool_item *it = &sl->it[sl->req.n];
		char *out = sl->arena + sl->arena_len;
		size_t len;
		int rc = validate_event(a->ev[i].data, a->ev[i].len, &vo, out,
					a->ev[i].len + VALIDATE_SLACK, &len,
					&it->event_ms, why, sizeof(why));

		if (rc != 0) {
			sl->req.rejected++;
			if (add_msg(sl, a->fname, a->lineno[i], why) != 0)
				return -ENOMEM;
			continue;
		}
		it->data = out;
		it->len = len;
		sl->arena_len += len;
		sl->req.n++;
	}
	return 0;
}

/* Validates the lines gathered so far into the next free slot and hands
 * it to the pipe.  Returns the first spool error, if any. */
static int commit(struct appender *a)
{
	struct slot *sl = &a->slot[a->cur];
	int rc;

	if (a->n == 0)
		return a->err;
	pthread_mutex_lock(&a->mu);
	while (sl->inuse && a->err == 0)
		pthread_cond_wait(&a->cv, &a->mu);
	rc = a->err;
	pthread_mutex_unlock(&a->mu);
	if (rc == 0)
		rc = validate_batch(a, sl);
	a->n = 0;
	pthread_mutex_lock(&a->mu);
	if (rc == 0 && a->err == 0) {
		sl->inuse = 1;
		a->cur = (a->cur + 1) % NSLOTS;
		spool_pipe_submit(a->pipe, &sl->req);
	}
	if (rc != 0 && a->err == 0)
		a->err = rc;
	rc = a->err;
	pthread_mutex_unlock(&a->mu);
	return rc;
}

/* Waits until the pipe is done with every batch handed to it. */
static void drain(struct appender *a)
{
	pthread_mutex_lock(&a->mu);
	for (int i = 0; i < NSLOTS; i++)
		while (a->slot[i].inuse)
			pthread_cond_wait(&a->cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
}

/* Queues the event p[0..n) (validate_line()'s; 0: a blank line). */
static int add_line(struct appender *a, const char *p, size_t n,
		    unsigned long line)
{
	if (n == 0)
		return 0;
	a->ev[a->n].data = p;
	a->ev[a->n].len = n;
	a->lineno[a->n] = line;
	a->n++;
	return a->n == BATCH_EVENTS ? commit(a) : 0;
}

/* Reads into buf[have..CHUNK) while more input is ready at once, up to
 * GROUP bytes: a pipe hands out 64 KiB at a time, and one commit per read
 * would cost an fsync each; input that pauses is committed at once.
 * Returns the bytes read (0 at EOF) or -errno. */
static ssize_t read_more(int fd, char *buf, size_t *have)
{
	size_t got = 0;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r = read(fd, buf + *have, CHUNK - *have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return got > 0 ? (ssize_t)got : -errno;
		*have += (size_t)r;
		got += (size_t)r;
		if (r == 0 || *have == CHUNK || got >= GROUP ||
		    poll(&p, 1, 0) != 1)
			return (ssize_t)got;
	}
}

static int append_fd(struct appender *a, int fd, char *buf)
{
	size_t have = 0;
	unsigned long line = 0;
	int skipping = 0; /* inside an over-long line */

	for (;;) {
		ssize_t r = read_more(fd, buf, &have);
		size_t start = 0, used, n;

		if (r < 0) {
			fprintf(stderr, "spoolship: %s: read: %s\n", a->fname,
				strerror((int)-r));
			return (int)r;
		}
		while ((used = validate_line(buf + start, have - start, 0,
					     &n)) > 0) {
			line++;
			if (!skipping &&
			    add_line(a, buf + start, n, line) != 0)
				return a->err;
			skipping = 0;
			start += used;
		}
		/* Lines point into buf: commit before moving bytes. */
		if (commit(a) != 0)
			return a->err;
		if (r == 0) {
			if (start < have && !skipping) {
				validate_line(buf + start, have - start, 1,
					      &n);
				if (add_line(a, buf + start, n, ++line) != 0 ||
				    commit(a) != 0)
					return a->err;
			}
			return 0;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == CHUNK) {
			if (!skipping) {
				fprintf(stderr, "%s:%lu: line longer than %u "
					"bytes, skipped\n", a->fname, line + 1,
					CHUNK);
				pthread_mutex_lock(&a->mu);
				a->rejected++;
				pthread_mutex_unlock(&a->mu);
				spool_count_rejected(a->s, 1);
			}
			skipping = 1;
			have = 0;
		}
	}
}

static void append_usage(void)
{
	fprintf(stderr, "usage: spoolship [-s DIR] append [-t TABLE] "
		"[--sync full|batch|none] [--fill-time]\n"
		"       [--max-age DURATION] [--age-margin DURATION] "
		"[--max-bytes SIZE]\n"
		"       [--full-policy reject|drop_oldest|block] "
		"[-c FILE] [FILE...]\n");
}

static int parse_args(struct cli_common *c, int argc, char **argv,
		      struct spoolship_options *o, const char **table)
{
	static const struct option opts[] = {
		{ "spool", required_argument, NULL, 's' },
		{ "table", required_argument, NULL, 't' },
		{ "sync", required_argument, NULL, 'y' },
		{ "fill-time", no_argument, NULL, 'f' },
		{ "max-age", required_argument, NULL, 'a' },
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "full-policy", required_argument, NULL, 'p' },
		{ "age-margin", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t max_age = c->max_age_ms, margin = c->age_margin_ms;
	int ch, window = 0;

	while ((ch = getopt_long(argc, argv, "s:t:", opts, NULL)) != -1) {
		int rc = 0;

		switch (ch) {
		case 's': c->spool = optarg; break;
		case 't': *table = optarg; break;
		case 'y': rc = spoolship_sync_parse(optarg, &o->sync); break;
		case 'f': o->fill_time = 1; break;
		case 'a': rc = cli_parse_duration(optarg, &max_age);
			window = 1;
			break;
		case 'm': rc = cli_parse_duration(optarg, &margin);
			window = 1;
			break;
		case 'b': rc = cli_parse_size(optarg, &o->max_bytes); break;
		case 'p': rc = spoolship_full_policy_parse(optarg,
							   &o->full_policy);
			break;
		default:
			append_usage();
			return EXIT_USAGE;
		}
		if (rc != 0) {
			fprintf(stderr, "spoolship: append: bad value '%s'\n",
				optarg);
			append_usage();
			return EXIT_USAGE;
		}
	}
	if (window && max_age > 0 && (margin < 0 || margin >= max_age)) {
		fprintf(stderr, "spoolship: append: the age margin must be "
			"smaller than max_age\n");
		return EXIT_USAGE;
	}
	/* the same window as run's: validate_window_ms() */
	if (window)
		o->max_age_ms = validate_window_ms(max_age, margin);
	if (!spoolship_table_name_ok(*table)) {
		fprintf(stderr, "spoolship: append: bad table name '%s' "
			"(1-255 of A-Z a-z 0-9 . _ -)\n", *table);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int append_one(struct appender *a, const char *path, char *buf)
{
	int fd = 0, rc;

	a->fname = path;
	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "spoolship: %s: %s\n", path,
				strerror(errno));
			return -errno;
		}
	}
	rc = append_fd(a, fd, buf);
	if (fd != 0)
		close(fd);
	return rc;
}

int cli_append(struct cli_common *c, int argc, char **argv)
{
	struct spoolship_options o;
	struct appender a;
	const char *table = "default";
	char *buf = NULL;
	int rc, ex, missing = 0, oom = 0;

	o = c->opts; /* -c's [spool] and window, or run's defaults */
	if ((ex = parse_args(c, argc, argv, &o, &table)) != EXIT_OK)
		return ex;
	memset(&a, 0, sizeof(a));
	a.table = table;
	a.progress = isatty(2);
	a.started = a.last_progress = clock_mono_ms();
	pthread_mutex_init(&a.mu, NULL);
	pthread_cond_init(&a.cv, NULL);
	buf = malloc(CHUNK);
	a.ev = malloc(BATCH_EVENTS * sizeof(*a.ev));
	a.lineno = malloc(BATCH_EVENTS * sizeof(*a.lineno));
	for (int i = 0; i < NSLOTS; i++) {
		struct slot *sl = &a.slot[i];

		if ((sl->it = malloc(BATCH_EVENTS * sizeof(*sl->it))) == NULL)
			oom = 1;
		sl->a = &a;
		sl->req.table = table;
		sl->req.it = sl->it;
		sl->req.chain = &a.chain;
		sl->req.done = batch_done;
		sl->req.arg = sl;
	}
	if (oom || buf == NULL || a.ev == NULL || a.lineno == NULL) {
		cli_err("append", -ENOMEM);
		ex = EXIT_ERROR;
		goto out;
	}
	o.key_file = c->key_file;
	rc = spoolship_spool_open(c->spool, &o, &a.s);
	if (rc != 0) {
		ex = cli_open_failed(c, c->spool, rc);
		if (ex != EXIT_USAGE && ex != EXIT_KEY)
			ex = EXIT_ERROR;
		goto out;
	}
	/* One batch a txn, as before the pipeline: a batch is already
	 * large, and the same input then makes the same commits (an I/O
	 * error is reported with the batch it hit; test 0710 fails each
	 * call of a run in turn). */
	rc = spool_pipe_new(a.s, SPOOL_PIPE_ENCODER, 1, 1, &a.pipe);
	if (rc != 0) {
		cli_err("append", rc);
		spoolship_spool_close(a.s);
		ex = EXIT_ERROR;
		goto out;
	}
	if (optind >= argc) {
		append_one(&a, "-", buf);
	} else {
		for (int i = optind; i < argc && a.err == 0; i++)
			if (append_one(&a, argv[i], buf) != 0 && a.err == 0)
				missing++;
	}
	drain(&a);
	spool_pipe_close(a.pipe);
	progress(&a, 1);
	rc = spoolship_spool_close(a.s);
	if (rc != 0 && a.err == 0)
		a.err = rc;
	fprintf(stderr, "accepted %llu, rejected %llu\n",
		(unsigned long long)a.accepted,
		(unsigned long long)a.rejected);
	if (a.err != 0)
		ex = a.err == SPOOLSHIP_ESPOOL_FULL ? EXIT_FULL : EXIT_ERROR;
	else if (missing > 0)
		ex = EXIT_ERROR;
	else
		ex = a.rejected > 0 ? EXIT_REJECTED : EXIT_OK;
out:
	for (int i = 0; i < NSLOTS; i++) {
		free(a.slot[i].it);
		free(a.slot[i].arena);
		free(a.slot[i].msgs);
		spool_commit_req_free(&a.slot[i].req);
	}
	pthread_cond_destroy(&a.cv);
	pthread_mutex_destroy(&a.mu);
	free(buf);
	free(a.ev);
	free(a.lineno);
	return ex;
}
