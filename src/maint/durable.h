/*
 * durable.h - the fsyncs that make a file system change last: a file's
 * or directory's own, and the directory entry of a new or renamed path.
 * Used by compact, salvage and dead export; never by the append path
 * (LMDB syncs its own files).
 */
#ifndef SPOOLSHIP_DURABLE_H
#define SPOOLSHIP_DURABLE_H

/* Opens path with flags (O_RDONLY, plus O_DIRECTORY for a directory) and
 * fsyncs it.  Returns 0 or -errno. */
int durable_sync_path(const char *path, int flags);
/* Fsyncs the directory holding path ("." when path has no '/'), so that
 * a file created or renamed there survives a power loss.  Returns 0 or
 * -errno (-ENAMETOOLONG for a path over 4095 bytes). */
int durable_sync_parent(const char *path);

#endif
