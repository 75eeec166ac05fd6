package binlog

import (
	"context"
	"fmt"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/repair"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/upsert"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// channelReader runs the stages of one channel: read (logreader), skip what
// the output has already, decode (wal), name and filter (sourcemeta), repair
// (repair), and queue for the merge (order).
type channelReader struct {
	idx      int
	name     string
	ch       logreader.Channel
	skip     logreader.Set // acknowledged ahead of the checkpoint in an earlier run
	resolver *sourcemeta.Resolver
	// catalog is the shared listing of the source (renames it saw go out
	// before the next event of any channel) and the registry of the
	// streamed collections' names (Streamed).
	catalog *sourcemeta.Catalog
	filter  *collectionFilter
	repair  *repair.Channel
	watch   *sourcemeta.CatalogWatch
	merge   *order.Merger
	log     *service.Logger
	at      readerMarks
}

// readerMarks is where a channel reader stands.
type readerMarks struct {
	// startHalf is the upsert Insert the channel starts at (the message the
	// position names, not read again), until its time passes: the Delete of
	// that upsert, right after it, belongs to it and is not replayed alone.
	// (A pin taken between the two would otherwise remove on the target a
	// row the source holds.)
	startHalf *wal.Event
	// maxTs is the highest timestamp of the events this reader queued. A
	// time tick can carry a lower one than a DDL message read before it on
	// the same channel, so events the reader makes at a tick (renames, the
	// catalog's) are stamped no lower than this: the output sees
	// timestamps that never go back.
	maxTs uint64
}

// run reads until ctx ends (nil) or the log fails for good (the error).
func (c *channelReader) run(ctx context.Context) error {
	if ec, ok := c.ch.(logreader.EndChecker); ok {
		// Silent, the channel stops blocking the merge only once its log
		// confirms it was read to the end: a stuck reader is silent too.
		defer c.merge.WatchEnd(ctx, c.idx, ec.AtEnd)()
	}
	for {
		msg, err := c.ch.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		switch msg.Kind {
		case logreader.StartMark:
			if ev, err := wal.Decode(msg.Payload); err == nil && upsert.IsInsertHalf(ev) {
				c.at.startHalf = ev
			}
			if msg.AtEnd {
				// A channel whose newest message is older than the idle
				// timeout is used by no collection (those tick every 200 ms):
				// it need not hold the merge back for another timeout first.
				c.merge.SetLastSeen(c.idx, msg.PublishTime)
			}
			continue
		case logreader.Repeat:
			c.repair.Resync("a reconnect to Pulsar")
			continue
		}
		if c.skip[msg.Key] {
			// The output has it already: delivering it again would double it.
			delete(c.skip, msg.Key)
			c.merge.PushSkipped(c.idx, msg.Position)
			continue
		}
		c.merge.SetBusy(c.idx, true)
		evs, err := c.handle(ctx, msg)
		c.merge.SetBusy(c.idx, false)
		if err != nil {
			if logreader.IsFatal(err) {
				return err
			}
			return nil // ctx ended
		}
		for _, e := range evs {
			if !c.push(e) {
				return nil
			}
		}
	}
}

// push queues one event for the merge; false once the merge is closed.
func (c *channelReader) push(e *wal.Event) bool {
	if e.Ts > c.at.maxTs {
		c.at.maxTs = e.Ts
	}
	return c.merge.PushEvent(c.idx, e)
}

// handle decodes one message and returns the events to queue; a message
// that yields none has been consumed here. The error is ctx's, or a
// *logreader.FatalError for a message this reader cannot decode: it is never
// skipped, so the checkpoint never passes it.
func (c *channelReader) handle(ctx context.Context, msg logreader.Message) ([]*wal.Event, error) {
	ev, err := wal.Decode(msg.Payload)
	if err != nil {
		return nil, &logreader.FatalError{Err: fmt.Errorf(
			"channel %s, message %x: %w. It is not replicated and not skipped: the input stops before it (nothing from it on is acknowledged). "+
				"Upgrade milvus-cdc to a version that reads it, then resume; or delete the task and create it again to give up on what follows",
			c.name, msg.Position, err)}
	}
	if c.at.startHalf != nil {
		switch {
		case upsert.Completes(ev, c.at.startHalf):
			c.log.Infof("Channel %s starts between the Insert and the Delete of an upsert of collection %d (ts %d): the Delete belongs to the upsert before the start and is not replayed",
				c.name, ev.CollectionID, ev.Ts)
			c.merge.PushSkipped(c.idx, msg.Position)
			return nil, nil
		case ev.Op == contract.OpTimeTick && ev.Ts > c.at.startHalf.Ts:
			c.at.startHalf = nil
		}
	}
	if ev.Op == contract.OpTimeTick {
		return nil, c.tick(ctx, ev.Ts, msg.Position)
	}
	ev.Channel, ev.Position = c.name, msg.Position
	if ev.IsReplicate {
		c.merge.PushSkipped(c.idx, msg.Position)
		return nil, nil
	}
	if err := c.resolver.Resolve(ctx, ev); err != nil {
		return nil, err
	}
	// A collection renamed away from a name this event reuses must move on
	// the target first: the renames the listing saw go out before it.
	before := c.kept(c.renames(ev.Ts, msg.Position))
	if !c.keep(ev) {
		if len(before) > 0 {
			return before, nil
		}
		c.merge.PushSkipped(c.idx, msg.Position)
		return nil, nil
	}
	if ev.CollectionID != 0 {
		if !ev.SourceGone || ev.Op != contract.OpCreateCollection {
			c.catalog.Streamed().Seen(ev.CollectionID, contract.CollectionRef{DB: ev.DbName, Name: ev.CollectionName})
		}
		if ev.Op == contract.OpDropCollection {
			c.catalog.Streamed().DroppedAt(ev.CollectionID, c.name, msg.Position)
		}
	}
	if ev.IsRow() {
		evs := c.repair.Write(ctx, ev)
		for _, e := range evs {
			c.watch.Observe(e)
		}
		return append(before, evs...), nil
	}
	c.watch.Observe(ev)
	return append(before, ev), nil
}

// renames turns the renames the shared listing saw into events at ts.
func (c *channelReader) renames(ts uint64, pos []byte) []*wal.Event {
	if c.catalog == nil {
		return nil
	}
	var out []*wal.Event
	for _, r := range c.catalog.TakeRenames() {
		out = append(out, sourcemeta.RenameEvent(r, c.name, ts, pos))
	}
	return out
}

// kept filters events made by the reader (renames, the catalog's) and
// records the new names of renamed collections.
func (c *channelReader) kept(evs []*wal.Event) []*wal.Event {
	out := evs[:0]
	for _, e := range evs {
		if !c.keep(e) {
			continue
		}
		if e.Op == contract.OpRenameCollection {
			c.catalog.Streamed().Renamed(e.CollectionID, contract.CollectionRef{DB: e.DbName, Name: e.CollectionName})
		}
		out = append(out, e)
	}
	return out
}

// keep applies the collection filter (a flush keeps the collections it
// selects). A streamed collection stays selected under a new name; a
// rename is kept when either name is selected.
func (c *channelReader) keep(ev *wal.Event) bool {
	if ev.CollectionID != 0 && c.catalog.Streamed().Follows(ev.CollectionID) {
		return true
	}
	switch ev.Op {
	case contract.OpRenameCollection:
		return c.filter.matches(ev.DbName, ev.CollectionName) ||
			(ev.RenamedFrom != nil && c.filter.matches(ev.RenamedFrom.DB, ev.RenamedFrom.Name))
	case contract.OpCreateDatabase, contract.OpDropDatabase:
		return c.filter.matchesDB(ev.DbName)
	case contract.OpFlush:
		var kept []string
		for _, n := range ev.CollectionNames {
			if c.filter.matches(ev.DbName, n) {
				kept = append(kept, n)
			}
		}
		ev.CollectionNames = kept
		return len(kept) > 0
	}
	return c.filter.matches(ev.DbName, ev.CollectionName)
}

// tick handles a time tick at ts: the repair stage's and the catalog
// watch's events at the tick, then the tick itself. The error is ctx's.
func (c *channelReader) tick(ctx context.Context, ts uint64, pos []byte) error {
	broken, evs := c.repair.Tick(ctx, ts, pos)
	for _, u := range broken {
		c.merge.PairBroken(c.idx, u.Ts, u.CollectionID)
	}
	if c.watch.Due() {
		found, err := c.watch.Check(ctx, c.name, ts, pos)
		if err != nil && ctx.Err() == nil {
			c.log.Warnf("Asking the source for the partitions and properties of channel %s's collections (tried again in %s): %v", c.name, sourcemeta.CatalogCheckEvery, err)
		}
		found = append(c.renames(ts, pos), found...)
		floor := max(c.merge.Released(), c.at.maxTs)
		for _, e := range found {
			if e.Ts < floor {
				e.Ts, e.BaseTs = floor, floor
			}
		}
		evs = append(evs, c.kept(found)...)
	}
	for _, e := range evs {
		if !c.push(e) {
			return context.Canceled
		}
	}
	c.merge.PushTick(c.idx, ts, pos)
	return ctx.Err()
}
