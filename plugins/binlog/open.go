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
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
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
// channel where it resumes, and starts the run's producer.
func (b *binlogInput) open(ctx context.Context) (*run, error) {
	r, stored, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	// A fresh start with a snapshot pins the end of every channel: the
	// stream goes on from there once the copy is done.
	fresh := b.conf.streamSnapshot && stored.Positions == nil
	if err := r.openChannels(ctx, stored, fresh); err != nil {
		r.abort()
		return nil, err
	}
	if err := r.storeStart(ctx, stored, fresh); err != nil {
		r.abort()
		return nil, err
	}
	if err := r.begin(stored, fresh); err != nil {
		r.abort()
		return nil, err
	}
	return r, nil
}

// connect loads the checkpoint and connects to the log and the source.
func (b *binlogInput) connect(ctx context.Context) (*run, *contract.CheckpointState, error) {
	log, err := logreader.NewPulsar(b.conf.pulsar, b.log)
	if err != nil {
		return nil, nil, err
	}
	names := sourcemeta.NewNames(log.Positions())
	dest := checkpoint.Destination{Res: b.res, Cache: b.conf.cacheName, Key: b.conf.cacheKey, Fence: b.conf.fence}
	acks := checkpoint.New(dest, b.conf.checkpointLimit, names, log.Positions())
	stored, err := b.loadCheckpoint(ctx, acks)
	if err != nil {
		log.Close()
		return nil, nil, err
	}
	src, err := b.conf.source.Dial(ctx)
	if err != nil {
		log.Close()
		return nil, nil, fmt.Errorf("source milvus: %w", err)
	}
	lister := sourcemeta.GRPC{Svc: src.Service}
	catalog := sourcemeta.NewCatalog(lister, names)
	catalog.Remember(stored.Names)
	rctx, cancel := context.WithCancel(context.Background())
	r := &run{
		in:     b,
		src:    opened{log: log, conn: src, lister: lister, copies: lister, catalog: catalog},
		acks:   acks,
		phases: snapshot.NewPhases(acks.UpdateSnapshot, acks.Snapshot, b.log),
		out:    make(chan delivery),
		life:   lifecycle{ctx: rctx, cancel: cancel},
	}
	return r, stored, nil
}

// loadCheckpoint reads the stored checkpoint: an empty one when none is
// stored, unless start_from is checkpoint.
func (b *binlogInput) loadCheckpoint(ctx context.Context, acks *checkpoint.Checkpointer) (*contract.CheckpointState, error) {
	stored, err := acks.Load(ctx)
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
	return stored, nil
}

// openChannels opens every channel where it resumes (at its end when fresh)
// and makes its reader; nothing is read yet.
func (r *run) openChannels(ctx context.Context, stored *contract.CheckpointState, fresh bool) error {
	c := r.in.conf
	topics := c.topics()
	dml, repl := topics.DMLNames(), topics.ReplicateName()
	channels := dml
	if repl != "" {
		channels = append(append([]string{}, dml...), repl)
	}
	s := &stream{merge: order.New(dml, repl, c.idleAfter, c.queueSize, c.queueBytes), errs: make(chan error, len(channels))}
	s.merge.SetOrdering(c.ordering)
	r.stream = s
	if !c.batching.IsNoop() {
		var err error
		if s.held.batcher, err = c.batching.NewBatcher(r.in.res); err != nil {
			return err
		}
	}
	resolver := sourcemeta.NewResolver(r.src.catalog, r.in.log, c.source.Address())
	for i, name := range channels {
		ch, err := r.src.log.Open(ctx, logreader.OpenOptions{Name: name, From: stored.Positions[name], Latest: c.startFrom == startLatest || fresh})
		if err != nil {
			return err
		}
		if ch.Empty() {
			s.merge.SetLastSeen(i, time.Time{}) // an empty topic: nothing uses the channel
		}
		s.merge.SetStart(i, ch.Start())
		s.readers = append(s.readers, r.newChannelReader(i, name, ch, resolver, stored.Acked[name]))
	}
	seedWatches(ctx, r.src.lister, stored.Names, s.readers, r.in.log)
	r.acks.SetBase(s.merge.Positions())
	s.seedCopied = fresh || stored.Snapshot.Copying()
	s.from = c.startFrom
	switch {
	case fresh:
		s.from = "the end of the log, pinned before the snapshot"
	case stored.Positions != nil:
		s.from = "the stored checkpoint"
	}
	return nil
}

// storeStart stores where the run starts before anything is read: the
// snapshot's plan with the pinned positions, or the start positions.
func (r *run) storeStart(ctx context.Context, stored *contract.CheckpointState, fresh bool) error {
	switch {
	case fresh || snapshot.Unplanned(stored.Snapshot):
		// The plan and the pinned positions are stored in one write, before
		// anything is copied. A snapshot asked for by whoever stored the
		// first checkpoint (the control plane pins the positions at create)
		// is planned here: the guarantee timestamp is taken after the pin.
		plan, err := planSnapshot(ctx, r.src.lister, r.in.conf.filter)
		if err != nil {
			return err
		}
		g, err := grpcClock(r.src.lister, r.in.log).guaranteeTs(ctx, plan)
		if err != nil {
			return err
		}
		return r.phases.Plan(ctx, plan, g)
	case stored.Positions == nil:
		// Store where this run starts right away: a restart before the first
		// acknowledgement must resume here, not at start_from again (for
		// "latest" that would skip what was written in between).
		return r.acks.StoreBase(ctx)
	}
	return nil
}

// begin starts the run's goroutines: status, the watch of collections that
// wait, the first copy if one is due, and the producer.
func (r *run) begin(stored *contract.CheckpointState, fresh bool) error {
	go r.publish() // metrics and status until the run ends
	// Collections whose copy waits (rows not readable yet): the stream drops
	// their rows and a watch tells when they can be copied.
	r.waits = newWaitState(r.src.lister, grpcClock(r.src.lister, r.in.log), r.in.log)
	r.waits.refresh(r.acks.Snapshot())
	if r.acks.Snapshot() != nil {
		r.goStart(func() { r.waits.watch(r.life.ctx, r.acks.Snapshot) })
	}
	if r.acks.Snapshot().Copying() {
		if err := r.startCopy(); err != nil {
			return err
		}
	} else if !r.startReaders() {
		return context.Canceled
	}
	r.goStart(r.produce)
	return nil
}

// abort closes a run that failed to open (its readers never ran).
func (r *run) abort() {
	if r.stream != nil {
		for _, cr := range r.stream.readers {
			cr.ch.Close()
		}
	}
	r.close()
}

// newChannelReader makes the reader of channel i; acked are its messages
// the output has already (acknowledged ahead of the checkpoint).
func (r *run) newChannelReader(i int, name string, ch logreader.Channel, resolver *sourcemeta.Resolver, acked [][]byte) *channelReader {
	c, log := r.in.conf, r.in.log
	return &channelReader{
		idx: i, name: name, ch: ch, merge: r.stream.merge, resolver: resolver, catalog: r.src.catalog, filter: c.filter,
		skip:   logreader.SetOf(r.src.log.Positions(), acked),
		repair: repair.NewChannel(name, sourcemeta.NewShapes(r.src.lister), log, c.source.Address()),
		watch:  sourcemeta.NewCatalogWatch(r.src.lister, r.src.catalog, sourcemeta.CatalogCheckEvery),
		log:    log,
	}
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
				cr.watch.Seed(id, ref)
			}
		}
	}
}
