package binlog

import (
	"context"
	"fmt"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// deferredRun is what a copy started while the stream runs needs of its run.
type deferredRun struct {
	ctx  context.Context // the run's: the copy ends with it
	src  snapshot.RunnerSource
	seen func(int64, contract.CollectionRef)
}

// startDeferred, in ReadBatch's goroutine with the stream's emission held
// (nothing pending in the batch policy), records the waiting collections
// the watch found dropped, and copies those it found readable (and any
// such copy a restart interrupted) before the stream goes on.
func (b *binlogInput) startDeferred(ctx context.Context, r *binlogRun) error {
	w := r.waits
	found := w.take()
	st := r.ckpt.Snapshot()
	if st == nil || st.Copying() || r.snap != nil {
		return nil
	}
	fresh := map[int64]verdict{}
	var gone []int64
	for id, v := range found {
		c := st.Collection(id)
		switch {
		case c == nil || c.Done || c.Waiting == "":
		case v.gone:
			gone = append(gone, id)
		default:
			fresh[id] = v
		}
	}
	for _, c := range st.Deferred() {
		if c.GuaranteeTs == 0 { // not expected: such a copy always has its own timestamp
			fresh[c.ID] = verdict{db: c.DB, name: c.Name}
		}
	}
	if len(gone) > 0 {
		if err := r.ckpt.UpdateSnapshot(ctx, func(s *contract.SnapshotState) {
			for _, id := range gone {
				if sc := s.Collection(id); sc != nil {
					b.log.Infof("Snapshot: %s.%s, whose copy waited, is gone from the source; the stream carries its drop", sc.DB, sc.Name)
					sc.Done, sc.Waiting, sc.Gone = true, "", "dropped on the source while its copy waited"
				}
			}
		}); err != nil {
			return err
		}
	}
	if len(fresh) > 0 {
		if err := b.holdFor(ctx, r, fresh); err != nil {
			return err
		}
	}
	st = r.ckpt.Snapshot()
	w.refresh(st) // from here the rows of the collections copied now pass (emitted after their copy)
	plan := st.Deferred()
	if len(plan) == 0 {
		return nil
	}
	return b.runDeferred(r, plan)
}

// holdFor makes the collections of fresh ready to be copied now: once the
// stream's batches are acknowledged, at a timestamp the source gives now
// (after every row the stream dropped), catalog first.
func (b *binlogInput) holdFor(ctx context.Context, r *binlogRun, fresh map[int64]verdict) error {
	deadline := time.Now().Add(holdLimit)
	for !r.applied.settled() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	var plan []contract.SnapshotCollection
	for id, v := range fresh {
		plan = append(plan, contract.SnapshotCollection{ID: id, DB: v.db, Name: v.name})
	}
	g, err := r.waits.clock.guaranteeTs(ctx, plan)
	if err != nil {
		return err
	}
	return r.ckpt.UpdateSnapshot(ctx, func(s *contract.SnapshotState) {
		for id, v := range fresh {
			if sc := s.Collection(id); sc != nil {
				b.log.Infof("Snapshot: %s.%s can be read now: copying it at source timestamp %d while the stream holds", v.db, v.name, g)
				sc.DB, sc.Name = v.db, v.name
				sc.Waiting, sc.GuaranteeTs, sc.CatalogDone, sc.Parts = "", g, false, nil
			}
		}
	})
}

// runDeferred starts copying plan (collections with their own timestamp);
// ReadBatch hands out its batches before the stream's.
func (b *binlogInput) runDeferred(r *binlogRun, plan []contract.SnapshotCollection) error {
	d := r.deferred
	runner := snapshot.NewRunner(d.src, r.ckpt.UpdateSnapshot, plan, plan[0].GuaranteeTs, b.conf.snapshotBatch, b.conf.snapshotParallel, d.seen, b.log)
	// No AfterPin: the stream dropped these rows, so its log is no copy of them.
	ctx, cancel := context.WithCancel(d.ctx)
	sc := &snapshotCopy{runner: runner, cancel: cancel, done: make(chan struct{}), deferred: true}
	r.startMu.Lock()
	defer r.startMu.Unlock()
	if r.closing {
		cancel()
		return context.Canceled
	}
	r.wg.Add(1) // teardown waits for it: it writes the checkpoint
	go func() {
		defer r.wg.Done()
		defer close(sc.done)
		runner.Run(ctx)
	}()
	r.snap = sc
	return nil
}

// endDeferred ends a copy started while the stream runs: the stream goes
// on (with the rows of what was copied).
func (b *binlogInput) endDeferred(r *binlogRun, sc *snapshotCopy) error {
	sc.cancel()
	r.snap = nil
	st := r.ckpt.Snapshot()
	if len(st.Deferred()) > 0 {
		return errCopyIncomplete
	}
	r.waits.refresh(st)
	if waits := st.Waiting(); len(waits) > 0 {
		b.log.Infof("Snapshot: the stream goes on; %d collections still wait: %v", len(waits), waits)
	} else {
		b.log.Infof("Snapshot: the collections that waited are copied; the stream goes on")
	}
	return nil
}

// passDropped records a batch whose every event the stream dropped (rows
// of collections that wait) as acknowledged at once.
func (r *binlogRun) passDropped(ctx context.Context, pos map[string][]byte, ids map[string][][]byte) error {
	if len(pos) == 0 {
		return nil
	}
	done, err := r.ckpt.Track(ctx, pos, ids, 0)
	if err != nil {
		return fmt.Errorf("checkpoint the rows dropped while their collection's copy waits: %w", err)
	}
	return done(ctx, nil)
}
