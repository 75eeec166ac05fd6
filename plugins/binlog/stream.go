package binlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// maxUnbatched and maxUnbatchedBytes cap what one ReadBatch returns when no
// batching policy is configured: insert messages reach 5 MiB, and a batch is
// held in memory until the output acknowledges it.
const (
	maxUnbatched      = 512
	maxUnbatchedBytes = 8 << 20
)

// stream is the streaming phase: one reader per channel feeding the merge,
// whose released events the producer batches.
type stream struct {
	merge   *order.Merger
	readers []*channelReader
	errs    chan error // fatal errors of channel readers
	held    heldBatch
	// seedCopied: once started, the catalog watches get the collections a
	// copy made; from says where reading starts (logged).
	seedCopied bool
	from       string
}

// heldBatch is the batch being assembled, between producer steps when a
// batching policy decides where it ends.
type heldBatch struct {
	batcher *service.Batcher // nil: no policy, each pop of the merge is a batch
	msgs    service.MessageBatch
	pos     map[string][]byte   // per channel, where to resume once it is acknowledged
	ids     map[string][][]byte // per channel, the positions of its WAL messages
	maxTs   uint64              // its newest change's source timestamp
	pending bool                // events were popped into it (dropped ones included)
}

// add puts the messages of ev (read at its channel's position) in the
// batch; full says the policy ends the batch here.
func (h *heldBatch) add(ev *wal.Event, msgs []*service.Message) (full bool) {
	h.maxTs = max(h.maxTs, ev.Ts)
	if h.batcher == nil {
		h.msgs = append(h.msgs, msgs...)
	}
	for _, m := range msgs {
		full = h.batcher != nil && h.batcher.Add(m) || full
	}
	if h.ids == nil {
		h.ids = map[string][][]byte{}
	}
	h.ids[ev.Channel] = append(h.ids[ev.Channel], ev.Position)
	return full
}

// flush hands out the batch and starts the next.
func (h *heldBatch) flush(ctx context.Context) (heldBatch, error) {
	out := *h
	if h.batcher != nil {
		var err error
		if out.msgs, err = h.batcher.Flush(ctx); err != nil {
			return heldBatch{}, err
		}
	}
	*h = heldBatch{batcher: h.batcher}
	return out, nil
}

// streamStep makes the stream's next delivery.
func (r *run) streamStep(ctx context.Context) (delivery, error) {
	out, err := r.nextBatch(ctx)
	if errors.Is(err, errHold) {
		return delivery{}, nil
	}
	if err != nil {
		return delivery{}, err
	}
	if len(out.msgs) == 0 {
		return delivery{}, r.passDropped(ctx, out)
	}
	done, err := r.acks.Track(ctx, out.pos, out.ids, len(out.msgs), out.maxTs)
	if err != nil {
		return delivery{}, err
	}
	return delivery{batch: out.msgs, ack: done}, nil
}

// passDropped records a batch whose every event the stream dropped (rows
// of collections that wait) as acknowledged at once.
func (r *run) passDropped(ctx context.Context, out heldBatch) error {
	if len(out.pos) == 0 {
		return nil
	}
	done, err := r.acks.Track(ctx, out.pos, out.ids, 0, 0)
	if err != nil {
		return fmt.Errorf("checkpoint the rows dropped while their collection's copy waits: %w", err)
	}
	return done(ctx, nil)
}

// nextBatch waits for released events and assembles one batch.
func (r *run) nextBatch(ctx context.Context) (heldBatch, error) {
	s := r.stream
	// Re-check the merge now and then: a channel going idle releases events
	// without any new message arriving.
	poll := time.NewTicker(r.in.conf.idleAfter / 4)
	defer poll.Stop()
	for {
		if r.waits.due() {
			// A collection that waited is to be copied: hand out what the
			// batch policy holds, then hold (the producer starts the copy).
			if s.held.pending {
				return s.held.flush(ctx)
			}
			return heldBatch{}, errHold
		}
		if full, err := r.fill(); err != nil || full {
			if err != nil {
				return heldBatch{}, err
			}
			return s.held.flush(ctx)
		}
		r.phases.CaughtUp(ctx, s.merge.Passed)
		if !s.held.pending {
			if f, ok := s.merge.Drained(); ok {
				r.acks.Idle(f)
			}
		}
		if flush, err := r.await(ctx, poll.C); err != nil || flush {
			if err != nil {
				return heldBatch{}, err
			}
			return s.held.flush(ctx)
		}
	}
}

// fill moves released events into the held batch; full when it is to be
// handed out (without a policy: whenever events were released).
func (r *run) fill() (full bool, err error) {
	h := &r.stream.held
	limit := 1 // one event (or one upsert pair) at a time: the policy ends a batch
	if h.batcher == nil {
		limit = maxUnbatched
	}
	for {
		evs, pos := r.stream.merge.PopReady(limit, maxUnbatchedBytes)
		if len(evs) == 0 {
			return false, nil
		}
		h.pos, h.pending = pos, true
		for _, ev := range evs {
			if r.waits.drops(ev) {
				continue // not in ids: a dropped row is never "acknowledged ahead", so never skipped after a restart
			}
			msgs, err := r.in.render(ev)
			if err != nil {
				return false, err
			}
			full = h.add(ev, msgs) || full
		}
		if h.batcher == nil || full {
			return true, nil
		}
	}
}

// await blocks until there may be news: flush says the policy's period
// ended with a batch held.
func (r *run) await(ctx context.Context, poll <-chan time.Time) (flush bool, err error) {
	s := r.stream
	var timeout <-chan time.Time
	if s.held.batcher != nil && s.held.pending {
		if d, ok := s.held.batcher.UntilNext(); ok {
			if d <= 0 {
				return true, nil
			}
			timer := time.NewTimer(d)
			defer timer.Stop()
			timeout = timer.C
		}
	}
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case err := <-s.errs:
		return false, err
	case <-s.merge.Wake():
	case <-r.waits.woken():
	case <-poll:
	case <-timeout:
	}
	return false, nil
}

// startReaders starts the channel readers (after the copy, if any).
func (r *run) startReaders() bool {
	s := r.stream
	ctx := r.life.ctx
	if s.seedCopied {
		// Watch the catalog of what the copy made, as of now.
		seedWatches(ctx, r.src.lister, r.src.catalog.Streamed().Snapshot(s.merge.Positions()), s.readers, r.in.log)
	}
	readers := make([]func(), 0, len(s.readers))
	for _, cr := range s.readers {
		readers = append(readers, func() {
			defer cr.ch.Close()
			if err := cr.run(ctx); err != nil && ctx.Err() == nil {
				s.errs <- err
			}
		})
	}
	if !r.goStart(readers...) {
		return false
	}
	c := r.in.conf
	r.in.log.Infof("Reading the Milvus WAL from %s: %d DML channels + replicate channel %q, starting at %s",
		c.pulsar.URL, len(c.topics().DMLNames()), c.topics().ReplicateName(), s.from)
	return true
}
