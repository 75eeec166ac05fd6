package main

import (
	"fmt"
	"io"
	"time"
)

// Goals of the issue.
const (
	goalRatio  = 0.9
	goalP50    = 250 * time.Millisecond
	goalP99    = 500 * time.Millisecond
	goalRSSMiB = 256
)

// printReport writes the table and the context lines under it.
func printReport(w io.Writer, o *options, d *dataset, r *results) {
	direct := rate(float64(d.rows), r.direct.seconds)
	repl := rate(float64(d.rows), r.repl.allAt)
	ratio := 0.0
	if direct > 0 {
		ratio = repl / direct
	}
	single, steady := summarize(lags(r.lag.single)), summarize(lags(r.lag.steady.samples))
	rssMiB := float64(r.peakKiB) / 1024

	fmt.Fprintf(w, "\nReplication through milvus_binlog → milvus_apply vs. the target alone: %d rows of %d-d float vectors, %d shards, %d rows per call\n\n",
		d.rows, o.dim, o.shards, o.batch)
	fmt.Fprintln(w, "| measure | value | goal |")
	fmt.Fprintln(w, "|---|---:|---|")
	fmt.Fprintf(w, "| direct upsert rows/s (SDK, batches of %d, %d-d) | %.0f (%.1f MB/s) | physical limit |\n",
		o.batch, o.dim, direct, rate(float64(d.bytes), r.direct.seconds)/1e6)
	fmt.Fprintf(w, "| replication rows/s (source WAL → target, pipeline) | %.0f (%.1f MB/s) | |\n",
		repl, rate(float64(d.bytes), r.repl.allAt)/1e6)
	fmt.Fprintf(w, "| ratio replication / direct | %.2f | ≥ %.1f %s |\n", ratio, goalRatio, met(ratio >= goalRatio))
	fmt.Fprintf(w, "| lag single inserts p50 / p99 | %s | ≤ %s / ≤ %s s %s |\n",
		lagCell(single, r.lag.singleLost), secs(goalP50), secs(goalP99), metLag(single, r.lag.singleLost))
	fmt.Fprintf(w, "| lag steady %d rows/s p50 / p99 | %s | ≤ %s / ≤ %s s %s |\n",
		o.steadyRate, lagCell(steady, r.lag.steady.lost), secs(goalP50), secs(goalP99), metLag(steady, r.lag.steady.lost))
	if r.peakKiB >= 0 {
		fmt.Fprintf(w, "| pipeline peak RSS MiB (own, VmHWM) | %.1f | < %d %s |\n", rssMiB, goalRSSMiB, met(rssMiB < goalRSSMiB))
	} else {
		fmt.Fprintf(w, "| pipeline peak RSS MiB (own, VmHWM) | n/a | < %d |\n", goalRSSMiB)
	}
	fmt.Fprintln(w)
	printDetails(w, o, d, r)
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

func metLag(s summary, lost int) string {
	return met(s.n > 0 && lost == 0 && s.p50 <= goalP50 && s.p99 <= goalP99)
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
