package controlplane

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"
)

// Reconciler makes the workers run exactly the streams of the Running tasks:
// it compares the desired state in the store with GET /streams of every
// worker and creates, moves or removes streams. After a control-plane
// restart, a worker restart or a worker's death, running tasks run again
// from their checkpoints; a dead worker's tasks move to a live one.
// A pass is reconcile_pass.go, where a stream goes placement.go, which
// streams it removes reconcile_streams.go.
type Reconciler struct {
	store    Store
	render   *renderer
	workers  Workers
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
func NewReconciler(store *RedisStore, storeID string, src SourceConfig, targetTLS TLSFiles, workers []string, workerPassword string, interval time.Duration, log *slog.Logger) (*Reconciler, error) {
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
	return newReconciler(store, newHTTPWorkers(workers, workerPassword, store.keyring), r, storeID, interval, log), nil
}

// newReconciler runs the tasks of store on workers, rendering their
// streams with render.
func newReconciler(store Store, workers Workers, render *renderer, storeID string, interval time.Duration, log *slog.Logger) *Reconciler {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Reconciler{store: store, render: render, workers: workers, interval: interval, log: log, kick: make(chan struct{}, 1),
		storeID: storeID, self: hex.EncodeToString(b), warned: map[string]bool{}, runs: map[string]string{}}
}

// StoreID is the identity of the task store the reconciler runs: the
// streams it starts carry it in their label.
func (r *Reconciler) StoreID() string { return r.storeID }

// Logger is where the reconciler logs.
func (r *Reconciler) Logger() *slog.Logger { return r.log }

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
