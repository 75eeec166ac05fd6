package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	benchresult "github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/result"
)

// goal is issue 6's: the backlog on the target within half a second of resume.
const goal = 500 * time.Millisecond

// summary is the rounds' times, sorted, with their median and maximum.
type summary struct {
	sorted      []time.Duration
	median, max time.Duration
}

// summarize sorts took (at least one round) and takes its median (the mean
// of the two middle rounds for an even count) and maximum.
func summarize(took []time.Duration) summary {
	s := summary{sorted: append([]time.Duration(nil), took...)}
	sort.Slice(s.sorted, func(i, j int) bool { return s.sorted[i] < s.sorted[j] })
	n := len(s.sorted)
	if n == 0 {
		return s
	}
	s.median = s.sorted[n/2]
	if n%2 == 0 {
		s.median = (s.sorted[n/2-1] + s.sorted[n/2]) / 2
	}
	s.max = s.sorted[n-1]
	return s
}

func (s summary) print(o options) {
	var all []string
	for _, d := range s.sorted {
		all = append(all, fmt.Sprintf("%.3f", d.Seconds()))
	}
	fmt.Printf("\n| measure | value | goal |\n|---|---:|---|\n")
	fmt.Printf("| %d-row backlog visible on the target after resume, median of %d | %.3f s | < %.1f s (established server: 6.5 s) |\n",
		o.rows, len(s.sorted), s.median.Seconds(), goal.Seconds())
	fmt.Printf("| same, max | %.3f s | |\n\nall rounds (s): %s\n", s.max.Seconds(), strings.Join(all, " "))
	fmt.Println("measured: resume request returned → count(*) on the target (Eventually, polled every 5 ms) shows every row;")
	fmt.Println("it includes re-creating the stream on the worker, reading the backlog from the checkpoint, applying it, and the target's own time to make rows visible")
}

// appendRows adds the median and the maximum to the table of a `make bench`
// run ($BENCH_RESULTS, bench/result); failing to write them is a warning.
func (s summary) appendRows(o options) {
	const bench = "resume"
	rows := []benchresult.Row{
		benchresult.Goal(bench, fmt.Sprintf("%d-row backlog on the target after resume, median of %d", o.rows, len(s.sorted)),
			fmt.Sprintf("%.3f s", s.median.Seconds()), fmt.Sprintf("< %.1f s", goal.Seconds()), s.median < goal),
		benchresult.Figure(bench, "same, max", fmt.Sprintf("%.3f s", s.max.Seconds())),
	}
	if err := benchresult.Append(rows...); err != nil {
		fmt.Fprintln(os.Stderr, "bench/resume: warning: results not recorded:", err)
	}
}
