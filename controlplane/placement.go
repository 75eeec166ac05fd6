package controlplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// ensureRunning leaves exactly one stream of the Running task t: of those
// running (on), the one on t's worker, else the first; a stream of an ended
// run is replaced. With none left it starts one on the least-loaded live
// worker. The worker is recorded in the task.
func (r *Reconciler) ensureRunning(ctx context.Context, t Task, on, live []string, load map[string]int) error {
	keep := r.keepOne(ctx, t, on, load)
	if keep == "" {
		var err error
		if keep, err = r.start(ctx, t, live, load); err != nil || keep == "" {
			return err
		}
	}
	return r.recordWorker(ctx, t, keep)
}

// keepOne removes every stream of t but one, which it returns; "" when none
// is left (there was none, or the one kept belongs to an ended run).
func (r *Reconciler) keepOne(ctx context.Context, t Task, on []string, load map[string]int) string {
	keep := pickKept(on, t.Worker)
	for _, w := range on {
		if w != keep {
			r.remove(ctx, w, t.ID) // never two streams of one task
		}
	}
	if keep != "" && !r.currentRun(ctx, keep, t.ID) {
		// A stream of an ended run (the task was paused and resumed while
		// its worker was cut off): fenced, it writes nothing; replace it.
		r.remove(ctx, keep, t.ID)
		load[keep]--
		return ""
	}
	return keep
}

// pickKept is the stream to keep of those running on the workers on: the
// task's own worker's, else the first; "" when there is none.
func pickKept(on []string, worker string) string {
	switch {
	case len(on) == 0:
		return ""
	case slices.Contains(on, worker):
		return worker
	}
	return on[0]
}

// leastLoaded is the worker a new stream goes to: the live one running the
// fewest streams; the task's previous worker when it ties, else the first
// in order. live is not empty.
func leastLoaded(live []string, load map[string]int, previous string) string {
	pick := live[0]
	for _, w := range live {
		if load[w] < load[pick] || (w == previous && load[w] <= load[pick]) {
			pick = w
		}
	}
	return pick
}

// start starts a stream of t on the least-loaded live worker and returns
// the worker; "" when t is not Running (any more) or is gone.
func (r *Reconciler) start(ctx context.Context, t Task, live []string, load map[string]int) (string, error) {
	if len(live) == 0 {
		return "", fmt.Errorf("no live worker")
	}
	w := leastLoaded(live, load, t.Worker)
	// A new run, atomically with the task still Running: a pause or delete
	// since the pass listed the task either comes first (no stream starts)
	// or ends this run (the stream writes nothing).
	run, err := r.store.StartRun(ctx, t.ID)
	if errors.Is(err, errStateChanged) || errors.Is(err, errNoTask) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	conf, err := r.render.render(t, run)
	if err != nil {
		return "", err
	}
	if err := r.workers.Create(ctx, w, t.ID, conf); err != nil {
		return "", err
	}
	r.runs[t.ID] = run
	load[w]++
	r.log.Info("task stream started", "task_id", t.ID, "worker", w)
	r.metrics.streamStarted()
	return w, nil
}

// recordWorker notes in the task which worker runs its stream.
func (r *Reconciler) recordWorker(ctx context.Context, t Task, worker string) error {
	if t.Worker == worker {
		return nil
	}
	err := r.store.Update(ctx, t.ID, func(cur *Task) error {
		cur.Worker = worker
		return nil
	})
	if errors.Is(err, errNoTask) {
		return nil // deleted meanwhile: the next pass removes its stream
	}
	return err
}
