// Package checkpoint tracks the output's acknowledgements and stores the
// input's checkpoint (contract.Checkpoint) in a Benthos cache: positions only
// move past what was acknowledged, and messages acknowledged out of order are
// listed so a restart skips them.
package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
)

// Checkpointer writes, after each acknowledgement, the resume positions and
// the messages acknowledged beyond them to the cache.
type Checkpointer struct {
	res     *service.Resources
	cache   string // empty: checkpoints are not stored
	key     string
	tracker *ackTracker
	names   *Names       // nil: no names stored
	fence   *lease.Fence // nil: written through the cache unfenced

	mu     sync.Mutex // held while writing, so writes never land out of order
	failed error      // set after a nack without replay: no checkpoint may pass it
	pos    map[string][]byte
	carry  map[string][][]byte     // acknowledged-ahead messages of the previous run, not yet passed
	last   []byte                  // what was written last
	snap   *contract.SnapshotState // the initial snapshot's progress (nil: none); stored with the positions
	closed bool                    // the run ended: a late acknowledgement writes nothing
	wrote  time.Time               // when the checkpoint was last written
}

// LastWrite is when the checkpoint was last written (zero: not yet).
func (c *Checkpointer) LastWrite() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wrote
}

// errClosed: the run of this checkpointer ended; the next run stores its own.
var errClosed = errors.New("checkpoint: the input run that read this batch has ended (the next run repeats it)")

// Close stops every later write: a run torn down (a reconnect) may still
// see acknowledgements of what it read, and writing them would move the
// stored state back under the next run's.
func (c *Checkpointer) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// Fenced makes every later write a compare-and-set on the task's run: a
// stream of an ended run cannot move the checkpoint.
func (c *Checkpointer) Fenced(f *lease.Fence) { c.fence = f }

// New returns a checkpointer writing to cache (empty: none) under key,
// allowing limit messages in flight; names (may be nil) are stored with the
// positions.
func New(res *service.Resources, cache, key string, limit int, names *Names) *Checkpointer {
	return &Checkpointer{res: res, cache: cache, key: key, tracker: newAckTracker(limit), names: names}
}

// Load reads the stored checkpoint; nil when none is stored.
func (c *Checkpointer) Load(ctx context.Context) (*contract.CheckpointState, error) {
	if c.cache == "" {
		return nil, nil
	}
	var raw []byte
	var getErr error
	err := c.res.AccessCache(ctx, c.cache, func(cache service.Cache) {
		raw, getErr = cache.Get(ctx, c.key)
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint cache %q: %w", c.cache, err)
	}
	if errors.Is(getErr, service.ErrKeyNotFound) {
		return nil, nil
	}
	if getErr != nil {
		return nil, fmt.Errorf("read checkpoint %q from cache %q: %w", c.key, c.cache, getErr)
	}
	st, err := contract.DecodeCheckpoint(raw)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %q in cache %q: %w", c.key, c.cache, err)
	}
	c.mu.Lock()
	c.carry, c.last, c.snap = st.Acked, raw, st.Snapshot
	c.mu.Unlock()
	return &st, nil
}

// UpdateSnapshot changes the snapshot's progress with fn (given a new, empty
// progress when none is stored) and stores it with the positions, in one
// write.
func (c *Checkpointer) UpdateSnapshot(ctx context.Context, fn func(*contract.SnapshotState)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap == nil {
		c.snap = &contract.SnapshotState{}
	}
	fn(c.snap)
	return c.storeLocked(ctx, nil)
}

// Snapshot returns a copy of the snapshot's progress (nil: none).
func (c *Checkpointer) Snapshot() *contract.SnapshotState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap == nil {
		return nil
	}
	return c.snap.Clone()
}

// SetBase records where every channel starts, so that a checkpoint written
// before the first batch is fully acknowledged still names every channel.
func (c *Checkpointer) SetBase(pos map[string][]byte) {
	c.mu.Lock()
	c.pos = pos
	c.mu.Unlock()
}

// StoreBase writes the start positions as the first checkpoint.
func (c *Checkpointer) StoreBase(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.storeLocked(ctx, nil)
}

// Track registers a batch of n messages ending at positions pos and holding
// the WAL messages ids. It blocks while checkpoint_limit messages are in
// flight. The returned func must be called with the output's result.
func (c *Checkpointer) Track(ctx context.Context, pos map[string][]byte, ids map[string][][]byte, n int) (func(context.Context, error) error, error) {
	b, err := c.tracker.add(ctx, n, pos, ids)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ackErr error) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if ackErr != nil {
			// Without auto replay the batch is dropped: stop checkpointing so a
			// restart reads it again.
			if c.failed == nil {
				c.failed = fmt.Errorf("a batch was rejected by the output and not replayed (%w); checkpoints are frozen until restart", ackErr)
			}
			return nil
		}
		resume, ahead := c.tracker.ack(b)
		if c.failed != nil {
			return nil
		}
		if resume != nil {
			merged := make(map[string][]byte, len(c.pos)+len(resume))
			for ch, p := range c.pos {
				merged[ch] = p
			}
			for ch, p := range resume {
				merged[ch] = p
			}
			c.pos = merged
		}
		return c.storeLocked(ctx, ahead)
	}, nil
}

// storeLocked writes the current positions with the acknowledged-ahead
// messages of this run and those of the previous run not yet passed.
func (c *Checkpointer) storeLocked(ctx context.Context, ahead map[string][][]byte) error {
	if c.closed {
		return errClosed
	}
	if c.cache == "" || len(c.pos) == 0 {
		return nil
	}
	acked := map[string][][]byte{}
	for ch, ids := range ahead {
		acked[ch] = append(acked[ch], ids...)
	}
	for ch, ids := range c.carry {
		kept := ids[:0:0]
		base, err := logreader.KeyOf(c.pos[ch])
		for _, id := range ids {
			k, kerr := logreader.KeyOf(id)
			if err != nil || kerr != nil || k.After(base) {
				kept = append(kept, id)
			}
		}
		if len(kept) == 0 {
			delete(c.carry, ch)
			continue
		}
		c.carry[ch] = kept
		acked[ch] = append(acked[ch], kept...)
	}
	st := contract.CheckpointState{Positions: c.pos, Acked: acked, Snapshot: c.snap}
	if c.names != nil {
		st.Names = c.names.Snapshot(c.pos)
	}
	b, err := contract.EncodeCheckpoint(st)
	if err != nil {
		return err
	}
	if bytes.Equal(b, c.last) {
		c.wrote = time.Now() // what is stored is current
		return nil
	}
	if err := lease.Write(ctx, c.fence, c.res, c.cache, c.key, b); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	c.last, c.wrote = b, time.Now()
	return nil
}
