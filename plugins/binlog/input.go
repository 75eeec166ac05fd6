package binlog

import (
	"context"
	"fmt"
	"sync"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
)

// binlogInput is the milvus_binlog BatchInput.
type binlogInput struct {
	conf *binlogConfig
	res  *service.Resources
	log  *service.Logger

	mu       sync.Mutex // guards the fields below; never held across I/O
	run      *run       // nil when not connected
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

// ReadBatch hands out the producer's next delivery.
func (b *binlogInput) ReadBatch(ctx context.Context) (service.MessageBatch, service.AckFunc, error) {
	b.mu.Lock()
	r := b.run
	b.mu.Unlock()
	if r == nil {
		return nil, nil, service.ErrNotConnected
	}
	select {
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-r.life.ctx.Done():
		return nil, nil, service.ErrNotConnected // closed meanwhile
	case d := <-r.out:
		switch {
		case d.err == nil:
			return d.batch, d.ack, nil
		case d.end:
			return nil, nil, b.failRun(r, d.err)
		}
		return nil, nil, d.err
	}
}

// failRun ends run r after it failed: for good with a fatal error (Connect
// returns it from now on), else to be reopened by the next Connect, which
// resumes from the checkpoint. (Its producer has returned: a run that
// failed makes nothing more.)
func (b *binlogInput) failRun(r *run, err error) error {
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
		b.log.Warnf("milvus_binlog interrupted (resumed from its checkpoint): %v", err)
	}
	// The next run stores its own progress: an acknowledgement of this one
	// arriving later must not move the stored state back.
	r.acks.Close()
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
