package order

import (
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/upsert"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// Release order (SetOrdering).
//
// A row's final state depends only on the order of the changes to its own
// primary key, and Milvus routes every key of a collection to one channel.
// The channel reader keeps each channel's changes right for every key even
// when they arrive out of timestamp order (package repair). So with
// OrderingKey a row change is released as soon as it heads its channel's
// queue, without waiting for the ticks of every channel. What needs other
// channels stays in total order: an event that is not a row change
// (collections, partitions, databases, renames, aliases, indexes, loads,
// flushes) is released only when every channel ticked past it and every
// queued event older than it went first. A channel's queue is released in the
// order it was read, so rows written after a DDL of their channel (a
// collection's create is written to each of its channels) wait for it.
const (
	// OrderingKey: rows on arrival, in order per primary key; DDL in total order.
	OrderingKey = "key"
	// OrderingTotal: every event in source timestamp order.
	OrderingTotal = "total"
)

// SetOrdering selects the release order: OrderingKey or OrderingTotal (the
// default of a new Merger).
func (m *Merger) SetOrdering(ordering string) {
	m.mu.Lock()
	m.early = ordering == OrderingKey
	m.mu.Unlock()
	m.signal()
}

// PopReady releases up to max events (and about maxBytes of payload) that are ready, and
// returns them with the per-channel positions that are safe to resume from
// once all of them (and everything released before) are acknowledged. Events
// sharing the last one's timestamp come along even beyond max: the Insert and
// Delete of one upsert are never split over two batches.
func (m *Merger) PopReady(max, maxBytes int) ([]*wal.Event, map[string][]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.frontierLocked()
	var out []*wal.Event
	size := 0
	for {
		c := m.nextLocked(f)
		if c == nil {
			break
		}
		ev := c.queue[0]
		if (len(out) >= max || (len(out) > 0 && size+len(ev.Payload) > maxBytes)) && ev.Ts != out[len(out)-1].Ts {
			break
		}
		c.bytes -= len(ev.Payload)
		size += len(ev.Payload)
		if (ev.Ts != c.markedTs && ev.IsRow()) || (upsert.IsInsertHalf(ev) && !ev.Upsert) {
			markUpserts(c, ev.Ts)
		}
		c.queue[0], c.befores[0] = nil, nil
		c.queue, c.befores, c.queuedAt = c.queue[1:], c.befores[1:], c.queuedAt[1:]
		out = append(out, ev)
		m.released = max64(m.released, ev.Ts)
		if ev.Ts <= f {
			m.ordered = max64(m.ordered, ev.Ts)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	m.space.Broadcast()
	return out, m.positionsLocked()
}

// nextLocked picks the channel whose head goes next, nil when none may.
// First the oldest head of all, once every channel ticked past it (total
// order); with OrderingKey else the oldest row change heading a queue. An
// upsert Insert whose Delete is not queued yet goes nowhere.
func (m *Merger) nextLocked(f uint64) *chanState {
	var oldest *chanState
	for _, c := range m.chans {
		if len(c.queue) > 0 && (oldest == nil || c.queue[0].Ts < oldest.queue[0].Ts) {
			oldest = c
		}
	}
	if oldest == nil {
		return nil
	}
	if oldest.queue[0].Ts <= f && !m.awaitsDeleteLocked(oldest) {
		return oldest
	}
	if !m.early {
		return nil
	}
	var row *chanState
	for _, c := range m.chans {
		if len(c.queue) == 0 || !c.queue[0].IsRow() || m.awaitsDeleteLocked(c) {
			continue
		}
		if row == nil || c.queue[0].Ts < row.queue[0].Ts {
			row = c
		}
	}
	return row
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}
