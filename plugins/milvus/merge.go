package milvus

import (
	"sync"
	"time"
)

// merger releases the events of all channels in source timestamp order.
//
// Milvus sends a time tick T on every physical channel in use: it promises
// that no later message of that channel has a timestamp <= T. An event with
// timestamp t is therefore released only when every channel that can still
// produce has shown a tick >= t (what Milvus's own consumers do). A channel
// that has shown nothing for idleAfter (no collection uses it, so it does not
// tick) stops blocking. The replicate channel has no ticks and never blocks;
// its events are released in timestamp order with the others.
type merger struct {
	mu        sync.Mutex
	chans     []*chanState // DML channels first, then the replicate channel
	idleAfter time.Duration
	queueCap  int
	bytesCap  int
	now       func() time.Time
	wake      chan struct{} // signalled when something may have become ready
	space     *sync.Cond    // signalled when queues shrink or on close
	closed    bool
	markedTs  uint64 // last timestamp whose upsert pairs were marked
	// pairWait bounds how long an upsert's Insert waits for its Delete.
	pairWait time.Duration
}

// defaultPairWait: after a Pulsar outage the proxy's producer re-sends an
// upsert's Insert and Delete right after each other; seconds are plenty.
const defaultPairWait = 10 * time.Second

type chanState struct {
	name      string
	ticking   bool // DML channel: carries time ticks and blocks the merge
	queue     []*walEvent
	bytes     int      // payload bytes queued
	befores   [][]byte // befores[i] = position of the message read before queue[i]
	watermark uint64   // highest time tick seen
	lastSeen  time.Time
	lastPos   []byte // position of the last message read (data or tick)
}

func newMerger(dmlChannels []string, replicateChannel string, idleAfter time.Duration, queueCap, bytesCap int) *merger {
	m := &merger{idleAfter: idleAfter, queueCap: queueCap, bytesCap: bytesCap, now: time.Now, wake: make(chan struct{}, 1),
		pairWait: defaultPairWait}
	m.space = sync.NewCond(&m.mu)
	// Every channel gets idleAfter from start to speak before it stops blocking.
	start := m.now()
	for _, c := range dmlChannels {
		m.chans = append(m.chans, &chanState{name: c, ticking: true, lastSeen: start})
	}
	if replicateChannel != "" {
		m.chans = append(m.chans, &chanState{name: replicateChannel})
	}
	return m
}

func (m *merger) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// setStart records the position a channel resumes from, so that a checkpoint
// taken before the channel produced anything keeps that position.
func (m *merger) setStart(ch int, pos []byte) {
	m.mu.Lock()
	m.chans[ch].lastPos = pos
	m.mu.Unlock()
}

// setLastSeen backdates when a channel last showed anything (the publish
// time of its newest message; zero for an empty topic), so a channel that
// has been silent for idleAfter already does not block the merge at start.
func (m *merger) setLastSeen(ch int, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.IsZero() {
		t = m.now().Add(-m.idleAfter)
	}
	if t.Before(m.chans[ch].lastSeen) {
		m.chans[ch].lastSeen = t
	}
}

// pushTick records a time tick of channel ch read at position pos.
func (m *merger) pushTick(ch int, ts uint64, pos []byte) {
	m.mu.Lock()
	c := m.chans[ch]
	if ts > c.watermark {
		c.watermark = ts
	}
	c.lastSeen, c.lastPos = m.now(), pos
	m.mu.Unlock()
	m.signal()
}

// pushSkipped records that a message of channel ch was read and dropped
// (filtered out, or written by replication), so its position is consumed.
func (m *merger) pushSkipped(ch int, pos []byte) {
	m.mu.Lock()
	c := m.chans[ch]
	c.lastSeen, c.lastPos = m.now(), pos
	m.mu.Unlock()
}

// pushEvent queues a data event. It blocks while the channel's queue is full
// (queueCap events or bytesCap payload bytes)
// and the channel's own ticks already cover everything queued (then other
// channels must move first); a channel still waiting for its own tick is never
// blocked, or the merge could deadlock.
func (m *merger) pushEvent(ch int, ev *walEvent) bool {
	m.mu.Lock()
	c := m.chans[ch]
	for !m.closed && len(c.queue) > 0 && (len(c.queue) >= m.queueCap || c.bytes >= m.bytesCap) &&
		(!c.ticking || c.watermark >= c.queue[len(c.queue)-1].Ts) {
		m.space.Wait()
	}
	if m.closed {
		m.mu.Unlock()
		return false
	}
	ev.queuedAt = m.now()
	c.queue = append(c.queue, ev)
	c.bytes += len(ev.Payload)
	c.befores = append(c.befores, c.lastPos)
	c.lastSeen, c.lastPos = m.now(), ev.Position
	m.mu.Unlock()
	m.signal()
	return true
}

// frontierLocked is the highest timestamp up to which every blocking channel
// has promised completeness.
func (m *merger) frontierLocked() uint64 {
	now := m.now()
	f := ^uint64(0)
	for _, c := range m.chans {
		if !c.ticking {
			continue
		}
		// Silent for idleAfter: nothing uses the channel, so it no longer
		// ticks; its next message will carry a fresh, higher timestamp.
		if now.Sub(c.lastSeen) >= m.idleAfter {
			continue
		}
		if c.watermark < f {
			f = c.watermark
		}
	}
	return f
}

// popReady releases up to max events (and about maxBytes of payload) that are ready, in timestamp order, and
// returns them with the per-channel positions that are safe to resume from
// once all of them (and everything released before) are acknowledged. Events
// sharing the last one's timestamp come along even beyond max: the Insert and
// Delete of one upsert are never split over two batches.
func (m *merger) popReady(max, maxBytes int) ([]*walEvent, map[string][]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.frontierLocked()
	var out []*walEvent
	size := 0
	for {
		best := -1
		for i, c := range m.chans {
			if len(c.queue) == 0 {
				continue
			}
			if best < 0 || c.queue[0].Ts < m.chans[best].queue[0].Ts {
				best = i
			}
		}
		if best < 0 || m.chans[best].queue[0].Ts > f {
			break
		}
		if (len(out) >= max || (len(out) > 0 && size+len(m.chans[best].queue[0].Payload) > maxBytes)) &&
			m.chans[best].queue[0].Ts != out[len(out)-1].Ts {
			break
		}
		c := m.chans[best]
		ev := c.queue[0]
		if m.awaitsDeleteLocked(c, ev) {
			break
		}
		c.bytes -= len(ev.Payload)
		size += len(ev.Payload)
		if (ev.Ts != m.markedTs && (ev.Op == OpInsert || ev.Op == OpDelete)) || (isUpsertInsert(ev) && !ev.Upsert) {
			m.markUpsertsLocked(ev.Ts)
		}
		c.queue[0], c.befores[0] = nil, nil
		c.queue, c.befores = c.queue[1:], c.befores[1:]
		out = append(out, ev)
	}
	if len(out) == 0 {
		return nil, nil
	}
	m.space.Broadcast()
	return out, m.positionsLocked()
}

// isUpsertInsert: the Insert half of an upsert carries 0 in Base.Timestamp
// (a plain insert carries its timestamp there).
func isUpsertInsert(ev *walEvent) bool { return ev.Op == OpInsert && ev.BaseTs == 0 }

// awaitsDeleteLocked reports whether ev is an upsert's Insert whose Delete
// is not queued yet. Normally both precede the next time tick, so this never
// holds anything; but after a Pulsar outage Milvus's producer can publish the
// pair after a newer tick, and an Insert released alone would let its Delete
// follow as a plain delete that removes the new rows on the target (and a
// checkpoint between the two would do the same after a restart). It waits at
// most pairWait: a Delete that never comes (its produce failed) must not
// stop the stream.
func (m *merger) awaitsDeleteLocked(c *chanState, ev *walEvent) bool {
	if !isUpsertInsert(ev) || ev.Upsert || m.now().Sub(ev.queuedAt) >= m.pairWait {
		return false
	}
	for _, q := range c.queue[1:] {
		if q.Ts == ev.Ts && q.Op == OpDelete && q.CollectionID == ev.CollectionID {
			return false
		}
	}
	return true
}

// markUpsertsLocked marks the Insert and Delete events of one collection that
// share timestamp ts: that pair is how Milvus 2.3 writes an upsert. All events
// with ts are queued by now, because every blocking channel ticked >= ts.
func (m *merger) markUpsertsLocked(ts uint64) {
	m.markedTs = ts
	inserts, deletes := map[int64]bool{}, map[int64]bool{}
	for _, c := range m.chans {
		for _, ev := range c.queue {
			if ev.Ts != ts {
				if ev.Ts > ts {
					break
				}
				continue
			}
			switch ev.Op {
			case OpInsert:
				inserts[ev.CollectionID] = true
			case OpDelete:
				deletes[ev.CollectionID] = true
			}
		}
	}
	for _, c := range m.chans {
		for _, ev := range c.queue {
			if ev.Ts > ts {
				break
			}
			// A derived Delete removes keys the source no longer has: it must
			// apply even beside an upsert's Insert of the same timestamp.
			if ev.Ts == ts && (ev.Op == OpInsert || ev.Op == OpDelete) && inserts[ev.CollectionID] && deletes[ev.CollectionID] &&
				!(ev.Derived && ev.Op == OpDelete) {
				ev.Upsert = true
			}
		}
	}
}

// positionsLocked returns, per channel, the position after which reading
// must resume: the message before the first unreleased event, or the last
// message read when nothing of the channel is pending.
func (m *merger) positionsLocked() map[string][]byte {
	pos := make(map[string][]byte, len(m.chans))
	for _, c := range m.chans {
		p := c.lastPos
		if len(c.queue) > 0 {
			p = c.befores[0]
		}
		if p != nil {
			pos[c.name] = p
		}
	}
	return pos
}

// positions returns the current resume positions of every channel.
func (m *merger) positions() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.positionsLocked()
}

func (m *merger) close() {
	m.mu.Lock()
	m.closed = true
	m.space.Broadcast()
	m.mu.Unlock()
	m.signal()
}
