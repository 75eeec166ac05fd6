package binlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/checkpoint"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// snapshotCopy is the copy a run serves before it streams. Only ReadBatch's
// goroutine touches it.
type snapshotCopy struct {
	runner *snapshot.Runner
	cancel context.CancelFunc
	done   chan struct{} // closed when the runner returned
	stream func()        // starts the channel readers
	// deferred: a copy of collections that waited, made while the stream
	// runs (its emission held meanwhile).
	deferred bool
}

// errCopyIncomplete: the runner ended with collections not done (one failed
// for a reason that is not fatal): the run is reopened and resumes.
var errCopyIncomplete = errors.New("the snapshot ended with collections not copied; resuming from the checkpoint")

// planSnapshot lists the collections of every source database the filter
// selects, in ID order.
func planSnapshot(ctx context.Context, src sourcemeta.GRPC, filter *collectionFilter) ([]contract.SnapshotCollection, error) {
	dbs, err := src.ListDatabases(ctx)
	if err != nil {
		return nil, fmt.Errorf("snapshot: list the source's databases: %w", err)
	}
	var plan []contract.SnapshotCollection
	for _, db := range dbs {
		if !filter.matchesDB(db) {
			continue
		}
		colls, err := src.ShowCollections(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("snapshot: list the collections of source database %s: %w", db, err)
		}
		for id, name := range colls {
			if filter.matches(db, name) {
				plan = append(plan, contract.SnapshotCollection{ID: id, DB: db, Name: name})
			}
		}
	}
	slices.SortFunc(plan, func(a, b contract.SnapshotCollection) int { return int(a.ID - b.ID) })
	return plan, nil
}

// startSnapshot starts copying with the stored progress; stream starts the
// channel readers once the copy is done.
func (b *binlogInput) startSnapshot(rctx context.Context, r *binlogRun, lister sourcemeta.GRPC, catalog *sourcemeta.Catalog, names *checkpoint.Names, stream func()) error {
	st := r.ckpt.Snapshot()
	if st == nil {
		return errors.New("snapshot: no progress stored")
	}
	ctx, cancel := context.WithCancel(rctx)
	if st.State == contract.SnapshotPending {
		if err := r.ckpt.UpdateSnapshot(ctx, func(s *contract.SnapshotState) { s.State = contract.SnapshotCopying }); err != nil {
			cancel()
			return err
		}
	}
	total, done, rows := st.Progress()
	b.log.Infof("Snapshot: copying %d collections (%d done, %d rows copied before) at source timestamp %d; streaming follows from the positions pinned before it",
		total, done, rows, st.GuaranteeTs)
	runner := snapshot.NewRunner(lister, r.ckpt.UpdateSnapshot, st.Collections, st.GuaranteeTs, b.conf.snapshotBatch, b.conf.snapshotParallel,
		seenBy(names, catalog), b.log)
	runner.SetAfterPin(createdAfterPin(r.log, r.merge.Positions()))
	sc := &snapshotCopy{runner: runner, cancel: cancel, done: make(chan struct{}), stream: stream}
	go func() {
		defer close(sc.done)
		runner.Run(ctx)
	}()
	r.snap, r.snapDone = sc, sc.done
	return nil
}

// seenBy: a copied collection is streamed from then on, and its name is
// known to the stream's naming (a drop or rename before the first listing).
func seenBy(names *checkpoint.Names, catalog *sourcemeta.Catalog) func(int64, contract.CollectionRef) {
	return func(id int64, ref contract.CollectionRef) {
		names.Seen(id, ref)
		catalog.Remember(map[int64]contract.CollectionRef{id: ref})
	}
}

// readSnapshot hands out the copy's next batch. When the copy is over it
// records catching_up, starts the stream and returns (nil, nil, nil): the
// caller reads the stream.
func (b *binlogInput) readSnapshot(ctx context.Context, r *binlogRun) (service.MessageBatch, service.AckFunc, error) {
	sc := r.snap
	it, err := sc.runner.Next(ctx)
	if errors.Is(err, io.EOF) && sc.deferred {
		return nil, nil, b.endDeferred(r, sc)
	}
	if errors.Is(err, io.EOF) {
		st := r.ckpt.Snapshot()
		// A collection that waits does not hold the rest: the stream starts,
		// dropping its rows until it is copied.
		if st == nil || slices.ContainsFunc(st.Collections, func(c contract.SnapshotCollection) bool { return !c.Done && c.Waiting == "" }) {
			return nil, nil, errCopyIncomplete
		}
		if err := r.ckpt.UpdateSnapshot(ctx, func(s *contract.SnapshotState) {
			s.State, s.EndTs = contract.SnapshotCatchingUp, s.GuaranteeTs
			if len(s.Collections) == 0 {
				s.State = contract.SnapshotDone // nothing copied: nothing to catch up with
			}
		}); err != nil {
			return nil, nil, err
		}
		total, done, rows := st.Progress()
		b.log.Infof("Snapshot: %d of %d collections copied (%d rows); streaming the changes made since the pin", done, total, rows)
		if waits := st.Waiting(); len(waits) > 0 {
			b.log.Warnf("Snapshot: %d collections wait (their rows are copied once they can be read; the stream drops them meanwhile): %v", len(waits), waits)
		}
		r.waits.refresh(r.ckpt.Snapshot())
		sc.cancel()
		r.snap = nil
		r.endTs = st.GuaranteeTs
		if !r.startStream(sc.stream) {
			return nil, nil, context.Canceled // closed meanwhile
		}
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var batch service.MessageBatch
	for _, ev := range it.Events {
		msgs, err := b.render(ev)
		if err != nil {
			return nil, nil, err
		}
		batch = append(batch, msgs...)
	}
	// With auto_replay_nacks (the default) only successes reach here; a
	// refusal that does ends the copy, resumed from the last acknowledgement.
	return batch, it.Ack, nil
}

// markCaughtUp records the snapshot done once the stream is past the
// copy's end (its ticks or its events).
func (r *binlogRun) markCaughtUp(ctx context.Context) {
	if r.endTs == 0 || !r.merge.Passed(r.endTs) {
		return
	}
	if err := r.ckpt.UpdateSnapshot(ctx, func(s *contract.SnapshotState) {
		if s.State == contract.SnapshotCatchingUp {
			s.State = contract.SnapshotDone
		}
	}); err == nil {
		r.endTs = 0
	}
}

// startStream runs start (which starts the channel readers) unless the run
// is closing: readers started after teardown waited for them would outlive it.
func (r *binlogRun) startStream(start func()) bool {
	r.startMu.Lock()
	defer r.startMu.Unlock()
	if r.closing {
		return false
	}
	start()
	return true
}
