package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/plane"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/proc"
)

// poolSize distinct vector batches are built up front and reused with new
// keys, so the writers spend the machine's cores on inserting, not on rand.
const poolSize = 8

// batchDone is one insert the source acknowledged: its keys and when.
type batchDone struct {
	ids      []int64
	vec      *entity.ColumnFloatVector
	returned time.Time
}

// write runs o.writers inserters until until; writer w inserts batches with
// keys (k·writers + w)·batch onwards, at most rate rows/s in all (0 = as fast
// as the source takes them). Each acknowledged batch goes to done (nil =
// nowhere). It returns each writer's last key and the rows inserted.
func write(ctx context.Context, o *options, src client.Client, coll string, until time.Time, rate float64, done chan<- batchDone) ([]int64, int64, error) {
	rng := rand.New(rand.NewSource(7))
	pool := make([]*entity.ColumnFloatVector, poolSize)
	for i := range pool {
		vecs := make([][]float32, o.batch)
		for j := range vecs {
			vecs[j] = make([]float32, o.dim)
			for d := range vecs[j] {
				vecs[j][d] = rng.Float32()
			}
		}
		pool[i] = entity.NewColumnFloatVector("vec", o.dim, vecs)
	}
	last := make([]int64, o.writers)
	counts := make([]int64, o.writers)
	errs := make([]error, o.writers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < o.writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; time.Now().Before(until); k++ {
				if rate > 0 { // batch k of every writer is due at k·writers·batch / rate
					due := start.Add(time.Duration(float64(k*o.writers*o.batch) / rate * float64(time.Second)))
					if err := sleep(ctx, time.Until(due)); err != nil {
						errs[w] = err
						return
					}
				}
				first := int64((k*o.writers + w) * o.batch)
				ids := make([]int64, o.batch)
				titles := make([]string, o.batch)
				for i := range ids {
					ids[i] = first + int64(i)
					titles[i] = "row-" + strconv.FormatInt(ids[i], 10)
				}
				vec := pool[k%poolSize]
				_, err := src.Insert(ctx, coll, "", entity.NewColumnInt64("id", ids), entity.NewColumnVarChar("title", titles), vec)
				if err != nil {
					errs[w] = fmt.Errorf("writer %d, insert %d: %w", w, k, err)
					return
				}
				last[w], counts[w] = ids[len(ids)-1], counts[w]+int64(o.batch)
				if done != nil {
					done <- batchDone{ids: ids, vec: vec, returned: time.Now()}
				}
			}
		}()
	}
	wg.Wait()
	var rows int64
	for _, n := range counts {
		rows += n
	}
	return last, rows, errors.Join(errs...)
}

// sample calls probe every o.sampleEvery until ctx ends and keeps what it
// reads: a lag in seconds (-1 = none yet) and an RSS in KiB (-1 = none).
func sample(ctx context.Context, o *options, start time.Time, probe func(context.Context) (float64, int64)) []point {
	var out []point
	t := time.NewTicker(o.sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
		lag, rss := probe(ctx)
		out = append(out, point{at: time.Since(start), lag: lag, rssKiB: rss})
	}
}

// taskProbe reads the task's lag metric and the worker's RSS.
func taskProbe(pl *plane.Plane) func(context.Context) (float64, int64) {
	return func(ctx context.Context) (float64, int64) {
		lag := -1.0
		if v, ok, err := pl.WorkerMetric(ctx, lagMetric); err == nil && ok {
			lag = v
		}
		return lag, proc.Status(pl.WorkerPID()).RSS
	}
}

// waitVisible polls the target (Eventually, every 20 ms) until every key of
// ids shows, and returns when the showing query answered.
func waitVisible(ctx context.Context, c client.Client, coll string, ids []int64, timeout time.Duration) (time.Time, error) {
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = strconv.FormatInt(id, 10)
	}
	expr := "id in [" + strings.Join(strs, ",") + "]"
	deadline := time.Now().Add(timeout)
	for {
		rs, err := c.Query(ctx, coll, nil, expr, []string{"id"}, client.WithSearchQueryConsistencyLevel(entity.ClEventually))
		now := time.Now()
		if err == nil && rs.GetColumn("id") != nil && rs.GetColumn("id").Len() == len(ids) {
			return now, nil
		}
		if now.After(deadline) {
			return now, fmt.Errorf("%s on the target does not show keys %s after %s (last error: %v)", coll, expr, timeout, err)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return now, err
		}
	}
}

// settledCount polls count(*) on the target until it reaches want or
// timeout passes, and returns the last count.
func settledCount(ctx context.Context, c client.Client, coll string, want int64, timeout time.Duration) (int64, error) {
	deadline := time.Now().Add(timeout)
	var n int64 = -1
	for {
		rs, err := c.Query(ctx, coll, nil, "", []string{"count(*)"}, client.WithSearchQueryConsistencyLevel(entity.ClEventually))
		if err == nil {
			if col, ok := rs.GetColumn("count(*)").(*entity.ColumnInt64); ok && col.Len() == 1 {
				n = col.Data()[0]
			}
		}
		if n == want || time.Now().After(deadline) {
			return n, nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return n, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
