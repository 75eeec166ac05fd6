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

// Checkpointer is the one tracker of what the output acknowledged: from the
// batches handed out and their acknowledgements it writes the resume
// positions and the messages acknowledged beyond them to the cache, and it
// follows the source time up to which every change read was applied.
type Checkpointer struct {
	dest  Destination
	acks  *ackTracker
	names NameSource          // nil: no names stored
	order logreader.Positions // orders the positions of the log read

	mu    sync.Mutex // held while writing, so writes never land out of order
	state stored
}

// Destination is where a checkpoint is stored.
type Destination struct {
	Res   *service.Resources
	Cache string // empty: checkpoints are not stored
	Key   string
	Fence *lease.Fence // nil: written through the cache unfenced; else a compare-and-set on the task's run
}

// NameSource gives the names to store with checkpoint positions pos
// (sourcemeta.Names).
type NameSource interface {
	Snapshot(pos map[string][]byte) map[int64]contract.CollectionRef
}

// stored is what the checkpointer last wrote or is about to.
type stored struct {
	failed error // set after a nack without replay: no checkpoint may pass it
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
	return c.state.wrote
}

// errClosed: the run of this checkpointer ended; the next run stores its own.
var errClosed = errors.New("checkpoint: the input run that read this batch has ended (the next run repeats it)")

// Close stops every later write: a run torn down (a reconnect) may still
// see acknowledgements of what it read, and writing them would move the
// stored state back under the next run's.
func (c *Checkpointer) Close() {
	c.mu.Lock()
	c.state.closed = true
	c.mu.Unlock()
}

// New returns a checkpointer writing to dest, allowing limit messages in
// flight; names (may be nil) are stored with the positions, which order
// compares.
func New(dest Destination, limit int, names NameSource, order logreader.Positions) *Checkpointer {
	return &Checkpointer{dest: dest, acks: newAckTracker(limit), names: names, order: order}
}

// Load reads the stored checkpoint; nil when none is stored.
func (c *Checkpointer) Load(ctx context.Context) (*contract.CheckpointState, error) {
	d := c.dest
	if d.Cache == "" {
		return nil, nil
	}
	var raw []byte
	var getErr error
	err := d.Res.AccessCache(ctx, d.Cache, func(cache service.Cache) {
		raw, getErr = cache.Get(ctx, d.Key)
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoint cache %q: %w", d.Cache, err)
	}
	if errors.Is(getErr, service.ErrKeyNotFound) {
		return nil, nil
	}
	if getErr != nil {
		return nil, fmt.Errorf("read checkpoint %q from cache %q: %w", d.Key, d.Cache, getErr)
	}
	st, err := contract.DecodeCheckpoint(raw)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %q in cache %q: %w", d.Key, d.Cache, err)
	}
	c.mu.Lock()
	c.state.carry, c.state.last, c.state.snap = st.Acked, raw, st.Snapshot
	c.mu.Unlock()
	return &st, nil
}

// UpdateSnapshot changes the snapshot's progress with fn (given a new, empty
// progress when none is stored) and stores it with the positions, in one
// write.
func (c *Checkpointer) UpdateSnapshot(ctx context.Context, fn func(*contract.SnapshotState)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.snap == nil {
		c.state.snap = &contract.SnapshotState{}
	}
	fn(c.state.snap)
	return c.storeLocked(ctx, nil)
}

// Snapshot returns a copy of the snapshot's progress (nil: none).
func (c *Checkpointer) Snapshot() *contract.SnapshotState {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.snap == nil {
		return nil
	}
	return c.state.snap.Clone()
}

// SetBase records where every channel starts, so that a checkpoint written
// before the first batch is fully acknowledged still names every channel.
func (c *Checkpointer) SetBase(pos map[string][]byte) {
	c.mu.Lock()
	c.state.pos = pos
	c.mu.Unlock()
}

// StoreBase writes the start positions as the first checkpoint.
func (c *Checkpointer) StoreBase(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.storeLocked(ctx, nil)
}

// storeLocked writes the current positions with the acknowledged-ahead
// messages of this run and those of the previous run not yet passed.
func (c *Checkpointer) storeLocked(ctx context.Context, ahead map[string][][]byte) error {
	st := &c.state
	if st.closed {
		return errClosed
	}
	if c.dest.Cache == "" || len(st.pos) == 0 {
		return nil
	}
	acked := map[string][][]byte{}
	for ch, ids := range ahead {
		acked[ch] = append(acked[ch], ids...)
	}
	for ch, kept := range c.carriedLocked() {
		acked[ch] = append(acked[ch], kept...)
	}
	ck := contract.CheckpointState{Positions: st.pos, Acked: acked, Snapshot: st.snap}
	if c.names != nil {
		ck.Names = c.names.Snapshot(st.pos)
	}
	b, err := contract.EncodeCheckpoint(ck)
	if err != nil {
		return err
	}
	if bytes.Equal(b, st.last) {
		st.wrote = time.Now() // what is stored is current
		return nil
	}
	if err := lease.Write(ctx, c.dest.Fence, c.dest.Res, c.dest.Cache, c.dest.Key, b); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	st.last, st.wrote = b, time.Now()
	return nil
}

// carriedLocked drops from the previous run's acknowledged-ahead messages
// those the positions have passed, and returns the rest.
func (c *Checkpointer) carriedLocked() map[string][][]byte {
	st := &c.state
	for ch, ids := range st.carry {
		kept := ids[:0:0]
		for _, id := range ids {
			if c.order == nil {
				kept = append(kept, id)
				continue
			}
			after, err := c.order.After(id, st.pos[ch])
			if err != nil || after {
				kept = append(kept, id)
			}
		}
		if len(kept) == 0 {
			delete(st.carry, ch)
			continue
		}
		st.carry[ch] = kept
	}
	return st.carry
}
