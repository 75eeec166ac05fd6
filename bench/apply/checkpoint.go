package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// checkpointPrefix is the redis cache's key prefix in the pipeline config.
const checkpointPrefix = "milvus-cdc-bench:"

// names are the collections and the checkpoint key of one run; every name
// starts with label, which the pipeline's collection filter selects.
type names struct {
	label, direct, floor, repl, lag string
	task, taskFloor                 string // phase 5
	checkpointKey                   string
}

func newNames(now time.Time) names {
	label := fmt.Sprintf("bench_apply_%d", now.Unix())
	return names{
		label:         label,
		direct:        label + "_direct", // on the target only: outside the pipeline
		floor:         label + "_floor",  // on the target only: outside the pipeline
		repl:          label + "_repl",
		lag:           label + "_lag",
		task:          label + "_task",
		taskFloor:     label + "_task_floor", // on the target only
		checkpointKey: label,
	}
}

// waitCheckpoint waits until the pipeline stored its start positions:
// milvus_binlog writes them as soon as its readers are open, so a restart
// resumes there instead of at "latest" again.
func waitCheckpoint(ctx context.Context, o *options, key string, p *pipeline, timeout time.Duration) (time.Duration, error) {
	rdb := goredis.NewClient(&goredis.Options{Addr: o.redisAddr})
	defer rdb.Close()
	deadline := time.Now().Add(timeout)
	for {
		n, err := rdb.Exists(ctx, checkpointPrefix+key).Result()
		if err != nil {
			return 0, fmt.Errorf("redis %s: exists %s: %w", o.redisAddr, checkpointPrefix+key, err)
		}
		if n > 0 {
			return time.Since(p.started), nil
		}
		if err := p.failed(); err != nil {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no checkpoint %s in redis %s after %s", checkpointPrefix+key, o.redisAddr, timeout)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return 0, err
		}
	}
}

// deleteCheckpoint removes this run's checkpoint key.
func deleteCheckpoint(o *options, key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rdb := goredis.NewClient(&goredis.Options{Addr: o.redisAddr})
	defer rdb.Close()
	if err := rdb.Del(ctx, checkpointPrefix+key).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis %s: del %s: %w", o.redisAddr, checkpointPrefix+key, err)
	}
	return nil
}

// sleepCtx sleeps d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
