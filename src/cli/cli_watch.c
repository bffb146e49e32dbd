/*
 * cli_watch.c - `spoolship stats --watch`: the spool's figures every
 * interval with rates in and out, redrawn in place on a terminal (ANSI
 * cursor-up and clear, no curses) or as one timestamped key=value line per
 * interval otherwise.  Read-only like `stats`: it never writes a spool.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"

#define WATCH_LINES 16       /* most lines one view draws */
#define WATCH_STREAMS 8      /* streams listed one per line */
#define WATCH_LINE_LEN 256

struct sample {
	struct spoolship_stats st;
	int64_t mono_ms;
};

struct view {
	char line[WATCH_LINES][WATCH_LINE_LEN];
	int n;
};

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void add(struct view *v, const char *fmt, ...);

static void add(struct view *v, const char *fmt, ...)
{
	va_list ap;

	if (v->n >= WATCH_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(v->line[v->n++], WATCH_LINE_LEN, fmt, ap);
	va_end(ap);
}

static double age_s(int64_t ms)
{
	return ms == 0 ? 0.0 : (double)(clock_wall_ms() - ms) / 1000.0;
}

/* "12.5" per second since the previous sample, or "-" for the first. */
static void rate(const struct sample *prev, const struct sample *cur,
		 uint64_t was, uint64_t now, char out[32])
{
	double dt;

	if (prev == NULL || cur->mono_ms <= prev->mono_ms) {
		snprintf(out, 32, "-");
		return;
	}
	dt = (double)(cur->mono_ms - prev->mono_ms) / 1000.0;
	/* Totals never go down; a fresh spool in the same place might. */
	snprintf(out, 32, "%.1f", now >= was ? (double)(now - was) / dt : 0.0);
}

/* "+3" since the previous sample, or "-" for the first. */
static void delta(const struct sample *prev, uint64_t was, uint64_t now,
		  char out[32])
{
	if (prev == NULL)
		snprintf(out, 32, "-");
	else
		snprintf(out, 32, "+%llu", (unsigned long long)
			 (now >= was ? now - was : 0));
}

struct figures {
	char in[32], out[32], dead[32], expired[32], dropped[32],
		rejected[32];
};

static void figures_of(const struct sample *p, const struct sample *c,
		       struct figures *f)
{
	const struct spoolship_stats *a = p != NULL ? &p->st : NULL,
				     *b = &c->st;

	rate(p, c, a ? a->appended_total : 0, b->appended_total, f->in);
	rate(p, c, a ? a->shipped_total : 0, b->shipped_total, f->out);
	delta(p, a ? a->dead_total : 0, b->dead_total, f->dead);
	delta(p, a ? a->expired_total : 0, b->expired_total, f->expired);
	delta(p, a ? a->dropped_total : 0, b->dropped_total, f->dropped);
	delta(p, a ? a->rejected_total : 0, b->rejected_total, f->rejected);
}

/* The terminal view: a fixed head, then one line per stream. */
static void render_tty(const char *dir, int64_t interval_ms,
		       const struct sample *p, const struct sample *c,
		       struct view *v)
{
	const struct spoolship_stats *st = &c->st;
	struct figures f;
	char now[32], t[32];

	figures_of(p, c, &f);
	v->n = 0;
	cli_time(clock_wall_ms(), now);
	add(v, "spoolship %s  %s  every %.1f s, Ctrl-C stops", dir, now,
	    (double)interval_ms / 1000.0);
	if (st->pending_events > 0)
		add(v, "pending   %llu events, %llu bytes, oldest appended "
		    "%.1f s ago", (unsigned long long)st->pending_events,
		    (unsigned long long)st->pending_bytes,
		    age_s(st->oldest_append_ms));
	else
		add(v, "pending   0 events");
	add(v, "rate      in %s/s  out %s/s", f.in, f.out);
	add(v, "changes   dead %s  expired %s  dropped %s  rejected %s",
	    f.dead, f.expired, f.dropped, f.rejected);
	add(v, "totals    appended %llu, shipped %llu, dead %llu "
	    "(%llu in the dead store)",
	    (unsigned long long)st->appended_total,
	    (unsigned long long)st->shipped_total,
	    (unsigned long long)st->dead_total,
	    (unsigned long long)st->dead_events);
	add(v, "disk      %llu bytes used of a %llu-byte map",
	    (unsigned long long)st->used_bytes,
	    (unsigned long long)st->map_bytes);
	for (size_t i = 0; i < st->nstreams && i < WATCH_STREAMS; i++) {
		const struct spoolship_stream_stats *ss = &st->streams[i];

		cli_time(ss->oldest_event_ms, t);
		add(v, "stream    %-24s %llu events, oldest %s", ss->name,
		    (unsigned long long)ss->pending_events, t);
	}
	if (st->nstreams > WATCH_STREAMS)
		add(v, "          and %zu more streams",
		    st->nstreams - WATCH_STREAMS);
}

/* Not a terminal: one line, for a log or a pipe. */
static void render_line(const struct sample *p, const struct sample *c,
			struct view *v)
{
	const struct spoolship_stats *st = &c->st;
	struct figures f;
	char now[32];

	figures_of(p, c, &f);
	cli_time(clock_wall_ms(), now);
	v->n = 0;
	add(v, "%s pending=%llu pending_bytes=%llu oldest_age_s=%.1f "
	    "in_per_s=%s out_per_s=%s dead=%s expired=%s dropped=%s "
	    "rejected=%s dead_store=%llu", now,
	    (unsigned long long)st->pending_events,
	    (unsigned long long)st->pending_bytes,
	    st->pending_events > 0 ? age_s(st->oldest_append_ms) : 0.0,
	    f.in, f.out, f.dead, f.expired, f.dropped, f.rejected,
	    (unsigned long long)st->dead_events);
}

static int term_cols(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		return ws.ws_col;
	return WATCH_LINE_LEN;
}

/* Redraws over the previous view: up, to column 0, clear to the end. */
static void draw_tty(const struct view *v, int prev_lines)
{
	int cols = term_cols();

	if (prev_lines > 0)
		printf("\033[%dA\r\033[J", prev_lines);
	for (int i = 0; i < v->n; i++)
		/* A wrapped line would spoil the cursor-up count. */
		printf("%.*s\n", cols - 1, v->line[i]);
}

/* Waits until deadline (monotonic ms) or a stop signal.  1 = stop. */
static int wait_until(const sigset_t *stop, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - clock_mono_ms();
		struct timespec ts;

		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		if (sigtimedwait(stop, NULL, &ts) > 0)
			return 1;
		if (errno != EAGAIN && errno != EINTR)
			return 1;
	}
}

static void watch_usage(void)
{
	fprintf(stderr, "usage: spoolship [-s DIR] stats --watch "
		"[--interval DURATION] [--count N]\n");
}

int cli_watch_wanted(int argc, char **argv)
{
	return cli_flag_given(argc, argv, "--watch", "-w");
}

static int parse_args(struct cli_common *c, int argc, char **argv,
		      int64_t *interval_ms, long *count)
{
	static const struct option opts[] = {
		{ "spool", required_argument, NULL, 's' },
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, "s:wi:n:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c->spool = optarg;
			break;
		case 'w':
			break;
		case 'i':
			if (cli_parse_duration(optarg, interval_ms) != 0 ||
			    *interval_ms < 50 || *interval_ms > 3600000) {
				fprintf(stderr, "spoolship: --interval '%s': "
					"want 50ms .. 1h\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			errno = 0;
			*count = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *count < 0)
				goto bad;
			break;
		default:
			goto bad;
		}
	}
	if (optind < argc)
		goto bad;
	return EXIT_OK;
bad:
	watch_usage();
	return EXIT_USAGE;
}

int cli_watch(struct cli_common *c, int argc, char **argv)
{
	struct sample s[2];
	struct view v;
	spoolship_spool *sp = NULL;
	sigset_t stop;
	int64_t interval_ms = 1000, next;
	long count = 0, shown = 0;
	int ex, tty, cur = 0, have_prev = 0, prev_lines = 0, rc = 0;

	ex = parse_args(c, argc, argv, &interval_ms, &count);
	if (ex != EXIT_OK || (ex = cli_open_existing(c, &sp)) != EXIT_OK)
		return ex;
	memset(s, 0, sizeof(s));
	/* Blocked, and taken by sigtimedwait(): no race with the wait. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	tty = isatty(STDOUT_FILENO);
	next = clock_mono_ms();
	for (;;) {
		struct sample *now = &s[cur], *prev = have_prev ? &s[!cur]
								: NULL;

		spoolship_stats_free(&now->st);
		spoolship_stats_init(&now->st);
		if ((rc = spoolship_spool_stats(sp, &now->st)) != 0)
			break;
		now->mono_ms = clock_mono_ms();
		if (tty) {
			render_tty(c->spool, interval_ms, prev, now, &v);
			draw_tty(&v, prev_lines);
			prev_lines = v.n;
		} else {
			render_line(prev, now, &v);
			printf("%s\n", v.line[0]);
		}
		if (fflush(stdout) != 0) {
			rc = -errno;
			break;
		}
		have_prev = 1;
		cur = !cur;
		if (count > 0 && ++shown >= count)
			break;
		/* Ticks stay on the grid however long a sample took. */
		next += interval_ms;
		if (next < clock_mono_ms())
			next = clock_mono_ms();
		if (wait_until(&stop, next))
			break;
	}
	spoolship_stats_free(&s[0].st);
	spoolship_stats_free(&s[1].st);
	spoolship_spool_close(sp);
	/* The stop signals stay blocked: unblocking one that came late would
	 * kill the process on its way out with a status other than 0. */
	if (rc != 0) {
		cli_err("stats --watch", rc);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
