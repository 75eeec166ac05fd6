package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// snapshotRows is how many rows the big collection holds before the task
// is created (the scenario).
const snapshotRows = 200_000

// snapshotSource fills two databases of the source: in dbA a collection of
// every field type (rows in two partitions, an empty third one, an index,
// an alias, loaded) and one with a binary vector that is indexed but not
// loaded; in dbB snapshotRows rows (loaded) and an empty collection with no
// index (not loaded, never written).
func snapshotSource(ctx context.Context, t *testing.T, env harness.Env, dbA, dbB string) {
	t.Helper()
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	admin := harness.Connect(t, env.SourceAddr)
	must(admin.CreateDatabase(ctx, dbA), "create "+dbA)
	must(admin.CreateDatabase(ctx, dbB), "create "+dbB)
	a := dbClient(t, env.SourceAddr, dbA)
	must(a.CreateCollection(ctx, workload.TypesSchema("types"), 2), "create types")
	must(a.CreatePartition(ctx, "types", "p1"), "create p1")
	must(a.CreatePartition(ctx, "types", "p_empty"), "create p_empty")
	_, err := a.Insert(ctx, "types", "", workload.TypesRows(0, 3000)...)
	must(err, "insert types")
	_, err = a.Insert(ctx, "types", "p1", workload.TypesRows(3000, 1000)...)
	must(err, "insert types p1")
	must(a.DeleteByPks(ctx, "types", "", entity.NewColumnVarChar("pk", []string{"k1", "k2", "k3"})), "delete types")
	idx, _ := entity.NewIndexIvfFlat(entity.L2, 8)
	must(a.CreateIndex(ctx, "types", "vec", idx, false, client.WithIndexName("vec_idx")), "index types")
	must(a.LoadCollection(ctx, "types", false), "load types")
	must(a.CreateAlias(ctx, "types", dbA+"_types_alias"), "alias types")

	must(a.CreateCollection(ctx, workload.BinarySchema("bin"), 1), "create bin")
	_, err = a.Insert(ctx, "bin", "", workload.BinaryRows(0, 500)...)
	must(err, "insert bin")
	must(a.Flush(ctx, "bin", false), "flush bin")
	bidx, _ := entity.NewIndexBinFlat(entity.HAMMING, 8)
	must(a.CreateIndex(ctx, "bin", "bvec", bidx, false), "index bin")

	b := dbClient(t, env.SourceAddr, dbB)
	must(b.CreateCollection(ctx, workload.VectorSchema("big", 8), 2), "create big")
	must(workload.InsertRows(ctx, b, "big", 1, snapshotRows, 10_000, 8, rand.New(rand.NewSource(17))), "insert big")
	must(workload.IndexAndLoad(ctx, b, "big"), "index big")
	must(b.CreateCollection(ctx, workload.VectorSchema("empty", 8), 1), "create empty")
}

// snapshotView is the task's snapshot progress as get shows it.
func snapshotView(t *testing.T, base, id string) (state string, total, done int, rows int64) {
	t.Helper()
	code, resp := harness.CDC(t, base, "get", map[string]any{"task_id": id})
	if code != 200 {
		t.Fatalf("get %s: %d %v", id, code, resp)
	}
	d, _ := resp["data"].(map[string]any)
	info, _ := d["task"].(map[string]any)
	if info == nil {
		info = d
	}
	s, _ := info["snapshot"].(map[string]any)
	if s == nil {
		return "", 0, 0, 0
	}
	st, _ := s["state"].(string)
	num := func(k string) float64 { f, _ := s[k].(float64); return f }
	return st, int(num("collections_total")), int(num("collections_done")), int64(num("rows_copied"))
}

// waitCopied waits until the task's copy is over (catching_up or done).
func waitCopied(t *testing.T, cp *harness.ControlPlane, id string, timeout time.Duration) (total, done int, rows int64) {
	t.Helper()
	var state string
	harness.WaitFor(t, timeout, "the snapshot to be copied", func() bool {
		state, total, done, rows = snapshotView(t, cp.Base, id)
		if s, reason := cp.TaskState(t, id); s == "Failed" {
			t.Fatalf("task failed during the snapshot: %s", reason)
		}
		return state == contract.SnapshotCatchingUp || state == contract.SnapshotDone
	})
	return total, done, rows
}

// steadyOnBig writes inserts, upserts and deletes into dbB.big (its existing
// keys included) until the returned stop is called.
func steadyOnBig(t *testing.T, env harness.Env, dbB string) (stop func() workload.SteadyStats) {
	w := &workload.Steady{Client: dbClient(t, env.SourceAddr, dbB), Coll: "big", Dim: 8, Tick: 100 * time.Millisecond,
		Inserts: 50, Upserts: 20, Deletes: 10, ExistingKeys: snapshotRows, Seed: 18}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.Run(ctx, 0) }()
	var once sync.Once
	stop = func() workload.SteadyStats {
		once.Do(func() { cancel(); wg.Wait() })
		return w.Stats()
	}
	t.Cleanup(func() { stop() })
	return stop
}

func loadState(ctx context.Context, t *testing.T, addr, db, coll string) commonpb.LoadState {
	t.Helper()
	resp, err := rawMilvus(t, addr).GetLoadState(ctx, &milvuspb.GetLoadStateRequest{DbName: db, CollectionName: coll})
	if err := contract.StatusErr(resp.GetStatus(), err); err != nil {
		t.Fatalf("load state of %s.%s at %s: %v", db, coll, addr, err)
	}
	return resp.GetState()
}

// TestStackSnapshotCopiesExistingData: a task created with the
// documentation's request (no "snapshot": the default copies what the
// source holds) over two databases that already hold 200,000+ rows, every
// field type, partitions (one empty), an alias, an index, loaded and
// unloaded collections, while a writer keeps inserting, upserting and
// deleting (existing keys too): once the copy is over and the writer stops,
// verify finds no difference; the load states match the source's, and the
// collection loaded for the copy is released on the source again.
func TestStackSnapshotCopiesExistingData(t *testing.T) {
	env := harness.RequireStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	dbA, dbB := harness.UniqueName("snapa"), harness.UniqueName("snapb")
	t.Cleanup(func() {
		for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
			harness.DropDatabase(addr, dbA, "types", "bin")
			harness.DropDatabase(addr, dbB, "big", "empty")
		}
	})
	snapshotSource(ctx, t, env, dbA, dbB)
	stop := steadyOnBig(t, env, dbB)
	time.Sleep(time.Second) // the writer is at work before the task exists

	cp := harness.StartControlPlane(t, env, 1)
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"db_collections":       map[string]any{dbA: []map[string]any{{"name": "*"}}, dbB: []map[string]any{{"name": "*"}}},
	})
	began := time.Now()
	total, done, rows := waitCopied(t, cp, id, 8*time.Minute)
	t.Logf("copied %d of %d collections, %d rows, in %s", done, total, rows, time.Since(began).Round(time.Millisecond))
	if total != 4 || done != 4 || rows < snapshotRows {
		t.Fatalf("snapshot progress: %d of %d collections, %d rows; want 4 of 4 and at least %d rows", done, total, rows, snapshotRows)
	}
	time.Sleep(3 * time.Second) // writes after the copy, streamed
	stats := stop()
	t.Logf("writer: %+v", stats)
	if stats.Upserted == 0 || stats.Deleted == 0 {
		t.Fatalf("the writer did not upsert and delete: %+v", stats)
	}
	waitVerified(t, env, []string{dbA, dbB}, 4*time.Minute)
	harness.WaitFor(t, time.Minute, "snapshot state done", func() bool {
		st, _, _, _ := snapshotView(t, cp.Base, id)
		return st == contract.SnapshotDone
	})
	for _, c := range []struct {
		db, coll string
		want     commonpb.LoadState
	}{
		{dbA, "types", commonpb.LoadState_LoadStateLoaded},
		{dbA, "bin", commonpb.LoadState_LoadStateNotLoad},
		{dbB, "big", commonpb.LoadState_LoadStateLoaded},
		{dbB, "empty", commonpb.LoadState_LoadStateNotLoad},
	} {
		for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
			harness.WaitFor(t, time.Minute, fmt.Sprintf("%s.%s %s at %s", c.db, c.coll, c.want, addr), func() bool {
				return loadState(ctx, t, addr, c.db, c.coll) == c.want
			})
		}
	}
}

// TestStackSnapshotResumes: the worker running the copy is killed -9 at
// about a third of it and the task paused and resumed at about two thirds,
// while a writer keeps going: the copy goes on from its checkpoint each
// time (the rows it counts stay close to what the source holds instead of
// starting over), and verify finds no difference at the end.
func TestStackSnapshotResumes(t *testing.T) {
	env := harness.RequireStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	db := harness.UniqueName("snapr")
	t.Cleanup(func() {
		for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
			harness.DropDatabase(addr, db, "big")
		}
	})
	admin := harness.Connect(t, env.SourceAddr)
	if err := admin.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	b := dbClient(t, env.SourceAddr, db)
	if err := b.CreateCollection(ctx, workload.VectorSchema("big", 8), 2); err != nil {
		t.Fatal(err)
	}
	if err := workload.InsertRows(ctx, b, "big", 1, snapshotRows, 10_000, 8, rand.New(rand.NewSource(19))); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, b, "big"); err != nil {
		t.Fatal(err)
	}
	stop := steadyOnBig(t, env, db)

	cp := harness.StartControlPlane(t, env, 2)
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"db_collections":       map[string]any{db: []map[string]any{{"name": "*"}}},
		"snapshot":             "initial",
	})
	rowsNow := func() int64 { _, _, _, r := snapshotView(t, cp.Base, id); return r }
	harness.WaitFor(t, 5*time.Minute, "a third of the copy", func() bool { return rowsNow() >= snapshotRows/3 })
	w := cp.RunningOn(id)
	if w < 0 {
		t.Fatal("no worker runs the task")
	}
	cp.Workers[w].Kill9()
	atKill := rowsNow()
	t.Logf("worker %d killed -9 at %d rows copied", w, atKill)
	cp.RestartWorker(t, w)

	harness.WaitFor(t, 5*time.Minute, "two thirds of the copy", func() bool { return rowsNow() >= 2*snapshotRows/3 })
	if code, resp := harness.CDC(t, cp.Base, "pause", map[string]any{"task_id": id}); code != 200 {
		t.Fatalf("pause: %d %v", code, resp)
	}
	harness.WaitFor(t, time.Minute, "the stream to stop", func() bool { return cp.RunningOn(id) < 0 })
	atPause := rowsNow()
	time.Sleep(2 * time.Second)
	if r := rowsNow(); r != atPause {
		t.Fatalf("rows copied moved from %d to %d while paused", atPause, r)
	}
	if code, resp := harness.CDC(t, cp.Base, "resume", map[string]any{"task_id": id}); code != 200 {
		t.Fatalf("resume: %d %v", code, resp)
	}
	_, _, rows := waitCopied(t, cp, id, 8*time.Minute)
	t.Logf("killed at %d rows, paused at %d, %d rows copied in all", atKill, atPause, rows)
	// A copy that started over would count the rows before the kill and
	// the pause twice (100,000+ more).
	if rows < snapshotRows*9/10 || rows > snapshotRows+30_000 {
		t.Fatalf("%d rows copied for a source of about %d: the copy did not go on from its checkpoint", rows, snapshotRows)
	}
	time.Sleep(2 * time.Second)
	stop()
	waitVerified(t, env, []string{db}, 4*time.Minute)
}
