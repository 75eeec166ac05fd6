package binlog

import (
	"context"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// maxUnbatched and maxUnbatchedBytes cap what one ReadBatch returns when no
// batching policy is configured: insert messages reach 5 MiB, and a batch is
// held in memory until the output acknowledges it.
const (
	maxUnbatched      = 512
	maxUnbatchedBytes = 8 << 20
)

// nextBatch waits for released events and assembles one batch, together with
// the per-channel positions to checkpoint once it is acknowledged and the
// positions of the WAL messages it holds.
func (b *binlogInput) nextBatch(ctx context.Context, r *binlogRun) (service.MessageBatch, map[string][]byte, map[string][][]byte, error) {
	// Re-check the merge now and then: a channel going idle releases events
	// without any new message arriving.
	poll := time.NewTicker(b.conf.idleAfter / 4)
	defer poll.Stop()
	noop := b.conf.batching.IsNoop()
	for {
		if r.waits.due() {
			// A collection that waited is to be copied: hand out what the
			// batch policy holds, then hold (ReadBatch starts the copy).
			if r.batchPending {
				return r.flushBatch(ctx)
			}
			return nil, nil, nil, errHold
		}
		if noop {
			if evs, pos := r.merge.PopReady(maxUnbatched, maxUnbatchedBytes); len(evs) > 0 {
				var batch service.MessageBatch
				ids := map[string][][]byte{}
				r.lastMaxTs = 0
				for _, ev := range evs {
					if r.waits.drops(ev) {
						continue // not in ids: a dropped row is never "acknowledged ahead", so never skipped after a restart
					}
					r.lastMaxTs = max(r.lastMaxTs, ev.Ts)
					msgs, err := b.render(ev)
					if err != nil {
						return nil, nil, nil, err
					}
					batch = append(batch, msgs...)
					ids[ev.Channel] = append(ids[ev.Channel], ev.Position)
				}
				return batch, pos, ids, nil
			}
		} else {
			// One event (or one upsert pair) at a time, so the policy decides
			// where a batch ends.
			for {
				evs, pos := r.merge.PopReady(1, maxUnbatchedBytes)
				if len(evs) == 0 {
					break
				}
				full := false
				r.batchPos, r.batchPending = pos, true
				for _, ev := range evs {
					if r.waits.drops(ev) {
						continue // see the unbatched case
					}
					r.batchMaxTs = max(r.batchMaxTs, ev.Ts)
					msgs, err := b.render(ev)
					if err != nil {
						return nil, nil, nil, err
					}
					for _, m := range msgs {
						full = r.batcher.Add(m) || full
					}
					if r.batchIDs == nil {
						r.batchIDs = map[string][][]byte{}
					}
					r.batchIDs[ev.Channel] = append(r.batchIDs[ev.Channel], ev.Position)
				}
				if full {
					return r.flushBatch(ctx)
				}
			}
		}

		r.markCaughtUp(ctx)
		r.applied.idle(r.merge, r.batchPending)
		var timer *time.Timer
		var timeout <-chan time.Time
		if !noop && r.batchPending {
			if d, ok := r.batcher.UntilNext(); ok {
				if d <= 0 {
					return r.flushBatch(ctx)
				}
				timer = time.NewTimer(d)
				timeout = timer.C
			}
		}
		select {
		case <-ctx.Done():
		case err := <-r.errs:
			if timer != nil {
				timer.Stop()
			}
			return nil, nil, nil, err
		case <-r.merge.Wake():
		case <-r.waits.woken():
		case <-poll.C:
		case <-timeout:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return nil, nil, nil, ctx.Err()
		}
	}
}

// flushBatch hands out what the batch policy collected.
func (r *binlogRun) flushBatch(ctx context.Context) (service.MessageBatch, map[string][]byte, map[string][][]byte, error) {
	batch, err := r.batcher.Flush(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	pos, ids := r.batchPos, r.batchIDs
	r.batchPos, r.batchIDs, r.batchPending = nil, nil, false
	r.lastMaxTs, r.batchMaxTs = r.batchMaxTs, 0
	return batch, pos, ids, nil
}
