/*
 * test_pidfile.c - unit tests of pidfile.c: a missing, stale, garbage or
 * own-pid file is free to take; a live process that is not spoolship is
 * stale (a reused pid); the write leaves no temporary file; removal
 * spares a file that holds another pid.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidfile.h"

struct fixture {
	char *dir;
	char path[4200];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = tu_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/x.pid", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmdir(f->dir);
	free(f);
	return 0;
}

static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static long held(const char *path)
{
	FILE *fp = fopen(path, "r");
	long v = -1;

	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%ld", &v), 1);
	fclose(fp);
	return v;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void test_free_cases(void **state)
{
	struct fixture *f = *state;
	pid_t live, stale, child;
	char buf[32];
	int st;

	assert_int_equal(pidfile_check(f->path, &live, &stale), 0);
	assert_int_equal(stale, 0);
	put(f->path, "not a pid\n");
	assert_int_equal(pidfile_check(f->path, &live, &stale), 0);
	assert_int_equal(stale, 0);
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	put(f->path, buf);
	assert_int_equal(pidfile_check(f->path, &live, &stale), 0);
	/* A process that is gone. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &st, 0), child);
	snprintf(buf, sizeof(buf), "%ld\n", (long)child);
	put(f->path, buf);
	assert_int_equal(pidfile_check(f->path, &live, &stale), 0);
	assert_int_equal(stale, child);
	assert_int_equal(live, 0);
}

/* A live process whose argv[0] is not spoolship (sleep): a reused pid.
 * This test binary may well live under a directory called spoolship:
 * only the last part of argv[0] counts. */
static void test_live_other_program(void **state)
{
	struct fixture *f = *state;
	struct timespec ts = { 0, 20000000 };
	pid_t live = 0, stale = 0, child;
	char buf[32];
	int st;

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		execlp("sleep", "sleep", "30", (char *)NULL);
		_exit(127);
	}
	snprintf(buf, sizeof(buf), "%ld", (long)child);
	put(f->path, buf);
	/* Until exec has replaced the forked copy of this test. */
	for (int i = 0; i < 250 && stale != child; i++) {
		assert_int_equal(pidfile_check(f->path, &live, &stale) == 0 ||
				 live == child, 1);
		nanosleep(&ts, NULL);
	}
	assert_int_equal(stale, child);
	assert_int_equal(live, 0);
	kill(child, SIGKILL);
	waitpid(child, &st, 0);
}

static void test_write_and_remove(void **state)
{
	struct fixture *f = *state;
	char other[4300];

	assert_int_equal(pidfile_write(f->path), 0);
	assert_int_equal(held(f->path), (long)getpid());
	assert_int_equal(entries(f->dir), 1); /* no temporary file left */
	assert_int_equal(pidfile_write(f->path), 0); /* over an old one */
	assert_int_equal(entries(f->dir), 1);
	assert_int_equal(pidfile_remove(f->path), 0);
	assert_int_equal(access(f->path, F_OK), -1);
	/* Another process's file is left alone. */
	put(f->path, "1\n");
	assert_int_equal(pidfile_remove(f->path), 0);
	assert_int_equal(held(f->path), 1);
	/* No such directory: an error, nothing left behind. */
	snprintf(other, sizeof(other), "%s/no/x.pid", f->dir);
	assert_int_equal(pidfile_write(other), -ENOENT);
	assert_int_equal(pidfile_remove(other), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_free_cases, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_live_other_program, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_and_remove, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
