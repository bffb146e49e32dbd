/*
 * append-example.c - how an application appends events with libspoolship.
 * Build: cc append-example.c $(pkg-config --cflags --libs spoolship)
 * Run:   ./append-example ./spool clicks 1000
 * Appends N events to table TABLE, first one at a time (each durable when
 * spoolship_append returns), then through a buffered producer (durable
 * after spoolship_producer_flush).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <spoolship.h>

static int make_event(char *buf, size_t cap, long i)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	return snprintf(buf, cap,
			"{\"__time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\","
			"\"id\":%ld,\"page\":\"/home\",\"ms\":%ld}",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec,
			ts.tv_nsec / 1000000, i, i % 997);
}

int main(int argc, char **argv)
{
	spoolship_spool *spool;
	spoolship_producer *prod;
	char ev[256], why[256];
	long n = argc > 3 ? strtol(argv[3], NULL, 10) : 100;
	int rc, len;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SPOOL_DIR TABLE [N]\n", argv[0]);
		return 2;
	}
	/* NULL options: sync=full, 1 GiB budget, 7-day window. */
	rc = spoolship_spool_open(argv[1], NULL, &spool);
	if (rc != 0) {
		fprintf(stderr, "open: %s\n", spoolship_strerror(rc));
		return 1;
	}
	/* One at a time: simple, one fsync per event. */
	for (long i = 0; i < n / 10; i++) {
		len = make_event(ev, sizeof(ev), i);
		rc = spoolship_append(spool, argv[2], ev, (size_t)len, why,
				      sizeof(why));
		if (rc != 0)
			fprintf(stderr, "event %ld: %s\n", i,
				spoolship_err_is_event(rc) ? why
							   : spoolship_strerror(rc));
	}
	/* Buffered: validated now, committed in groups. */
	rc = spoolship_producer_new(spool, argv[2], NULL, &prod);
	if (rc != 0) {
		fprintf(stderr, "producer: %s\n", spoolship_strerror(rc));
		spoolship_spool_close(spool);
		return 1;
	}
	for (long i = n / 10; i < n; i++) {
		len = make_event(ev, sizeof(ev), i);
		rc = spoolship_producer_append(prod, ev, (size_t)len, why,
					       sizeof(why));
		if (rc != 0)
			fprintf(stderr, "event %ld: %s\n", i,
				spoolship_err_is_event(rc) ? why
							   : spoolship_strerror(rc));
	}
	/* Until this returns 0 the buffered events are only in memory. */
	rc = spoolship_producer_close(prod);
	if (rc != 0)
		fprintf(stderr, "flush: %s\n", spoolship_strerror(rc));
	spoolship_spool_close(spool);
	printf("appended %ld events to %s/%s\n", n, argv[1], argv[2]);
	return rc == 0 ? 0 : 1;
}
