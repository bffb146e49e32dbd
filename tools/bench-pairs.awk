# tools/bench-pairs.awk - summary of in-turn runs of one thing in the clear
# and encrypted (tools/bench.sh, tools/bench-ship.sh).  Input: one line per
# pair, "CLEAR ENCRYPTED" in events/s, each pair run back to back.  Output:
# best clear, best encrypted, best/best in %, and the median of the pairs'
# own ratios in % with their range: the machine's speed wanders by tens of
# percent between runs, less between two runs in a row.
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
	printf "%d %d %.1f %.1f %.1f %.1f\n", bc, be, 100 * be / bc, med, \
		r[1], r[NR]
}
