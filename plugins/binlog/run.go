package binlog

import (
	"context"
	"sync"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/checkpoint"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
)

// run is one connection of milvus_binlog: everything open made, torn down as
// a unit by Close or a reconnect. Its producer goroutine owns the phases
// (copy → catch-up → stream, and the copies of collections that waited) and
// hands each batch with its acknowledgement to ReadBatch, which only
// selects.
type run struct {
	in     *binlogInput
	src    opened
	acks   *checkpoint.Checkpointer // the one ack tracker: checkpoint and applied-until
	phases *snapshot.Phases
	stream *stream
	waits  *waitState
	copy   *snapshotCopy // the copy served now (nil: streaming); producer only
	out    chan delivery
	life   lifecycle
}

// opened is what a run connected to.
type opened struct {
	log     logreader.Log
	conn    interface{ Close() error } // the source Milvus
	lister  sourcemeta.GRPC
	copies  snapshot.RunnerSource // what copies read (lister)
	catalog *sourcemeta.Catalog   // names behind IDs, and the streamed collections' (Streamed)
}

// delivery is what the producer hands ReadBatch: a batch and its
// acknowledgement, or an error; end says the run is over with it.
type delivery struct {
	batch service.MessageBatch
	ack   service.AckFunc
	err   error
	end   bool
}

// lifecycle is how a run starts goroutines and ends them.
type lifecycle struct {
	ctx       context.Context // the run's: every goroutine ends with it
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	// startMu orders starting goroutines (readers, copies) with teardown.
	startMu sync.Mutex
	closing bool
	// copyDone is closed when the first copy's runner returned (nil: no
	// copy); set before the run is used, never changed.
	copyDone chan struct{}
}

// goStart runs each of fs in a goroutine the teardown waits for, all or
// none: none when the run is closing (false), since goroutines started after
// teardown waited would outlive it.
func (r *run) goStart(fs ...func()) bool {
	r.life.startMu.Lock()
	defer r.life.startMu.Unlock()
	if r.life.closing {
		return false
	}
	for _, f := range fs {
		r.life.wg.Add(1)
		go func() {
			defer r.life.wg.Done()
			f()
		}()
	}
	return true
}

// produce is the producer goroutine: it makes deliveries until the run ends.
func (r *run) produce() {
	ctx := r.life.ctx
	for {
		d, err := r.step(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			d = delivery{err: err, end: d.end || logreader.IsFatal(err)}
		}
		if d.batch == nil && d.err == nil {
			continue
		}
		select {
		case r.out <- d:
		case <-ctx.Done():
			return
		}
		if d.end {
			return
		}
	}
}

// step makes the next delivery of the current phase; an empty one when
// there is none to hand out yet (a phase ended, the stream holds for a
// copy, or it dropped every event: rows of a collection whose copy waits).
func (r *run) step(ctx context.Context) (delivery, error) {
	if r.copy == nil && !r.stream.held.pending && r.waits.due() {
		if err := r.startDeferred(ctx); err != nil {
			return delivery{end: true}, err
		}
	}
	if r.copy != nil {
		d, err := r.copyStep(ctx)
		if err != nil {
			return delivery{end: true}, err
		}
		return d, nil
	}
	r.phases.CaughtUp(ctx, r.stream.merge.Passed)
	return r.streamStep(ctx)
}

// close tears the run down, once (a fatal read and Close may race). Never
// called from the producer: the teardown waits for it.
func (r *run) close() { r.life.closeOnce.Do(r.teardown) }

func (r *run) teardown() {
	r.life.startMu.Lock()
	r.life.closing = true
	r.life.startMu.Unlock()
	r.src.log.Closing() // readers torn down from here on may complain: no news
	r.life.cancel()
	if r.life.copyDone != nil {
		<-r.life.copyDone // the copy runs under the run's context
	}
	if r.stream != nil {
		r.stream.merge.Close()
	}
	r.life.wg.Wait()
	if r.stream != nil && r.stream.held.batcher != nil {
		_ = r.stream.held.batcher.Close(context.Background())
	}
	r.src.log.Close()
	_ = r.src.conn.Close()
}
