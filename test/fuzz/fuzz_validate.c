/*
 * fuzz_validate.c - libFuzzer target for the door of the spool
 * (src/lib/validate.c): validate_event() on any bytes, the __time parser, and
 * the UTF-8 checks.  Besides the sanitizers it checks that what is stored
 * is valid UTF-8 JSON that validates again to the very same bytes.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "spoolship.h"
#include "validate.h"

/* Small enough that the fuzzer reaches the size check. */
#define MAX_BYTES 2048
#define MAX_AGE_MS (INT64_C(7) * 86400000)

static void check_time(const char *s, size_t len)
{
	char norm[VALIDATE_TIME_LEN + 1];
	int64_t ms, again;

	if (validate_time_parse(s, len, &ms) != 0)
		return;
	validate_time_format(ms, norm);
	FUZZ_CHECK(strlen(norm) == VALIDATE_TIME_LEN);
	FUZZ_CHECK(validate_time_parse(norm, VALIDATE_TIME_LEN, &again) == 0);
	FUZZ_CHECK(again == ms);
}

/* validate_utf8() (a word-at-a-time fast path) against a walk with
 * validate_utf8_seq(). */
static void check_utf8(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;
	int ok = 1;

	while (i < len) {
		k = validate_utf8_seq(u + i, len - i);
		if (k == 0 || u[i] == 0) {
			ok = 0;
			break;
		}
		i += k;
	}
	FUZZ_CHECK(validate_utf8(s, len) == ok);
}

/* A stored event: UTF-8, one JSON object, and a fixed point. */
static void check_stored(const char *ev, size_t len, int64_t ms,
			 const struct validate_opts *o)
{
	char *again = malloc(len + VALIDATE_SLACK);
	size_t alen = 0;
	int64_t ams = 0;
	cJSON *root;
	char why[256];

	FUZZ_CHECK(again != NULL);
	FUZZ_CHECK(len <= MAX_BYTES);
	FUZZ_CHECK(validate_utf8(ev, len));
	root = cJSON_ParseWithLength(ev, len);
	FUZZ_CHECK(cJSON_IsObject(root));
	cJSON_Delete(root);
	FUZZ_CHECK(validate_event(ev, len, o, again, len + VALIDATE_SLACK,
				  &alen, &ams, why, sizeof(why)) == 0);
	FUZZ_CHECK(alen == len && memcmp(again, ev, len) == 0);
	FUZZ_CHECK(ams == ms);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct validate_opts o = {
		.now_ms = FUZZ_NOW_MS,
		.max_age_ms = MAX_AGE_MS,
		.max_bytes = MAX_BYTES,
	};
	char why[256] = "";
	size_t outlen = 0;
	int64_t ms = 0;
	char *out = malloc(size + VALIDATE_SLACK); /* exact: ASan sees
						    * one byte too far */

	FUZZ_CHECK(out != NULL);
	check_time(in, size);
	check_utf8(in, size);
	for (o.fill_time = 0; o.fill_time <= 1; o.fill_time++) {
		int rc = validate_event(in, size, &o, out,
					size + VALIDATE_SLACK, &outlen, &ms,
					why, sizeof(why));

		FUZZ_CHECK(strlen(why) < sizeof(why));
		if (rc == 0) {
			check_stored(out, outlen, ms, &o);
		} else {
			FUZZ_CHECK(rc < 0);
			FUZZ_CHECK(validate_utf8(why, strlen(why)));
		}
		/* Missing __time is the only failure fill_time changes. */
		if (rc != SPOOLSHIP_ENOTIME)
			break;
	}
	free(out);
	return 0;
}
