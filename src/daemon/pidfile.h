/*
 * pidfile.h - the daemon's pid file ([run] pid_file): refused when it
 * names a live spoolship (a second shipper on one spool would send
 * everything twice), written atomically, removed on exit.  Never removes
 * a pid file that another process wrote.
 */
#ifndef SPOOLSHIP_PIDFILE_H
#define SPOOLSHIP_PIDFILE_H

#include <sys/types.h>

/*
 * Looks at the pid file at path.  Returns 0 when it is free to take: no
 * such file, or a stale one (its process is gone, is this process, or is
 * not a spoolship according to /proc/PID/cmdline); *stale then holds the
 * pid it named (0 for none or an unreadable number).  Returns -EEXIST
 * with the pid in *live when a live process holds it (kill(pid, 0)
 * succeeds or fails with EPERM), or -errno when the file cannot be read.
 */
int pidfile_check(const char *path, pid_t *live, pid_t *stale);

/*
 * Writes this process's id and a newline to path atomically: into a
 * temporary file beside it (mode 0644), then rename(2), so a reader never
 * sees a half-written file.  Returns 0 or -errno (nothing is left behind).
 */
int pidfile_write(const char *path);

/* Removes path when it still holds this process's id.  Returns 0, or
 * -errno of unlink; a file holding another pid is left alone (0). */
int pidfile_remove(const char *path);

#endif
