package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Reconciler makes the workers run exactly the streams of the Running tasks:
// it compares the desired state in the store with GET /streams of every
// worker and creates, moves or removes streams. After a control-plane
// restart, a worker restart or a worker's death, running tasks run again
// from their checkpoints; a dead worker's tasks move to a live one.
type Reconciler struct {
	store    *Store
	render   *renderer
	workers  map[string]*StreamsClient // by base URL
	interval time.Duration
	log      *slog.Logger
	metrics  *Metrics // nil: none
	kick     chan struct{}
	storeID  string          // the store's identity: streams labelled with it are ours
	self     string          // this control plane, for the leader key
	leading  bool            // whether the last pass ran as leader
	warned   map[string]bool // foreign streams already reported (worker + id)
	// runs: the run each task's stream was seen (or started) with, so a
	// pass reads a stream's label only when the task's run changed.
	runs map[string]string
}

// NewReconciler runs the tasks of store (whose identity is storeID) on
// workers (their streams APIs take workerPassword when it is set).
func NewReconciler(store *Store, storeID string, src SourceConfig, targetTLS TLSFiles, workers []string, workerPassword string, interval time.Duration, log *slog.Logger) (*Reconciler, error) {
	// Streams name the store's keys with its prefix, literally (a worker
	// interpolates nothing into a posted config), and are signed with the
	// keyring the store seals credentials with.
	r, err := newRenderer(src, targetTLS, storeID, store.prefix)
	if err != nil {
		return nil, err
	}
	if len(workers) == 0 {
		return nil, fmt.Errorf("no workers configured")
	}
	ws := map[string]*StreamsClient{}
	for _, w := range workers {
		ws[w] = NewStreamsClient(w, workerPassword, store.keyring)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Reconciler{store: store, render: r, workers: ws, interval: interval, log: log, kick: make(chan struct{}, 1),
		storeID: storeID, self: hex.EncodeToString(b), warned: map[string]bool{}, runs: map[string]string{}}, nil
}

// errStateChanged: a task's state changed under a reconcile pass.
var errStateChanged = errors.New("task state changed meanwhile")

// Kick asks for a reconcile pass soon.
func (r *Reconciler) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run reconciles until ctx ends. Of several control planes on one store,
// one reconciles at a time (the leader key); the others answer /cdc only.
func (r *Reconciler) Run(ctx context.Context) {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		lead, err := r.store.Lead(ctx, r.self, 3*r.interval)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Warn("cannot tell which control plane reconciles", "error", err)
		case lead != r.leading:
			r.log.Info("reconciling", "leader", lead)
			r.leading = lead
		}
		if lead {
			r.metrics.pass()
			if err := r.Pass(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("reconcile pass failed", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
		}
	}
}

// Pass runs one reconcile pass.
func (r *Reconciler) Pass(ctx context.Context) error {
	// A store that lost its identity lost its data (flushed, restored from
	// elsewhere): its task list says nothing about the running streams.
	if id, err := r.store.StoreID(ctx); err != nil {
		return err
	} else if id != r.storeID {
		r.log.Error("the task store lost its data (its identity is gone or changed): no stream is started or removed; restore the store, or restart the control plane to adopt an empty one (the running streams are then left to the operator)",
			"want", r.storeID, "found", id)
		return nil
	}
	tasks, err := r.store.List(ctx)
	if err != nil {
		return err
	}
	// What runs where; an unreachable worker is dead for this pass.
	running := map[string][]string{} // task id -> workers running it
	load := map[string]int{}
	var live []string
	for base, c := range r.workers {
		streams, err := c.List(ctx)
		if err != nil {
			r.log.Warn("worker unreachable", "worker", base, "error", err)
			continue
		}
		live = append(live, base)
		for id := range streams {
			running[id] = append(running[id], base)
			load[base]++
		}
	}
	sort.Strings(live)
	known := map[string]bool{}
	for _, t := range tasks {
		known[t.ID] = true
		if t.State == StateRunning {
			if reason, err := r.store.Failure(ctx, t.ID); err == nil && reason != "" {
				// The stream stopped for good (e.g. a schema conflict on the
				// target, a checkpoint Pulsar no longer has): Failed, with why.
				err := r.store.SetState(ctx, t.ID, func(cur *Task) error {
					if cur.State != StateRunning {
						return errStateChanged
					}
					cur.State, cur.Reason = StateFailed, reason
					return nil
				})
				if err != nil && !errors.Is(err, errStateChanged) && !errors.Is(err, errNoTask) {
					return err
				}
				t.State = StateFailed
				r.log.Warn("task failed", "task_id", t.ID, "reason", reason)
			}
		}
		if t.State != StateRunning {
			for _, w := range running[t.ID] {
				r.remove(ctx, w, t.ID)
			}
			continue
		}
		if err := r.ensureRunning(ctx, t, running[t.ID], live, load); err != nil {
			r.log.Warn("cannot start task stream", "task_id", t.ID, "error", err)
		}
	}
	for id, ws := range running {
		if !known[id] {
			for _, w := range ws {
				r.remove(ctx, w, id) // a deleted task's stream
			}
		}
	}
	return nil
}

func (r *Reconciler) ensureRunning(ctx context.Context, t Task, on, live []string, load map[string]int) error {
	keep := ""
	for _, w := range on {
		if keep == "" && (w == t.Worker || t.Worker == "") {
			keep = w
			continue
		}
	}
	if keep == "" && len(on) > 0 {
		keep = on[0]
	}
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
		keep = ""
	}
	if keep == "" {
		if len(live) == 0 {
			return fmt.Errorf("no live worker")
		}
		keep = live[0]
		for _, w := range live {
			if load[w] < load[keep] || (w == t.Worker && load[w] <= load[keep]) {
				keep = w
			}
		}
		// A new run, atomically with the task still Running: a pause or
		// delete since the pass listed the task either comes first (no
		// stream starts) or ends this run (the stream writes nothing).
		run, err := r.store.StartRun(ctx, t.ID)
		if errors.Is(err, errStateChanged) || errors.Is(err, errNoTask) {
			return nil
		}
		if err != nil {
			return err
		}
		conf, err := r.render.render(t, run)
		if err != nil {
			return err
		}
		if err := r.workers[keep].Create(ctx, t.ID, conf); err != nil {
			return err
		}
		r.runs[t.ID] = run
		load[keep]++
		r.log.Info("task stream started", "task_id", t.ID, "worker", keep)
		r.metrics.streamStarted()
	}
	if t.Worker != keep {
		err := r.store.Update(ctx, t.ID, func(cur *Task) error {
			cur.Worker = keep
			return nil
		})
		if errors.Is(err, errNoTask) {
			return nil // deleted meanwhile: the next pass removes its stream
		}
		return err
	}
	return nil
}

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
	label, err := r.workers[worker].Label(ctx, id)
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
	label, err := r.workers[worker].Label(ctx, id)
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
	if err := r.workers[worker].Delete(ctx, id); err != nil {
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
	for base, c := range r.workers {
		if err := c.Delete(ctx, id); err != nil {
			if _, lerr := c.List(ctx); lerr != nil {
				unreachable++ // the pass removes its stream when it is back
				continue
			}
			return unreachable, fmt.Errorf("worker %s: %w", base, err)
		}
	}
	return unreachable, nil
}
