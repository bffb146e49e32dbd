/*
 * fuzz_ndjson.c - libFuzzer target for the NDJSON framing that
 * `spoolship append` and the ingest endpoint share (validate_line() in
 * src/lib/validate.c), then validate_event() on each line as both do.  The
 * lines found in one pass over the whole body (ingest) must be those
 * found reading it in pieces of any size (append reads a pipe).
 */
#include "fuzz.h"

#include "spoolship.h"
#include "validate.h"

#define MAX_LINES 65536 /* and the longest input taken */

struct line {
	size_t off, len; /* the event text; len 0: a blank line */
};

static int is_blank_char(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* What validate_line() promises about one line at p[0..len). */
static void check_line(const char *p, size_t len, int last, size_t used,
		       size_t ev)
{
	const char *nl = len > 0 ? memchr(p, '\n', len) : NULL;
	size_t text = nl != NULL ? (size_t)(nl - p) : len;
	int blank = 1;

	if (nl == NULL && (!last || len == 0)) {
		FUZZ_CHECK(used == 0 && ev == 0);
		return;
	}
	FUZZ_CHECK(used == (nl != NULL ? text + 1 : len));
	if (text > 0 && p[text - 1] == '\r')
		text--;
	for (size_t i = 0; i < text; i++)
		blank = blank && is_blank_char(p[i]);
	FUZZ_CHECK(ev == (blank ? 0 : text));
}

/* Lines of the whole body in one pass, as ingest splits it. */
static size_t split_whole(const char *p, size_t len, struct line *out)
{
	size_t start = 0, n = 0;

	while (start < len) {
		size_t ev, used = validate_line(p + start, len - start, 1,
						&ev);

		check_line(p + start, len - start, 1, used, ev);
		FUZZ_CHECK(used > 0);
		out[n].off = start;
		out[n].len = ev;
		n++;
		start += used;
	}
	return n;
}

/* The same body read in pieces into a buffer, the rest of an incomplete
 * line moved to its front before the next read, as append does. */
static size_t split_pieces(const char *p, size_t len, uint32_t seed,
			   struct line *out)
{
	char *buf = malloc(len + 1);
	size_t have = 0, done = 0, base = 0, n = 0, ev, used;

	FUZZ_CHECK(buf != NULL);
	for (;;) {
		size_t start = 0, k;

		seed = seed * 1103515245u + 12345u;
		k = 1 + (seed >> 16) % 97;
		if (k > len - done)
			k = len - done;
		memcpy(buf + have, p + done, k);
		have += k;
		done += k;
		while ((used = validate_line(buf + start, have - start, 0,
					     &ev)) > 0) {
			check_line(buf + start, have - start, 0, used, ev);
			out[n].off = base + start;
			out[n].len = ev;
			n++;
			start += used;
		}
		if (done == len) {
			if (start < have) {
				used = validate_line(buf + start,
						     have - start, 1, &ev);
				check_line(buf + start, have - start, 1, used,
					   ev);
				out[n].off = base + start;
				out[n].len = ev;
				n++;
			}
			break;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		base += start;
	}
	free(buf);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct line a[MAX_LINES], b[MAX_LINES];
	const char *p = (const char *)data;
	struct validate_opts o = {
		.now_ms = FUZZ_NOW_MS,
		.fill_time = 1,
		.max_bytes = SPOOLSHIP_MAX_EVENT_BYTES,
	};
	uint32_t seed = (uint32_t)size;
	size_t na, nb;

	if (size > MAX_LINES)
		return 0;
	for (size_t i = 0; i < size && i < 8; i++)
		seed = seed * 31 + data[i];
	na = split_whole(p, size, a);
	nb = split_pieces(p, size, seed, b);
	FUZZ_CHECK(na == nb);
	for (size_t i = 0; i < na; i++) {
		char why[256], *out;
		size_t outlen;
		int64_t ms;

		FUZZ_CHECK(a[i].off == b[i].off && a[i].len == b[i].len);
		if (a[i].len == 0)
			continue;
		FUZZ_CHECK(memchr(p + a[i].off, '\n', a[i].len) == NULL);
		out = malloc(a[i].len + VALIDATE_SLACK);
		FUZZ_CHECK(out != NULL);
		if (validate_event(p + a[i].off, a[i].len, &o, out,
				   a[i].len + VALIDATE_SLACK, &outlen, &ms,
				   why, sizeof(why)) == 0)
			FUZZ_CHECK(validate_utf8(out, outlen));
		free(out);
	}
	return 0;
}
