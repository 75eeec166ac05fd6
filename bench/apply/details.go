package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"
)

// printDetails writes the context lines under the table: what each phase
// took and the figures that explain the table (floors, WAL split, memory).
func printDetails(w io.Writer, o *options, d *dataset, r *results) {
	rp, rows := r.repl, float64(d.rows)
	fmt.Fprintf(w, "run %s: %d rows, %d-d, %.1f MB of field data; phases: direct %.1f s, target alone %.1f s, replication %.1f s, lag %.1f s\n",
		r.started.Format(time.DateTime), d.rows, o.dim, float64(d.bytes)/1e6,
		r.phaseSec["direct"], r.phaseSec["floor"], r.phaseSec["replication"], r.phaseSec["lag"])
	for _, dr := range r.direct.runs {
		fmt.Fprintf(w, "direct, %d rows per call: %d upserts in %.2f s (%.0f rows/s); count(*) showed every row %.2f s after the first upsert (%.0f rows/s by visibility)\n",
			dr.batch, dr.calls, dr.seconds, rate(rows, dr.seconds), dr.visibleSeconds, rate(rows, dr.visibleSeconds))
	}
	fmt.Fprintf(w, "replication: first process stored its start positions %.2f s after its start; the collection's create/index/load went through it live "+
		"(copy loaded on the target %.2f s after the source's load returned); rows written to the source while it was stopped: %.2f s (%.0f rows/s)\n",
		rp.checkpointAt, rp.ddlSeconds, rp.sourceSeconds, rate(rows, rp.sourceSeconds))
	fmt.Fprintf(w, "replication: from the second process's start: first rows visible %.2f s (%d rows), all rows %.2f s; without start-up (first rows → all rows) %.0f rows/s\n",
		rp.firstAt, rp.firstCount, rp.allAt, rate(rows-float64(rp.firstCount), rp.allAt-rp.firstAt))
	if v := r.direct.best.visibleSeconds; v > 0 && rp.allAt > 0 {
		fmt.Fprintf(w, "ratio by visibility (both clocks stop when count(*) shows every row): %.2f\n", v/rp.allAt)
	}
	st := r.lag.steady
	fmt.Fprintf(w, "steady: %d rows in %.2f s = %.0f rows/s achieved (%d per insert), inserts at most %s s behind schedule; "+
		"lag set-up (create, index, load on source → loaded and a row visible on target) %.2f s\n",
		st.rows, st.insertSeconds, rate(float64(st.rows), st.insertSeconds), o.steadyBatch, secs(st.maxBehindSched), r.lag.readySeconds)
	for _, part := range []struct {
		name    string
		samples []sample
	}{{"single", r.lag.single}, {"steady", r.lag.steady.samples}} {
		fmt.Fprintf(w, "lag %s measured when the showing query was sent (lower bound): %s; that query's round trip %s\n",
			part.name, summarize(lowLags(part.samples)), summarize(queryTimes(part.samples)))
	}
	if o.probes > 0 {
		fmt.Fprintf(w, "floor, target alone (single upsert returned → visible on the target): %s; from the upsert sent: %s\n", summarize(r.floor.single), summarize(r.floor.singleSent))
		if fs := r.floor.steady; len(fs.samples) > 0 || fs.lost > 0 {
			fmt.Fprintf(w, "floor, target alone at %d rows/s (upsert of %d rows returned → its last row visible on the target): %s%s; from the upsert sent: %s\n",
				o.steadyRate, o.steadyBatch, summarize(lags(fs.samples)), lostNote(fs.lost), summarize(sentLags(fs.samples)))
		}
		if fl := r.floor.loaded; len(fl.samples) > 0 || fl.lost > 0 {
			fmt.Fprintf(w, "floor, target at %d rows/s while the source takes as many inserts (upsert sent → its last row visible on the target): %s%s\n",
				o.steadyRate, summarize(sentLags(fl.samples)), lostNote(fl.lost))
			printWorst(w, "target with the source loaded", fl.samples, nil, nil)
		}
		fmt.Fprintf(w, "floor, source alone (single insert returned → visible on the source): %s\n", summarize(r.lag.sourceSelf))
	}
	fmt.Fprintf(w, "time tick interval (proxy.timeTickInterval): source %s, target %s\n", tickInterval(o.sourceConfig), tickInterval(o.targetConfig))
	if wal := r.lag.wal; wal != nil {
		printWAL(w, wal, r)
	}
	printWorst(w, "target alone", r.floor.steady.samples, nil, nil)
	printWorst(w, "through the pipeline", r.lag.steady.samples, r.lag.wal, r.lag.ckpt)
	printMemory(w, r)
}

func printWAL(w io.Writer, wal *walObservation, r *results) {
	ts := wal.tickStats()
	fmt.Fprintf(w, "source WAL: %d DML channels ticking; gap between ticks of a channel %s; tick age at arrival %s\n",
		ts.channels, ts.gaps, ts.age)
	b := wal.split(r.lag.single, r.lag.ckpt)
	fmt.Fprintf(w, "lag single, WAL: insert returned → its message reached a Pulsar reader %s; → its own channel ticked past it %s\n",
		summarize(b.arrived), summarize(b.ownTick))
	fmt.Fprintf(w, "lag single, split: insert returned → all ticking channels ticked past it %s; message read → pipeline stored its checkpoint (target call returned) %s; → visible on the target %s%s\n",
		summarize(b.released), summarize(b.pipeline), summarize(b.target), unmatched(b.unmatched))
	b = wal.split(r.lag.steady.samples, nil)
	fmt.Fprintf(w, "lag steady, split: insert returned → all ticking channels ticked past it %s; → visible on the target %s%s\n",
		summarize(b.released), summarize(b.after), unmatched(b.unmatched))
	if st := r.lag.steady.samples; len(st) > 0 {
		from, to := st[0].t0, st[len(st)-1].visible
		fmt.Fprintf(w, "steady: longest pause between two checkpoint writes %s s\n", secs(maxGap(r.lag.ckpt, from, to)))
	}
	if r.lag.ckptErr != nil {
		fmt.Fprintf(w, "%v\n", r.lag.ckptErr)
	}
	fmt.Fprintf(w, "source WAL during the lag phase: %d insert/delete messages of other collections (%.1f MB), read and filtered by the pipeline too\n",
		wal.foreign.messages, float64(wal.foreign.bytes)/1e6)
	for _, err := range wal.errs {
		fmt.Fprintf(w, "WAL observer: %v\n", err)
	}
}

// printWorst lists the five slowest steady batches with when they were
// written, to tell a steady tail from a one-off stall.
func printWorst(w io.Writer, label string, samples []sample, wal *walObservation, ckpt []time.Time) {
	s := slices.Clone(samples)
	if len(s) == 0 {
		return
	}
	first := s[0].t0
	slices.SortFunc(s, func(a, b sample) int { return cmp.Compare(b.lag(), a.lag()) })
	fmt.Fprintf(w, "slowest batches, %s (written at +s: lag s):", label)
	for _, x := range s[:min(5, len(s))] {
		fmt.Fprintf(w, " +%.1f (%s): %s (query round trip %s", x.t0.Sub(first).Seconds(), x.t0.Format("15:04:05.0"), secs(x.lag()), secs(x.visible.Sub(x.asked)))
		if wal != nil {
			if b := wal.split([]sample{x}, nil); len(b.released) == 1 {
				fmt.Fprintf(w, ", tick wait %s", secs(b.released[0]))
				if c, ok := firstChangeIn(ckpt, x.t0.Add(b.released[0]), x.visible); ok {
					fmt.Fprintf(w, ", next checkpoint write %s later", secs(c.Sub(x.t0.Add(b.released[0]))))
				}
			}
		}
		fmt.Fprint(w, ");")
	}
	fmt.Fprintln(w)
}

func printMemory(w io.Writer, r *results) {
	fmt.Fprint(w, "pipeline peak RSS MiB per process, own (VmHWM) / ru_maxrss (includes the bench's RSS at exec, see bench/README.md):")
	for i, c := range r.perChild {
		fmt.Fprintf(w, " #%d %s / %s", i+1, mib(c.ownKiB), mib(c.rusageKiB))
	}
	fmt.Fprintf(w, "; #%d when the catch-up was done: anon %s, file-backed %s; at the end of the lag phase: anon %s, file-backed %s\n",
		len(r.perChild), mib(r.repl.mem.anon), mib(r.repl.mem.file), mib(r.lag.mem.anon), mib(r.lag.mem.file))
	if r.mem == nil {
		return
	}
	fmt.Fprintf(w, "pipeline RSS MiB, highest 100-ms sample per stretch:")
	for _, sp := range append(slices.Clone(r.repl.spans), r.lag.spans...) {
		fmt.Fprintf(w, " %s %s;", sp.name, mib(r.mem.maxIn(sp.from, sp.to)))
	}
	if pk := r.mem.peak(); pk.rssKiB >= 0 {
		fmt.Fprintf(w, " highest sample %s at %s", mib(pk.rssKiB), pk.at.Format("15:04:05.0"))
	}
	fmt.Fprintln(w)
}

func mib(kib int64) string {
	if kib < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", float64(kib)/1024)
}

func unmatched(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d samples not matched in the WAL", n)
}

func lostNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d not visible in time", n)
}
