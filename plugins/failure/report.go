// Package failure reports a permanent failure of a plugin (its reason) to a
// cache, where a supervisor such as the control plane reads it.
package failure

import (
	"context"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
)

// Field names shared by the input and the output: where to report a failure
// that needs an operator (the control plane marks the task Failed with it).
const (
	frFieldCache = "failure_cache"
	frFieldKey   = "failure_key"
)

func Fields() []*service.ConfigField {
	return []*service.ConfigField{
		service.NewStringField(frFieldCache).
			Description("A cache resource to write the reason of a permanent failure to (under `" + frFieldKey + "`), so a supervisor (the control plane) can see it. Empty: the failure is only logged.").
			Default("").Advanced(),
		service.NewStringField(frFieldKey).
			Description("The key under which `" + frFieldCache + "` gets the failure reason.").
			Default("").Advanced(),
	}
}

// Reporter writes a permanent failure's reason to a cache.
type Reporter struct {
	res        *service.Resources
	cache, key string
	fence      *lease.Fence // nil: written through the cache unfenced
}

// Fenced makes every later report a compare-and-set on the task's run: a
// stream of an ended run cannot fail the task.
func (f *Reporter) Fenced(fence *lease.Fence) {
	if f != nil {
		f.fence = fence
	}
}

func ReporterFromParsed(conf *service.ParsedConfig, res *service.Resources) (*Reporter, error) {
	f := &Reporter{res: res}
	var err error
	if f.cache, err = conf.FieldString(frFieldCache); err != nil {
		return nil, err
	}
	if f.key, err = conf.FieldString(frFieldKey); err != nil {
		return nil, err
	}
	return f, nil
}

// report stores the reason; best effort, the failure is logged anyway.
func (f *Reporter) Report(reason string, log *service.Logger) {
	if f == nil || f.cache == "" || f.key == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := lease.Write(ctx, f.fence, f.res, f.cache, f.key, []byte(reason)); err != nil {
		log.Errorf("Cannot report the failure to cache %q: %v", f.cache, err)
	}
}
