/*
 * errf.h - the one helper behind STYLE rule 3's error messages: write a
 * reason into the caller's buffer and hand back the code, in one line.
 */
#ifndef SPOOLSHIP_ERRF_H
#define SPOOLSHIP_ERRF_H

#include <stddef.h>

/* Formats fmt into errbuf (when not NULL and errlen > 0) and returns err:
 *     return errf(errbuf, errlen, SPOOLSHIP_EJSON, "near byte %zu", at);
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
int errf(char *errbuf, size_t errlen, int err, const char *fmt, ...);

#endif
