/*
 * names.h - the one list of names of each enum option the library
 * parses (sync mode, full policy): spoolship_sync_parse() and
 * spoolship_full_policy_parse() read them, and the daemon's option table
 * takes them for parsing [spool], for its "expected ..." messages and
 * for the generated docs, so a new name is added in one place.
 */
#ifndef SPOOLSHIP_NAMES_H
#define SPOOLSHIP_NAMES_H

/* In enum order (enum spoolship_sync, enum spoolship_full_policy),
 * NULL-terminated. */
extern const char *const spoolship_sync_names[];
extern const char *const spoolship_full_policy_names[];

/* Stores in *out the index of name in names (NULL-terminated) and
 * returns 0, or returns SPOOLSHIP_EINVAL (also for a NULL name). */
int spoolship_name_parse(const char *name, const char *const *names,
			 int *out);

#endif
