package fault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// partitionPause cuts the worker running the task off from the control
// plane (a TCP proxy between them drops everything; the worker still
// reaches Redis, Pulsar and both Milvus) and pauses the task: pause answers
// 200, and for the 20 s the task stays paused, and after the path is healed
// until the reconciler removed the cut-off stream, the target's keys and
// count(*) and the stored checkpoint do not change while the load goes on
// on the source. Then the task is resumed; the fault ends there.
func partitionPause(f *fixture) time.Time {
	// The fixture's control plane reaches its workers directly: restart it
	// behind proxies (the stream keeps running).
	f.cp.ProxyWorkers(f.t)
	harness.WaitFor(f.t, time.Minute, "the task Running on a worker behind the proxies", f.running)
	i := f.cp.RunningOn(f.id)
	if i < 0 {
		f.t.Fatalf("no worker runs the task before the fault: %s", f.describe())
	}
	f.cp.Proxies[i].Cut()
	asked := time.Now()
	code, resp := harness.CDC(f.t, f.cp.Base, "pause", map[string]any{"task_id": f.id})
	f.t.Logf("pause with the task's worker cut off answered %d after %s", code, time.Since(asked).Round(time.Millisecond))
	if code != http.StatusOK {
		f.t.Fatalf("pause with the task's worker cut off: %d %v", code, resp)
	}
	paused := time.Now()
	ctx := f.t.Context()
	rdb := redis.NewClient(&redis.Options{Addr: f.env.RedisAddr})
	defer rdb.Close()
	ckptKey := f.cp.Prefix + contract.CheckpointKey(f.id)
	ckpt := func() string {
		v, err := rdb.Get(ctx, ckptKey).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			f.t.Fatalf("read the checkpoint: %v", err)
		}
		return v
	}
	wasKeys, wasCount := f.targetKeys(ctx)
	wasCkpt := ckpt()
	if wasCkpt == "" {
		f.t.Errorf("no checkpoint stored after pause")
	}
	still := func(when string) {
		nowKeys, nowCount := f.targetKeys(ctx)
		if nowCount != wasCount || !sameKeys(wasKeys, nowKeys) {
			f.t.Errorf("%s: the target changed while the task is paused: count(*) %d -> %d, %s",
				when, wasCount, nowCount, keyDiff(wasKeys, nowKeys))
		}
		if c := ckpt(); c != wasCkpt {
			f.t.Errorf("%s: the checkpoint changed while the task is paused:\n  was %.300s\n  now %.300s", when, wasCkpt, c)
		}
	}
	written := f.load.Stats()
	time.Sleep(time.Until(paused.Add(20 * time.Second)))
	w := f.load.Stats()
	f.t.Logf("while paused and cut off for 20 s the source took %d inserted, %d upserted, %d deleted rows",
		w.Inserted-written.Inserted, w.Upserted-written.Upserted, w.Deleted-written.Deleted)
	still("paused and cut off 20 s")
	f.cp.Proxies[i].Heal()
	healed := time.Now()
	harness.WaitFor(f.t, time.Minute, "the cut-off stream removed after the heal", func() bool { return !harness.HasStream(f.cp.URLs[i], f.id) })
	f.t.Logf("the cut-off stream left its worker %s after the heal", time.Since(healed).Round(time.Millisecond))
	still("healed, cut-off stream removed")
	if code, resp := harness.CDC(f.t, f.cp.Base, "resume", map[string]any{"task_id": f.id}); code != http.StatusOK {
		f.t.Fatalf("resume: %d %v", code, resp)
	}
	return time.Now()
}

// deleteCreate deletes the task under load, waits 5 s, and creates it again
// with the same request through POST /cdc (the fixture follows the new
// task): the new task adopts the copy the first one made, and its snapshot
// and stream make it equal to the source (nothing lost, nothing extra).
func deleteCreate(f *fixture) time.Time {
	if code, resp := harness.CDC(f.t, f.cp.Base, "delete", map[string]any{"task_id": f.id}); code != http.StatusOK {
		f.t.Fatalf("delete: %d %v", code, resp)
	}
	old := f.id
	time.Sleep(5 * time.Second)
	// newFixture's request.
	code, resp := harness.CDC(f.t, f.cp.Base, "create", map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + f.env.TargetAddr, "connect_timeout": 10},
		"collection_infos":     []map[string]any{{"name": f.coll}},
	})
	if code != http.StatusOK {
		f.t.Fatalf("create again: %d %v", code, resp)
	}
	created := time.Now()
	d, _ := resp["data"].(map[string]any)
	id, _ := d["task_id"].(string)
	if id == "" {
		f.t.Fatalf("create again gave no task_id: %v", resp)
	}
	f.id = id // the fixture's cleanup and the checks follow the new task
	f.t.Logf("task %s deleted, created again as %s", old, id)
	return created
}

// targetKeys is the target's keys and count(*) (fatal when it cannot tell).
func (f *fixture) targetKeys(ctx context.Context) (map[int64]bool, int64) {
	c, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	ks, n, err := keys(c, f.tgt, f.coll)
	if err != nil {
		f.t.Fatalf("target keys: %v", err)
	}
	return ks, n
}

func sameKeys(a, b map[int64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// keyDiff names a few keys that appeared and vanished from a to b.
func keyDiff(a, b map[int64]bool) string {
	var added, gone []int64
	for k := range b {
		if !a[k] {
			added = append(added, k)
		}
	}
	for k := range a {
		if !b[k] {
			gone = append(gone, k)
		}
	}
	sort.Slice(added, func(i, j int) bool { return added[i] < added[j] })
	sort.Slice(gone, func(i, j int) bool { return gone[i] < gone[j] })
	return fmt.Sprintf("%d keys appeared (first %v), %d vanished (first %v)", len(added), head(added), len(gone), head(gone))
}

func head(ks []int64) []int64 {
	if len(ks) > 5 {
		return ks[:5]
	}
	return ks
}
