/*
 * faultshim.c - an LD_PRELOAD library for the I/O fault tests: it counts
 * the process's writes, syncs and opens on the spool's files and makes
 * the Nth of them fail with EIO, ENOSPC, ... (docs/testing-faults.md).
 * It must never change what an uncounted call does.
 *
 * Environment (read once, at load):
 *   FAULT_AT=N           the Nth counted call fails (1-based); unset or
 *                        0: nothing fails, calls are only counted
 *   FAULT_STICKY=1       every counted call from the Nth on fails (a disk
 *                        that went bad), not only the Nth
 *   FAULT_ERRNO=NAME     EIO (default), ENOSPC, EDQUOT, EROFS, EFBIG, or
 *                        a number
 *   FAULT_CALLS=a,b,...  which calls count (default, or empty: all):
 *                        open (also open64, openat, openat64, creat),
 *                        write, pwrite (also pwrite64), writev, pwritev
 *                        (also pwritev64, pwritev2), fsync, fdatasync,
 *                        msync, ftruncate (also ftruncate64)
 *   FAULT_PATH_PREFIX=P  count an open only when its path starts with P,
 *                        and a call on a descriptor only when the file
 *                        it refers to (/proc/self/fd/FD) starts with P;
 *                        give an absolute path
 *   FAULT_COUNT_FILE=F   at exit, write "CALLS INJECTED\n" to F: how many
 *                        calls were counted, how many were failed
 *   FAULT_LOG=1          say on stderr which call was failed
 *
 * A call on a descriptor counts only when the descriptor is a regular
 * file or a directory (fstat), so sockets, pipes and terminals never do.
 * msync counts every call (it takes an address, not a descriptor).
 * The hooks are thread-safe (one atomic counter) and async-signal-safe
 * once the real functions are resolved, which the constructor does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum call {
	C_OPEN, C_WRITE, C_PWRITE, C_WRITEV, C_PWRITEV, C_FSYNC,
	C_FDATASYNC, C_MSYNC, C_FTRUNCATE, C_NCALLS
};

static const char *const call_names[C_NCALLS] = {
	"open", "write", "pwrite", "writev", "pwritev", "fsync",
	"fdatasync", "msync", "ftruncate",
};

static struct {
	unsigned long at;
	int sticky, err, log;
	unsigned mask;
	char prefix[1024];
	size_t prefix_len;
	char count_file[1024];
} cfg = { 0, 0, EIO, 0, (1u << C_NCALLS) - 1, "", 0, "" };

static atomic_ulong counted;
static atomic_ulong injected;

/* ---- the real functions ------------------------------------------------ */

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_creat)(const char *, mode_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_msync)(void *, size_t, int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);

/* Resolves one symbol once; racing threads store the same pointer. */
#define REAL(name)                                                          \
	(real_##name != NULL ? real_##name :                                \
	 (*(void **)&real_##name = dlsym(RTLD_NEXT, #name), real_##name))

static void resolve_all(void)
{
	(void)REAL(open); (void)REAL(open64); (void)REAL(openat);
	(void)REAL(openat64); (void)REAL(creat); (void)REAL(write);
	(void)REAL(pwrite); (void)REAL(pwrite64); (void)REAL(writev);
	(void)REAL(pwritev); (void)REAL(pwritev64); (void)REAL(pwritev2);
	(void)REAL(fsync); (void)REAL(fdatasync); (void)REAL(msync);
	(void)REAL(ftruncate); (void)REAL(ftruncate64);
}

/* ---- configuration ------------------------------------------------------ */

static int errno_of(const char *s)
{
	static const struct { const char *name; int err; } names[] = {
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT },
		{ "EROFS", EROFS }, { "EFBIG", EFBIG }, { "EACCES", EACCES },
		{ "ENOMEM", ENOMEM }, { "EINTR", EINTR },
	};
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].err;
	v = strtol(s, &end, 10);
	return end != s && *end == '\0' && v > 0 && v < 4096 ? (int)v : EIO;
}

static unsigned mask_of(const char *s)
{
	unsigned m = 0;

	while (*s != '\0') {
		size_t n = strcspn(s, ",");

		for (int i = 0; i < C_NCALLS; i++)
			if (strlen(call_names[i]) == n &&
			    strncmp(s, call_names[i], n) == 0)
				m |= 1u << i;
		s += n;
		s += *s == ',';
	}
	return m;
}

static void copy_env(const char *name, char *dst, size_t cap, size_t *len)
{
	const char *v = getenv(name);
	size_t n = v != NULL ? strlen(v) : 0;

	if (n >= cap)
		n = 0; /* too long to be a path we mean: ignore */
	memcpy(dst, v != NULL ? v : "", n);
	dst[n] = '\0';
	if (len != NULL)
		*len = n;
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *v;

	resolve_all();
	if ((v = getenv("FAULT_AT")) != NULL)
		cfg.at = strtoul(v, NULL, 10);
	if ((v = getenv("FAULT_STICKY")) != NULL)
		cfg.sticky = strcmp(v, "1") == 0;
	if ((v = getenv("FAULT_ERRNO")) != NULL)
		cfg.err = errno_of(v);
	if ((v = getenv("FAULT_CALLS")) != NULL && *v != '\0')
		cfg.mask = mask_of(v);
	if ((v = getenv("FAULT_LOG")) != NULL)
		cfg.log = strcmp(v, "1") == 0;
	copy_env("FAULT_PATH_PREFIX", cfg.prefix, sizeof(cfg.prefix),
		 &cfg.prefix_len);
	copy_env("FAULT_COUNT_FILE", cfg.count_file, sizeof(cfg.count_file),
		 NULL);
}

/* ---- output without stdio (async-signal-safe) --------------------------- */

static size_t put_str(char *b, size_t at, size_t cap, const char *s)
{
	while (*s != '\0' && at + 1 < cap)
		b[at++] = *s++;
	b[at] = '\0';
	return at;
}

static size_t put_num(char *b, size_t at, size_t cap, unsigned long v)
{
	char d[24];
	int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	while (n > 0 && at + 1 < cap)
		b[at++] = d[--n];
	b[at] = '\0';
	return at;
}

static void say_fault(enum call c, unsigned long n, int fd)
{
	char m[160];
	size_t at = 0;

	if (!cfg.log || REAL(write) == NULL)
		return;
	at = put_str(m, at, sizeof(m), "faultshim: failing call ");
	at = put_num(m, at, sizeof(m), n);
	at = put_str(m, at, sizeof(m), " (");
	at = put_str(m, at, sizeof(m), call_names[c]);
	if (fd >= 0) {
		at = put_str(m, at, sizeof(m), " fd ");
		at = put_num(m, at, sizeof(m), (unsigned long)fd);
	}
	at = put_str(m, at, sizeof(m), ") errno ");
	at = put_num(m, at, sizeof(m), (unsigned long)cfg.err);
	at = put_str(m, at, sizeof(m), "\n");
	if (real_write(2, m, at) < 0)
		(void)0; /* nowhere to say it */
}

__attribute__((destructor)) static void shim_fini(void)
{
	char m[64];
	size_t at;
	int fd;

	if (cfg.count_file[0] == '\0' || REAL(open) == NULL ||
	    REAL(write) == NULL)
		return;
	at = put_num(m, 0, sizeof(m), atomic_load(&counted));
	at = put_str(m, at, sizeof(m), " ");
	at = put_num(m, at, sizeof(m), atomic_load(&injected));
	at = put_str(m, at, sizeof(m), "\n");
	fd = real_open(cfg.count_file, O_WRONLY | O_CREAT | O_TRUNC |
		       O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (real_write(fd, m, at) < 0)
		(void)0; /* the test sees a short file */
	close(fd);
}

/* ---- what counts -------------------------------------------------------- */

static int path_counts(const char *path)
{
	return path != NULL &&
	       strncmp(path, cfg.prefix, cfg.prefix_len) == 0;
}

static int fd_counts(int fd)
{
	char link[32], target[1024];
	struct stat st;
	size_t at;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) != 0 ||
	    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
		return 0;
	if (cfg.prefix_len == 0)
		return 1;
	at = put_str(link, 0, sizeof(link), "/proc/self/fd/");
	put_num(link, at, sizeof(link), (unsigned long)fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return path_counts(target);
}

/* 1 when this call (already known to count) is the one to fail: then
 * errno is set for the caller. */
static int fail_now(enum call c, int fd)
{
	unsigned long n = atomic_fetch_add(&counted, 1) + 1;

	if (cfg.at == 0 || n < cfg.at || (n > cfg.at && !cfg.sticky))
		return 0;
	atomic_fetch_add(&injected, 1);
	say_fault(c, n, fd);
	errno = cfg.err;
	return 1;
}

static int fd_fault(enum call c, int fd)
{
	if (!(cfg.mask & (1u << c)) || !fd_counts(fd))
		return 0;
	return fail_now(c, fd);
}

static int path_fault(const char *path)
{
	if (!(cfg.mask & (1u << C_OPEN)) || !path_counts(path))
		return 0;
	return fail_now(C_OPEN, -1);
}

/* ---- the hooks ---------------------------------------------------------- */

static mode_t mode_arg(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

/* The mode argument of an open-like call (read only when it is there). */
#define MODE_OF(flags, mode)                                               \
	do {                                                               \
		va_list ap_;                                               \
		va_start(ap_, flags);                                      \
		mode = mode_arg(flags, ap_);                               \
		va_end(ap_);                                               \
	} while (0)

int open(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_OF(flags, mode);
	return path_fault(path) ? -1 : REAL(open)(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode;

	MODE_OF(flags, mode);
	return path_fault(path) ? -1 : REAL(open64)(path, flags, mode);
}

/* Relative to a directory descriptor: counted by the path as given (an
 * absolute one, or when no prefix is set). */
int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_OF(flags, mode);
	return path_fault(path) ? -1 : REAL(openat)(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;

	MODE_OF(flags, mode);
	return path_fault(path) ? -1
				: REAL(openat64)(dirfd, path, flags, mode);
}

int creat(const char *path, mode_t mode)
{
	if (path_fault(path))
		return -1;
	return REAL(creat)(path, mode);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	if (fd_fault(C_WRITE, fd))
		return -1;
	return REAL(write)(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (fd_fault(C_PWRITE, fd))
		return -1;
	return REAL(pwrite)(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	if (fd_fault(C_PWRITE, fd))
		return -1;
	return REAL(pwrite64)(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (fd_fault(C_WRITEV, fd))
		return -1;
	return REAL(writev)(fd, iov, cnt);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (fd_fault(C_PWRITEV, fd))
		return -1;
	return REAL(pwritev)(fd, iov, cnt, off);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (fd_fault(C_PWRITEV, fd))
		return -1;
	return REAL(pwritev64)(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
		 int flags)
{
	if (fd_fault(C_PWRITEV, fd))
		return -1;
	return REAL(pwritev2)(fd, iov, cnt, off, flags);
}

int fsync(int fd)
{
	if (fd_fault(C_FSYNC, fd))
		return -1;
	return REAL(fsync)(fd);
}

int fdatasync(int fd)
{
	if (fd_fault(C_FDATASYNC, fd))
		return -1;
	return REAL(fdatasync)(fd);
}

int msync(void *addr, size_t len, int flags)
{
	if ((cfg.mask & (1u << C_MSYNC)) && fail_now(C_MSYNC, -1))
		return -1;
	return REAL(msync)(addr, len, flags);
}

int ftruncate(int fd, off_t len)
{
	if (fd_fault(C_FTRUNCATE, fd))
		return -1;
	return REAL(ftruncate)(fd, len);
}

int ftruncate64(int fd, off_t len)
{
	if (fd_fault(C_FTRUNCATE, fd))
		return -1;
	return REAL(ftruncate64)(fd, len);
}
