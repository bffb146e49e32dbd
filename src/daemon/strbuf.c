/*
 * strbuf.c - a growable NUL-terminated text buffer for the daemon's HTTP
 * answers (metrics, ingest).  An allocation failure is remembered in oom
 * and later appends do nothing, so callers check once, at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

#define FIRST_CAP 4096 /* an answer's first allocation, at least */

/* Room for n more bytes and a NUL.  Returns 0, or -1 (b->oom set). */
static int reserve(struct strbuf *b, size_t n)
{
	void *p = b->p;
	size_t need = b->len + n + 1;

	if (b->oom)
		return -1;
	if (n > SIZE_MAX - b->len - 1 ||
	    array_grow(&p, &b->cap, b->cap == 0 && need < FIRST_CAP ?
			       FIRST_CAP : need, 1) != 0) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	return 0;
}

void strbuf_add(struct strbuf *b, const char *s, size_t n)
{
	if (reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void strbuf_str(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	size_t want = 256;
	va_list ap;
	int n;

	for (int pass = 0; pass < 2; pass++) {
		if (reserve(b, want) != 0)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			break;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		want = (size_t)n; /* too little room: again with enough */
	}
	b->p[b->len] = '\0';
	b->oom = 1;
}

void strbuf_free(struct strbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
