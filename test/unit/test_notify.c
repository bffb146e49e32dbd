/*
 * test_notify.c - unit tests of notify.c: the sd_notify datagrams reach a
 * path socket and an abstract one, nothing is sent without NOTIFY_SOCKET,
 * the watchdog period is half of WATCHDOG_USEC and only for this pid, and
 * a manager that does not listen costs an error code, never a crash.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

struct fixture {
	char *dir;
	char path[4200];
	int fd;
};

static void clear_env(void)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un a;

	assert_non_null(f);
	clear_env();
	f->dir = tu_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/n.sock", f->dir);
	assert_true(strlen(f->path) < sizeof(a.sun_path));
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, f->path, strlen(f->path) + 1);
	f->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(f->fd >= 0);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	close(f->fd);
	clear_env();
	tu_rmdir(f->dir);
	free(f);
	return 0;
}

/* The next datagram on fd within 2 s, into buf; asserts one came. */
static void recv_msg(int fd, char *buf, size_t len)
{
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recv(fd, buf, len - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
}

static int nothing_waiting(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 50) == 0;
}

static void test_disabled_without_env(void **state)
{
	struct notify n;

	(void)state;
	notify_open(&n, NULL);
	assert_false(notify_enabled(&n));
	assert_int_equal(notify_ready(&n, "x"), 0);
	assert_int_equal(notify_wait_ms(&n, 250), 250);
	notify_cron(&n, NULL, NULL);
	notify_close(&n);
	notify_close(&n); /* twice is fine */
}

static void test_path_socket(void **state)
{
	struct fixture *f = *state;
	struct notify n;
	char buf[512];

	setenv("NOTIFY_SOCKET", f->path, 1);
	notify_open(&n, NULL);
	assert_true(notify_enabled(&n));
	assert_int_equal(n.watchdog_ms, 0);
	assert_int_equal(notify_ready(&n, "shipping"), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1\nSTATUS=shipping");
	assert_int_equal(notify_reloading(&n), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_true(strncmp(buf, "RELOADING=1\n", 12) == 0);
	assert_non_null(strstr(buf, "\nMONOTONIC_USEC="));
	assert_int_equal(notify_stopping(&n), 0);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_true(strncmp(buf, "STOPPING=1\n", 11) == 0);
	/* No watchdog asked for: cron sends nothing before STATUS is due. */
	notify_cron(&n, NULL, NULL);
	assert_true(nothing_waiting(f->fd));
	notify_close(&n);
}

static void test_abstract_socket(void **state)
{
	struct sockaddr_un a;
	struct notify n;
	char name[64], buf[256];
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	(void)state;
	assert_true(fd >= 0);
	snprintf(name, sizeof(name), "@spoolship-unit-%ld-%ld",
		 (long)getpid(), (long)clock_mono_ms());
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, name, strlen(name));
	a.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			  strlen(name));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
	setenv("NOTIFY_SOCKET", name, 1);
	notify_open(&n, NULL);
	assert_true(notify_enabled(&n));
	assert_int_equal(notify_send(&n, "STATUS=abstract"), 0);
	recv_msg(fd, buf, sizeof(buf));
	assert_string_equal(buf, "STATUS=abstract");
	notify_close(&n);
	close(fd);
}

static void test_watchdog(void **state)
{
	struct fixture *f = *state;
	struct notify n;
	char buf[64], pid[32];

	setenv("NOTIFY_SOCKET", f->path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	notify_open(&n, NULL);
	assert_int_equal(n.watchdog_ms, 100);
	/* Due at once, then not before 100 ms. */
	assert_true(notify_wait_ms(&n, 250) <= 1);
	notify_cron(&n, NULL, NULL);
	recv_msg(f->fd, buf, sizeof(buf));
	assert_string_equal(buf, "WATCHDOG=1");
	assert_true(notify_wait_ms(&n, 250) <= 100);
	assert_true(notify_wait_ms(&n, 250) >= 50);
	assert_int_equal(notify_wait_ms(&n, 20), 20);
	notify_cron(&n, NULL, NULL);
	assert_true(nothing_waiting(f->fd));
	notify_close(&n);

	/* For this pid: yes; for another: no; garbage: no. */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	notify_open(&n, NULL);
	assert_int_equal(n.watchdog_ms, 100);
	notify_close(&n);
	setenv("WATCHDOG_PID", "1", 1);
	notify_open(&n, NULL);
	assert_int_equal(n.watchdog_ms, 0);
	assert_int_equal(notify_wait_ms(&n, 250), 250);
	notify_close(&n);
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "12x", 1);
	notify_open(&n, NULL);
	assert_int_equal(n.watchdog_ms, 0);
	notify_close(&n);
	setenv("WATCHDOG_USEC", "1", 1); /* never below 1 ms */
	notify_open(&n, NULL);
	assert_int_equal(n.watchdog_ms, 1);
	notify_close(&n);
}

static void test_bad_and_absent_sockets(void **state)
{
	struct fixture *f = *state;
	struct notify n;
	char path[4300];

	(void)f;
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	notify_open(&n, NULL);
	assert_false(notify_enabled(&n));
	notify_close(&n);
	setenv("NOTIFY_SOCKET", "@", 1);
	notify_open(&n, NULL);
	assert_false(notify_enabled(&n));
	notify_close(&n);
	memset(path, 'a', 200);
	path[0] = '/';
	path[200] = '\0';
	setenv("NOTIFY_SOCKET", path, 1); /* longer than sun_path */
	notify_open(&n, NULL);
	assert_false(notify_enabled(&n));
	notify_close(&n);
	/* Nobody there: an error code, twice, and no crash. */
	snprintf(path, sizeof(path), "%s/nobody.sock", f->dir);
	setenv("NOTIFY_SOCKET", path, 1);
	notify_open(&n, NULL);
	assert_true(notify_enabled(&n));
	assert_int_equal(notify_send(&n, "READY=1"), -ENOENT);
	assert_int_equal(notify_send(&n, "READY=1"), -ENOENT);
	notify_close(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_disabled_without_env,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_abstract_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_and_absent_sockets,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
