/*
 * config_parse.c - the configuration's values as text: the parsers of
 * booleans, integers, sizes and durations (also for the command line),
 * and how sizes, durations and enum names are written back in messages
 * and the generated docs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"

/* ---- value parsers ------------------------------------------------------ */

int config_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (int i = 0; s != NULL && i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return SPOOLSHIP_EINVAL;
}

int config_parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || !(config_is_digit(*s) ||
			   (*s == '-' && config_is_digit(s[1]))))
		return SPOOLSHIP_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return SPOOLSHIP_EINVAL;
	*out = v;
	return 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
	int64_t mul = 1;
	char *end;
	long long v;

	if (s == NULL || !config_is_digit(*s))
		return SPOOLSHIP_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0)
		return SPOOLSHIP_EINVAL;
	switch (*end) {
	case 'T': case 't': mul *= 1024; /* fall through */
	case 'G': case 'g': mul *= 1024; /* fall through */
	case 'M': case 'm': mul *= 1024; /* fall through */
	case 'K': case 'k': mul *= 1024; end++; break;
	}
	if (mul > 1 && (*end == 'i' || *end == 'I') &&
	    (end[1] == 'B' || end[1] == 'b'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > INT64_MAX / mul)
		return SPOOLSHIP_EINVAL;
	*out = (uint64_t)(v * mul);
	return 0;
}

int config_parse_duration(const char *s, int64_t *out_ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "ms", MS }, { "s", SEC }, { "m", MIN }, { "h", HOUR },
		{ "d", DAY },
	};
	const char *p = s;
	int64_t total = 0;

	if (s == NULL || !config_is_digit(*s))
		return SPOOLSHIP_EINVAL;
	while (*p != '\0') {
		int64_t mul = 0;
		size_t ulen = 0;
		char *end;
		long long v;

		if (!config_is_digit(*p))
			return SPOOLSHIP_EINVAL;
		errno = 0;
		v = strtoll(p, &end, 10);
		if (errno != 0)
			return SPOOLSHIP_EINVAL;
		if (*end == '\0' && p == s) {
			mul = MS; /* a bare number alone */
		} else {
			for (size_t i = 0; i < 5 && mul == 0; i++) {
				ulen = strlen(units[i].unit);
				/* "ms" is tried before "m". */
				if (strncmp(end, units[i].unit, ulen) == 0)
					mul = units[i].ms;
			}
			if (mul == 0)
				return SPOOLSHIP_EINVAL;
		}
		if (v > (INT64_MAX - total) / mul)
			return SPOOLSHIP_EINVAL;
		total += v * mul;
		p = end + ulen;
	}
	*out_ms = total;
	return 0;
}

/* ---- characters ------------------------------------------------------- */

int config_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int config_is_name_char(int c, int first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       (!first && config_is_digit(c));
}


/* ---- showing values (messages, example, docs) --------------------------- */

static void show_size(int64_t v, char *buf, size_t len)
{
	static const char units[] = "TGMK";
	int64_t m = TIB;

	for (int i = 0; i < 4; i++, m /= 1024) {
		if (v != 0 && v % m == 0) {
			snprintf(buf, len, "%lld%c", (long long)(v / m),
				 units[i]);
			return;
		}
	}
	snprintf(buf, len, "%lld", (long long)v);
}

static void show_duration(int64_t ms, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "d", DAY }, { "h", HOUR }, { "m", MIN }, { "s", SEC },
	};

	if (ms == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (size_t i = 0; i < 4; i++) {
		if (ms % units[i].ms == 0) {
			snprintf(buf, len, "%lld%s",
				 (long long)(ms / units[i].ms), units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%lldms", (long long)ms);
}

void config_show_value(const struct config_option *o, int64_t v, char *buf,
		 size_t len)
{
	if (o->type == CONFIG_SIZE)
		show_size(v, buf, len);
	else if (o->type == CONFIG_DURATION)
		show_duration(v, buf, len);
	else
		snprintf(buf, len, "%lld", (long long)v);
}

/* "full, batch or none" */
void config_show_names(const char *const *names, char *buf, size_t len)
{
	size_t n = 0, used = 0;

	while (names[n] != NULL)
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int k = snprintf(buf + used, len - used, "%s%s",
				 i == 0 ? "" : i + 1 == n ? " or " : ", ",
				 names[i]);

		if (k < 0)
			break;
		used += (size_t)k;
	}
}
