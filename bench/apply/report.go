package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/result"
)

// Goals of the issues: the rate against the target alone, the lag against
// the target's own write → visible latency counted from the call (the
// floor), write amplification, memory.
const (
	goalRatio    = 0.9
	goalOverP50  = 50 * time.Millisecond
	goalOverP99  = 100 * time.Millisecond
	goalRSSMiB   = 256
	goalAmplMax  = 1.0
	amplSlackPct = 5 // request framing differs between an insert and an upsert
)

const benchName = "apply"

// printReport writes the table and the context lines under it, and appends
// the same rows to $BENCH_RESULTS for `make bench`'s one table.
func printReport(w io.Writer, o *options, d *dataset, r *results) {
	rows := pipelineRows(o, d, r)
	if r.task != nil {
		rows = append(rows, taskRows(o, r.task)...)
	}
	fmt.Fprintf(w, "\nReplication through milvus_binlog → milvus_apply vs. the target alone: %d rows of %d-d float vectors, %d shards, %d rows per source insert\n\n",
		d.rows, o.dim, o.shards, o.batch)
	fmt.Fprintln(w, "| measure | value | goal |")
	fmt.Fprintln(w, "|---|---:|---|")
	for _, row := range rows {
		goal := row.Goal
		if row.Met != nil {
			goal += " " + met(*row.Met)
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", row.Measure, row.Value, goal)
	}
	fmt.Fprintln(w)
	if err := result.Append(rows...); err != nil {
		fmt.Fprintln(os.Stderr, "bench: warning:", err)
	}
	printDetails(w, o, d, r)
	if r.task != nil {
		printTaskDetails(w, o, r.task)
	}
}

// pipelineRows: phases 1-4, the direct pipeline (`milvus-cdc run`).
func pipelineRows(o *options, d *dataset, r *results) []result.Row {
	best := r.direct.best
	direct := rate(float64(d.rows), best.seconds)
	repl := rate(float64(d.rows), r.repl.allAt)
	ratio := 0.0
	if direct > 0 {
		ratio = repl / direct
	}
	single, steady := summarize(lags(r.lag.single)), summarize(lags(r.lag.steady.samples))
	floorSingle, floorSteady := summarize(r.floor.singleSent), summarize(sentLags(r.floor.steady.samples))
	floorSingleRet, floorSteadyRet := summarize(r.floor.single), summarize(lags(r.floor.steady.samples))
	fig := func(m, v string) result.Row { return result.Figure(benchName, m, v) }
	rows := []result.Row{
		fig(fmt.Sprintf("direct upsert rows/s (SDK, best of %s rows per call: %d)", batchList(r.direct.runs), best.batch),
			fmt.Sprintf("%.0f (%.1f MB/s)", direct, rate(float64(d.bytes), best.seconds)/1e6)),
		fig("replication rows/s (source WAL → target, pipeline `milvus-cdc run`)",
			fmt.Sprintf("%.0f (%.1f MB/s)", repl, rate(float64(d.bytes), r.repl.allAt)/1e6)),
		result.Goal(benchName, "ratio replication / direct", fmt.Sprintf("%.2f", ratio), fmt.Sprintf("≥ %.1f", goalRatio), ratio >= goalRatio),
		result.Goal(benchName, "write amplification (bytes the target received / bytes the source received, Milvus's own count)",
			r.ampl.cell(), fmt.Sprintf("%.1f", goalAmplMax), r.ampl.err == nil && r.ampl.ratio() <= goalAmplMax*(1+amplSlackPct/100.0)),
		floorRow(fmt.Sprintf("lag single inserts p50 / p99, pipeline, %d shards (source insert returned → visible on the target)", o.shards),
			single, r.lag.singleLost, floorSingle),
		fig(fmt.Sprintf("lag single: floor (target alone, upsert sent → visible; from its return: %s / %s)", secs(floorSingleRet.p50), secs(floorSingleRet.p99)),
			lagCell(floorSingle, 0)),
		floorRow(fmt.Sprintf("lag steady %d rows/s p50 / p99, pipeline", o.steadyRate), steady, r.lag.steady.lost, floorSteady),
		fig(fmt.Sprintf("lag steady %d rows/s: floor (target alone, upsert sent → visible; from its return: %s / %s)", o.steadyRate, secs(floorSteadyRet.p50), secs(floorSteadyRet.p99)),
			lagCell(floorSteady, r.floor.steady.lost)),
	}
	if fl := r.floor.loaded; len(fl.samples) > 0 || fl.lost > 0 {
		// Both Milvus share this machine: in the pipeline's run the source
		// takes the inserts while the target takes the upserts.
		loaded := summarize(sentLags(fl.samples))
		rows = append(rows, fig(fmt.Sprintf("lag steady %d rows/s: floor with the source taking the same inserts meanwhile (no pipeline); pipeline − it: %+.3f / %+.3f s",
			o.steadyRate, (steady.p50-loaded.p50).Seconds(), (steady.p99-loaded.p99).Seconds()), lagCell(loaded, fl.lost)))
	}
	return append(rows, result.RSS(benchName, "pipeline peak RSS MiB (own, VmHWM)", r.peakKiB, goalRSSMiB))
}

// floorRow is a lag held to the floor measured in the same run: p50 within
// goalOverP50, p99 within goalOverP99, nothing lost.
func floorRow(measure string, ours summary, lost int, floor summary) result.Row {
	if floor.n == 0 {
		return result.Figure(benchName, measure, lagCell(ours, lost)+"; floor not measured (-probes 0)")
	}
	ok := ours.n > 0 && lost == 0 && ours.p50 <= floor.p50+goalOverP50 && ours.p99 <= floor.p99+goalOverP99
	goal := fmt.Sprintf("≤ floor + %s / + %s s = %s / %s; ours − floor %+.3f / %+.3f s",
		secs(goalOverP50), secs(goalOverP99), secs(floor.p50+goalOverP50), secs(floor.p99+goalOverP99),
		(ours.p50 - floor.p50).Seconds(), (ours.p99 - floor.p99).Seconds())
	return result.Goal(benchName, measure, lagCell(ours, lost), goal, ok)
}

func batchList(runs []directRun) string {
	var b strings.Builder
	for i, r := range runs {
		if i > 0 {
			b.WriteString(" / ")
		}
		fmt.Fprintf(&b, "%d", r.batch)
	}
	return b.String()
}

func lagCell(s summary, lost int) string {
	if s.n == 0 {
		return fmt.Sprintf("no samples (%d lost)", lost)
	}
	cell := fmt.Sprintf("%s / %s s (max %s, n=%d", secs(s.p50), secs(s.p99), secs(s.max), s.n)
	if lost > 0 {
		cell += fmt.Sprintf(", %d not visible in time", lost)
	}
	return cell + ")"
}

func met(ok bool) string {
	if ok {
		return "(met)"
	}
	return "(missed)"
}

func rate(n, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return n / seconds
}
