package repair

import (
	"context"
	"fmt"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/backoff"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/upsert"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// ResyncWindow is how long after a Pulsar reconnect or a late write every
// write is taken from the source: after an outage Milvus re-publishes writes
// out of order, and its own consumers may drop some of them, so only the
// source's visible rows are the truth for a while.
const ResyncWindow = 60 * time.Second

// Channel is the repair stage of one channel's reader (used by that reader
// alone: no locking).
type Channel struct {
	name       string
	shapes     *sourcemeta.Shapes
	log        *service.Logger
	sourceAddr string // for log lines
	now        func() time.Time
	// maxTs is the highest timestamp the channel showed.
	maxTs uint64
	// resyncTill: until then every write is applied as the source's current
	// rows (set after a reconnect to Pulsar or a late write).
	resyncTill time.Time
	pairs      upsert.Tracker
	// tick is the highest time tick the channel showed: no write older than
	// it can follow, unless Milvus re-publishes after an outage.
	tick  uint64
	order disorder
}

// NewChannel returns the repair stage of channel name, reading rows through
// shapes.
func NewChannel(name string, shapes *sourcemeta.Shapes, log *service.Logger, sourceAddr string) *Channel {
	return &Channel{name: name, shapes: shapes, log: log, sourceAddr: sourceAddr, now: time.Now}
}

// Resync starts (or extends) the window in which writes come from the source.
func (c *Channel) Resync(why string) {
	if c.now().After(c.resyncTill) {
		c.log.Warnf("Channel %s: after %s, every write for the next %s is applied as the source's current rows for its keys (after a Pulsar outage Milvus may publish writes out of order)",
			c.name, why, ResyncWindow)
	}
	c.resyncTill = c.now().Add(ResyncWindow)
}

// Write takes a row event (insert or delete) as read and returns the events
// to queue in its place: itself, itself and the newer writes it passed over
// (disorder.go), or the source's rows for its keys.
func (c *Channel) Write(ctx context.Context, ev *wal.Event) []*wal.Event {
	evs := []*wal.Event{ev}
	if !ev.SourceGone {
		c.pairs.Track(ev)
	}
	if ev.Ts < c.tick {
		// Behind a tick: Milvus re-publishes after an outage, and may have
		// dropped writes of that time; only the source is the truth a while.
		c.Resync(fmt.Sprintf("a late %s (timestamp %d behind the channel's time tick %d)", ev.Op, ev.Ts, c.tick))
	}
	switch {
	case c.now().Before(c.resyncTill):
		c.order.reset()
		if !ev.SourceGone {
			if repaired, err := c.fromSource(ctx, ev); err == nil {
				evs = repaired
			}
		}
	case ev.Ts < c.maxTs && !upsert.IsInsertHalf(ev) && !ev.SourceGone:
		// (An upsert's Insert is followed by its Delete, late as well: the
		// newer writes are replayed after the Delete, or they would sit
		// between the two halves.)
		replays, err := c.replays(ctx, ev)
		if err != nil {
			c.Resync(fmt.Sprintf("a late %s (timestamp %d behind %d) whose keys could not be compared (%v)", ev.Op, ev.Ts, c.maxTs, err))
			c.order.reset()
			if repaired, err := c.fromSource(ctx, ev); err == nil {
				evs = repaired
			}
			break
		}
		evs = append(evs, replays...)
		c.order.note(ev)
	default:
		c.order.note(ev)
	}
	c.maxTs = max(c.maxTs, ev.Ts)
	return evs
}

// Tick takes a time tick read at pos. Every upsert Insert at or before it
// whose Delete did not come is returned in broken (the merger must stop
// holding it) and is replaced on the target by the source's rows for its
// keys: the events to queue, at the tick's timestamp and position.
func (c *Channel) Tick(ctx context.Context, ts uint64, pos []byte) (broken []wal.Event, evs []*wal.Event) {
	c.maxTs = max(c.maxTs, ts)
	c.tick = max(c.tick, ts)
	c.order.tick(ts)
	if !c.pairs.Pending() {
		return nil, nil
	}
	broken = c.pairs.Broken(ts)
	for _, u := range broken {
		c.log.Warnf("Channel %s: the upsert of %d rows in %s.%s at timestamp %d has no Delete in the WAL (its call failed half-way, e.g. during a Pulsar outage); "+
			"the source may now hold those keys twice, so the target takes the rows the source returns for them",
			c.name, u.Rows, u.DbName, u.CollectionName, u.Ts)
		at := u
		at.Ts, at.BaseTs, at.Position, at.Channel = ts, ts, pos, c.name
		repaired, err := c.fromSource(ctx, &at)
		if err != nil {
			continue // logged; the Insert stays applied as written
		}
		evs = append(evs, repaired...)
	}
	return broken, evs
}

// fromSource reads the source's current rows for ev's keys, retrying a few
// times while the source does not answer (then it logs why and fails: the
// write applies as the WAL has it).
func (c *Channel) fromSource(ctx context.Context, ev *wal.Event) ([]*wal.Event, error) {
	bo := backoff.New()
	for attempt := 1; ; attempt++ {
		// Everything read so far on this channel must be visible in the
		// answer; later writes follow in the WAL and apply on top.
		evs, err := late(ctx, c.shapes, ev, max(c.maxTs, ev.Ts))
		if err == nil {
			return evs, nil
		}
		if attempt == 5 || !bo.Wait(ctx) {
			c.log.Errorf("A %s of %d rows in %s.%s on channel %s (timestamp %d) cannot be checked against the source Milvus at %s: %v. "+
				"It applies as the WAL has it; if Milvus published it out of order or half-way, the target differs for its keys until they are written again (verify shows it)",
				ev.Op, ev.Rows, ev.DbName, ev.CollectionName, c.name, ev.Ts, c.sourceAddr, err)
			return nil, err
		}
	}
}
