package controlplane

import (
	"context"
	"fmt"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// currentRun reports whether the stream of task id on worker belongs to the
// task's current run; true when that cannot be told now (the next pass
// looks again).
func (r *Reconciler) currentRun(ctx context.Context, worker, id string) bool {
	run, err := r.store.Run(ctx, id)
	if err != nil {
		r.log.Warn("cannot read the task's run", "task_id", id, "error", err)
		return true
	}
	if run != "" && r.runs[id] == run {
		return true
	}
	label, err := r.workers.Label(ctx, worker, id)
	if err != nil {
		r.log.Warn("cannot read stream", "task_id", id, "worker", worker, "error", err)
		return true
	}
	store, streamRun := contract.ParseRunLabel(label)
	if store != contract.StreamLabel(r.storeID) {
		return true // not ours: remove reports it and leaves it running
	}
	if run == "" || streamRun != run {
		r.log.Info("a stream of an ended run of the task runs: replacing it", "task_id", id, "worker", worker)
		return false
	}
	r.runs[id] = run
	return true
}

// remove deletes a stream the pass does not want, if it is provably ours
// (labelled with this store's identity); a foreign stream is reported once
// and left running.
func (r *Reconciler) remove(ctx context.Context, worker, id string) {
	label, err := r.workers.Label(ctx, worker, id)
	if err != nil {
		r.log.Warn("cannot read stream", "task_id", id, "worker", worker, "error", err)
		return
	}
	if store, _ := contract.ParseRunLabel(label); store != contract.StreamLabel(r.storeID) {
		if k := worker + " " + id; !r.warned[k] {
			r.warned[k] = true
			r.log.Warn("a stream this control plane's store did not start runs on a worker: left running (delete it through the worker's streams API, or point this control plane at the store that started it)",
				"stream", id, "worker", worker, "label", label)
		}
		return
	}
	if err := r.workers.Delete(ctx, worker, id); err != nil {
		r.log.Warn("cannot remove stream", "task_id", id, "worker", worker, "error", err)
		return
	}
	delete(r.runs, id)
	r.log.Info("task stream removed", "task_id", id, "worker", worker)
	r.metrics.streamRemoved()
}

// RemoveEverywhere deletes a task's stream from every reachable worker and
// returns how many workers could not be reached (a stream there may still
// run: the caller fences it with the task's lease).
func (r *Reconciler) RemoveEverywhere(ctx context.Context, id string) (unreachable int, err error) {
	for _, base := range r.workers.Names() {
		if err := r.workers.Delete(ctx, base, id); err != nil {
			if _, lerr := r.workers.List(ctx, base); lerr != nil {
				unreachable++ // the pass removes its stream when it is back
				continue
			}
			return unreachable, fmt.Errorf("worker %s: %w", base, err)
		}
	}
	return unreachable, nil
}
