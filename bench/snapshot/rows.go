package main

import (
	"fmt"
	"os"
	"time"

	benchresult "github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/result"
)

// Issue 16's goals: the copy at least 0.9 of the target's own upsert rate,
// the pipeline under 256 MiB.
const (
	ratioGoal  = 0.9
	rssGoalMiB = 256
)

// rates are the two compared rows/s and their ratio (0 when a time is unknown).
func (r *result) rates(o *options) (direct, copied, ratio float64) {
	rate := func(d time.Duration) float64 {
		if d <= 0 {
			return 0
		}
		return float64(o.rows) / d.Seconds()
	}
	direct, copied = rate(r.direct), rate(r.copyDone-r.copyStart)
	if direct > 0 {
		ratio = copied / direct
	}
	return direct, copied, ratio
}

// appendRows adds this run's figures to the table of a `make bench` run
// ($BENCH_RESULTS, bench/result). A failure to write them is only a warning:
// the bench's own table is already printed.
func (r *result) appendRows(o *options) {
	if err := benchresult.Append(r.tableRows(o)...); err != nil {
		fmt.Fprintln(os.Stderr, "bench/snapshot: warning: results not recorded:", err)
	}
}

func (r *result) tableRows(o *options) []benchresult.Row {
	const bench = "snapshot"
	direct, copied, ratio := r.rates(o)
	shape := fmt.Sprintf("%d rows, %d-d, %d per call", o.rows, o.dim, o.batch)
	rssGoal := fmt.Sprintf("< %d MiB", rssGoalMiB)
	rss := benchresult.Row{Bench: bench, Measure: "pipeline peak RSS MiB (VmHWM)", Value: "n/a", Goal: rssGoal} // unknown: not decided
	if r.peakRSSKiB > 0 {
		mib := float64(r.peakRSSKiB) / 1024
		rss = benchresult.Goal(bench, rss.Measure, fmt.Sprintf("%.0f", mib), rssGoal, mib < rssGoalMiB)
	}
	return []benchresult.Row{
		benchresult.Figure(bench, "direct upsert into the target rows/s ("+shape+")", fmt.Sprintf("%.0f", direct)),
		benchresult.Figure(bench, "snapshot copy rows/s (first page → copy over)", fmt.Sprintf("%.0f", copied)),
		benchresult.Goal(bench, "ratio copy / direct", fmt.Sprintf("%.2f", ratio), fmt.Sprintf("≥ %.1f", ratioGoal), ratio >= ratioGoal),
		rss,
	}
}
