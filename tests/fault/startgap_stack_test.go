package fault

import (
	"context"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStartGap drives a task as the documentation's curl creates it
// (`collection_infos: [{"name": "*"}]`) while no worker runs: at once a new
// database, a collection in it, its index and load, and rows are written on
// the source; the worker starts seconds later. The task starts where create
// pinned it, and `*` is the whole cluster: the target gets the new database
// and a new collection of `default` with every row (verify finds no
// difference), and partitions made on the source without a row in them
// (Milvus 2.3 logs no CreatePartition), before and after the worker starts,
// and a TTL set after creation (no AlterCollection in the log either). It runs alone (with the fault
// suite): a whole-cluster task copies whatever else the source is doing.
func TestStartGap(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	cp.Workers[0].Kill9() // no worker runs when the task is created
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus", "connect_timeout": 10},
		"collection_infos":     []map[string]any{{"name": "*"}},
	})

	db, coll, defColl := harness.UniqueName("gapdb"), harness.UniqueName("gap"), harness.UniqueName("gapdef")
	admin := harness.Connect(t, env.SourceAddr)
	t.Cleanup(func() {
		harness.DropDatabase(env.SourceAddr, db, coll)
		harness.DropDatabase(env.TargetAddr, db, coll)
		harness.DropDatabase(env.SourceAddr, "default", defColl)
		harness.DropDatabase(env.TargetAddr, "default", defColl)
	})
	if err := admin.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	src, err := client.NewClient(ctx, client.Config{Address: env.SourceAddr, DBName: db})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, dim), 2); err != nil {
		t.Fatal(err)
	}
	if err := admin.CreateCollection(ctx, workload.VectorSchema(defColl, dim), 1); err != nil {
		t.Fatal(err)
	}
	if err := src.CreatePartition(ctx, coll, "empty_before"); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(14))
	started := make(chan struct{})
	go func() {
		time.Sleep(3 * time.Second) // the writes below are under way
		cp.RestartWorker(t, 0)
		close(started)
	}()
	const rows = 3000
	for first := int64(0); first < rows; first += 300 {
		if err := workload.InsertRows(ctx, src, coll, first, 300, 300, dim, rng); err != nil {
			t.Fatal(err)
		}
		if err := workload.InsertRows(ctx, admin, defColl, first, 100, 100, dim, rng); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := src.Delete(ctx, coll, "", "id in [1,2,3]"); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, src, coll); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, admin, defColl); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := src.CreatePartition(ctx, coll, "empty_after"); err != nil {
		t.Fatal(err)
	}

	var rep *verify.Report
	want := int64(rows - 3 + rows/3)
	copied := func() bool {
		rep, err = verify.Run(ctx, verify.Options{SourceAddr: env.SourceAddr, TargetAddr: env.TargetAddr,
			Collections: []string{db + ".*", "default." + defColl}})
		return err == nil && rep.OK() && rep.RowsCompared == want
	}
	for deadline := time.Now().Add(3 * time.Minute); !copied(); time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("the new database and collection not copied exactly in 3 min: %v; report %+v", err, rep)
		}
	}
	tgt, err := client.NewClient(ctx, client.Config{Address: env.TargetAddr, DBName: db})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	harness.WaitFor(t, time.Minute, "the empty partitions on the target", func() bool {
		parts, err := tgt.ShowPartitions(ctx, coll)
		got := map[string]bool{}
		for _, p := range parts {
			got[p.Name] = true
		}
		return err == nil && got["empty_before"] && got["empty_after"]
	})
	// A property set after creation (2.3 logs no AlterCollection).
	if err := src.AlterCollection(ctx, coll, entity.CollectionTTL(3600)); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, time.Minute, "the TTL set on the source on the target", func() bool {
		c, err := tgt.DescribeCollection(ctx, coll)
		return err == nil && c.Properties["collection.ttl.seconds"] == "3600"
	})
	if state, reason := cp.TaskState(t, id); state != "Running" {
		t.Fatalf("task %s: %s (%s)", id, state, reason)
	}
	t.Logf("task created with no worker running, worker started 3 s into the writes: %d rows of a database and a collection created after the task compared, no difference, empty partitions and a later TTL copied", rep.RowsCompared)

	// The checkpoint lost (Redis restored from an old snapshot, say): the
	// task must not restart at "latest" but turn Failed and say why.
	if code, _ := harness.CDC(t, cp.Base, "pause", map[string]any{"task_id": id}); code != 200 {
		t.Fatal("pause failed")
	}
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr})
	defer rdb.Close()
	if n, err := rdb.Del(ctx, cp.Prefix+contract.CheckpointKey(id)).Result(); err != nil || n != 1 {
		t.Fatalf("delete the checkpoint: %d %v", n, err)
	}
	if code, _ := harness.CDC(t, cp.Base, "resume", map[string]any{"task_id": id}); code != 200 {
		t.Fatal("resume failed")
	}
	var state, reason string
	harness.WaitFor(t, time.Minute, "the task without checkpoint to turn Failed", func() bool {
		state, reason = cp.TaskState(t, id)
		return state == "Failed"
	})
	for _, want := range []string{"no checkpoint is stored", "nothing skipped", "create it again"} {
		if !strings.Contains(reason, want) {
			t.Errorf("reason %q lacks %q", reason, want)
		}
	}
}
