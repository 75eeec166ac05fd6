package checkpoint

import (
	"context"
	"fmt"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Track registers a batch of n messages ending at positions pos, holding
// the WAL messages ids and changes up to source timestamp maxTs. It blocks
// while checkpoint_limit messages are in flight. The returned func must be
// called with the output's result.
func (c *Checkpointer) Track(ctx context.Context, pos map[string][]byte, ids map[string][][]byte, n int, maxTs uint64) (func(context.Context, error) error, error) {
	b, err := c.acks.add(ctx, n, pos, ids, maxTs)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ackErr error) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if ackErr != nil {
			// Without auto replay the batch is dropped: stop checkpointing so a
			// restart reads it again.
			if c.state.failed == nil {
				c.state.failed = fmt.Errorf("a batch was rejected by the output and not replayed (%w); checkpoints are frozen until restart", ackErr)
			}
			return nil
		}
		resume, ahead := c.acks.ack(b) // applied, even if this checkpoint write fails
		if c.state.failed != nil {
			return nil
		}
		if resume != nil {
			merged := make(map[string][]byte, len(c.state.pos)+len(resume))
			for ch, p := range c.state.pos {
				merged[ch] = p
			}
			for ch, p := range resume {
				merged[ch] = p
			}
			c.state.pos = merged
		}
		return c.storeLocked(ctx, ahead)
	}, nil
}

// Idle moves the applied time to frontier, the source time every channel
// has passed, when nothing is in flight: the time since it is the lag, and
// it stops moving when the task hangs.
func (c *Checkpointer) Idle(frontier uint64) { c.acks.idle(frontier) }

// Settled reports whether every batch handed out is acknowledged.
func (c *Checkpointer) Settled() bool { return c.acks.settled() }

// AppliedUntil is the source timestamp up to which every change read was
// acknowledged (0: nothing yet in this run).
func (c *Checkpointer) AppliedUntil() uint64 {
	until, _ := c.acks.applied()
	return until
}

// Status is the input's status; nil until something was applied in this
// run (the stored one, of an earlier run, stays true meanwhile).
func (c *Checkpointer) Status() any {
	until, movedAt := c.acks.applied()
	if until == 0 {
		return nil
	}
	return contract.InputStatus{AppliedUntil: until, MovedAt: movedAt.UTC(), UpdatedAt: time.Now().UTC()}
}
