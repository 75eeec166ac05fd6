package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Goals of the issues: the rate against the target alone, the lag against
// the target's own upsert → visible latency counted from the call (the
// floor), write amplification.
const (
	goalRatio    = 0.9
	goalOverP50  = 50 * time.Millisecond
	goalOverP99  = 100 * time.Millisecond
	goalRSSMiB   = 256
	goalAmplMax  = 1.0
	amplSlackPct = 5 // request framing differs between an insert and an upsert
)

// printReport writes the table and the context lines under it.
func printReport(w io.Writer, o *options, d *dataset, r *results) {
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
	rssMiB := float64(r.peakKiB) / 1024

	fmt.Fprintf(w, "\nReplication through milvus_binlog → milvus_apply vs. the target alone: %d rows of %d-d float vectors, %d shards, %d rows per source insert\n\n",
		d.rows, o.dim, o.shards, o.batch)
	fmt.Fprintln(w, "| measure | value | goal |")
	fmt.Fprintln(w, "|---|---:|---|")
	fmt.Fprintf(w, "| direct upsert rows/s (SDK, best of %s rows per call: %d) | %.0f (%.1f MB/s) | physical limit |\n",
		batchList(r.direct.runs), best.batch, direct, rate(float64(d.bytes), best.seconds)/1e6)
	fmt.Fprintf(w, "| replication rows/s (source WAL → target, pipeline) | %.0f (%.1f MB/s) | |\n",
		repl, rate(float64(d.bytes), r.repl.allAt)/1e6)
	fmt.Fprintf(w, "| ratio replication / direct | %.2f | ≥ %.1f %s |\n", ratio, goalRatio, met(ratio >= goalRatio))
	fmt.Fprintf(w, "| write amplification (bytes the target received / bytes the source received, Milvus's own count) | %s | %.1f %s |\n",
		r.ampl.cell(), goalAmplMax, met(r.ampl.err == nil && r.ampl.ratio() <= goalAmplMax*(1+amplSlackPct/100.0)))
	fmt.Fprintf(w, "| lag single inserts p50 / p99: ours (source insert returned → visible on the target) | %s | %s |\n",
		lagCell(single, r.lag.singleLost), floorGoal(single, r.lag.singleLost, floorSingle))
	fmt.Fprintf(w, "| lag single: floor (target alone, upsert sent → visible; from its return: %s / %s) | %s | |\n",
		secs(floorSingleRet.p50), secs(floorSingleRet.p99), lagCell(floorSingle, 0))
	fmt.Fprintf(w, "| lag steady %d rows/s p50 / p99: ours | %s | %s |\n",
		o.steadyRate, lagCell(steady, r.lag.steady.lost), floorGoal(steady, r.lag.steady.lost, floorSteady))
	fmt.Fprintf(w, "| lag steady %d rows/s: floor (target alone, upsert sent → visible; from its return: %s / %s) | %s | |\n",
		o.steadyRate, secs(floorSteadyRet.p50), secs(floorSteadyRet.p99), lagCell(floorSteady, r.floor.steady.lost))
	if fl := r.floor.loaded; len(fl.samples) > 0 || fl.lost > 0 {
		// Both Milvus share this machine: in the pipeline's run the source
		// takes the inserts while the target takes the upserts.
		loaded := summarize(sentLags(fl.samples))
		fmt.Fprintf(w, "| lag steady %d rows/s: floor with the source taking the same inserts meanwhile (no pipeline) | %s | ours against it: %s |\n",
			o.steadyRate, lagCell(loaded, fl.lost), floorGoal(steady, r.lag.steady.lost, loaded))
	}
	if r.peakKiB >= 0 {
		fmt.Fprintf(w, "| pipeline peak RSS MiB (own, VmHWM) | %.1f | < %d %s |\n", rssMiB, goalRSSMiB, met(rssMiB < goalRSSMiB))
	} else {
		fmt.Fprintf(w, "| pipeline peak RSS MiB (own, VmHWM) | n/a | < %d |\n", goalRSSMiB)
	}
	fmt.Fprintln(w)
	printDetails(w, o, d, r)
}

// floorGoal is the lag goal cell: ours within goalOverP50 / goalOverP99 of
// the floor measured in the same run.
func floorGoal(ours summary, lost int, floor summary) string {
	if floor.n == 0 {
		return "floor not measured (-probes 0)"
	}
	ok := ours.n > 0 && lost == 0 && ours.p50 <= floor.p50+goalOverP50 && ours.p99 <= floor.p99+goalOverP99
	return fmt.Sprintf("≤ floor + %s / + %s s = %s / %s; ours − floor %+.3f / %+.3f s %s",
		secs(goalOverP50), secs(goalOverP99), secs(floor.p50+goalOverP50), secs(floor.p99+goalOverP99),
		(ours.p50 - floor.p50).Seconds(), (ours.p99 - floor.p99).Seconds(), met(ok))
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
