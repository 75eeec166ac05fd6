package milvus

import (
	"context"
	"fmt"
	"sync"

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
}

func milvusApplyOutputFromParsed(conf *service.ParsedConfig, mgr *service.Resources) (*applyWriter, error) {
	c, err := applyConfigFromParsed(conf)
	if err != nil {
		return nil, err
	}
	return &applyWriter{conf: c, log: mgr.Logger()}, nil
}

func (w *applyWriter) Connect(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.target != nil {
		return nil
	}
	t, err := w.conf.target.dial(ctx)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	w.target = t
	return nil
}

// WriteBatch applies a batch of WAL messages. The apply logic (ordering,
// idempotent DDL and row operations) is tracked in issue 5; until then every
// batch is refused, so nothing is acknowledged without being applied.
func (w *applyWriter) WriteBatch(ctx context.Context, batch service.MessageBatch) error {
	return fmt.Errorf("milvus_apply: applying changes to the target is not implemented in this build")
}

func (w *applyWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.target == nil {
		return nil
	}
	err := w.target.Close()
	w.target = nil
	return err
}
