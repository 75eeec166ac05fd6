package taskstore

import (
	"context"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
)

// reportTimeout bounds the write of a failure's reason.
const reportTimeout = 10 * time.Second

// Writer writes values to one key of the task store: through the task's
// run fence when it has one (a compare-and-set on the run), else through
// the cache. A failure's reason (Report) and a plugin's progress (Run) are
// both written by one. A nil Writer, or one without a cache or key, writes
// nothing.
type Writer struct {
	res   *service.Resources
	cache string
	key   string
	fence *lease.Fence // nil: written through the cache unfenced
}

// NewWriter writes to key of the cache resource named cache.
func NewWriter(res *service.Resources, cache, key string) *Writer {
	return &Writer{res: res, cache: cache, key: key}
}

// Fenced makes every later write a compare-and-set on the task's run: a
// stream of an ended run records nothing.
func (w *Writer) Fenced(f *lease.Fence) {
	if w != nil {
		w.fence = f
	}
}

// Enabled reports whether the writer has somewhere to write.
func (w *Writer) Enabled() bool { return w != nil && w.cache != "" && w.key != "" }

// Key is the key written (without the store's prefix); "" when disabled.
func (w *Writer) Key() string {
	if !w.Enabled() {
		return ""
	}
	return w.key
}

// Write stores b under the key (lease.Write: the one way a task's keys are
// written).
func (w *Writer) Write(ctx context.Context, b []byte) error {
	if !w.Enabled() {
		return nil
	}
	return lease.Write(ctx, w.fence, w.res, w.cache, w.key, b)
}

// Report stores the reason of a permanent failure; best effort, the
// failure is logged anyway.
func (w *Writer) Report(reason string, log *service.Logger) {
	if !w.Enabled() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	if err := w.Write(ctx, []byte(reason)); err != nil {
		log.Errorf("Cannot report the failure to cache %q: %v", w.cache, err)
	}
}
