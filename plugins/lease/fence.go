package lease

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// fencedSetScript writes KEYS[2] only while run ARGV[1] is current (run key
// KEYS[1], store identity KEYS[3]; see runCurrent): a stream of an ended run
// (paused, deleted, started again elsewhere) cannot move a checkpoint or
// report a status any more.
var fencedSetScript = goredis.NewScript(runCurrent + `
if not runCurrent(KEYS[1], KEYS[3], ARGV[1]) then return 0 end
redis.call('set', KEYS[2], ARGV[2])
return 1`)

// Fence writes a task's store keys (checkpoint, status, failure) as a
// compare-and-set on the task's run: each write lands only while the run it
// belongs to is the task's current one.
type Fence struct {
	rdb    *goredis.Client
	runKey string
	run    Run
	prefix string
}

// Set writes value under prefix+key if the run is still current;
// ErrFenced when it is not.
func (f *Fence) Set(ctx context.Context, key string, value []byte) error {
	n, err := fencedSetScript.Run(ctx, f.rdb, []string{f.runKey, f.prefix + key, f.run.StoreIDKey}, f.run.ID, value).Int64()
	if err != nil {
		return fmt.Errorf("write %s: %w", f.prefix+key, err)
	}
	if n == 0 {
		return fmt.Errorf("write %s (run %s): %w", f.prefix+key, f.run.ID, ErrFenced)
	}
	return nil
}

// Close closes the fence's Redis client.
func (f *Fence) Close() error { return f.rdb.Close() }

// Write stores b under key: through the fence when there is one (the key
// then carries the fence's prefix, as the cache's would), else through the
// cache resource named cache. The one way a task's store keys are written.
func Write(ctx context.Context, fence *Fence, res *service.Resources, cache, key string, b []byte) error {
	if fence != nil {
		return fence.Set(ctx, key, b)
	}
	var setErr error
	if err := res.AccessCache(ctx, cache, func(c service.Cache) { setErr = c.Set(ctx, key, b, nil) }); err != nil {
		return fmt.Errorf("cache %q: %w", cache, err)
	}
	if setErr != nil {
		return fmt.Errorf("write %q to cache %q: %w", key, cache, setErr)
	}
	return nil
}
