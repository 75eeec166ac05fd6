package binlog

import (
	"context"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// startDeferred, in the producer with the stream's emission held (nothing
// pending in the batch policy), records the waiting collections the watch
// found dropped, and copies those it found readable (and any such copy a
// restart interrupted) before the stream goes on.
func (r *run) startDeferred(ctx context.Context) error {
	found := r.waits.take()
	st := r.acks.Snapshot()
	if st == nil || st.Copying() || r.copy != nil {
		return nil
	}
	fresh := map[int64]contract.CollectionRef{}
	var gone []int64
	for id, v := range found {
		c := st.Collection(id)
		switch {
		case c == nil || c.Done || c.Waiting == "":
		case v.gone:
			gone = append(gone, id)
		default:
			fresh[id] = contract.CollectionRef{DB: v.db, Name: v.name}
		}
	}
	for _, c := range st.Deferred() {
		if c.GuaranteeTs == 0 { // not expected: such a copy always has its own timestamp
			fresh[c.ID] = contract.CollectionRef{DB: c.DB, Name: c.Name}
		}
	}
	if len(gone) > 0 {
		if err := r.phases.Gone(ctx, gone); err != nil {
			return err
		}
	}
	if len(fresh) > 0 {
		if err := r.holdFor(ctx, fresh); err != nil {
			return err
		}
	}
	st = r.acks.Snapshot()
	r.waits.refresh(st) // from here the rows of the collections copied now pass (emitted after their copy)
	plan := st.Deferred()
	if len(plan) == 0 {
		return nil
	}
	return r.runDeferred(plan)
}

// holdFor makes the collections of fresh ready to be copied now: once the
// stream's batches are acknowledged, at a timestamp the source gives now
// (after every row the stream dropped), catalog first.
func (r *run) holdFor(ctx context.Context, fresh map[int64]contract.CollectionRef) error {
	deadline := time.Now().Add(holdLimit)
	for !r.acks.Settled() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	var plan []contract.SnapshotCollection
	for id, ref := range fresh {
		plan = append(plan, contract.SnapshotCollection{ID: id, DB: ref.DB, Name: ref.Name})
	}
	g, err := r.waits.clock.guaranteeTs(ctx, plan)
	if err != nil {
		return err
	}
	return r.phases.Readable(ctx, fresh, g)
}

// runDeferred starts copying plan (collections with their own timestamp);
// the producer hands out its batches before the stream's.
func (r *run) runDeferred(plan []contract.SnapshotCollection) error {
	c := r.in.conf
	runner := snapshot.NewRunner(r.src.copies, r.acks.UpdateSnapshot, plan, plan[0].GuaranteeTs, c.snapshotBatch, c.snapshotParallel, r.copied, r.in.log)
	// No AfterPin: the stream dropped these rows, so its log is no copy of them.
	ctx, cancel := context.WithCancel(r.life.ctx)
	// The teardown waits for it: it writes the checkpoint.
	if !r.goStart(func() { runner.Run(ctx) }) {
		cancel()
		return context.Canceled
	}
	r.copy = &snapshotCopy{runner: runner, cancel: cancel, deferred: true}
	return nil
}
