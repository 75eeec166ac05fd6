// Package order merges the events of every channel of the log, using the
// channels' time ticks, with bounded queues: in source timestamp order, or
// row changes on arrival and the rest in timestamp order (release.go); it
// tells the input which positions are safe to checkpoint.
package order

import (
	"sync"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// Merger releases the events of all channels in source timestamp order.
//
// Milvus sends a time tick T on every physical channel in use: it promises
// that no later message of that channel has a timestamp <= T. An event with
// timestamp t is therefore released only when every channel that can still
// produce has shown a tick >= t (what Milvus's own consumers do). A channel
// that has shown nothing for idleAfter (no collection uses it, so it does not
// tick) stops blocking, provided its reader is idle too and its log confirms
// it was read to the end (see WatchEnd). The replicate channel has no ticks
// and never blocks; its events are released in timestamp order with the
// others.
type Merger struct {
	mu    sync.Mutex
	chans []*chanState // DML channels first, then the replicate channel
	now   func() time.Time

	queueLimits  // fixed at New
	mergeTiming  // fixed at New
	mergeSignals // made at New

	// Guarded by mu, as is every chanState:
	closed   bool
	released uint64 // highest timestamp released so far
	// ordered: every event up to it has been released (the highest one
	// released in total order).
	ordered uint64
	early   bool // OrderingKey: row changes go on arrival (release.go)
}

// queueLimits bounds what one channel may queue before its reader waits
// (PushEvent). Set by New.
type queueLimits struct {
	queueCap int // events
	bytesCap int // payload bytes
}

// mergeTiming is how long the merge waits for what. Set by New.
type mergeTiming struct {
	idleAfter time.Duration // silence after which a channel may stop blocking
	// pairWait bounds how long an upsert's Insert waits for its Delete.
	pairWait time.Duration
	// endEvery, endTimeout, endValid: see WatchEnd.
	endEvery, endTimeout, endValid time.Duration
}

// mergeSignals wakes the two sides of the merge.
type mergeSignals struct {
	wake  chan struct{} // signalled when something may have become ready
	space *sync.Cond    // signalled when queues shrink or on close (on Merger.mu)
}

// defaultPairWait: after a Pulsar outage the proxy's producer re-sends an
// upsert's Insert and Delete right after each other; seconds are plenty.
const defaultPairWait = 10 * time.Second

// chanState is one channel's part of the merge, guarded by Merger.mu.
type chanState struct {
	name      string
	ticking   bool   // DML channel: carries time ticks and blocks the merge
	watermark uint64 // highest time tick seen
	lastPos   []byte // position of the last message read (data or tick)
	chanQueue
	chanLiveness
}

// chanQueue is what a channel read and the merge has not released yet.
type chanQueue struct {
	queue    []*wal.Event
	bytes    int         // payload bytes queued
	befores  [][]byte    // befores[i] = position of the message read before queue[i]
	queuedAt []time.Time // queuedAt[i] = when queue[i] was queued (bounds the wait for an upsert's Delete)
	markedTs uint64      // last timestamp whose upsert pairs were marked
}

// chanLiveness is what tells whether a silent channel is idle (end.go).
type chanLiveness struct {
	lastSeen time.Time
	// busy: the reader is handling a message (asking the source, say), so
	// silence means a slow reader, not an unused channel: never idle then.
	busy bool
	// endAt: when the log last confirmed that nothing follows lastPos
	// (zero: not since the last message); gen counts messages and busy
	// changes, so a confirmation that raced with one is dropped.
	endAt time.Time
	gen   uint64
}

// heard records that c showed something: it is not silent, and no longer
// known to be at its end.
func (c *chanState) heard(now time.Time) {
	c.lastSeen, c.endAt = now, time.Time{}
	c.gen++
}

func New(dmlChannels []string, replicateChannel string, idleAfter time.Duration, queueCap, bytesCap int) *Merger {
	m := &Merger{
		now:          time.Now,
		queueLimits:  queueLimits{queueCap: queueCap, bytesCap: bytesCap},
		mergeTiming:  mergeTiming{idleAfter: idleAfter, pairWait: defaultPairWait},
		mergeSignals: mergeSignals{wake: make(chan struct{}, 1)},
	}
	m.endEvery, m.endTimeout, m.endValid = endTiming(idleAfter)
	m.space = sync.NewCond(&m.mu)
	// Every channel gets idleAfter from start to speak before it stops blocking.
	start := m.now()
	for _, c := range dmlChannels {
		m.chans = append(m.chans, &chanState{name: c, ticking: true, chanLiveness: chanLiveness{lastSeen: start}})
	}
	if replicateChannel != "" {
		m.chans = append(m.chans, &chanState{name: replicateChannel})
	}
	return m
}

func (m *Merger) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// SetStart records the position a channel resumes from, so that a checkpoint
// taken before the channel produced anything keeps that position.
func (m *Merger) SetStart(ch int, pos []byte) {
	m.mu.Lock()
	m.chans[ch].lastPos = pos
	m.mu.Unlock()
}

// SetLastSeen says channel ch was at the end of its log when it opened, and
// backdates when it last showed anything (the publish time of its newest
// message; zero for an empty topic), so a channel that has been silent for
// idleAfter already does not block the merge at start. The opening counts
// as a confirmation that it is at its end (see WatchEnd).
func (m *Merger) SetLastSeen(ch int, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.chans[ch]
	if t.IsZero() {
		t = m.now().Add(-m.idleAfter)
	}
	if t.Before(c.lastSeen) {
		c.lastSeen = t
	}
	c.endAt = m.now()
}

// Released is the highest timestamp released so far. An event made by a
// reader rather than read (the source's catalog, say) is stamped no lower:
// a channel that was idle can tick behind what other channels released.
func (m *Merger) Released() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.released
}

// Passed reports whether the merge is past timestamp ts: it released in
// total order an event at or after ts, or every channel that still produces
// has ticked past it (at least one of them ticking).
func (m *Merger) Passed(ts uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ordered >= ts {
		return true
	}
	f := m.frontierLocked()
	return f != ^uint64(0) && f >= ts
}

// Drained returns the frontier when no channel has an event queued (ok
// false otherwise, or when no channel ticks yet): every change up to it
// has been released.
func (m *Merger) Drained() (uint64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.chans {
		if len(c.queue) > 0 {
			return 0, false
		}
	}
	f := m.frontierLocked()
	return f, f != ^uint64(0)
}

// SetBusy marks channel ch's reader as handling a message (true) or back to
// waiting for the next one (false). A busy channel is never taken for idle:
// its next events may carry timestamps the merge must not have passed.
func (m *Merger) SetBusy(ch int, busy bool) {
	m.mu.Lock()
	c := m.chans[ch]
	c.busy = busy
	if busy {
		c.endAt = time.Time{}
		c.gen++
	} else {
		c.heard(m.now())
	}
	m.mu.Unlock()
	if !busy {
		m.signal()
	}
}

// PushTick records a time tick of channel ch read at position pos.
func (m *Merger) PushTick(ch int, ts uint64, pos []byte) {
	m.mu.Lock()
	c := m.chans[ch]
	if ts > c.watermark {
		c.watermark = ts
	}
	c.heard(m.now())
	c.lastPos = pos
	m.mu.Unlock()
	m.signal()
}

// PushSkipped records that a message of channel ch was read and dropped
// (filtered out, or written by replication), so its position is consumed.
func (m *Merger) PushSkipped(ch int, pos []byte) {
	m.mu.Lock()
	c := m.chans[ch]
	c.heard(m.now())
	c.lastPos = pos
	m.mu.Unlock()
}

// PushEvent queues a data event. It blocks while the channel's queue is full
// (queueCap events or bytesCap payload bytes) and the queue moves without
// this channel reading on: its own ticks already cover everything queued
// (then other channels must move first), or, with OrderingKey, a row change
// heads it (released without any tick). A channel that needs its own next
// tick to move is never blocked, or the merge could deadlock.
func (m *Merger) PushEvent(ch int, ev *wal.Event) bool {
	m.mu.Lock()
	c := m.chans[ch]
	for !m.closed && len(c.queue) > 0 && (len(c.queue) >= m.queueCap || c.bytes >= m.bytesCap) &&
		(!c.ticking || c.watermark >= c.queue[len(c.queue)-1].Ts || m.headGoesLocked(c)) {
		m.space.Wait()
	}
	if m.closed {
		m.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, ev)
	c.queuedAt = append(c.queuedAt, m.now())
	c.bytes += len(ev.Payload)
	c.befores = append(c.befores, c.lastPos)
	c.heard(m.now())
	c.lastPos = ev.Position
	m.mu.Unlock()
	m.signal()
	return true
}

// headGoesLocked reports whether, with OrderingKey, c's queue is headed by a
// row change that is released without a tick of any channel. Without this, a
// source whose ticks come seconds apart under load (seen at its top insert
// rate) let a queue grow by everything written between two ticks: a worker
// held 150 MB of decompressed messages.
func (m *Merger) headGoesLocked(c *chanState) bool {
	return m.early && c.queue[0].IsRow() && !m.awaitsDeleteLocked(c)
}

// frontierLocked is the highest timestamp up to which every blocking channel
// has promised completeness.
func (m *Merger) frontierLocked() uint64 {
	now := m.now()
	f := ^uint64(0)
	for _, c := range m.chans {
		if !c.ticking {
			continue
		}
		// Idle: nothing uses the channel, so it no longer ticks; its next
		// message will carry a fresh, higher timestamp.
		if m.idleLocked(c, now) {
			continue
		}
		if c.watermark < f {
			f = c.watermark
		}
	}
	return f
}

// Wake is signalled when events may have become ready.
func (m *Merger) Wake() <-chan struct{} { return m.wake }

// positionsLocked returns, per channel, the position after which reading
// must resume: the message before the first unreleased event, or the last
// message read when nothing of the channel is pending.
func (m *Merger) positionsLocked() map[string][]byte {
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

// Positions returns the current resume positions of every channel.
func (m *Merger) Positions() map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.positionsLocked()
}

func (m *Merger) Close() {
	m.mu.Lock()
	m.closed = true
	m.space.Broadcast()
	m.mu.Unlock()
	m.signal()
}
