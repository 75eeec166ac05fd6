package e2e

import (
	"context"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackCatalogOps: what Milvus 2.3.5 does not write to its log reaches
// the target through a task made with POST /cdc, written at once after
// create: a rename within a database and one to another database (rows
// before and after each), a new collection under a name a rename freed,
// aliases created, moved and dropped, an empty partition, the same key in
// two partitions with a delete scoped to one, a TTL set after creation, and
// partitions loaded and released without LoadCollection. Then verify
// (aliases, partitions one by one, properties) finds no difference.
func TestStackCatalogOps(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	db1, db2 := harness.UniqueName("cat1"), harness.UniqueName("cat2")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
			harness.DropDatabase(addr, db1, "c1", "c1r", "c3")
			harness.DropDatabase(addr, db2, "c2x")
		}
	})
	cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"db_collections":       map[string]any{db1: []map[string]any{{"name": "*"}}, db2: []map[string]any{{"name": "*"}}},
	})
	admin := harness.Connect(t, env.SourceAddr)
	for _, db := range []string{db1, db2} {
		if err := admin.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	src := dbClient(t, env.SourceAddr, db1)
	rng := rand.New(rand.NewSource(15))
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// c1: rows in _default, the same keys in p1 and p2, an empty p3.
	must(src.CreateCollection(ctx, workload.VectorSchema("c1", 8), 2), "create c1")
	for _, p := range []string{"p1", "p2", "p3"} {
		must(src.CreatePartition(ctx, "c1", p), "create partition "+p)
	}
	must(workload.InsertRows(ctx, src, "c1", 0, 200, 100, 8, rng), "insert c1")
	for _, p := range []string{"p1", "p2"} {
		_, err := src.Insert(ctx, "c1", p, workload.Rows(1000, 50, 8, rng)...)
		must(err, "insert into "+p)
	}
	must(workload.IndexAndLoad(ctx, src, "c1"), "index c1")
	must(src.CreateAlias(ctx, "c1", db1+"_a1"), "alias a1")
	must(src.CreateAlias(ctx, "c1", db1+"_a2"), "alias a2")
	// A delete scoped to p1: p2 keeps keys 1000..1009.
	must(src.DeleteByPks(ctx, "c1", "p1", entity.NewColumnInt64("id", []int64{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009})), "delete from p1")
	must(src.AlterCollection(ctx, "c1", entity.CollectionTTL(86400)), "ttl")
	// Renamed, then written under the new name; a new c1 takes the old name.
	must(src.RenameCollection(ctx, "c1", "c1r"), "rename c1")
	must(workload.InsertRows(ctx, src, "c1r", 200, 100, 100, 8, rng), "insert c1r")
	must(src.CreateCollection(ctx, workload.VectorSchema("c1", 8), 1), "create the new c1")
	must(workload.InsertRows(ctx, src, "c1", 5000, 50, 50, 8, rng), "insert the new c1")
	// c2: renamed into the other database, rows before and after.
	must(src.CreateCollection(ctx, workload.VectorSchema("c2", 8), 1), "create c2")
	must(workload.InsertRows(ctx, src, "c2", 0, 100, 100, 8, rng), "insert c2")
	must(renameAcross(ctx, t, env.SourceAddr, db1, "c2", db2, "c2x"), "rename c2 to the other database")
	src2 := dbClient(t, env.SourceAddr, db2)
	must(workload.InsertRows(ctx, src2, "c2x", 100, 100, 100, 8, rng), "insert c2x")
	// c3: alias a2 moves here, a1 is dropped; partitions loaded one by one.
	must(src.CreateCollection(ctx, workload.VectorSchema("c3", 8), 1), "create c3")
	must(src.CreatePartition(ctx, "c3", "q1"), "create q1")
	must(workload.InsertRows(ctx, src, "c3", 0, 100, 100, 8, rng), "insert c3")
	idx, _ := entity.NewIndexFlat(entity.L2)
	must(src.CreateIndex(ctx, "c3", "vec", idx, false), "index c3")
	must(src.AlterAlias(ctx, "c3", db1+"_a2"), "move a2")
	must(src.DropAlias(ctx, db1+"_a1"), "drop a1")
	must(src.LoadPartitions(ctx, "c3", []string{"q1"}, false), "load q1")

	tgt := dbClient(t, env.TargetAddr, db1)
	harness.WaitFor(t, 2*time.Minute, "c3's partition q1 loaded on the target", func() bool {
		st, err := tgt.GetLoadState(ctx, "c3", []string{"q1"})
		return err == nil && st == entity.LoadStateLoaded
	})
	if st, _ := tgt.GetLoadState(ctx, "c3", []string{"_default"}); st != entity.LoadStateNotLoad {
		t.Errorf("c3's _default is %v on the target, want not loaded (the source loaded q1 only)", st)
	}
	rep := waitVerified(t, env, []string{db1, db2}, 3*time.Minute)
	t.Logf("verified: %d collections, %d rows compared", rep.CollectionsCompared, rep.RowsCompared)
	tgt2 := dbClient(t, env.TargetAddr, db2)
	for _, c := range []struct {
		cl   client.Client
		name string
		want bool
	}{{tgt, "c1r", true}, {tgt, "c1", true}, {tgt, "c2", false}, {tgt2, "c2x", true}, {tgt, "c3", true}} {
		if ok, err := c.cl.HasCollection(ctx, c.name); err != nil || ok != c.want {
			t.Errorf("target has %s: %v (%v), want %v", c.name, ok, err, c.want)
		}
	}
	if aliases := describeAliases(ctx, t, env.TargetAddr, db1, "c3"); !slices.Equal(aliases, []string{db1 + "_a2"}) {
		t.Errorf("c3 aliases on the target: %v, want [%s_a2]", aliases, db1)
	}
	if aliases := describeAliases(ctx, t, env.TargetAddr, db1, "c1r"); len(aliases) != 0 {
		t.Errorf("c1r aliases on the target: %v, want none (a1 dropped, a2 moved)", aliases)
	}
	if ttl := propsOf(ctx, t, env.TargetAddr, db1, "c1r")["collection.ttl.seconds"]; ttl != "86400" {
		t.Errorf("c1r TTL on the target: %q", ttl)
	}
	for _, p := range []struct {
		part string
		want int
	}{{"p1", 0}, {"p2", 10}} {
		res, err := tgt.Query(ctx, "c1r", []string{p.part}, "id in [1000,1001,1002,1003,1004,1005,1006,1007,1008,1009]", []string{"id"},
			client.WithSearchQueryConsistencyLevel(entity.ClStrong))
		if err != nil || res.GetColumn("id").Len() != p.want {
			t.Errorf("keys 1000..1009 in %s on the target: %v rows (%v), want %d", p.part, res.GetColumn("id"), err, p.want)
		}
	}
	// Released on the source: released on the target.
	must(src.ReleasePartitions(ctx, "c3", []string{"q1"}), "release q1")
	harness.WaitFor(t, time.Minute, "q1 released on the target", func() bool {
		st, err := tgt.GetLoadState(ctx, "c3", []string{"q1"})
		return err == nil && st == entity.LoadStateNotLoad
	})
}
