package e2e

import (
	"context"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackLeftoverAliasMoved: on the target, a collection with alias al
// was dropped by hand; Milvus 2.3 keeps al, naming nothing. A new task whose
// source has collection c with alias al copies c and moves al to the copy
// (it failed on "alias already exist" before) and stays Running.
func TestStackLeftoverAliasMoved(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	db := harness.UniqueName("leftal")
	alias := db + "_al"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
			// Milvus 2.3 keeps an alias of a dropped collection: drop it first.
			cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
			_ = rawMilvusDropAlias(cctx, t, addr, db, alias)
			ccancel()
			harness.DropDatabase(addr, db, "c", "old")
		}
	})
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// The target: old had alias al, then old was dropped by hand.
	must(harness.Connect(t, env.TargetAddr).CreateDatabase(ctx, db), "target database")
	tgt := dbClient(t, env.TargetAddr, db)
	must(tgt.CreateCollection(ctx, workload.VectorSchema("old", 8), 1), "target old")
	must(tgt.CreateAlias(ctx, "old", alias), "target alias")
	must(tgt.DropCollection(ctx, "old"), "drop old on the target")

	must(harness.Connect(t, env.SourceAddr).CreateDatabase(ctx, db), "source database")
	src := dbClient(t, env.SourceAddr, db)
	must(src.CreateCollection(ctx, workload.VectorSchema("c", 8), 1), "create c")
	must(workload.InsertRows(ctx, src, "c", 0, 100, 100, 8, rand.New(rand.NewSource(24))), "insert c")
	must(workload.IndexAndLoad(ctx, src, "c"), "index c")
	must(src.CreateAlias(ctx, "c", alias), "alias on the source")

	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"db_collections":       map[string]any{db: []map[string]any{{"name": "*"}}},
	})
	harness.WaitFor(t, 2*time.Minute, "the alias moved to the copy of c", func() bool {
		if state, reason := cp.TaskState(t, id); state == "Failed" {
			t.Fatalf("task Failed: %s", reason)
		}
		ok, err := tgt.HasCollection(ctx, "c")
		return err == nil && ok && slices.Contains(describeAliases(ctx, t, env.TargetAddr, db, "c"), alias)
	})
	rep := waitVerified(t, env, []string{db}, 2*time.Minute)
	t.Logf("verified: %d collections, %d rows", rep.CollectionsCompared, rep.RowsCompared)
	if state, reason := cp.TaskState(t, id); state != "Running" {
		t.Fatalf("task %s (%s), want Running", state, reason)
	}
}

func rawMilvusDropAlias(ctx context.Context, t *testing.T, addr, db, alias string) error {
	resp, err := rawMilvus(t, addr).DropAlias(ctx, &milvuspb.DropAliasRequest{DbName: db, Alias: alias})
	return contract.StatusErr(resp, err)
}
