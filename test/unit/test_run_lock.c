/*
 * test_run_lock.c - unit tests of run_lock.c: the first taker holds
 * DIR/ship.lock and its pid is in it; a second one, by any path to the
 * directory, is refused and told the holder; the lock goes with its
 * holder, even one killed with SIGKILL.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_lock.h"

struct fixture {
	char *tmp;
	char spool[4200], link[4200], real[4200];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->tmp = tu_tmpdir();
	snprintf(f->spool, sizeof(f->spool), "%s/spool", f->tmp);
	/* another path to the same directory: a symlink, a trailing / */
	snprintf(f->link, sizeof(f->link), "%s/link/", f->tmp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmdir(f->tmp);
	free(f);
	return 0;
}

static void test_take_refuse_release(void **state)
{
	struct fixture *f = *state;
	char where[4200], file[4300], lnk[4200];
	pid_t holder = -1;
	struct stat st;
	int fd, fd2;
	FILE *fp;
	long pid = 0;

	/* the directory does not exist yet: made 0700, as the spool */
	assert_int_equal(run_lock_take(f->spool, &fd, &holder, where,
				       sizeof(where)), 0);
	assert_true(fd >= 0);
	assert_int_equal(stat(f->spool, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(file, sizeof(file), "%s/%s", f->spool, RUN_LOCK_NAME);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	fp = fopen(file, "r");
	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%ld", &pid), 1);
	fclose(fp);
	assert_true(pid == (long)getpid());
	assert_non_null(realpath(f->spool, f->real));

	/* a second taker (another open: flock conflicts even in one
	 * process), through the symlink: refused, told who holds it */
	snprintf(lnk, sizeof(lnk), "%s/link", f->tmp);
	assert_int_equal(symlink(f->spool, lnk), 0);
	assert_int_equal(run_lock_take(f->link, &fd2, &holder, where,
				       sizeof(where)), -EWOULDBLOCK);
	assert_int_equal(fd2, -1);
	assert_true(holder == getpid());
	assert_string_equal(where, f->real);

	run_lock_release(fd);
	assert_int_equal(run_lock_take(f->link, &fd2, &holder, where,
				       sizeof(where)), 0);
	run_lock_release(fd2);
	run_lock_release(-1); /* harmless */
}

/* The kernel drops a killed holder's lock: the next taker gets it at
 * once. */
static void test_killed_holder(void **state)
{
	struct fixture *f = *state;
	char where[4200], c;
	pid_t child, holder = 0;
	int p[2], fd, status;

	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pid_t h;

		close(p[0]);
		if (run_lock_take(f->spool, &fd, &h, where,
				  sizeof(where)) != 0)
			_exit(1);
		if (write(p[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(run_lock_take(f->spool, &fd, &holder, where,
				       sizeof(where)), -EWOULDBLOCK);
	assert_true(holder == child);
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_true(waitpid(child, &status, 0) == child);
	assert_int_equal(run_lock_take(f->spool, &fd, &holder, where,
				       sizeof(where)), 0);
	run_lock_release(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_take_refuse_release,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed_holder, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
