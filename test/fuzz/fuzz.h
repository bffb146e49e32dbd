/*
 * fuzz.h - shared by the libFuzzer targets (test/fuzz/fuzz_*.c): a check
 * that turns a broken invariant into a crash libFuzzer records, and a
 * scratch directory removed at exit.  Test code only, never in src/.
 */
#ifndef SPOOLSHIP_FUZZ_H
#define SPOOLSHIP_FUZZ_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A property every input must keep: abort (a "crash") when it does not. */
#define FUZZ_CHECK(cond)                                                 \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n",     \
				__FILE__, __LINE__, #cond);              \
			abort();                                         \
		}                                                        \
	} while (0)

/* A fixed "now", 2022-04-16T00:46:58.771Z: a crash reproduces any day. */
#define FUZZ_NOW_MS INT64_C(1650070018771)

static inline char *fuzz_dir(void)
{
	static char dir[256];

	return dir;
}

static inline void fuzz_dir_remove(void)
{
	char cmd[300];

	if (fuzz_dir()[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir());
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir());
}

/* A scratch directory for this process, removed at exit. */
static inline const char *fuzz_scratch(void)
{
	const char *tmp = getenv("TMPDIR");
	char *d = fuzz_dir();

	if (d[0] != '\0')
		return d;
	snprintf(d, 256, "%s/spoolship-fuzz-XXXXXX",
		 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(d) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fuzz_dir_remove);
	return d;
}

#endif
