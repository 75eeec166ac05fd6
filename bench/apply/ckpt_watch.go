package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ckptWatcher polls the pipeline's checkpoint in Redis and notes when its
// value changes. milvus_binlog stores it after the output acknowledged a
// batch, i.e. after milvus_apply's call to the target returned, so a change
// marks "applied" without instrumenting the pipeline.
type ckptWatcher struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	changes []time.Time
	err     error
}

// ckptPoll is the watcher's resolution; a GET of the ~2 KB value takes well
// under a millisecond on the local Redis.
const ckptPoll = 2 * time.Millisecond

func startCkptWatcher(ctx context.Context, o *options, key string) *ckptWatcher {
	wctx, cancel := context.WithCancel(ctx)
	w := &ckptWatcher{cancel: cancel, done: make(chan struct{})}
	go w.run(wctx, o.redisAddr, checkpointPrefix+key)
	return w
}

func (w *ckptWatcher) run(ctx context.Context, addr, key string) {
	defer close(w.done)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	var last []byte
	for {
		v, err := rdb.Get(ctx, key).Bytes()
		now := time.Now()
		if err != nil && !errors.Is(err, goredis.Nil) {
			if ctx.Err() == nil {
				w.mu.Lock()
				w.err = fmt.Errorf("checkpoint watcher: redis %s: get %s: %w", addr, key, err)
				w.mu.Unlock()
			}
			return
		}
		if last != nil && !bytes.Equal(v, last) {
			w.mu.Lock()
			w.changes = append(w.changes, now)
			w.mu.Unlock()
		}
		last = v
		if sleepCtx(ctx, ckptPoll) != nil {
			return
		}
	}
}

// stop ends the polling and returns the change times (in order) and the
// error that ended it early, if any; later calls return the same.
func (w *ckptWatcher) stop() ([]time.Time, error) {
	w.once.Do(func() {
		w.cancel()
		<-w.done
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.changes, w.err
}

// firstChangeIn returns the first change in (from, to]; changes is sorted.
func firstChangeIn(changes []time.Time, from, to time.Time) (time.Time, bool) {
	i := sort.Search(len(changes), func(i int) bool { return changes[i].After(from) })
	if i == len(changes) || changes[i].After(to) {
		return time.Time{}, false
	}
	return changes[i], true
}

// maxGap is the longest pause between checkpoint writes within [from, to].
func maxGap(changes []time.Time, from, to time.Time) time.Duration {
	var gap time.Duration
	prev := from
	for _, c := range changes {
		if c.Before(from) || c.After(to) {
			continue
		}
		gap = max(gap, c.Sub(prev))
		prev = c
	}
	return max(gap, to.Sub(prev))
}
