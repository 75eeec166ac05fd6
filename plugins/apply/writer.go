package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
)

// errClosed is returned by Connect after Close.
var errClosed = errors.New("milvus_apply is closed")

// applyWriter is the milvus_apply BatchOutput.
type applyWriter struct {
	conf *applyConfig
	log  *service.Logger

	// closing ends when Close is called. A dial and a WriteBatch's retries
	// watch it too, so Close never waits for an unreachable target.
	closing context.Context
	shut    context.CancelFunc

	mu     ctxMutex // held by WriteBatch while it applies: batches go in order
	target *client.GrpcClient
	lease  *lease.Lease // held while target is set (nil: no lease configured)
	gate   *callGate    // the target client's calls end within the lease
	fence  *lease.Fence // the run fence of the status and failure writes (nil: none)
	apply  *applier
	failed error // a permanent error: nothing after it is applied or acknowledged
	stats  *applyStats
	// fencedOnce: a stream whose run ended says so once, not at every
	// Connect retry.
	fencedOnce sync.Once
}

// applier applies steps to the target; used by one WriteBatch at a time.
type applier struct {
	api  milvuspb.MilvusServiceClient
	meta *targetMeta
	conf *applyConfig
	log  *service.Logger
	dbs  map[string]bool // target databases known to exist
	// pendingLoads: partitions to load once the copy of a source collection
	// (by ID) has its index; they outlive the description cache.
	pendingLoads map[int64][]string
	young        map[contract.CollectionRef]time.Time // created by this writer lately (see settleYoung)
}

// milvusApplyOutputFromParsed builds the output; it refuses what the lint
// rule reports, so a config that skipped linting cannot reorder changes.
func milvusApplyOutputFromParsed(conf *service.ParsedConfig, mgr *service.Resources) (*applyWriter, error) {
	if err := outputLint.Check(conf); err != nil {
		return nil, err
	}
	c, err := applyConfigFromParsed(conf, mgr)
	if err != nil {
		return nil, err
	}
	closing, shut := context.WithCancel(context.Background())
	w := &applyWriter{conf: c, log: mgr.Logger(), closing: closing, shut: shut, mu: newCtxMutex(), stats: newApplyStats(mgr.Metrics())}
	// The status and a failure are written only while this stream's run is
	// the task's current one.
	w.fence = c.lease.Fence()
	c.status.Fenced(w.fence)
	c.failures.Fenced(w.fence)
	go c.status.Run(closing, w.stats.status, w.log)
	return w, nil
}

// withClosing derives from ctx a context that also ends when Close is called.
func (w *applyWriter) withClosing(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(w.closing, cancel)
	return ctx, func() { stop(); cancel() }
}

// Connect dials the target. The dial runs outside the mutex, so Close and a
// concurrent Connect are not held up by an unreachable target.
func (w *applyWriter) Connect(ctx context.Context) error {
	if err := w.mu.LockCtx(ctx); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	failed, connected := w.failed, w.target != nil
	w.mu.Unlock()
	switch {
	case failed != nil:
		return failed
	case connected:
		return nil
	case w.closing.Err() != nil:
		return errClosed
	}

	dctx, cancel := w.withClosing(ctx)
	defer cancel()
	gate := &callGate{}
	t, err := w.conf.target.DialGuarded(dctx, gate.intercept)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	var l *lease.Lease
	if w.conf.lease != nil {
		// One writer per task: apply nothing before holding the lease.
		if l, err = w.conf.lease.Acquire(dctx, w.log); err != nil {
			_ = t.Close()
			if errors.Is(err, lease.ErrFenced) {
				w.fencedOnce.Do(func() { w.log.Warnf("%v", err) })
			}
			return err
		}
		gate.lease.Store(l)
	}
	drop := func() {
		_ = t.Close()
		if l != nil {
			_ = l.Release(context.Background())
		}
	}
	if err := w.mu.LockCtx(ctx); err != nil {
		drop()
		return fmt.Errorf("connect: %w", err)
	}
	defer w.mu.Unlock()
	switch {
	case w.closing.Err() != nil:
		drop()
		return errClosed
	case w.failed != nil:
		drop()
		return w.failed
	case w.target != nil:
		drop() // another Connect won
		return nil
	}
	w.target, w.lease, w.gate = t, l, gate
	w.apply = &applier{api: t.Service, meta: newTargetMeta(t.Service), conf: w.conf, log: w.log, dbs: map[string]bool{}, pendingLoads: map[int64][]string{},
		young: map[contract.CollectionRef]time.Time{}}
	return nil
}

// WriteBatch applies a batch in order. Transient failures (target down,
// overloaded) are retried here with backoff, so a later batch can never
// overtake this one; a permanent failure stops the output for good. Close
// ends the retries.
func (w *applyWriter) WriteBatch(ctx context.Context, batch service.MessageBatch) error {
	ctx, cancel := w.withClosing(ctx)
	defer cancel()
	if err := w.mu.LockCtx(ctx); err != nil {
		return err
	}
	defer w.release()
	if w.failed != nil {
		return service.ErrNotConnected // Connect reports w.failed
	}
	if w.apply == nil {
		return service.ErrNotConnected
	}
	steps, err := planBatch(batch, w.conf)
	if err != nil {
		return w.fail(err)
	}
	for _, st := range steps {
		if err := w.applyWithRetry(ctx, st); err != nil {
			return err
		}
	}
	// The lease must have held through the last call too (a writer frozen
	// in it wakes up without it): else nothing of this batch is
	// acknowledged, and the task's writer applies it again.
	return w.awaitLease(ctx)
}

// awaitLease returns nil once the lease is valid, service.ErrNotConnected
// when it was taken over (Connect then waits for it like a new writer), or
// ctx's error. While it cannot be renewed (Redis unreachable) it waits.
func (w *applyWriter) awaitLease(ctx context.Context) error {
	bo := w.conf.retry.NewBackOff()
	for {
		err := w.leaseValid()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, lease.ErrLost):
			w.log.Warnf("%v", err)
			return service.ErrNotConnected
		}
		wait := bo.NextBackOff()
		w.log.Warnf("Not applying to target %s, retrying in %s: %v", w.conf.target.Address(), wait, err)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// sleep waits for d, or returns ctx's error if it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// applyWithRetry applies one step, retrying transient failures until it
// works or ctx ends.
func (w *applyWriter) applyWithRetry(ctx context.Context, st *applyStep) error {
	bo := w.conf.retry.NewBackOff()
	var failing time.Duration // time spent failing, lease waits excluded
	for attempt := 1; ; attempt++ {
		if err := w.awaitLease(ctx); err != nil {
			return err
		}
		began := time.Now()
		err := w.apply.step(ctx, st)
		if err == nil {
			w.stats.applied(st)
			if attempt > 1 {
				w.log.Infof("Applied %s on target %s after %d attempts", st, w.conf.target.Address(), attempt)
			}
			return nil
		}
		// Checked first: a call cut short by shutdown is no verdict on the
		// change, and must not stop the task for good.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if isPermanent(err) {
			if !strings.HasPrefix(err.Error(), st.String()) {
				err = fmt.Errorf("%s: %w", st, err)
			}
			w.stats.failed(w.conf.target.Scrub(err.Error()), true)
			return w.fail(err)
		}
		w.stats.failed(w.conf.target.Scrub(fmt.Sprintf("%s: %v", st, err)), false)
		failing += time.Since(began)
		if w.conf.maxRetry > 0 && failing >= w.conf.maxRetry {
			err = fmt.Errorf("%s: still failing after %s of retries (%s, attempt %d): %w",
				st, failing.Round(time.Second), maoFieldMaxRetry, attempt, err)
			w.stats.failed(w.conf.target.Scrub(err.Error()), true)
			return w.fail(err)
		}
		wait := bo.NextBackOff()
		w.log.Warnf("Applying %s to target %s failed (attempt %d), retrying in %s: %v", st, w.conf.target.Address(), attempt, wait, err)
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		failing += wait
	}
}

func (w *applyWriter) fail(err error) error {
	w.failed = fmt.Errorf("milvus_apply stopped: %w; nothing after it is applied or acknowledged until the pipeline is fixed and restarted", err)
	w.log.Errorf("%v", w.failed)
	w.conf.failures.Report(w.conf.target.Scrub(w.failed.Error()), w.log)
	return w.failed
}

// step applies one step.
func (a *applier) step(ctx context.Context, st *applyStep) error {
	if st.collID != 0 && st.target.Name == "" {
		if st.sourceGone {
			// History of a collection dropped before the input could learn
			// its name (e.g. read from earliest): it is gone on both sides.
			return nil
		}
		return permanentf("%s: the message names no collection (collection ID %d)", st.op, st.collID)
	}
	switch st.op {
	case contract.OpInsert:
		return a.upsert(ctx, st)
	case contract.OpDelete:
		return a.delete(ctx, st)
	case contract.OpCreateCollection:
		return a.createCollection(ctx, st)
	case contract.OpDropCollection:
		return a.dropCollection(ctx, st)
	case contract.OpAlterCollection:
		return a.alterCollection(ctx, st)
	case contract.OpRenameCollection:
		return a.renameCollection(ctx, st)
	case contract.OpCreateAlias:
		return a.createAlias(ctx, st)
	case contract.OpDropAlias:
		return a.dropAlias(ctx, st)
	case contract.OpLoadPartitions:
		return a.loadPartitions(ctx, st)
	case contract.OpReleasePartitions:
		return a.releasePartitions(ctx, st)
	case contract.OpCreatePartition:
		return a.createPartition(ctx, st)
	case contract.OpDropPartition:
		return a.dropPartition(ctx, st)
	case contract.OpCreateIndex:
		return a.createIndex(ctx, st)
	case contract.OpDropIndex:
		return a.dropIndex(ctx, st)
	case contract.OpLoadCollection:
		return a.loadCollection(ctx, st)
	case contract.OpReleaseCollection:
		return a.releaseCollection(ctx, st)
	case contract.OpFlush:
		return a.flush(ctx, st)
	case contract.OpCreateDatabase:
		return a.createDatabase(ctx, st)
	case contract.OpDropDatabase:
		return a.dropDatabase(ctx, st)
	}
	return permanentf("%s: unknown milvus_op %q: this milvus_apply cannot apply it (upgrade milvus-cdc, then resume)", st, st.op)
}

// Close stops the output: it ends a running WriteBatch's retries and a dial
// in progress, then closes the client. If a WriteBatch still holds the mutex
// when ctx ends, Close returns ctx.Err() and that WriteBatch closes the
// client when it returns.
func (w *applyWriter) Close(ctx context.Context) error {
	w.shut()
	if err := w.mu.LockCtx(ctx); err != nil {
		return fmt.Errorf("close milvus_apply: a write is still running: %w", err)
	}
	defer w.mu.Unlock()
	if w.fence != nil {
		defer w.fence.Close()
	}
	return w.closeTarget()
}

// release unlocks the mutex after a WriteBatch; after Close it closes the
// client, in case Close gave up waiting for this WriteBatch.
func (w *applyWriter) release() {
	if w.closing.Err() != nil {
		if err := w.closeTarget(); err != nil {
			w.log.Debugf("Closing the target client: %v", err)
		}
	}
	w.mu.Unlock()
}

// closeTarget closes the client; the caller holds the mutex.
func (w *applyWriter) closeTarget() error {
	if w.target == nil {
		return nil
	}
	err := w.target.Close()
	if w.lease != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if lerr := w.lease.Release(ctx); lerr != nil {
			w.log.Warnf("%v (the task's next writer waits until it expires)", lerr)
		}
		cancel()
	}
	w.target, w.lease, w.apply = nil, nil, nil
	return err
}

// leaseValid is nil while this writer may apply. A lease taken over is
// final for this connection: the client and lease are dropped, and the next
// Connect waits for the lease like any new writer.
func (w *applyWriter) leaseValid() error {
	if w.lease == nil {
		return nil
	}
	err := w.lease.Valid()
	if errors.Is(err, lease.ErrLost) {
		_ = w.closeTarget()
	}
	return err
}

// ctxMutex is a mutex whose Lock can give up when a context ends.
type ctxMutex chan struct{}

func newCtxMutex() ctxMutex { return make(ctxMutex, 1) }

// LockCtx takes the mutex, or returns ctx.Err() if ctx ends first.
func (m ctxMutex) LockCtx(ctx context.Context) error {
	select {
	case m <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m ctxMutex) Unlock() { <-m }
