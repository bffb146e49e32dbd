/*
 * cli_append.c - `spoolship append`: NDJSON from files or stdin into the
 * spool, many lines per commit.  A bad line is reported and skipped; it
 * never stops the lines after it.  Empty lines are not events.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "spool.h"

#define CHUNK (8u << 20)     /* read buffer; also the longest line */
#define BATCH_EVENTS 8192    /* events per commit */

struct appender {
	spoolship_spool *s;
	const char *table;
	const char *fname;       /* for messages: "FILE" or "-" */
	struct spoolship_event *ev;
	unsigned long *lineno;   /* line of each ev[] */
	size_t n;
	uint64_t accepted, rejected;
	int err;                 /* first spool error; stops everything */
	int progress;            /* print progress to a TTY */
	int64_t started, last_progress;
};

static void on_reject(void *arg, size_t i, int err, const char *why)
{
	struct appender *a = arg;

	(void)err;
	fprintf(stderr, "%s:%lu: %s\n", a->fname, a->lineno[i], why);
}

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

static int commit(struct appender *a)
{
	size_t ok = 0;
	int rc;

	if (a->n == 0)
		return 0;
	rc = spoolship_append_many(a->s, a->table, a->ev, a->n, 0, on_reject,
				   a, &ok);
	if (rc != 0) {
		fprintf(stderr, "%s:%lu: %s: %llu earlier events were "
			"appended; this batch of %zu lines and the rest of "
			"the input were not\n", a->fname, a->lineno[0],
			spoolship_strerror(rc),
			(unsigned long long)a->accepted, a->n);
		a->err = rc;
		a->n = 0;
		return rc;
	}
	a->accepted += ok;
	a->rejected += a->n - ok;
	a->n = 0;
	progress(a, 0);
	return 0;
}

static int is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/* Queues the line p[0..n) (no '\n'). */
static int add_line(struct appender *a, const char *p, size_t n,
		    unsigned long line)
{
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (is_blank(p, n))
		return 0;
	a->ev[a->n].data = p;
	a->ev[a->n].len = n;
	a->lineno[a->n] = line;
	a->n++;
	return a->n == BATCH_EVENTS ? commit(a) : 0;
}

static int append_fd(struct appender *a, int fd, char *buf)
{
	size_t have = 0;
	unsigned long line = 0;
	int skipping = 0; /* inside an over-long line */

	for (;;) {
		ssize_t r = read(fd, buf + have, CHUNK - have);
		size_t start = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "spoolship: %s: read: %s\n", a->fname,
				strerror(errno));
			return -errno;
		}
		have += (size_t)r;
		for (;;) {
			char *nl = memchr(buf + start, '\n', have - start);

			if (nl == NULL)
				break;
			line++;
			if (!skipping &&
			    add_line(a, buf + start, (size_t)(nl - buf) - start,
				     line) != 0)
				return a->err;
			skipping = 0;
			start = (size_t)(nl - buf) + 1;
		}
		/* Lines point into buf: commit before moving bytes. */
		if (commit(a) != 0)
			return a->err;
		if (r == 0) {
			if (start < have && !skipping) {
				if (add_line(a, buf + start, have - start,
					     ++line) != 0 || commit(a) != 0)
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
				a->rejected++;
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
		"       [--max-age DURATION] [--max-bytes SIZE] "
		"[--full-policy reject|drop_oldest|block] [FILE...]\n");
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
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "s:t:", opts, NULL)) != -1) {
		int rc = 0;

		switch (ch) {
		case 's': c->spool = optarg; break;
		case 't': *table = optarg; break;
		case 'y': rc = spoolship_sync_parse(optarg, &o->sync); break;
		case 'f': o->fill_time = 1; break;
		case 'a': rc = cli_parse_duration(optarg, &o->max_age_ms);
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
	int rc, ex, missing = 0;

	spoolship_options_init(&o);
	if ((ex = parse_args(c, argc, argv, &o, &table)) != EXIT_OK)
		return ex;
	memset(&a, 0, sizeof(a));
	a.table = table;
	a.progress = isatty(2);
	a.started = a.last_progress = clock_mono_ms();
	buf = malloc(CHUNK);
	a.ev = malloc(BATCH_EVENTS * sizeof(*a.ev));
	a.lineno = malloc(BATCH_EVENTS * sizeof(*a.lineno));
	if (buf == NULL || a.ev == NULL || a.lineno == NULL) {
		cli_err("append", -ENOMEM);
		ex = EXIT_ERROR;
		goto out;
	}
	rc = spoolship_spool_open(c->spool, &o, &a.s);
	if (rc != 0) {
		fprintf(stderr, "spoolship: cannot open spool %s: %s\n",
			c->spool, spoolship_strerror(rc));
		ex = cli_exit_of(rc) == EXIT_USAGE ? EXIT_USAGE : EXIT_ERROR;
		goto out;
	}
	if (optind >= argc) {
		append_one(&a, "-", buf);
	} else {
		for (int i = optind; i < argc && a.err == 0; i++)
			if (append_one(&a, argv[i], buf) != 0 && a.err == 0)
				missing++;
	}
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
	free(buf);
	free(a.ev);
	free(a.lineno);
	return ex;
}
