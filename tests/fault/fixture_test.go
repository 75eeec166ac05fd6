package fault

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

const dim = 8

// fixture is one scenario's world: a control plane with two workers, one
// task replicating one collection, and the load on that collection.
type fixture struct {
	t        *testing.T
	env      harness.Env
	cp       *harness.ControlPlane
	id, coll string
	src, tgt client.Client
	load     *workload.Steady
}

// loadDuration is how long the steady load runs (FAULT_LOAD_SECONDS, 60).
func loadDuration() time.Duration {
	if s, err := strconv.Atoi(os.Getenv("FAULT_LOAD_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 60 * time.Second
}

func newFixture(t *testing.T, env harness.Env, name string) *fixture {
	t.Helper()
	f := &fixture{t: t, env: env, coll: harness.UniqueName("fault_" + name)}
	f.cp = harness.StartControlPlane(t, env, 2)
	f.src, f.tgt = harness.Connect(t, env.SourceAddr), harness.Connect(t, env.TargetAddr)
	t.Cleanup(func() {
		_ = f.src.DropCollection(context.Background(), f.coll)
		if c, err := workload.Connect(context.Background(), env.TargetAddr); err == nil {
			_ = c.DropCollection(context.Background(), f.coll)
			_ = c.Close()
		}
	})
	code, resp := harness.CDC(t, f.cp.Base, "create", map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "connect_timeout": 10},
		"collection_infos":     []map[string]any{{"name": f.coll}},
	})
	if code != 200 {
		t.Fatalf("create task: %d %v", code, resp)
	}
	f.id, _ = resp["data"].(map[string]any)["task_id"].(string)
	t.Cleanup(func() { _, _ = harness.TryCDC(f.cp.Base, "delete", map[string]any{"task_id": f.id}) })
	// The stream stores its start positions before it reads: from then on
	// nothing written on the source can be missed.
	harness.WaitFor(t, time.Minute, "the task's start positions", func() bool {
		_, r := harness.CDC(t, f.cp.Base, "position", map[string]any{"task_id": f.id})
		return strings.Contains(fmt.Sprint(r), "rootcoord-dml")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := f.src.CreateCollection(ctx, workload.VectorSchema(f.coll, dim), 2); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, f.src, f.coll); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, time.Minute, "the collection loaded on the target", func() bool {
		st, err := f.tgt.GetLoadState(ctx, f.coll, nil)
		return err == nil && st == entity.LoadStateLoaded
	})
	f.load = &workload.Steady{Client: f.src, Coll: f.coll, Dim: dim, Seed: time.Now().UnixNano()}
	return f
}

// running reports whether the task is Running and some worker runs its stream.
func (f *fixture) running() bool {
	state, _ := f.cp.TaskState(f.t, f.id)
	return state == "Running" && f.cp.RunningOn(f.id) >= 0
}

// caughtUp reports whether the target holds a key >= k (keys only grow, so
// the target has applied the source at least up to k's insert).
func (f *fixture) caughtUp(ctx context.Context, k int64) bool {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rs, err := f.tgt.Query(c, f.coll, nil, fmt.Sprintf("id >= %d", k), []string{"id"},
		client.WithLimit(1), client.WithSearchQueryConsistencyLevel(entity.ClStrong))
	return err == nil && rs.GetColumn("id") != nil && rs.GetColumn("id").Len() > 0
}

// keys reads every key of the collection on one side and its count(*):
// count(*) counts a key stored twice twice, a query returns it once.
func keys(ctx context.Context, c client.Client, coll string) (map[int64]bool, int64, error) {
	rs, err := c.Query(ctx, coll, nil, "id >= 0", []string{"id"}, client.WithSearchQueryConsistencyLevel(entity.ClStrong))
	if err != nil {
		return nil, 0, err
	}
	col, ok := rs.GetColumn("id").(*entity.ColumnInt64)
	if !ok {
		return nil, 0, fmt.Errorf("query of %s gave no int64 id column", coll)
	}
	out := make(map[int64]bool, col.Len())
	for _, k := range col.Data() {
		out[k] = true
	}
	cnt, err := c.Query(ctx, coll, nil, "", []string{"count(*)"}, client.WithSearchQueryConsistencyLevel(entity.ClStrong))
	if err != nil {
		return nil, 0, err
	}
	n, ok := cnt.GetColumn("count(*)").(*entity.ColumnInt64)
	if !ok || n.Len() != 1 {
		return nil, 0, fmt.Errorf("count(*) of %s: no result", coll)
	}
	return out, n.Data()[0], nil
}
