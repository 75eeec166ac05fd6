package milvus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// binlogInput is the milvus_binlog BatchInput.
type binlogInput struct {
	conf    *binlogConfig
	tlsConf *tls.Config
	res     *service.Resources
	log     *service.Logger

	mu       sync.Mutex
	run      *binlogRun // nil when not connected
	fatalErr error
}

// binlogRun holds everything one connection opened, so Close and a
// reconnect tear it down as a unit.
type binlogRun struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	client  pulsar.Client
	source  interface{ Close() error }
	merge   *merger
	ckpt    *checkpointer
	batcher *service.Batcher
	errs    chan error // fatal errors of channel readers
	closing *atomic.Bool

	// What the batch policy holds between ReadBatch calls.
	batchPos     map[string][]byte
	batchIDs     map[string][][]byte
	batchPending bool
}

func newBinlogInput(c *binlogConfig, tlsConf *tls.Config, res *service.Resources) *binlogInput {
	return &binlogInput{conf: c, tlsConf: tlsConf, res: res, log: res.Logger()}
}

func (b *binlogInput) topic(short string) string {
	return fmt.Sprintf("persistent://%s/%s/%s", b.conf.tenant, b.conf.namespace, short)
}

// channelNames lists the short topic names: the DML channels, then the
// replicate channel (if enabled).
func (b *binlogInput) channelNames() (dml []string, repl string) {
	for i := 0; i < b.conf.dmlChannels; i++ {
		dml = append(dml, fmt.Sprintf("%s-rootcoord-dml_%d", b.conf.prefix, i))
	}
	if b.conf.replicateChannel != "" {
		repl = b.conf.prefix + "-" + b.conf.replicateChannel
	}
	return dml, repl
}

func (b *binlogInput) Connect(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fatalErr != nil {
		return b.fatalErr
	}
	if b.run != nil {
		return nil
	}
	r, err := b.open(ctx)
	if err != nil {
		var fatal *fatalInputError
		if errors.As(err, &fatal) {
			b.stop(err)
		}
		return err
	}
	b.run = r
	return nil
}

func (b *binlogInput) open(ctx context.Context) (*binlogRun, error) {
	ckpt := newCheckpointer(b.res, b.conf.cacheName, b.conf.cacheKey, b.conf.checkpointLimit)
	stored, err := ckpt.load(ctx)
	if err != nil {
		return nil, err
	}
	if stored == nil && b.conf.startFrom == startCheckpoint {
		return nil, fmt.Errorf("start_from is checkpoint but no checkpoint is stored under key %q in cache %q", b.conf.cacheKey, b.conf.cacheName)
	}

	src, err := b.conf.source.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("source milvus: %w", err)
	}
	closing := &atomic.Bool{}
	client, err := pulsar.NewClient(b.pulsarOptions(closing))
	if err != nil {
		_ = src.Close()
		return nil, fmt.Errorf("pulsar client for %s: %w", b.conf.pulsarURL, err)
	}

	dml, repl := b.channelNames()
	names := append(append([]string{}, dml...), repl)
	if repl == "" {
		names = dml
	}
	rctx, cancel := context.WithCancel(context.Background())
	r := &binlogRun{
		cancel:  cancel,
		client:  client,
		source:  src,
		merge:   newMerger(dml, repl, b.conf.idleAfter, b.conf.queueSize, b.conf.queueBytes),
		ckpt:    ckpt,
		errs:    make(chan error, len(names)),
		closing: closing,
	}
	if !b.conf.batching.IsNoop() {
		if r.batcher, err = b.conf.batching.NewBatcher(b.res); err != nil {
			r.close()
			return nil, err
		}
	}
	lister := grpcMetaLister{svc: src.Service}
	meta := newSourceMeta(lister)
	known := newKnownNames()
	ckpt.names = known
	if stored != nil {
		meta.remember(stored.names)
		for id, ref := range stored.names {
			known.seen(id, ref)
		}
	}
	readers := make([]*channelReader, 0, len(names))
	abort := func() { // before the readers run: close them and the run
		for _, o := range readers {
			o.reader.Close()
		}
		r.close()
	}
	var storedPos map[string][]byte
	var acked map[string][][]byte
	if stored != nil {
		storedPos, acked = stored.pos, stored.acked
	}
	for i, name := range names {
		cr, err := b.openChannel(ctx, client, i, name, storedPos[name], r.merge, meta)
		if err != nil {
			abort()
			return nil, err
		}
		cr.skip = skipSet(acked[name])
		cr.names = known
		cr.rows = newShapeCache(lister)
		readers = append(readers, cr)
	}
	ckpt.setBase(r.merge.positions())
	if stored == nil {
		// Store where this run starts right away: a restart before the first
		// acknowledgement must resume here, not at start_from again (for
		// "latest" that would skip what was written in between).
		if err := ckpt.storeBase(ctx); err != nil {
			abort()
			return nil, err
		}
	}
	for _, cr := range readers {
		r.wg.Add(1)
		go func(cr *channelReader) {
			defer r.wg.Done()
			defer cr.reader.Close()
			if err := cr.run(rctx); err != nil && rctx.Err() == nil {
				r.errs <- err
			}
		}(cr)
	}
	from := b.conf.startFrom
	if stored != nil {
		from = "the stored checkpoint"
	}
	b.log.Infof("Reading the Milvus WAL from %s: %d DML channels + replicate channel %q, starting at %s", b.conf.pulsarURL, len(dml), repl, from)
	return r, nil
}

func (b *binlogInput) ReadBatch(ctx context.Context) (service.MessageBatch, service.AckFunc, error) {
	b.mu.Lock()
	r := b.run
	b.mu.Unlock()
	if r == nil {
		return nil, nil, service.ErrNotConnected
	}
	batch, pos, ids, err := b.nextBatch(ctx, r)
	if err != nil {
		var fatal *fatalInputError
		if errors.As(err, &fatal) {
			b.mu.Lock()
			b.stop(err)
			b.run = nil
			b.mu.Unlock()
			r.close()
			return nil, nil, service.ErrNotConnected
		}
		return nil, nil, err
	}
	done, err := r.ckpt.track(ctx, pos, ids, len(batch))
	if err != nil {
		return nil, nil, err
	}
	return batch, func(ctx context.Context, ackErr error) error {
		return done(ctx, ackErr)
	}, nil
}

// stop records a fatal error (Connect returns it from now on), logs it and
// reports it to the failure cache. The caller holds b.mu.
func (b *binlogInput) stop(err error) {
	b.fatalErr = err
	b.log.Errorf("milvus_binlog stopped: %v", err)
	b.conf.failures.report("milvus_binlog stopped: "+err.Error(), b.log)
}

// fatalInputError stops the input for good (e.g. a checkpoint that Pulsar no
// longer retains): reconnecting cannot fix it.
type fatalInputError struct{ err error }

func (f *fatalInputError) Error() string { return f.err.Error() }
func (f *fatalInputError) Unwrap() error { return f.err }

func (b *binlogInput) Close(ctx context.Context) error {
	b.mu.Lock()
	r := b.run
	b.run = nil
	b.mu.Unlock()
	if r != nil {
		r.close()
	}
	return nil
}

func (r *binlogRun) close() {
	r.closing.Store(true)
	r.cancel()
	r.merge.close()
	r.wg.Wait()
	if r.batcher != nil {
		_ = r.batcher.Close(context.Background())
	}
	r.client.Close()
	_ = r.source.Close()
}

// pulsarOptions is how the Pulsar client connects; its log lines go quiet
// once closing is set.
func (b *binlogInput) pulsarOptions(closing *atomic.Bool) pulsar.ClientOptions {
	opts := pulsar.ClientOptions{
		URL:               b.conf.pulsarURL,
		ConnectionTimeout: 10 * time.Second,
		OperationTimeout:  30 * time.Second,
		Logger:            newPulsarLogger(b.log, closing),
	}
	if b.conf.pulsarToken != "" {
		opts.Authentication = pulsar.NewAuthenticationToken(b.conf.pulsarToken)
	}
	if b.conf.pulsarTLSEnabled {
		opts.TLSConfig = b.tlsConf
	}
	return opts
}
