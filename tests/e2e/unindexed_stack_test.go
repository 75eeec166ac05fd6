package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// storedSnapshot is the task's snapshot progress as stored in its checkpoint.
func storedSnapshot(t *testing.T, env harness.Env, cp *harness.ControlPlane, id string) *contract.SnapshotState {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr})
	defer rdb.Close()
	raw, err := rdb.Get(context.Background(), cp.Prefix+contract.CheckpointKey(id)).Bytes()
	if err != nil {
		return nil
	}
	ck, err := contract.ParseCheckpoint(raw)
	if err != nil {
		t.Fatalf("checkpoint of %s: %v", id, err)
	}
	return ck.Snapshot
}

// rowCountStrong counts the rows of a loaded collection (strong consistency).
func rowCountStrong(ctx context.Context, c client.Client, coll string) (int64, error) {
	rs, err := c.Query(ctx, coll, nil, "", []string{"count(*)"}, client.WithSearchQueryConsistencyLevel(entity.ClStrong))
	if err != nil {
		return 0, err
	}
	col, ok := rs.GetColumn("count(*)").(*entity.ColumnInt64)
	if !ok || col.Len() == 0 {
		return 0, nil
	}
	return col.Data()[0], nil
}

// TestStackSnapshotUnindexedWaits: a source collection holding rows with no
// index (Milvus 2.3 cannot load, so cannot query, it) does not block the
// task: it runs, the indexed collection is copied at once, the unindexed one
// is reported waiting (why: its vector field has no index); rows inserted
// and deleted in it meanwhile, then an index, and it is copied exactly.
func TestStackSnapshotUnindexedWaits(t *testing.T) {
	env := harness.RequireStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	db := harness.UniqueName("unidx")
	t.Cleanup(func() {
		for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
			harness.DropDatabase(addr, db, "ready", "raw")
		}
	})
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must(harness.Connect(t, env.SourceAddr).CreateDatabase(ctx, db), "create "+db)
	src := dbClient(t, env.SourceAddr, db)
	rng := rand.New(rand.NewSource(24))
	must(src.CreateCollection(ctx, workload.VectorSchema("ready", 8), 1), "create ready")
	must(workload.InsertRows(ctx, src, "ready", 1, 2000, 1000, 8, rng), "insert ready")
	must(workload.IndexAndLoad(ctx, src, "ready"), "index ready")
	must(src.CreateCollection(ctx, workload.VectorSchema("raw", 8), 1), "create raw")
	must(workload.InsertRows(ctx, src, "raw", 1, 3000, 1000, 8, rng), "insert raw")
	must(src.Flush(ctx, "raw", false), "flush raw")

	cp := harness.StartControlPlane(t, env, 1)
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"db_collections":       map[string]any{db: []map[string]any{{"name": "*"}}},
	})
	began := time.Now()
	harness.WaitFor(t, 3*time.Minute, "the copy of ready, raw waiting", func() bool {
		if s, reason := cp.TaskState(t, id); s == "Failed" {
			t.Fatalf("task failed: %s", reason)
		}
		st := storedSnapshot(t, env, cp, id)
		if st == nil || st.Copying() {
			return false
		}
		w := st.Waiting()
		return len(w) == 1 && w[0].Collection == db+".raw" && strings.Contains(w[0].Reason, "no index on vector field vec")
	})
	t.Logf("ready copied, raw waiting, after %s", time.Since(began).Round(time.Millisecond))
	if s, reason := cp.TaskState(t, id); s != "Running" {
		t.Fatalf("task %s (%s), want Running", s, reason)
	}
	if code, resp := harness.CDC(t, cp.Base, "get", map[string]any{"task_id": id}); code != 200 {
		t.Fatalf("get: %d %v", code, resp)
	} else if b := fmt.Sprint(resp); !strings.Contains(b, db+".raw") || !strings.Contains(b, "no index on vector field vec") {
		t.Fatalf("get does not name the waiting collection and why: %s", b)
	}
	tgt := dbClient(t, env.TargetAddr, db)
	harness.WaitFor(t, time.Minute, "ready's rows on the target", func() bool {
		n, err := rowCountStrong(ctx, tgt, "ready")
		return err == nil && n == 2000
	})

	// While raw waits: more rows, some deleted, then an index.
	must(workload.InsertRows(ctx, src, "raw", 3001, 500, 500, 8, rng), "insert raw more")
	must(src.DeleteByPks(ctx, "raw", "", entity.NewColumnInt64("id", []int64{1, 2, 3, 1500, 3001, 3500})), "delete raw")
	time.Sleep(2 * time.Second) // streamed (and dropped) while raw waits
	idx, _ := entity.NewIndexIvfFlat(entity.L2, 16)
	must(src.CreateIndex(ctx, "raw", "vec", idx, false), "index raw")

	harness.WaitFor(t, 3*time.Minute, "raw copied", func() bool {
		if s, reason := cp.TaskState(t, id); s == "Failed" {
			t.Fatalf("task failed: %s", reason)
		}
		st := storedSnapshot(t, env, cp, id)
		c := (*contract.SnapshotCollection)(nil)
		if st != nil {
			for i := range st.Collections {
				if st.Collections[i].Name == "raw" {
					c = &st.Collections[i]
				}
			}
		}
		return c != nil && c.Done && c.Waiting == ""
	})
	// Written after the copy: streamed on top of it.
	must(workload.InsertRows(ctx, src, "raw", 5001, 100, 100, 8, rng), "insert raw after")
	must(src.DeleteByPks(ctx, "raw", "", entity.NewColumnInt64("id", []int64{4, 5001})), "delete raw after")
	waitVerified(t, env, []string{db}, 3*time.Minute)
	if s, reason := cp.TaskState(t, id); s != "Running" {
		t.Fatalf("task %s (%s), want Running", s, reason)
	}
}
