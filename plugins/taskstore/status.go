package taskstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// StatusEvery is how often Run writes a plugin's progress.
const StatusEvery = 2 * time.Second

// statusWriteTimeout bounds one write of the progress.
const statusWriteTimeout = 5 * time.Second

// Run writes get() as JSON every StatusEvery until ctx ends (nothing while
// get returns nil: what is stored stays); a failed write is retried at the
// next turn: the progress is informative and never holds anything up.
func (w *Writer) Run(ctx context.Context, get func() any, log *service.Logger) {
	w.runEvery(ctx, StatusEvery, get, log)
}

func (w *Writer) runEvery(ctx context.Context, every time.Duration, get func() any, log *service.Logger) {
	if !w.Enabled() {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v := get()
		if v == nil {
			continue // nothing to say yet: what is stored stays
		}
		err := w.writeJSON(ctx, v)
		if err != nil && ctx.Err() == nil && !warned {
			log.Warnf("Cannot write the status to cache %q (retried every %s): %v", w.cache, every, err)
		}
		warned = err != nil
	}
}

// writeJSON writes v as JSON.
func (w *Writer) writeJSON(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, statusWriteTimeout)
	defer cancel()
	return w.Write(wctx, b)
}
