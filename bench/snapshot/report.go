package main

import (
	"fmt"
	"io"
	"time"
)

func (r *result) print(w io.Writer, o *options) {
	rate := func(d time.Duration) float64 { return float64(o.rows) / d.Seconds() }
	direct, copied, ratio := r.rates(o)
	copyTime := r.copyDone - r.copyStart
	fmt.Fprintf(w, "\n### Snapshot: %d existing rows, %d-d vectors, %d rows per call/page, %d shards\n\n", o.rows, o.dim, o.batch, o.shards)
	fmt.Fprintln(w, "| measure | value |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintf(w, "| direct upsert into the target (milvus-sdk-go) | %.0f rows/s (%.1f s; all visible after %.1f s) |\n", direct, r.direct.Seconds(), r.directVisible.Seconds())
	fmt.Fprintf(w, "| snapshot copy through the pipeline (first page → copy over) | %.0f rows/s (%.1f s) |\n", copied, copyTime.Seconds())
	fmt.Fprintf(w, "| **ratio copy / direct** (goal ≥ %.1f) | **%.2f** |\n", ratioGoal, ratio)
	fmt.Fprintf(w, "| whole task: start → copy over | %.0f rows/s (%.1f s, start-up %.1f s) |\n", rate(r.copyDone), r.copyDone.Seconds(), r.copyStart.Seconds())
	fmt.Fprintf(w, "| start → target equals source (count(*)) | %.1f s |\n", r.equal.Seconds())
	fmt.Fprintf(w, "| rows the snapshot counted | %d |\n", r.rowsCopied)
	fmt.Fprintf(w, "| pipeline peak RSS (goal < %d MiB) | %.0f MiB |\n", rssGoalMiB, float64(r.peakRSSKiB)/1024)
	fmt.Fprintf(w, "| filling the source (not compared) | %.1f s |\n", r.fill.Seconds())
}
