package binlog

import (
	"context"
	"fmt"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/checkpoint"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/repair"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// start_from values.
const (
	startEarliest   = "earliest"
	startLatest     = "latest"
	startCheckpoint = "checkpoint"
)

// open loads the checkpoint, connects to the source and the log, opens every
// channel where it resumes and starts one reader per channel.
func (b *binlogInput) open(ctx context.Context) (*binlogRun, error) {
	names := checkpoint.NewNames()
	ckpt := checkpoint.New(b.res, b.conf.cacheName, b.conf.cacheKey, b.conf.checkpointLimit, names)
	ckpt.Fenced(b.conf.fence)
	stored, err := ckpt.Load(ctx)
	if err != nil {
		return nil, err
	}
	if stored == nil && b.conf.startFrom == startCheckpoint {
		// Starting anywhere else could skip or repeat changes: stop for good
		// and say why (a control-plane task turns Failed with this reason).
		return nil, &logreader.FatalError{Err: fmt.Errorf(
			"no checkpoint is stored under key %q in cache %q, and start_from is checkpoint: nothing was read and nothing skipped. "+
				"The checkpoint was lost (the cache restored from an old snapshot, evicted or flushed) or never written. "+
				"To go on, delete the task and create it again (it copies the changes made from then on), or restore the checkpoint",
			b.conf.cacheKey, b.conf.cacheName)}
	}
	if stored == nil {
		stored = &contract.CheckpointState{}
	}

	src, err := b.conf.source.Dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("source milvus: %w", err)
	}
	log, err := logreader.NewPulsar(b.conf.pulsar, b.log)
	if err != nil {
		_ = src.Close()
		return nil, err
	}
	topics := b.conf.topics()
	dml, repl := topics.DMLNames(), topics.ReplicateName()
	channels := dml
	if repl != "" {
		channels = append(append([]string{}, dml...), repl)
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &binlogRun{
		cancel: cancel,
		log:    log,
		source: src,
		merge:  order.New(dml, repl, b.conf.idleAfter, b.conf.queueSize, b.conf.queueBytes),
		ckpt:   ckpt,
		errs:   make(chan error, len(channels)),
	}
	r.merge.SetOrdering(b.conf.ordering)
	if !b.conf.batching.IsNoop() {
		if r.batcher, err = b.conf.batching.NewBatcher(b.res); err != nil {
			r.close()
			return nil, err
		}
	}
	lister := sourcemeta.GRPC{Svc: src.Service}
	catalog := sourcemeta.NewCatalog(lister)
	catalog.Remember(stored.Names)
	for id, ref := range stored.Names {
		names.Seen(id, ref)
	}
	resolver := sourcemeta.NewResolver(catalog, b.log, b.conf.source.Address())
	// A fresh start with a snapshot pins the end of every channel: the
	// stream goes on from there once the copy is done.
	newSnapshot := b.conf.streamSnapshot && stored.Positions == nil
	// A snapshot asked for by whoever stored the first checkpoint (the
	// control plane pins the positions at create) is planned here: the
	// guarantee timestamp is taken after the pin.
	planSnap := newSnapshot || (stored.Snapshot != nil && stored.Snapshot.State == contract.SnapshotPending && stored.Snapshot.GuaranteeTs == 0)

	readers := make([]*channelReader, 0, len(channels))
	abort := func() { // before the readers run: close them and the run
		for _, cr := range readers {
			cr.ch.Close()
		}
		r.close()
	}
	for i, name := range channels {
		ch, err := log.Open(ctx, logreader.OpenOptions{Name: name, From: stored.Positions[name], Latest: b.conf.startFrom == startLatest || newSnapshot})
		if err != nil {
			abort()
			return nil, err
		}
		if ch.Empty() {
			r.merge.SetLastSeen(i, time.Time{}) // an empty topic: nothing uses the channel
		}
		r.merge.SetStart(i, ch.Start())
		readers = append(readers, &channelReader{
			idx: i, name: name, ch: ch, merge: r.merge, resolver: resolver, catalogNames: catalog, filter: b.conf.filter, names: names,
			skip:    logreader.SetOf(stored.Acked[name]),
			repair:  repair.NewChannel(name, sourcemeta.NewShapes(lister), b.log, b.conf.source.Address()),
			catalog: sourcemeta.NewCatalogWatch(lister, catalog, sourcemeta.CatalogCheckEvery),
			log:     b.log,
		})
	}
	seedWatches(ctx, lister, stored.Names, readers, b.log)
	ckpt.SetBase(r.merge.Positions())
	switch {
	case planSnap:
		// The plan and the pinned positions are stored in one write, before
		// anything is copied.
		plan, err := planSnapshot(ctx, lister, b.conf.filter)
		if err != nil {
			abort()
			return nil, err
		}
		g, err := grpcClock(lister, b.log).guaranteeTs(ctx, plan)
		if err != nil {
			abort()
			return nil, err
		}
		if err := ckpt.UpdateSnapshot(ctx, func(s *contract.SnapshotState) {
			*s = contract.SnapshotState{State: contract.SnapshotPending, GuaranteeTs: g, Collections: plan}
		}); err != nil {
			abort()
			return nil, err
		}
	case stored.Positions == nil:
		// Store where this run starts right away: a restart before the first
		// acknowledgement must resume here, not at start_from again (for
		// "latest" that would skip what was written in between).
		if err := ckpt.StoreBase(ctx); err != nil {
			abort()
			return nil, err
		}
	}
	from := b.conf.startFrom
	switch {
	case newSnapshot:
		from = "the end of the log, pinned before the snapshot"
	case stored.Positions != nil:
		from = "the stored checkpoint"
	}
	stream := func() {
		if newSnapshot || stored.Snapshot.Copying() {
			// Watch the catalog of what the copy made, as of now.
			seedWatches(rctx, lister, names.Snapshot(r.merge.Positions()), readers, b.log)
		}
		for _, cr := range readers {
			r.wg.Add(1)
			go func(cr *channelReader) {
				defer r.wg.Done()
				defer cr.ch.Close()
				if err := cr.run(rctx); err != nil && rctx.Err() == nil {
					r.errs <- err
				}
			}(cr)
		}
		b.log.Infof("Reading the Milvus WAL from %s: %d DML channels + replicate channel %q, starting at %s", b.conf.pulsar.URL, len(dml), repl, from)
	}
	go b.publish(rctx, r) // metrics and status until the run ends
	// Collections whose copy waits (rows not readable yet): the stream drops
	// their rows and a watch tells when they can be copied.
	r.waits = newWaitState(lister, grpcClock(lister, b.log), b.log)
	r.deferred = deferredRun{ctx: rctx, src: lister, seen: seenBy(names, catalog)}
	r.waits.refresh(ckpt.Snapshot())
	if ckpt.Snapshot() != nil {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.waits.watch(rctx, r.ckpt.Snapshot)
		}()
	}
	if snap := ckpt.Snapshot(); snap.Copying() {
		if err := b.startSnapshot(rctx, r, lister, catalog, names, stream); err != nil {
			abort()
			return nil, err
		}
		return r, nil
	}
	if snap := ckpt.Snapshot(); snap != nil && snap.State == contract.SnapshotCatchingUp {
		r.endTs = snap.EndTs // marked done once the stream is past it
	}
	stream()
	return r, nil
}

// seedWatches gives each channel's catalog watch the streamed collections
// (from the checkpoint) that live on it. Best effort: a collection the
// source cannot describe now is watched again once it is written to.
func seedWatches(ctx context.Context, src sourcemeta.Lister, names map[int64]contract.CollectionRef, readers []*channelReader, log *service.Logger) {
	byName := map[string]*channelReader{}
	for _, cr := range readers {
		byName[cr.name] = cr
	}
	for id, ref := range names {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		d, err := src.DescribeID(dctx, id, 0)
		cancel()
		if err != nil {
			log.Warnf("Cannot describe source collection %s.%s (%d) to watch its catalog (watched again once written to): %v", ref.DB, ref.Name, id, err)
			continue
		}
		for _, ch := range d.Channels {
			if cr := byName[ch]; cr != nil {
				cr.catalog.Seed(id, ref)
			}
		}
	}
}
