/*
 * errors.c - one place that names every error the library returns, and the
 * option names (names.h) with their parsers, shared by the CLI and the
 * config loader.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errf.h"
#include "names.h"

#include "spoolship.h"

static const char *const messages[] = {
	"invalid argument",
	"event is not valid JSON",
	"event is not a JSON object",
	"event has no __time",
	"__time is not an ISO-8601 time",
	"__time is older than the age window (max_age less age_margin)",
	"event is larger than 1,000,000 bytes",
	"event is not valid UTF-8",
	"spool is full (disk budget or filesystem)",
	"spool was written by a newer spoolship (format version)",
	"spool record or environment is corrupt",
	"LMDB error",
	"not found",
	"spool is open read-only",
	"encryption key file unusable",
	"wrong encryption key for this spool",
	"spool is encrypted: its encryption key is needed",
};

const char *spoolship_strerror(int err)
{
	if (err == 0)
		return "success";
	if (err >= SPOOLSHIP_E_FIRST && err <= SPOOLSHIP_E_LAST)
		return messages[err - SPOOLSHIP_E_FIRST];
	/* strerror() is not thread-safe in theory; glibc's returns static
	 * strings for known codes, which is all we hand it. */
	return strerror(err < 0 ? -err : err);
}

int spoolship_err_is_event(int err)
{
	return err >= SPOOLSHIP_EJSON && err <= SPOOLSHIP_EUTF8;
}

const char *const spoolship_sync_names[] = { "full", "batch", "none",
					     NULL };
const char *const spoolship_full_policy_names[] = { "reject", "drop_oldest",
						    "block", NULL };

int spoolship_name_parse(const char *name, const char *const *names,
			 int *out)
{
	for (int i = 0; names[i] != NULL; i++) {
		if (name != NULL && strcmp(name, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return SPOOLSHIP_EINVAL;
}

int spoolship_sync_parse(const char *name, int *out)
{
	return spoolship_name_parse(name, spoolship_sync_names, out);
}

int spoolship_full_policy_parse(const char *name, int *out)
{
	return spoolship_name_parse(name, spoolship_full_policy_names, out);
}

int errf(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return err;
}
