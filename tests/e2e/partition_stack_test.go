package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackPartitionedWorker: one writer per task when the worker running
// the task is cut off from the control plane (a TCP proxy between them,
// cut) but still reaches Redis, Pulsar and the target. Pause answers 200
// within 40 s; 500 rows written to the source afterwards do not reach the
// target, and the checkpoint, status and lease keys do not change, for 15 s
// and after the path is healed and the reconciler removes the stale stream;
// resume then copies everything exactly. Delete the same way: nothing lands
// and none of the task's keys comes back. Run once with the path dropping
// packets (the control plane's calls time out) and once with it resetting
// connections (they fail fast).
func TestStackPartitionedWorker(t *testing.T) {
	env := harness.RequireStack(t)
	for _, mode := range []string{"blackhole", "refuse"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			partitionedWorker(t, env, mode)
		})
	}
}

func partitionedWorker(t *testing.T, env harness.Env, mode string) {
	cp := harness.StartControlPlaneProxied(t, env, 1)
	px := cp.Proxies[0]
	cut := px.Cut
	if mode == "refuse" {
		cut = px.CutRefuse
	}
	coll := harness.UniqueName("partition_" + mode)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	src, tgt := harness.Connect(t, env.SourceAddr), harness.Connect(t, env.TargetAddr)
	t.Cleanup(func() {
		_ = src.DropCollection(context.Background(), coll)
		if c, err := workload.Connect(context.Background(), env.TargetAddr); err == nil {
			_ = c.DropCollection(context.Background(), coll)
			_ = c.Close()
		}
	})
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus", "connect_timeout": 10},
		"collection_infos":     []map[string]any{{"name": coll}},
	})
	harness.WaitFor(t, time.Minute, "the task's start positions", func() bool {
		_, r := harness.CDC(t, cp.Base, "position", map[string]any{"task_id": id})
		return strings.Contains(fmt.Sprint(r), "rootcoord-dml")
	})
	rng := rand.New(rand.NewSource(24))
	must("create", src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 2))
	must("insert", workload.InsertRows(ctx, src, coll, 0, 500, 100, 8, rng))
	must("index", workload.IndexAndLoad(ctx, src, coll))
	exact := func(what string, rows int) {
		t.Helper()
		harness.WaitFor(t, 2*time.Minute, what, func() bool {
			rep, err := verify.Run(ctx, verify.Options{SourceAddr: env.SourceAddr, TargetAddr: env.TargetAddr, Collections: []string{"default." + coll}})
			return err == nil && rep.OK() && rep.RowsCompared == int64(rows)
		})
		if n, err := rowCountStrong(ctx, tgt, coll); err != nil || n != int64(rows) {
			t.Fatalf("%s: count(*) on the target %d (%v), want %d", what, n, err, rows)
		}
	}
	exact("the first 500 rows on the target", 500)
	if !harness.HasStream(cp.URLs[0], id) {
		t.Fatal("the worker does not run the task's stream")
	}

	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr})
	t.Cleanup(func() { _ = rdb.Close() })
	// The keys a stream of the task writes (the lease and the checkpoint
	// through the run's fence; the status every 2 s while it runs).
	watched := []string{contract.CheckpointKey(id), contract.InputStatusKey(id), contract.OutputStatusKey(id),
		contract.LeaseKey(id), contract.RunKey(id), contract.FailureKey(id)}
	snapshot := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, k := range watched {
			v, err := rdb.Get(ctx, cp.Prefix+k).Result()
			switch {
			case errors.Is(err, redis.Nil):
			case err != nil:
				t.Fatalf("read %s: %v", k, err)
			default:
				out[k] = v
			}
		}
		return out
	}
	// unchanged: no key took a new value or appeared since then (a key may
	// have expired: that is no write).
	unchanged := func(when string, then map[string]string) {
		t.Helper()
		now := snapshot()
		for k, v := range now {
			if old, ok := then[k]; !ok {
				t.Errorf("%s: key %s appeared: %.300s", when, k, v)
			} else if old != v {
				t.Errorf("%s: key %s changed:\n  was %.300s\n  now %.300s", when, k, old, v)
			}
		}
	}
	stays := func(what string, rows int, then map[string]string) {
		t.Helper()
		n, err := targetRows(ctx, tgt, coll)
		c, cerr := rowCountStrong(ctx, tgt, coll)
		if err != nil || cerr != nil || n != rows || c != int64(rows) {
			t.Errorf("%s: the target holds %d keys, count(*) %d (%v %v), want %d: the cut-off stream wrote", what, n, c, err, cerr, rows)
		}
		unchanged(what, then)
	}
	// stopAcross cuts the path, sends request_type and expects 200 within 40 s.
	stopAcross := func(requestType string) {
		t.Helper()
		cut()
		asked := time.Now()
		code, resp := harness.CDC(t, cp.Base, requestType, map[string]any{"task_id": id})
		took := time.Since(asked)
		t.Logf("%s with the worker cut off (%s) answered %d after %s", requestType, mode, code, took.Round(time.Millisecond))
		if code != 200 {
			t.Fatalf("%s with the worker cut off: %d %v", requestType, code, resp)
		}
		if took > 40*time.Second {
			t.Errorf("%s with the worker cut off took %s, want at most 40 s", requestType, took.Round(time.Millisecond))
		}
	}
	// healed heals the path and waits until the reconciler removed the
	// stale stream from the worker.
	healed := func() {
		t.Helper()
		px.Heal()
		at := time.Now()
		harness.WaitFor(t, time.Minute, "the stale stream removed from the healed worker", func() bool { return !harness.HasStream(cp.URLs[0], id) })
		t.Logf("the stale stream left the healed worker %s after the heal", time.Since(at).Round(time.Millisecond))
	}

	// Pause across the partition.
	stopAcross("pause")
	paused := snapshot()
	for _, k := range []string{contract.LeaseKey(id), contract.RunKey(id)} {
		if _, ok := paused[k]; ok {
			t.Errorf("key %s still set after pause answered", k)
		}
	}
	if _, ok := paused[contract.CheckpointKey(id)]; !ok {
		t.Errorf("no checkpoint after pause: %v", paused)
	}
	t.Logf("after pause the cut-off worker still runs the stream: %v", harness.HasStream(cp.URLs[0], id))
	must("insert while paused", workload.InsertRows(ctx, src, coll, 500, 500, 100, 8, rng))
	time.Sleep(15 * time.Second)
	stays("15 s after 500 rows written while paused and cut off", 500, paused)
	healed()
	time.Sleep(3 * time.Second)
	stays("paused, healed, stale stream removed", 500, paused)
	if s, reason := cp.TaskState(t, id); s != "Paused" {
		t.Errorf("the task is %s (%s), want Paused", s, reason)
	}
	if code, resp := harness.CDC(t, cp.Base, "resume", map[string]any{"task_id": id}); code != 200 {
		t.Fatalf("resume: %d %v", code, resp)
	}
	exact("all 1,000 rows after resume, none doubled", 1000)
	if s, reason := cp.TaskState(t, id); s != "Running" {
		t.Fatalf("after resume the task is %s (%s)", s, reason)
	}

	// Delete across the partition: every key of the task is gone and stays so.
	harness.WaitFor(t, 30*time.Second, "the resumed stream holding its lease", func() bool {
		return rdb.Exists(ctx, cp.Prefix+contract.LeaseKey(id)).Val() == 1
	})
	stopAcross("delete")
	deleted := snapshot()
	if len(deleted) != 0 {
		t.Errorf("keys left after delete answered: %v", deleted)
	}
	if code, _ := harness.CDC(t, cp.Base, "get", map[string]any{"task_id": id}); code != 404 {
		t.Errorf("get after delete: %d, want 404", code)
	}
	must("insert after delete", workload.InsertRows(ctx, src, coll, 1000, 500, 100, 8, rng))
	time.Sleep(15 * time.Second)
	stays("15 s after 500 rows written after delete, cut off", 1000, deleted)
	healed()
	time.Sleep(3 * time.Second)
	stays("deleted, healed, stale stream removed", 1000, deleted)
}
