package checkpoint

import (
	"context"
	"sync"
	"time"
)

// ackTracker follows the batches handed to the output in read order. When the
// output acknowledges out of order, it knows both the positions every
// predecessor of which is acknowledged (the resume point) and which messages
// beyond it are acknowledged already (to skip after a restart, so they do not
// come twice), and the source time up to which every change is applied.
type ackTracker struct {
	mu       sync.Mutex
	limit    int64
	inFlight int64
	queue    []*trackedBatch // unacknowledged or acknowledged ahead, oldest first
	freed    chan struct{}   // closed (and replaced) when messages leave flight
	until    uint64          // every change up to this source time is applied
	movedAt  time.Time       // when until last moved
}

type trackedBatch struct {
	n     int64
	pos   map[string][]byte   // per channel, where to resume once this and all before are acknowledged
	ids   map[string][][]byte // per channel, the positions of the WAL messages in the batch
	maxTs uint64              // the newest change's source timestamp (0: none)
	acked bool
}

func newAckTracker(limit int) *ackTracker {
	if limit < 1 {
		limit = 1
	}
	return &ackTracker{limit: int64(limit), freed: make(chan struct{})}
}

// add registers a batch of n messages, waiting while limit messages are in
// flight (a batch larger than the limit passes alone).
func (t *ackTracker) add(ctx context.Context, n int, pos map[string][]byte, ids map[string][][]byte, maxTs uint64) (*trackedBatch, error) {
	b := &trackedBatch{n: int64(n), pos: pos, ids: ids, maxTs: maxTs}
	for {
		t.mu.Lock()
		if t.inFlight == 0 || t.inFlight+b.n <= t.limit {
			t.inFlight += b.n
			t.queue = append(t.queue, b)
			t.mu.Unlock()
			return b, nil
		}
		freed := t.freed
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-freed:
		}
	}
}

// ack marks b acknowledged. It returns the resume positions if they moved
// (nil otherwise) and the messages acknowledged beyond them, per channel.
func (t *ackTracker) ack(b *trackedBatch) (resume map[string][]byte, ahead map[string][][]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b.acked {
		return nil, t.aheadLocked()
	}
	b.acked = true
	t.inFlight -= b.n
	close(t.freed)
	t.freed = make(chan struct{})
	for len(t.queue) > 0 && t.queue[0].acked {
		resume = t.queue[0].pos
		t.moveLocked(t.queue[0].maxTs)
		t.queue[0] = nil
		t.queue = t.queue[1:]
	}
	return resume, t.aheadLocked()
}

func (t *ackTracker) aheadLocked() map[string][][]byte {
	var out map[string][][]byte
	for _, b := range t.queue {
		if !b.acked {
			continue
		}
		if out == nil {
			out = map[string][][]byte{}
		}
		for ch, ids := range b.ids {
			out[ch] = append(out[ch], ids...)
		}
	}
	return out
}

// idle moves the applied time to frontier when no batch is pending.
func (t *ackTracker) idle(frontier uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queue) == 0 {
		t.moveLocked(frontier)
	}
}

func (t *ackTracker) moveLocked(ts uint64) {
	if ts > t.until {
		t.until, t.movedAt = ts, time.Now()
	}
}

func (t *ackTracker) settled() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.queue) == 0
}

func (t *ackTracker) applied() (uint64, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.until, t.movedAt
}
