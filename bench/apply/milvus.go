package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// eventually: a query that does not wait for the node's time safe point, so
// it answers with whatever the query node has consumed so far. That is
// "visible" in this benchmark: the earliest moment a reader can see a row.
var eventually = client.WithSearchQueryConsistencyLevel(entity.ClEventually)

// createLoaded creates coll (workload.VectorSchema, o.shards shards), builds
// an IVF_FLAT index and loads it, all before any row arrives.
func createLoaded(ctx context.Context, c client.Client, o *options, coll string) error {
	return createLoadedShards(ctx, c, o, coll, o.shards)
}

// createLoadedShards is createLoaded with its own shard count.
func createLoadedShards(ctx context.Context, c client.Client, o *options, coll string, shards int) error {
	if err := c.CreateCollection(ctx, workload.VectorSchema(coll, o.dim), int32(shards)); err != nil {
		return fmt.Errorf("create collection %s: %w", coll, err)
	}
	return workload.IndexAndLoad(ctx, c, coll)
}

// countRows is count(*) of coll as the query nodes see it now.
func countRows(ctx context.Context, c client.Client, coll string) (int64, error) {
	rs, err := c.Query(ctx, coll, nil, "", []string{"count(*)"}, eventually)
	if err != nil {
		return 0, fmt.Errorf("count(*) of %s: %w", coll, err)
	}
	col, ok := rs.GetColumn("count(*)").(*entity.ColumnInt64)
	if !ok || col.Len() != 1 {
		return 0, fmt.Errorf("count(*) of %s: unexpected result", coll)
	}
	return col.Data()[0], nil
}

// visibleIDs returns which of ids coll shows now.
func visibleIDs(ctx context.Context, c client.Client, coll string, ids []int64) (map[int64]bool, error) {
	var b strings.Builder
	b.WriteString("id in [")
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	rs, err := c.Query(ctx, coll, nil, b.String(), []string{"id"}, eventually)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", coll, err)
	}
	col, ok := rs.GetColumn("id").(*entity.ColumnInt64)
	if !ok {
		return nil, fmt.Errorf("query %s: no id column in the result", coll)
	}
	seen := make(map[int64]bool, col.Len())
	for _, id := range col.Data() {
		seen[id] = true
	}
	return seen, nil
}

// seenAt brackets the moment a row was first seen: the query that showed it
// was sent at asked and answered at answered. The row became visible at
// some point before the query ran, which is between the two; lags are
// reported up to answered (never understated), asked gives the lower bound.
type seenAt struct{ asked, answered time.Time }

// waitVisible polls coll every o.pollEvery until row id is visible.
func waitVisible(ctx context.Context, c client.Client, o *options, coll string, id int64) (seenAt, error) {
	deadline := time.Now().Add(o.visibleTimeout)
	ids := []int64{id}
	for {
		asked := time.Now()
		seen, err := visibleIDs(ctx, c, coll, ids)
		now := time.Now()
		if err != nil {
			return seenAt{}, err
		}
		if seen[id] {
			return seenAt{asked: asked, answered: now}, nil
		}
		if now.After(deadline) {
			return seenAt{}, fmt.Errorf("row %d of %s not visible after %s", id, coll, o.visibleTimeout)
		}
		if err := sleepCtx(ctx, o.pollEvery); err != nil {
			return seenAt{}, err
		}
	}
}

// waitTargetLoaded waits until the pipeline created coll on the target and
// the replayed load finished; p (may be nil) fails it early if the pipeline died.
func waitTargetLoaded(ctx context.Context, c client.Client, coll string, p *pipeline, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := c.HasCollection(ctx, coll)
		if err == nil && ok {
			var st entity.LoadState
			if st, err = c.GetLoadState(ctx, coll, nil); err == nil && st == entity.LoadStateLoaded {
				return nil
			}
		}
		if p != nil {
			if perr := p.failed(); perr != nil {
				return perr
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not loaded on the target after %s (last error: %v)", coll, timeout, err)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}
