#!/usr/bin/env bash
# 0008: the repository stands alone.  No tracked file names a document
# that is not in it: every path under docs/, tools/, test/, src/,
# include/ or debian/ that a file mentions exists, and nothing refers to
# design or style notes kept outside the repository (the Events API
# contract is docs/events-api.md).  Also the README names every file of
# docs/ that a reader looks for (each *.md there is listed).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files > "$T/files"
else
	find . -type f ! -path './build/*' ! -path './.git/*' |
		sed 's|^\./||' > "$T/files"
fi
# Text files only; fuzz corpora and dashboards are data.
grep -vE '\.(png|json)$|/corpus/' "$T/files" > "$T/text"
check "files listed ($(wc -l < "$T/text"))" test -s "$T/text"

tr '\n' '\0' < "$T/text" | xargs -0 grep -ohE \
	'\b(docs|tools|test|src|include|debian)/[A-Za-z0-9_./-]*[A-Za-z0-9_]\.(md|c|h|sh|ini|in|yml|html|py|awk|1|5)\b' \
	2>/dev/null | sort -u > "$T/paths"
check "paths mentioned ($(wc -l < "$T/paths"))" test -s "$T/paths"
missing=$(while read -r p; do [ -e "$p" ] || echo "$p"; done < "$T/paths")
check "every path a file names exists${missing:+ (missing: $missing)}" \
	test -z "$missing"

outside=$(tr '\n' '\0' < "$T/text" | xargs -0 grep -nE \
	'\b(DESIGN|STYLE|POLARIS|PEERS)\.md\b|DESIGN §|\.\./shared/' \
	2>/dev/null | grep -v '^test/integration/0008-' | head -n 5)
check "no reference to notes outside the repository${outside:+: $outside}" \
	test -z "$outside"

unlisted=$(for f in docs/*.md; do
	grep -qF "\`$f\`" README.md || echo "$f"; done)
check "the README lists every docs/*.md${unlisted:+ (not: $unlisted)}" \
	test -z "$unlisted"
finish
