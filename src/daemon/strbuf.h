/*
 * strbuf.h - a growable text buffer: append bytes, strings and printf
 * output; one out-of-memory flag instead of an error per call.
 */
#ifndef SPOOLSHIP_STRBUF_H
#define SPOOLSHIP_STRBUF_H

#include <stddef.h>

/* Zero it to start; p is NUL-terminated once anything was added; the
 * caller owns p (strbuf_free).  oom: an append failed, the text is cut. */
struct strbuf {
	char *p;
	size_t len, cap;
	int oom;
};

void strbuf_add(struct strbuf *b, const char *s, size_t n);
void strbuf_str(struct strbuf *b, const char *s);
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
void strbuf_printf(struct strbuf *b, const char *fmt, ...);
void strbuf_free(struct strbuf *b);

#endif
