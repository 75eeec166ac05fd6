package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/result"
)

// Goals (issue 27): the lag's p99 flat while the writers run (each minute's
// p99 within flatSpread of every other's, from -flat-from on), the target
// complete within completeGoal of the writers stopping, the worker under
// rssGoalMiB throughout.
const (
	benchName    = "sustained"
	flatSpread   = 0.5 // seconds
	completeGoal = time.Second
	rssGoalMiB   = 256
)

func report(w io.Writer, o *options, r, floor *runResult) {
	rows := taskRows(o, r)
	if floor != nil {
		rows = append(rows, floorRows(o, floor)...)
	}
	fmt.Fprintln(w, "\nSustained run through a task (POST /cdc, `*`) at the source's top insert rate")
	fmt.Fprintln(w, "\n| measure | value | goal |\n|---|---:|---|")
	for _, row := range rows {
		goal := row.Goal
		if row.Met != nil {
			goal += map[bool]string{true: " (met)", false: " (missed)"}[*row.Met]
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", row.Measure, row.Value, goal)
	}
	if err := result.Append(rows...); err != nil {
		fmt.Fprintln(os.Stderr, "bench/sustained: warning:", err)
	}
}

// lagSeries is the per-minute p99 of a run's lag samples while it wrote, as
// text, and whether it is flat.
func lagSeries(o *options, r *runResult) (string, bool) {
	minutes := perMinuteP99(r.points, o.warmup, time.Duration(r.writeSeconds*float64(time.Second)))
	lo, hi := spread(minutes)
	series := make([]string, len(minutes))
	for i, v := range minutes {
		series[i] = fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%s (spread %.2f)", strings.Join(series, " "), hi-lo), len(minutes) > 0 && hi-lo <= flatSpread
}

func taskRows(o *options, r *runResult) []result.Row {
	rssMax := int64(-1)
	for _, p := range r.points {
		rssMax = max(rssMax, p.rssKiB)
	}
	series, flat := lagSeries(o, r)
	return []result.Row{
		result.Figure(benchName, fmt.Sprintf("rows inserted into the source (%d writers, %d rows per insert, %d-d, %d shards) in %.0f s, task running",
			o.writers, o.batch, o.dim, o.shards, r.writeSeconds), fmt.Sprintf("%d (%.0f rows/s)", r.rows, rate(r))),
		result.Goal(benchName, fmt.Sprintf("task: lag metric p99 per minute, from %s to the writers' end (s)", o.warmup),
			series, fmt.Sprintf("flat: spread ≤ %.1f s", flatSpread), flat),
		completeRow("task: target shows every writer's last row after the writers stopped", r),
		result.Goal(benchName, fmt.Sprintf("task: rows on the target (count(*)) = rows inserted + 1 warm-up row = %d", r.rows+1),
			fmt.Sprint(r.targetCount), "equal", r.targetCount == r.rows+1),
		result.RSS(benchName, fmt.Sprintf("worker RSS MiB, highest of %d samples (every %s)", len(r.points), o.sampleEvery), rssMax, rssGoalMiB),
		result.RSS(benchName, "worker peak RSS MiB (VmHWM at the end)", r.workerHWM, rssGoalMiB),
	}
}

// floorRows: the target alone, at the task run's source rate, as figures
// beside the task's goals.
func floorRows(o *options, r *runResult) []result.Row {
	series, _ := lagSeries(o, r)
	after := "not complete"
	if r.complete {
		after = fmt.Sprintf("%.3f s", r.completeAfter.Seconds())
	}
	what := fmt.Sprintf("target alone (no pipeline: each batch the source acknowledged %sed straight into the target, source paced at the task run's rate)", o.floorMode)
	return []result.Row{
		result.Figure(benchName, what+": rows", fmt.Sprintf("%d (%.0f rows/s)", r.rows, rate(r))),
		result.Figure(benchName, what+": lag p99 per minute (now − the newest batch it took was acknowledged by the source)", series),
		result.Figure(benchName, what+": every row shows after the writers stopped", after),
		result.Figure(benchName, what+": count(*) on the target", fmt.Sprintf("%d of %d", r.targetCount, r.rows)),
	}
}

func rate(r *runResult) float64 {
	if r.writeSeconds <= 0 {
		return 0
	}
	return float64(r.rows) / r.writeSeconds
}

func completeRow(m string, r *runResult) result.Row {
	goal := fmt.Sprintf("≤ %.0f s", completeGoal.Seconds())
	if !r.complete {
		return result.Goal(benchName, m, "not complete", goal, false)
	}
	return result.Goal(benchName, m, fmt.Sprintf("%.3f s", r.completeAfter.Seconds()), goal, r.completeAfter <= completeGoal)
}

// perMinuteP99 is the p99 (nearest rank) of the lag samples of each whole
// or partial minute between from and until (since the writers started);
// minutes without a sample are left out.
func perMinuteP99(points []point, from, until time.Duration) []float64 {
	var out []float64
	for m := from; m < until; m += time.Minute {
		var lags []float64
		for _, p := range points {
			if p.at >= m && p.at < min(m+time.Minute, until) && p.lag >= 0 {
				lags = append(lags, p.lag)
			}
		}
		if len(lags) == 0 {
			continue
		}
		slices.Sort(lags)
		i := int(math.Ceil(0.99*float64(len(lags)))) - 1
		out = append(out, lags[max(i, 0)])
	}
	return out
}

func spread(vs []float64) (lo, hi float64) {
	if len(vs) == 0 {
		return 0, 0
	}
	return slices.Min(vs), slices.Max(vs)
}

// writePoints writes the samples as CSV (no file if path is "").
func writePoints(path string, points []point) error {
	if path == "" {
		return nil
	}
	var b strings.Builder
	b.WriteString("seconds,lag_seconds,worker_rss_kib\n")
	for _, p := range points {
		fmt.Fprintf(&b, "%.2f,%.3f,%d\n", p.at.Seconds(), p.lag, p.rssKiB)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
