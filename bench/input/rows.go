package main

import (
	"fmt"
	"os"

	benchresult "github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/result"
)

// ratioGoal is issue 4's goal: the input's rows/s at least 0.8 of the bare
// reader's.
const ratioGoal = 0.8

// appendRows adds this run's figures to the table of a `make bench` run
// ($BENCH_RESULTS, bench/result). A failure to write them is only a warning:
// the bench's own table is already printed.
func appendRows(o *options, bare, input measured) {
	if err := benchresult.Append(tableRows(o, bare, input)...); err != nil {
		fmt.Fprintln(os.Stderr, "bench/input: warning: results not recorded:", err)
	}
}

func tableRows(o *options, bare, input measured) []benchresult.Row {
	const bench = "input"
	bareRate, inputRate, ratio := rate(bare.Rows, bare.Seconds), rate(input.Rows, input.Seconds), ratioOf(bare, input)
	shape := fmt.Sprintf("%d rows, %d-d", o.rows, o.dim)
	// ru_maxrss of a child can include its parent's peak (the address space
	// left at exec, see bench/README.md): context, not held to a goal.
	rss := "n/a"
	if input.peakRSSKiB >= 0 {
		rss = fmt.Sprintf("%.1f", float64(input.peakRSSKiB)/1024)
	}
	return []benchresult.Row{
		benchresult.Figure(bench, "bare pulsar reader rows/s ("+shape+")", fmt.Sprintf("%.0f", bareRate)),
		benchresult.Figure(bench, "milvus_binlog input rows/s ("+shape+")", fmt.Sprintf("%.0f", inputRate)),
		benchresult.Goal(bench, "ratio input / bare (rows/s)", fmt.Sprintf("%.2f", ratio), fmt.Sprintf("≥ %.1f", ratioGoal), ratio >= ratioGoal),
		benchresult.Figure(bench, "input peak RSS MiB (ru_maxrss, may include the parent's)", rss),
	}
}

// ratioOf is the input's rows/s over the bare reader's (0 when the bare
// reader's rate is unknown).
func ratioOf(bare, input measured) float64 {
	b := rate(bare.Rows, bare.Seconds)
	if b <= 0 {
		return 0
	}
	return rate(input.Rows, input.Seconds) / b
}
