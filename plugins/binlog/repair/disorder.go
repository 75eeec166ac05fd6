package repair

import (
	"context"
	"fmt"
	"slices"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// Writes out of order between two ticks. Several proxies (or one proxy
// running calls concurrently: seen on the stack with four writers) publish
// to one channel, so writes can arrive out of timestamp order until the
// channel's next tick passes them. Such a late write is harmless unless a
// newer write of one of its keys came first: that one may be on the target
// already (with milvus_binlog's ordering: key it is), and the late write
// would undo it there. So the channel remembers the writes read since its
// last tick. A late write whose keys none of the newer ones touched goes as
// it is; otherwise it goes, followed by a copy of every newer write of its
// collection in timestamp order: the target then holds what applying them
// in timestamp order gives, which is what the source holds (a delete removes
// only older rows there). No source query is needed, so this works for
// collections that are not loaded too.

// maxRecent bounds the writes remembered between two ticks; past it a late
// write starts a resync window instead (safe, only slower).
const maxRecent = 4096

// disorder is the channel's memory of the writes since its last tick.
type disorder struct {
	recent   []*wal.Event // writes read since the tick, as read
	overflow bool         // more than maxRecent since the tick
}

// note remembers a write as read.
func (d *disorder) note(ev *wal.Event) {
	if len(d.recent) >= maxRecent {
		d.overflow = true
		return
	}
	d.recent = append(d.recent, ev)
}

// tick forgets what a tick at ts passed: nothing older can follow it.
func (d *disorder) tick(ts uint64) {
	kept := d.recent[:0]
	for _, e := range d.recent {
		if e.Ts > ts {
			kept = append(kept, e)
		}
	}
	clear(d.recent[len(kept):])
	d.recent, d.overflow = kept, false
}

// reset forgets everything (a resync window takes every write from the
// source meanwhile).
func (d *disorder) reset() {
	clear(d.recent)
	d.recent, d.overflow = d.recent[:0], false
}

// replays returns, when a newer write read before the late write ev changed
// one of its keys, copies of every newer write of ev's collection in
// timestamp order, to apply after ev; nil when none did. An error means the
// keys could not be compared: the caller takes the safe way.
func (c *Channel) replays(ctx context.Context, ev *wal.Event) ([]*wal.Event, error) {
	if c.order.overflow {
		return nil, fmt.Errorf("more than %d writes between two ticks", maxRecent)
	}
	newer := c.order.newerThan(ev)
	if len(newer) == 0 {
		return nil, nil
	}
	shared, err := c.sharesKeys(ctx, ev, newer)
	if err != nil || !shared {
		return nil, err
	}
	// Every newer write, not only those sharing a key with ev: one of them
	// may share keys with a still newer one, which must stay last.
	return replayCopies(ev, newer), nil
}

// newerThan returns the remembered writes of ev's collection newer than ev,
// as read.
func (d *disorder) newerThan(ev *wal.Event) []*wal.Event {
	var newer []*wal.Event
	for _, e := range d.recent {
		if e.CollectionID == ev.CollectionID && e.Ts > ev.Ts {
			newer = append(newer, e)
		}
	}
	return newer
}

// sharesKeys reports whether one of the writes newer touched a primary key
// of ev. Every write's keys are read, so an error in any of them is
// returned.
func (c *Channel) sharesKeys(ctx context.Context, ev *wal.Event, newer []*wal.Event) (bool, error) {
	sh, err := c.shapes.Get(ctx, ev)
	if err != nil {
		return false, err
	}
	ints, strs, err := eventKeys(ev, sh.PK)
	if err != nil {
		return false, err
	}
	mine := make(map[any]bool, len(ints)+len(strs))
	for _, k := range ints {
		mine[k] = true
	}
	for _, k := range strs {
		mine[k] = true
	}
	shared := false
	for _, e := range newer {
		ni, ns, err := eventKeys(e, sh.PK)
		if err != nil {
			return false, err
		}
		shared = shared || slices.ContainsFunc(ni, func(k int64) bool { return mine[k] }) ||
			slices.ContainsFunc(ns, func(k string) bool { return mine[k] })
	}
	return shared, nil
}

// replayCopies sorts newer by timestamp (stable: as read within one) and
// returns copies of them placed at the late write ev's position.
func replayCopies(ev *wal.Event, newer []*wal.Event) []*wal.Event {
	slices.SortStableFunc(newer, func(a, b *wal.Event) int {
		switch {
		case a.Ts < b.Ts:
			return -1
		case a.Ts > b.Ts:
			return 1
		}
		return 0
	})
	out := make([]*wal.Event, len(newer))
	for i, e := range newer {
		cp := *e
		// At the late write's place in the log; the merger marks upsert
		// pairs again (the halves stay next to each other).
		cp.Position, cp.Upsert = ev.Position, false
		out[i] = &cp
	}
	return out
}
