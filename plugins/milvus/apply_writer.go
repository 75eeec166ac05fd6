package milvus

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/redpanda-data/benthos/v4/public/service"
)

func init() {
	err := service.RegisterBatchOutput("milvus_apply", milvusApplyOutputSpec(),
		func(conf *service.ParsedConfig, mgr *service.Resources) (service.BatchOutput, service.BatchPolicy, int, error) {
			var bp service.BatchPolicy
			maxInFlight, err := conf.FieldMaxInFlight()
			if err != nil {
				return nil, bp, 0, err
			}
			if bp, err = conf.FieldBatchPolicy(maoFieldBatching); err != nil {
				return nil, bp, 0, err
			}
			w, err := milvusApplyOutputFromParsed(conf, mgr)
			return w, bp, maxInFlight, err
		})
	if err != nil {
		panic(err)
	}
}

// applyWriter is the milvus_apply BatchOutput.
type applyWriter struct {
	conf *applyConfig
	log  *service.Logger

	mu     sync.Mutex
	target *client.GrpcClient
	apply  *applier
	failed error // a permanent error: nothing after it is applied or acknowledged
}

// applier applies steps to the target; used by one WriteBatch at a time.
type applier struct {
	api  milvuspb.MilvusServiceClient
	meta *targetMeta
	conf *applyConfig
	log  *service.Logger
	dbs  map[string]bool // target databases known to exist
}

func milvusApplyOutputFromParsed(conf *service.ParsedConfig, mgr *service.Resources) (*applyWriter, error) {
	c, err := applyConfigFromParsed(conf, mgr)
	if err != nil {
		return nil, err
	}
	return &applyWriter{conf: c, log: mgr.Logger()}, nil
}

func (w *applyWriter) Connect(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return w.failed
	}
	if w.target != nil {
		return nil
	}
	t, err := w.conf.target.dial(ctx)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	w.target = t
	w.apply = &applier{api: t.Service, meta: newTargetMeta(t.Service), conf: w.conf, log: w.log, dbs: map[string]bool{}}
	return nil
}

// WriteBatch applies a batch in order. Transient failures (target down,
// overloaded) are retried here with backoff, so a later batch can never
// overtake this one; a permanent failure stops the output for good.
func (w *applyWriter) WriteBatch(ctx context.Context, batch service.MessageBatch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return service.ErrNotConnected // Connect reports w.failed
	}
	if w.apply == nil {
		return service.ErrNotConnected
	}
	steps, err := planBatch(batch, w.conf)
	if err != nil {
		return w.fail(err)
	}
	for _, st := range steps {
		bo := w.conf.retry.NewBackOff()
		for attempt := 1; ; attempt++ {
			err := w.apply.step(ctx, st)
			if err == nil {
				if attempt > 1 {
					w.log.Infof("Applied %s on target %s after %d attempts", st, w.conf.target.address, attempt)
				}
				break
			}
			if isPermanent(err) {
				if !strings.HasPrefix(err.Error(), st.String()) {
					err = fmt.Errorf("%s: %w", st, err)
				}
				return w.fail(err)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			wait := bo.NextBackOff()
			w.log.Warnf("Applying %s to target %s failed (attempt %d), retrying in %s: %v", st, w.conf.target.address, attempt, wait, err)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
	return nil
}

func (w *applyWriter) fail(err error) error {
	w.failed = fmt.Errorf("milvus_apply stopped: %w; nothing after it is applied or acknowledged until the pipeline is fixed and restarted", err)
	w.log.Errorf("%v", w.failed)
	w.conf.failures.report(w.failed.Error(), w.log)
	return w.failed
}

// step applies one step.
func (a *applier) step(ctx context.Context, st *applyStep) error {
	if st.collID != 0 && st.target.Name == "" {
		if st.sourceGone {
			// History of a collection dropped before the input could learn
			// its name (e.g. read from earliest): it is gone on both sides.
			return nil
		}
		return permanentf("%s: the message names no collection (collection ID %d)", st.op, st.collID)
	}
	switch st.op {
	case OpInsert:
		return a.upsert(ctx, st)
	case OpDelete:
		return a.delete(ctx, st)
	case OpCreateCollection:
		return a.createCollection(ctx, st)
	case OpDropCollection:
		return a.dropCollection(ctx, st)
	case OpCreatePartition:
		return nil // Milvus 2.3 does not log it; partitions are created with their first rows
	case OpDropPartition:
		return a.dropPartition(ctx, st)
	case OpCreateIndex:
		return a.createIndex(ctx, st)
	case OpDropIndex:
		return a.dropIndex(ctx, st)
	case OpLoadCollection:
		return a.loadCollection(ctx, st)
	case OpReleaseCollection:
		return a.releaseCollection(ctx, st)
	case OpFlush:
		return a.flush(ctx, st)
	case OpCreateDatabase:
		return a.createDatabase(ctx, st)
	case OpDropDatabase:
		return a.dropDatabase(ctx, st)
	}
	return permanentf("unknown milvus_op %q", st.op)
}

func (w *applyWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.target == nil {
		return nil
	}
	err := w.target.Close()
	w.target, w.apply = nil, nil
	return err
}
