# tools/bench-pairs.awk - summary of in-turn runs of one thing in the clear
# and encrypted (tools/bench.sh, tools/bench-ship.sh).  Input: one line per
# pair, "CLEAR ENCRYPTED" in events/s, each pair run back to back.  Output:
# the median of the pairs' own ratios in % and their range, then best
# clear, best encrypted and best/best in %.  The median of the pairs is
# the figure the targets are read from: this machine's speed wanders by up
# to 2x between runs (wrk against the mock: 474 k and 871 k events/s in
# two benches), less between two runs in a row, and best/best hangs on
# the one fastest run of either series.
{
	c[NR] = $1; e[NR] = $2; r[NR] = 100 * $2 / $1
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
	printf "%.1f %.1f %.1f %d %d %.1f\n", med, r[1], r[NR], bc, be, \
		100 * be / bc
}
