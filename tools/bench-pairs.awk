# tools/bench-pairs.awk - summary of in-turn runs of one thing in the clear
# and encrypted (tools/bench.sh, tools/bench-ship.sh).  Input: one line per
# pair, "CLEAR ENCRYPTED" in events/s, each pair run back to back; -v
# target=PERCENT, the target the median is held to.  Output,
# one line: the best encrypted rate, then the words the bench prints
# after it.  The median of the pairs' own ratios is the figure the targets
# are read from: this machine's speed wanders by up to 2x between runs
# (wrk against the mock: 429 k and 871 k events/s in two benches), less
# between two runs in a row, and best/best hangs on the one fastest run of
# either series (printed too).
{
	r[NR] = 100 * $2 / $1
	if ($1 > bc) bc = $1
	if ($2 > be) be = $2
}
END {
	if (NR == 0 || bc == 0) exit 1
	for (i = 2; i <= NR; i++)	# insertion sort: a handful of pairs
		for (j = i; j > 1 && r[j - 1] > r[j]; j--) {
			t = r[j]; r[j] = r[j - 1]; r[j - 1] = t
		}
	med = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
	printf "%d %.1f%% of the same in the clear: median of %d pairs in " \
		"turn, target >= %s%%; range %.1f-%.1f%%; best of each: %d " \
		"vs %d in the clear, %.1f%%\n", be, med, NR, target, r[1], \
		r[NR], be, bc, 100 * be / bc
}
