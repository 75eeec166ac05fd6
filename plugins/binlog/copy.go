package binlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// snapshotCopy is the copy a run serves: the first one, before the stream
// starts, or one of collections that waited, while the stream holds.
type snapshotCopy struct {
	runner   *snapshot.Runner
	cancel   context.CancelFunc
	deferred bool // a copy of collections that waited
}

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

// startCopy starts the first copy with the stored progress; the readers
// start once it is done.
func (r *run) startCopy() error {
	ctx, cancel := context.WithCancel(r.life.ctx)
	if err := r.phases.Begin(ctx); err != nil {
		cancel()
		return err
	}
	st := r.acks.Snapshot()
	total, done, rows := st.Progress()
	r.in.log.Infof("Snapshot: copying %d collections (%d done, %d rows copied before) at source timestamp %d; streaming follows from the positions pinned before it",
		total, done, rows, st.GuaranteeTs)
	c := r.in.conf
	runner := snapshot.NewRunner(r.src.lister, r.acks.UpdateSnapshot, st.Collections, st.GuaranteeTs, c.snapshotBatch, c.snapshotParallel,
		r.copied, r.in.log)
	runner.SetAfterPin(createdAfterPin(r.src.log, r.stream.merge.Positions()))
	r.copy = &snapshotCopy{runner: runner, cancel: cancel}
	r.life.copyDone = make(chan struct{})
	go func() {
		defer close(r.life.copyDone)
		runner.Run(ctx)
	}()
	return nil
}

// copied: a copied collection is streamed from then on, and its name is
// known to the stream's naming (a drop or rename before the first listing).
func (r *run) copied(id int64, ref contract.CollectionRef) {
	r.src.catalog.Remember(map[int64]contract.CollectionRef{id: ref})
}

// copyStep hands out the copy's next batch. When the copy is over it moves
// the phase on and starts (or resumes) the stream, with an empty delivery.
func (r *run) copyStep(ctx context.Context) (delivery, error) {
	sc := r.copy
	it, err := sc.runner.Next(ctx)
	if errors.Is(err, io.EOF) {
		return delivery{}, r.endCopy(ctx, sc)
	}
	if err != nil {
		return delivery{}, err
	}
	var batch service.MessageBatch
	for _, ev := range it.Events {
		msgs, err := r.in.render(ev)
		if err != nil {
			return delivery{}, err
		}
		batch = append(batch, msgs...)
	}
	// With auto_replay_nacks (the default) only successes reach here; a
	// refusal that does ends the copy, resumed from the last acknowledgement.
	return delivery{batch: batch, ack: it.Ack}, nil
}

// endCopy ends copy sc: after the first copy the stream starts; after a
// copy of collections that waited it goes on.
func (r *run) endCopy(ctx context.Context, sc *snapshotCopy) error {
	sc.cancel()
	r.copy = nil
	if sc.deferred {
		if err := r.phases.DeferredCopied(); err != nil {
			return err
		}
		r.waits.refresh(r.acks.Snapshot())
		return nil
	}
	if err := r.phases.Copied(ctx); err != nil {
		return err
	}
	r.waits.refresh(r.acks.Snapshot())
	if !r.startReaders() {
		return context.Canceled // closed meanwhile
	}
	return nil
}
