package order

import (
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/upsert"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// awaitsDeleteLocked reports whether the head of c's queue is an upsert's
// Insert whose Delete is not queued yet. Normally both are read before the
// next time tick, so with total order this never holds anything; but with
// OrderingKey the Insert can head the queue before its Delete is read, and
// after a Pulsar outage Milvus's producer can publish the pair after a newer
// tick. An Insert released alone would let its Delete follow as a plain
// delete that removes the new rows on the target (and a checkpoint between
// the two would do the same after a restart). It waits at most pairWait: a
// Delete that never comes (its produce failed) must not stop the stream.
func (m *Merger) awaitsDeleteLocked(c *chanState) bool {
	ev := c.queue[0]
	if !upsert.IsInsertHalf(ev) || ev.Upsert || m.now().Sub(c.queuedAt[0]) >= m.pairWait {
		return false
	}
	for _, q := range c.queue[1:] {
		if upsert.Completes(q, ev) {
			return false
		}
	}
	return true
}

// markUpserts marks the upsert pairs among the events of timestamp ts queued
// on c. Both halves of an upsert are written to the same channel (a key's
// Insert and Delete go to its shard), so they are queued there by now: the
// channel ticked past ts, or awaitsDeleteLocked saw the Delete. Writes of
// other proxies can sit between the two halves: the whole queue is looked at.
func markUpserts(c *chanState, ts uint64) {
	c.markedTs = ts
	var at []*wal.Event
	for _, ev := range c.queue {
		if ev.Ts == ts {
			at = append(at, ev)
		}
	}
	upsert.Mark(at)
}

// PairBroken stops holding the upsert Inserts of collection coll at ts on
// channel ch: their Delete will not come (see upsert.Tracker).
func (m *Merger) PairBroken(ch int, ts uint64, coll int64) {
	m.mu.Lock()
	c := m.chans[ch]
	for i, ev := range c.queue {
		if upsert.IsInsertHalf(ev) && ev.Ts == ts && ev.CollectionID == coll {
			c.queuedAt[i] = time.Time{}
		}
	}
	m.mu.Unlock()
	m.signal()
}
