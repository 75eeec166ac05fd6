package controlplane

import (
	"context"
	"errors"
	"slices"
)

// Pass runs one reconcile pass.
func (r *Reconciler) Pass(ctx context.Context) error {
	if ok, err := r.storeIntact(ctx); err != nil || !ok {
		return err
	}
	tasks, err := r.store.List(ctx)
	if err != nil {
		return err
	}
	seen := r.observe(ctx)
	known := map[string]bool{}
	for _, t := range tasks {
		known[t.ID] = true
		if err := r.reconcileTask(ctx, t, seen); err != nil {
			return err
		}
	}
	for id, ws := range seen.running {
		if !known[id] {
			for _, w := range ws {
				r.remove(ctx, w, id) // a deleted task's stream
			}
		}
	}
	return nil
}

// storeIntact reports whether the store still has the identity the
// reconciler started with. A store that lost it lost its data (flushed,
// restored from elsewhere): its task list says nothing about the running
// streams, so the pass starts and removes nothing.
func (r *Reconciler) storeIntact(ctx context.Context) (bool, error) {
	id, err := r.store.StoreID(ctx)
	if err != nil {
		return false, err
	}
	if id != r.storeID {
		r.log.Error("the task store lost its data (its identity is gone or changed): no stream is started or removed; restore the store, or restart the control plane to adopt an empty one (the running streams are then left to the operator)",
			"want", r.storeID, "found", id)
		return false, nil
	}
	return true, nil
}

// workerView is what runs where, as one pass saw it.
type workerView struct {
	running map[string][]string // task id -> workers running it
	load    map[string]int      // streams per worker
	live    []string            // the workers that answered, sorted
}

// observe lists the streams of every worker; an unreachable worker is dead
// for this pass.
func (r *Reconciler) observe(ctx context.Context) workerView {
	v := workerView{running: map[string][]string{}, load: map[string]int{}}
	for _, base := range r.workers.Names() {
		streams, err := r.workers.List(ctx, base)
		if err != nil {
			r.log.Warn("worker unreachable", "worker", base, "error", err)
			continue
		}
		v.live = append(v.live, base)
		for id := range streams {
			v.running[id] = append(v.running[id], base)
			v.load[base]++
		}
	}
	slices.Sort(v.live)
	return v
}

// reconcileTask makes the workers run t's stream once if t is Running, and
// none otherwise; a Running task whose stream reported a permanent failure
// turns Failed first.
func (r *Reconciler) reconcileTask(ctx context.Context, t Task, v workerView) error {
	if t.State == StateRunning {
		failed, err := r.failIfReported(ctx, t.ID)
		if err != nil {
			return err
		}
		if failed {
			t.State = StateFailed
		}
	}
	if t.State != StateRunning {
		for _, w := range v.running[t.ID] {
			r.remove(ctx, w, t.ID)
		}
		return nil
	}
	if err := r.ensureRunning(ctx, t, v.running[t.ID], v.live, v.load); err != nil {
		r.log.Warn("cannot start task stream", "task_id", t.ID, "error", err)
	}
	return nil
}

// failIfReported turns a Running task Failed, with why, when its stream
// stopped for good (e.g. a schema conflict on the target, a checkpoint
// Pulsar no longer has). A failure that cannot be read now is looked at
// again by the next pass.
func (r *Reconciler) failIfReported(ctx context.Context, id string) (bool, error) {
	reason, err := r.store.Failure(ctx, id)
	if err != nil || reason == "" {
		return false, nil
	}
	err = r.store.SetState(ctx, id, func(cur *Task) error {
		if cur.State != StateRunning {
			return errStateChanged
		}
		cur.State, cur.Reason = StateFailed, reason
		return nil
	})
	if err != nil && !errors.Is(err, errStateChanged) && !errors.Is(err, errNoTask) {
		return false, err
	}
	r.log.Warn("task failed", "task_id", id, "reason", reason)
	return true, nil
}
