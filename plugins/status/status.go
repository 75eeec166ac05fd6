// Package status writes a plugin's progress (a JSON value, package
// contract) to a cache now and then, where a supervisor such as the control
// plane reads it.
package status

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
)

// Field names shared by the input and the output.
const (
	stFieldCache = "status_cache"
	stFieldKey   = "status_key"
)

// Every is how often the status is written.
const Every = 2 * time.Second

// Fields are the config fields of a status writer.
func Fields() []*service.ConfigField {
	return []*service.ConfigField{
		service.NewStringField(stFieldCache).
			Description("A cache resource to write this plugin's progress to (a JSON value under `" + stFieldKey + "`, every 2 s), so a supervisor (the control plane) can show it. Empty: none.").
			Default("").Advanced(),
		service.NewStringField(stFieldKey).
			Description("The key under which `" + stFieldCache + "` gets the progress.").
			Default("").Advanced(),
	}
}

// Writer writes a status value to a cache.
type Writer struct {
	res        *service.Resources
	cache, key string
	fence      *lease.Fence // nil: written through the cache unfenced
}

// Fenced makes every later write a compare-and-set on the task's run.
func (w *Writer) Fenced(f *lease.Fence) {
	if w != nil {
		w.fence = f
	}
}

// WriterFromParsed reads the fields; a Writer without a cache writes nothing.
func WriterFromParsed(conf *service.ParsedConfig, res *service.Resources) (*Writer, error) {
	w := &Writer{res: res}
	var err error
	if w.cache, err = conf.FieldString(stFieldCache); err != nil {
		return nil, err
	}
	if w.key, err = conf.FieldString(stFieldKey); err != nil {
		return nil, err
	}
	return w, nil
}

// Enabled reports whether the writer has somewhere to write.
func (w *Writer) Enabled() bool { return w != nil && w.cache != "" && w.key != "" }

// Run writes get() every Every until ctx ends (nothing while get returns
// nil: what is stored stays); a failed write is retried at the next turn
// (the status is informative: it never holds anything up).
func (w *Writer) Run(ctx context.Context, get func() any, log *service.Logger) {
	if !w.Enabled() {
		return
	}
	t := time.NewTicker(Every)
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
			continue
		}
		b, err := json.Marshal(v)
		if err == nil {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = lease.Write(wctx, w.fence, w.res, w.cache, w.key, b)
			cancel()
		}
		if err != nil && ctx.Err() == nil && !warned {
			log.Warnf("Cannot write the status to cache %q (retried every %s): %v", w.cache, Every, err)
		}
		warned = err != nil
	}
}
