package milvus

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// channelReader reads one Pulsar topic, decodes envelopes, drops what is not
// wanted and hands the rest to the merger.
type channelReader struct {
	idx    int
	name   string
	reader pulsar.Reader
	verify pulsar.MessageID // the stored position the reader starts at, to check and skip
	skip   map[msgKey]bool  // acknowledged ahead of the checkpoint in an earlier run
	names  *knownNames      // names to keep in the checkpoint
	// verifyIsLast: verify was the topic's newest message when the reader
	// opened, so its age tells whether the channel is in use.
	verifyIsLast bool
	merge        *merger
	meta         *sourceMeta
	filter       *collectionFilter
	log          *service.Logger
	// For log lines: where this reader and the name lookups go.
	pulsarURL, sourceAddr string
	// last is the newest message handed on; hasLast says it is set.
	last    msgKey
	hasLast bool
	// rows reads the source's current rows for a late write (see
	// late_repair.go); maxTs is the highest timestamp the channel showed.
	rows  *shapeCache
	maxTs uint64
	// resyncTill: until then every write is applied as the source's current
	// rows (set after a reconnect to Pulsar or a late write, see resync).
	resyncTill time.Time
	// unpaired: upsert Inserts whose Delete was not read yet (upsert_pairs.go).
	unpaired []unpairedInsert
}

// resyncWindow is how long after a Pulsar reconnect or a late write every
// write is taken from the source: after an outage Milvus re-publishes writes
// out of order, and its own consumers may drop some of them, so only the
// source's visible rows are the truth for a while.
const resyncWindow = 60 * time.Second

func (c *channelReader) run(ctx context.Context) error {
	bo := newBackoff()
	for {
		msg, err := c.reader.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			c.log.Warnf("Reading Pulsar topic %s at %s failed, retrying with backoff: %v", c.reader.Topic(), c.pulsarURL, err)
			if !bo.wait(ctx) {
				return nil
			}
			continue
		}
		bo.reset()
		id := msg.ID()
		if c.verify != nil {
			if keyOf(id) != keyOf(c.verify) {
				return &fatalInputError{fmt.Errorf(
					"the checkpoint of channel %s points at message %s, which Pulsar no longer has (the first message left is %s): "+
						"its retention removed data this pipeline has not read yet. Nothing was skipped. To go on, delete the checkpoint "+
						"and copy the collections afresh, or raise the retention of the namespace so it cannot happen again",
					c.name, c.verify, id)}
			}
			c.verify = nil
			c.last, c.hasLast = keyOf(id), true
			if c.verifyIsLast {
				// A channel whose newest message is older than the idle
				// timeout is used by no collection (those tick every 200 ms):
				// it need not hold the merge back for another timeout first.
				c.merge.setLastSeen(c.idx, msg.PublishTime())
			}
			continue
		}
		k := keyOf(id)
		if c.hasLast && !k.after(c.last) {
			// pulsar-client-go may deliver a message again after it
			// reconnected to the broker; handing it on twice would apply it
			// twice (a delete after the upsert that replaced its row).
			c.log.Debugf("Dropping message %s on channel %s: already read (redelivered after a reconnect to %s)", id, c.name, c.pulsarURL)
			c.resync("a reconnect to Pulsar")
			continue
		}
		if c.hasLast && k.ledger == c.last.ledger && k.entry > c.last.entry+1 {
			c.log.Errorf("Channel %s jumped from entry %d to %d of ledger %d", c.name, c.last.entry, k.entry, k.ledger)
		}
		c.last, c.hasLast = k, true
		pos := id.Serialize()
		if c.skip[k] {
			// The output has it already: delivering it again would double it.
			delete(c.skip, k)
			c.merge.pushSkipped(c.idx, pos)
			continue
		}
		ev, err := decodeEnvelope(msg.Payload())
		if err != nil {
			c.log.Errorf("Skipping undecodable message %s on channel %s: %v", id, c.name, err)
			c.merge.pushSkipped(c.idx, pos)
			continue
		}
		if ev.Op == OpTimeTick {
			c.maxTs = max(c.maxTs, ev.Ts)
			if len(c.unpaired) > 0 && !c.brokenUpserts(ctx, ev.Ts, pos) {
				return nil
			}
			c.merge.pushTick(c.idx, ev.Ts, pos)
			continue
		}
		ev.Channel, ev.Position = c.name, pos
		if ev.IsReplicate {
			c.merge.pushSkipped(c.idx, pos)
			continue
		}
		keep, err := c.resolve(ctx, ev)
		if err != nil {
			return nil // context cancelled
		}
		if !keep {
			c.merge.pushSkipped(c.idx, pos)
			continue
		}
		if ev.CollectionID != 0 && c.names != nil {
			if !ev.SourceGone || ev.Op != OpCreateCollection {
				c.names.seen(ev.CollectionID, collectionRef{DB: ev.DbName, Name: ev.CollectionName})
			}
			if ev.Op == OpDropCollection {
				c.names.droppedAt(ev.CollectionID, c.name, pos)
			}
		}
		evs := []*walEvent{ev}
		if ev.Op == OpInsert || ev.Op == OpDelete {
			if !ev.SourceGone && c.rows != nil {
				c.trackUpsert(ev)
			}
			if ev.Ts < c.maxTs {
				c.resync(fmt.Sprintf("a late %s (timestamp %d behind %d)", ev.Op, ev.Ts, c.maxTs))
			}
			if time.Now().Before(c.resyncTill) && !ev.SourceGone && c.rows != nil {
				evs = c.repair(ctx, ev)
			}
			c.maxTs = max(c.maxTs, ev.Ts)
		}
		for _, e := range evs {
			if !c.merge.pushEvent(c.idx, e) {
				return nil
			}
		}
	}
}

// resync starts (or extends) the window in which writes come from the source.
func (c *channelReader) resync(why string) {
	if c.rows == nil {
		return
	}
	if time.Now().After(c.resyncTill) {
		c.log.Warnf("Channel %s: after %s, every write for the next %s is applied as the source's current rows for its keys (after a Pulsar outage Milvus may publish writes out of order)",
			c.name, why, resyncWindow)
	}
	c.resyncTill = time.Now().Add(resyncWindow)
}

// repair replaces a write by the source's current rows for its keys; when
// the source cannot tell, the write applies as it stands.
func (c *channelReader) repair(ctx context.Context, ev *walEvent) []*walEvent {
	evs, err := c.repairWithRetry(ctx, ev)
	if err != nil {
		return []*walEvent{ev}
	}
	return evs
}

// repairWithRetry reads the source's current rows for ev's keys, retrying a
// few times while the source does not answer (then it logs why and fails).
func (c *channelReader) repairWithRetry(ctx context.Context, ev *walEvent) ([]*walEvent, error) {
	bo := newBackoff()
	for attempt := 1; ; attempt++ {
		// Everything read so far on this channel must be visible in the
		// answer; later writes follow in the WAL and apply on top.
		evs, err := repairLate(ctx, c.rows, ev, max(c.maxTs, ev.Ts))
		if err == nil {
			return evs, nil
		}
		if attempt == 5 || !bo.wait(ctx) {
			c.log.Errorf("A %s of %d rows in %s.%s on channel %s (timestamp %d) cannot be checked against the source Milvus at %s: %v. "+
				"It applies as the WAL has it; if Milvus published it out of order or half-way, the target differs for its keys until they are written again (verify shows it)",
				ev.Op, ev.Rows, ev.DbName, ev.CollectionName, c.name, ev.Ts, c.sourceAddr, err)
			return nil, err
		}
	}
}

// resolve fills in database and collection names and applies the filter. It
// retries while the source Milvus is unreachable; the only error it returns
// is the context's.
func (c *channelReader) resolve(ctx context.Context, ev *walEvent) (bool, error) {
	if ev.CollectionID != 0 {
		bo := newBackoff()
		for {
			ref, found, gone, err := c.meta.resolve(ctx, ev.CollectionID, physicalTime(ev.Ts))
			if err == nil {
				if found {
					ev.DbName, ev.CollectionName, ev.SourceGone = ref.DB, ref.Name, gone
					if ev.Op == OpCreateCollection && !gone {
						c.describe(ctx, ev)
					}
				} else {
					c.fallbackNames(ev)
				}
				break
			}
			c.log.Warnf("Cannot ask the source Milvus at %s for the name of collection %d, retrying with backoff: %v", c.sourceAddr, ev.CollectionID, err)
			if !bo.wait(ctx) {
				return false, ctx.Err()
			}
		}
	}
	switch ev.Op {
	case OpCreateDatabase, OpDropDatabase:
		return c.filter.matchesDB(ev.DbName), nil
	case OpFlush:
		var kept []string
		for _, n := range ev.CollectionNames {
			if c.filter.matches(ev.DbName, n) {
				kept = append(kept, n)
			}
		}
		ev.CollectionNames = kept
		return len(kept) > 0, nil
	}
	return c.filter.matches(ev.DbName, ev.CollectionName), nil
}

// describe adds what a create_collection message lacks (consistency level,
// properties) from the source. Best effort: without it the output falls back
// to Milvus's defaults, so a failure is logged, not retried forever.
func (c *channelReader) describe(ctx context.Context, ev *walEvent) {
	level, props, found, err := c.meta.lister.DescribeCollection(ctx, ev.CollectionID)
	if err != nil {
		c.log.Warnf("Cannot describe collection %s.%s on the source Milvus at %s (its consistency level falls back to the default): %v", ev.DbName, ev.CollectionName, c.sourceAddr, err)
		return
	}
	if found {
		ev.ConsistencyLevel, ev.Properties = level, props
	}
}

// fallbackNames names a collection the source no longer knows (dropped before
// this reader learned its name) from the message itself.
func (c *channelReader) fallbackNames(ev *walEvent) {
	ev.SourceGone = true
	if ev.Op == OpCreateCollection && ev.CollectionName == "" {
		var req msgpb.CreateCollectionRequest
		var schema schemapb.CollectionSchema
		if proto.Unmarshal(ev.Payload, &req) == nil && proto.Unmarshal(req.GetSchema(), &schema) == nil {
			ev.CollectionName = schema.GetName()
		}
	}
	if ev.DbName == "" {
		ev.DbName = "default"
	}
	if c.meta.firstWarning(ev.CollectionID) {
		c.log.Infof("Collection %d (%q) is unknown to the source Milvus (dropped); its database is assumed to be %q", ev.CollectionID, ev.CollectionName, ev.DbName)
	}
}

// skipSet decodes the acknowledged-ahead positions of one channel.
func skipSet(ids [][]byte) map[msgKey]bool {
	if len(ids) == 0 {
		return nil
	}
	out := make(map[msgKey]bool, len(ids))
	for _, id := range ids {
		if k, err := keyOfPosition(id); err == nil {
			out[k] = true
		}
	}
	return out
}

// backoff is a small exponential backoff for retry loops.
type backoff struct{ cur time.Duration }

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) reset() { b.cur = 0 }

// wait sleeps for the next interval; false when ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	switch {
	case b.cur == 0:
		b.cur = 100 * time.Millisecond
	case b.cur < 5*time.Second:
		b.cur *= 2
	}
	t := time.NewTimer(b.cur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
