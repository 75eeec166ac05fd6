package binlog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/checkpoint"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
)

// binlogInput is the milvus_binlog BatchInput.
type binlogInput struct {
	conf *binlogConfig
	res  *service.Resources
	log  *service.Logger

	mu       sync.Mutex // guards the fields below; never held across I/O
	run      *binlogRun // nil when not connected
	closed   bool
	fatalErr error
}

func milvusBinlogInputFromParsed(conf *service.ParsedConfig, mgr *service.Resources) (*binlogInput, error) {
	c, err := binlogConfigFromParsed(conf, mgr)
	if err != nil {
		return nil, err
	}
	return &binlogInput{conf: c, res: mgr, log: mgr.Logger()}, nil
}

func (b *binlogInput) Connect(ctx context.Context) error {
	b.mu.Lock()
	switch {
	case b.fatalErr != nil:
		defer b.mu.Unlock()
		return b.fatalErr
	case b.closed:
		b.mu.Unlock()
		return service.ErrEndOfInput
	case b.run != nil:
		b.mu.Unlock()
		return nil
	}
	b.mu.Unlock()

	r, err := b.open(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		if logreader.IsFatal(err) {
			b.fatalErr = err
			go b.report(err) // writes to a cache: not under b.mu
		}
		return err
	}
	if b.closed || b.run != nil {
		closed := b.closed
		go r.close() // closed meanwhile, or another Connect won
		if closed {
			return service.ErrEndOfInput
		}
		return nil
	}
	b.run = r
	return nil
}

func (b *binlogInput) ReadBatch(ctx context.Context) (service.MessageBatch, service.AckFunc, error) {
	b.mu.Lock()
	r := b.run
	b.mu.Unlock()
	if r == nil {
		return nil, nil, service.ErrNotConnected
	}
	for {
		batch, ack, err := b.readOnce(ctx, r)
		if batch != nil || err != nil {
			return batch, ack, err
		}
	}
}

// readOnce hands out the next batch of the copy or the stream; nil, nil,
// nil when there is none to hand out yet (the copy ended, the stream
// holds for a copy, or it dropped every event: rows of a collection whose
// copy waits).
func (b *binlogInput) readOnce(ctx context.Context, r *binlogRun) (service.MessageBatch, service.AckFunc, error) {
	if r.snap == nil && !r.batchPending && r.waits.due() {
		if err := b.startDeferred(ctx, r); err != nil {
			return nil, nil, b.failRun(r, err)
		}
	}
	if r.snap != nil {
		batch, ack, err := b.readSnapshot(ctx, r)
		if err != nil {
			return nil, nil, b.failRun(r, err)
		}
		if batch != nil || r.snap != nil {
			return batch, ack, nil
		}
	}
	r.markCaughtUp(ctx)
	batch, pos, ids, err := b.nextBatch(ctx, r)
	if errors.Is(err, errHold) {
		return nil, nil, nil
	}
	if err == nil && len(batch) == 0 {
		return nil, nil, r.passDropped(ctx, pos, ids)
	}
	if err != nil {
		if logreader.IsFatal(err) {
			b.mu.Lock()
			b.fatalErr = err
			if b.run == r {
				b.run = nil
			}
			b.mu.Unlock()
			b.report(err)
			r.close()
			return nil, nil, service.ErrNotConnected
		}
		return nil, nil, err
	}
	done, err := r.ckpt.Track(ctx, pos, ids, len(batch))
	if err != nil {
		return nil, nil, err
	}
	applied := r.applied.add(r.lastMaxTs)
	return batch, func(ctx context.Context, ackErr error) error {
		err := done(ctx, ackErr)
		if ackErr == nil {
			r.applied.ack(applied) // applied, even if this checkpoint write failed
		}
		return err
	}, nil
}

// failRun ends run r after the copy failed: for good with a fatal error
// (Connect returns it from now on), else to be reopened by the next Connect,
// which resumes from the checkpoint. A ctx error is passed on as it is.
func (b *binlogInput) failRun(r *binlogRun, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	b.mu.Lock()
	if logreader.IsFatal(err) {
		b.fatalErr = err
	}
	if b.run == r {
		b.run = nil
	}
	b.mu.Unlock()
	if logreader.IsFatal(err) {
		b.report(err)
	} else {
		b.log.Warnf("Snapshot interrupted (resumed from its checkpoint): %v", err)
	}
	// The next run stores its own progress: an acknowledgement of this one
	// arriving later must not move the stored state back.
	r.ckpt.Close()
	r.close()
	return service.ErrNotConnected
}

// report logs a fatal error (Connect returns it from now on, see fatalErr)
// and reports it to the failure cache.
func (b *binlogInput) report(err error) {
	b.log.Errorf("milvus_binlog stopped: %v", err)
	b.conf.failures.Report("milvus_binlog stopped: "+err.Error(), b.log)
}

// Close stops the readers and closes the log and the source connection; it
// gives up waiting when ctx ends (the teardown goes on in the background).
func (b *binlogInput) Close(ctx context.Context) error {
	b.mu.Lock()
	r := b.run
	b.run, b.closed = nil, true
	b.mu.Unlock()
	if b.conf.fence != nil {
		defer b.conf.fence.Close()
	}
	if r == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		r.close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("milvus_binlog did not close in time: %w", ctx.Err())
	}
}

// binlogRun holds everything one connection opened, so Close and a
// reconnect tear it down as a unit.
type binlogRun struct {
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	log       logreader.Log
	source    interface{ Close() error }
	merge     *order.Merger
	ckpt      *checkpoint.Checkpointer
	batcher   *service.Batcher
	errs      chan error // fatal errors of channel readers
	closeOnce sync.Once

	// The copy served before the stream (nil: streaming), and the copy's
	// end while the stream catches up to it (0: not catching up). Only
	// ReadBatch's goroutine touches them.
	snap  *snapshotCopy
	endTs uint64
	// applied follows what the output acknowledged (lag, status); lastMaxTs
	// is the newest timestamp of the batch nextBatch just made.
	applied   appliedTracker
	lastMaxTs uint64
	// snapDone is closed when the copy's runner returned (nil: no copy);
	// set before the run is used, never changed.
	snapDone chan struct{}
	// waits follows the collections whose copy waits; deferred is what
	// their copy needs once they can be read.
	waits    *waitState
	deferred deferredRun
	// startMu orders starting the stream after a copy with teardown.
	startMu sync.Mutex
	closing bool

	// What the batch policy holds between ReadBatch calls.
	batchPos     map[string][]byte
	batchIDs     map[string][][]byte
	batchPending bool
	batchMaxTs   uint64
}

// close tears the run down, once (a fatal read and Close may race).
func (r *binlogRun) close() { r.closeOnce.Do(r.teardown) }

func (r *binlogRun) teardown() {
	r.startMu.Lock()
	r.closing = true
	r.startMu.Unlock()
	r.log.Closing() // readers torn down from here on may complain: no news
	r.cancel()
	if r.snapDone != nil {
		<-r.snapDone // the copy runs under the run's context
	}
	r.merge.Close()
	r.wg.Wait()
	if r.batcher != nil {
		_ = r.batcher.Close(context.Background())
	}
	r.log.Close()
	_ = r.source.Close()
}
