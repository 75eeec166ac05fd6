package main

import (
	"fmt"
	"io"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/result"
)

// taskRows: phase 5, through a task created with POST /cdc, each lag held
// to the target alone measured beside it (inserts, o.taskShards shards).
func taskRows(o *options, t *taskResult) []result.Row {
	floorSingle, floorB2B := summarize(sentLags(t.floorSingle)), summarize(sentLags(t.floorB2B))
	floorSteady := summarize(sentLags(t.floorSteady.samples))
	sh := o.taskShards
	return []result.Row{
		floorRow(fmt.Sprintf("lag single inserts p50 / p99 through a task (POST /cdc, `*`, %d shard(s); random tick phase)", sh),
			summarize(lags(t.single)), 0, floorSingle),
		result.Figure(benchName, "lag single: floor beside it (target alone, insert sent → visible)", lagCell(floorSingle, 0)),
		floorRow("lag single inserts p50 / p99 through the task, back to back (each insert right after the previous row showed, as a polling client)",
			summarize(lags(t.b2b)), 0, floorB2B),
		result.Figure(benchName, "lag back to back: floor beside it", lagCell(floorB2B, 0)),
		floorRow(fmt.Sprintf("lag steady %d rows/s p50 / p99 through the task", o.steadyRate),
			summarize(lags(t.steady.samples)), t.steady.lost, floorSteady),
		result.Figure(benchName, fmt.Sprintf("lag steady %d rows/s: floor in the same phase (target alone, inserts, while the source takes as many: both Milvus busy as in the task's run; task paused)", o.steadyRate),
			lagCell(floorSteady, t.floorSteady.lost)),
		result.RSS(benchName, "worker peak RSS MiB during the task phase (VmHWM)", t.workerKiB, goalRSSMiB),
	}
}

// printTaskDetails: what the table's task rows leave out.
func printTaskDetails(w io.Writer, o *options, t *taskResult) {
	fmt.Fprintf(w, "Task phase: create answered → a new collection's copy loaded on the target and its first row visible: %.1f s; rows not visible within %s: %d.\n",
		t.readySeconds, o.visibleTimeout, t.lost)
	fmt.Fprintf(w, "Through the task, from the source insert's call (for comparison with the floor's, counted from its call): single %s; back to back %s.\n",
		summarize(sentLags(t.single)), summarize(sentLags(t.b2b)))
}
