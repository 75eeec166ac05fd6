package e2e

import (
	"context"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackDropDatabaseKeepsOthersCopies: two tasks copy one collection each
// of one source database to the same target. The source drops both
// collections and the database while the second task is paused: the first
// drops its copy but neither the second task's copy nor the database that
// still holds it; once resumed, the second drops its copy and the database.
func TestStackDropDatabaseKeepsOthersCopies(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	db := harness.UniqueName("owndb")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	create := func(coll string) string {
		return cp.CreateTask(t, map[string]any{
			"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
			"db_collections":       map[string]any{db: []map[string]any{{"name": coll}}},
		})
	}
	create("a")
	idB := create("b")
	t.Cleanup(func() {
		harness.DropDatabase(env.SourceAddr, db, "a", "b")
		harness.DropDatabase(env.TargetAddr, db, "a", "b")
	})

	admin := harness.Connect(t, env.SourceAddr)
	if err := admin.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	src, err := client.NewClient(ctx, client.Config{Address: env.SourceAddr, DBName: db})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rng := rand.New(rand.NewSource(15))
	for _, c := range []string{"a", "b"} {
		if err := src.CreateCollection(ctx, workload.VectorSchema(c, 8), 1); err != nil {
			t.Fatal(err)
		}
		if err := workload.InsertRows(ctx, src, c, 0, 200, 200, 8, rng); err != nil {
			t.Fatal(err)
		}
		if err := workload.IndexAndLoad(ctx, src, c); err != nil {
			t.Fatal(err)
		}
	}
	harness.WaitFor(t, 2*time.Minute, "both copies on the target", func() bool {
		rep, err := verify.Run(ctx, verify.Options{SourceAddr: env.SourceAddr, TargetAddr: env.TargetAddr, Databases: []string{db}})
		return err == nil && rep.OK() && rep.RowsCompared == 400
	})
	if code, resp := harness.CDC(t, cp.Base, "pause", map[string]any{"task_id": idB}); code != 200 {
		t.Fatalf("pause: %d %v", code, resp)
	}
	for _, c := range []string{"a", "b"} {
		if err := src.DropCollection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := admin.DropDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	tgt, err := client.NewClient(ctx, client.Config{Address: env.TargetAddr, DBName: db})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	harness.WaitFor(t, time.Minute, "the first task's copy dropped", func() bool { ok, err := tgt.HasCollection(ctx, "a"); return err == nil && !ok })
	time.Sleep(3 * time.Second) // its drop_database comes right after
	if ok, err := tgt.HasCollection(ctx, "b"); err != nil || !ok {
		t.Fatalf("the first task dropped the second task's copy (has b: %v, %v)", ok, err)
	}
	if n, err := targetRows(ctx, tgt, "b"); err != nil || n != 200 {
		t.Fatalf("the second task's copy holds %d rows (%v), want 200", n, err)
	}
	if state, reason := cp.TaskState(t, idB); state != "Paused" {
		t.Fatalf("second task %s (%s)", state, reason)
	}
	if code, resp := harness.CDC(t, cp.Base, "resume", map[string]any{"task_id": idB}); code != 200 {
		t.Fatalf("resume: %d %v", code, resp)
	}
	harness.WaitFor(t, time.Minute, "the second copy and the database dropped", func() bool {
		dbs, err := tgt.ListDatabases(ctx)
		if err != nil {
			return false
		}
		return !slices.ContainsFunc(dbs, func(d entity.Database) bool { return d.Name == db })
	})
}
