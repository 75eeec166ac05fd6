package lease

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// MinTTL is the shortest lease accepted: renewals come every tenth of it.
const MinTTL = 100 * time.Millisecond

// Config is where a task's lease lives and what fences it. The task store
// (package taskstore) makes it from a plugin's `task_store` block.
type Config struct {
	opts   *goredis.Options
	key    string // prefix + contract.LeaseKey(task)
	ttl    time.Duration
	run    string
	prefix string
}

// NewConfig is the lease of task `task` in the Redis at opts, whose keys
// carry prefix (the task store's, as its cache resource adds it), held by
// writers of run `run` only ("" = no run fence). Every key is derived from
// package contract's layout: the lease, its epoch, the run and the store's
// identity.
func NewConfig(opts *goredis.Options, prefix, task, run string, ttl time.Duration) (*Config, error) {
	if task == "" {
		return nil, fmt.Errorf("lease: no task to hold the lease of")
	}
	if ttl < MinTTL {
		return nil, fmt.Errorf("lease: ttl %s is under %s", ttl, MinTTL)
	}
	return &Config{opts: opts, key: prefix + contract.LeaseKey(task), ttl: ttl, run: run, prefix: prefix}, nil
}

// Acquire waits for and takes the lease (see the package Acquire).
func (c *Config) Acquire(ctx context.Context, log *service.Logger) (*Lease, error) {
	rdb := goredis.NewClient(c.opts)
	l, err := Acquire(ctx, rdb, c.key, c.ttl, c.fenceRun(), log)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return l, nil
}

// Fence returns the run fence for the task store's writes, with a Redis
// client of its own that Close closes; nil when no run is configured (the
// writes then go through the cache unfenced).
func (c *Config) Fence() *Fence {
	if c == nil || c.run == "" {
		return nil
	}
	return &Fence{rdb: goredis.NewClient(c.opts), runKey: RunKey(c.key), run: c.fenceRun(), prefix: c.prefix}
}

func (c *Config) fenceRun() Run {
	return Run{ID: c.run, StoreIDKey: c.prefix + contract.KeyStoreID}
}
