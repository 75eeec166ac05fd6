package repair

import (
	"context"
	"fmt"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// Writes out of order between two ticks. Several proxies (or one proxy
// running calls concurrently) publish to one channel, so writes can arrive
// out of timestamp order until the channel's next tick passes them. Such a
// late write is harmless unless a newer write of one of its keys came first:
// that one may be on the target already (with milvus_binlog's ordering: key
// it is), and the late write would undo it there. So the channel remembers
// the writes read since its last tick; a late write whose keys none of the
// newer ones touched goes as it is, one that shares a key is replaced by the
// source's current rows for its keys (which hold the newer write).

// maxRecent bounds the writes remembered between two ticks; past it a late
// write starts a resync window instead (safe, only slower).
const maxRecent = 4096

// pairKey names an upsert (its halves share collection and timestamp).
type pairKey struct {
	coll int64
	ts   uint64
}

// disorder is the channel's memory of the writes since its last tick.
type disorder struct {
	recent   []*wal.Event // writes read since the tick, as read
	overflow bool         // more than maxRecent since the tick
	// replaced: upserts whose Insert was replaced by the source's rows; their
	// Delete is replaced too, or it would remove those rows on the target.
	replaced map[pairKey]bool
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
	for k := range d.replaced {
		if k.ts <= ts {
			delete(d.replaced, k)
		}
	}
}

// conflicts reports whether a newer write read before ev changed one of
// ev's keys. An error means the keys could not be compared: the caller
// takes the safe way.
func (c *Channel) conflicts(ctx context.Context, ev *wal.Event) (bool, error) {
	if c.order.overflow {
		return true, fmt.Errorf("more than %d writes between two ticks", maxRecent)
	}
	if ev.Op == contract.OpDelete && c.order.replaced[pairKey{ev.CollectionID, ev.Ts}] {
		return true, nil
	}
	var newer []*wal.Event
	for _, e := range c.order.recent {
		if e.CollectionID == ev.CollectionID && e.Ts > ev.Ts {
			newer = append(newer, e)
		}
	}
	if len(newer) == 0 {
		return false, nil
	}
	sh, err := c.shapes.Get(ctx, ev)
	if err != nil {
		return true, err
	}
	ints, strs, err := eventKeys(ev, sh.PK)
	if err != nil {
		return true, err
	}
	mine := make(map[any]bool, len(ints)+len(strs))
	for _, k := range ints {
		mine[k] = true
	}
	for _, k := range strs {
		mine[k] = true
	}
	for _, e := range newer {
		ni, ns, err := eventKeys(e, sh.PK)
		if err != nil {
			return true, err
		}
		for _, k := range ni {
			if mine[k] {
				return true, nil
			}
		}
		for _, k := range ns {
			if mine[k] {
				return true, nil
			}
		}
	}
	return false, nil
}
