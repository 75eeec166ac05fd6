package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackControlPlane drives a task through HTTP: create (seed curl shape),
// rows arrive, pause (target unchanged), resume (all arrive, none doubled),
// position, errors, kill -9 of the server mid-load, kill -9 of the worker
// running the task (it moves), delete.
func TestStackControlPlane(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 2)
	coll := harness.UniqueName("cp")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	code, resp := harness.CDC(t, cp.Base, "create", map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus", "connect_timeout": 10},
		"collection_infos":     []map[string]any{{"name": coll}},
	})
	if code != 200 {
		t.Fatalf("create: %d %v", code, resp)
	}
	id, _ := resp["data"].(map[string]any)["task_id"].(string)
	if id == "" {
		t.Fatalf("create gave no task_id: %v", resp)
	}
	src := harness.Connect(t, env.SourceAddr)
	t.Cleanup(func() {
		_ = src.DropCollection(context.Background(), coll)
		if c, err := workload.Connect(context.Background(), env.TargetAddr); err == nil {
			_ = c.DropCollection(context.Background(), coll)
			_ = c.Close()
		}
	})
	// The target's credentials lie in Redis sealed, not in plain text.
	rdbSecret := redis.NewClient(&redis.Options{Addr: env.RedisAddr})
	stored, err := rdbSecret.Get(context.Background(), cp.Prefix+contract.SecretKey(id)).Bytes()
	rdbSecret.Close()
	if err != nil || !contract.IsSealed(stored) || strings.Contains(string(stored), "Milvus") {
		t.Fatalf("stored credentials not sealed: %q %v", stored, err)
	}
	for _, rt := range []string{"list", "get"} {
		code, resp := harness.CDC(t, cp.Base, rt, map[string]any{"task_id": id})
		b := fmt.Sprint(resp)
		if code != 200 || !strings.Contains(b, "Running") || strings.Contains(b, "Milvus") {
			t.Fatalf("%s: %d %s (want Running, no token)", rt, code, b)
		}
	}
	time.Sleep(3 * time.Second) // the stream is placed and reading
	// No secret in the stream config a worker shows.
	shown := false
	for i := range cp.Workers {
		if r, err := http.Get(cp.URLs[i] + "/streams/" + id); err == nil {
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode == 200 && (strings.Contains(string(b), "Milvus") || !strings.Contains(string(b), "credentials_cache")) {
				t.Fatalf("worker %d shows the stream config with a secret (or without credentials_cache):\n%s", i, b)
			}
			shown = shown || r.StatusCode == 200
		}
	}
	if !shown {
		t.Fatal("no worker shows the task's stream")
	}
	rng := rand.New(rand.NewSource(6))
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("create", src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 2))
	must("insert", workload.InsertRows(ctx, src, coll, 0, 500, 100, 8, rng))
	must("index", workload.IndexAndLoad(ctx, src, coll))
	verified := func(what string) {
		t.Helper()
		harness.WaitFor(t, 2*time.Minute, what, func() bool {
			rep, err := verify.Run(ctx, verify.Options{SourceAddr: env.SourceAddr, TargetAddr: env.TargetAddr, Collections: []string{"default." + coll}})
			return err == nil && rep.OK() && rep.RowsCompared > 0
		})
	}
	verified("the first 500 rows on the target")

	// Pause: writes on the source do not reach the target.
	if code, resp := harness.CDC(t, cp.Base, "pause", map[string]any{"task_id": id}); code != 200 {
		t.Fatalf("pause: %d %v", code, resp)
	}
	if code, _ := harness.CDC(t, cp.Base, "pause", map[string]any{"task_id": id}); code != 400 {
		t.Errorf("pausing a paused task: %d, want 400", code)
	}
	must("insert while paused", workload.InsertRows(ctx, src, coll, 500, 500, 100, 8, rng))
	time.Sleep(3 * time.Second)
	tgt := harness.Connect(t, env.TargetAddr)
	if n, err := targetRows(ctx, tgt, coll); err != nil || n != 500 {
		t.Fatalf("target while paused: %d rows (%v), want 500", n, err)
	}
	start := time.Now()
	if code, resp := harness.CDC(t, cp.Base, "resume", map[string]any{"task_id": id}); code != 200 {
		t.Fatalf("resume: %d %v", code, resp)
	}
	if code, _ := harness.CDC(t, cp.Base, "resume", map[string]any{"task_id": id}); code != 400 {
		t.Errorf("resuming a running task: %d, want 400", code)
	}
	harness.WaitFor(t, time.Minute, "the paused backlog", func() bool { n, err := targetRows(ctx, tgt, coll); return err == nil && n == 1000 })
	t.Logf("500-row backlog arrived %s after resume", time.Since(start).Round(time.Millisecond))
	verified("1,000 rows, none doubled")

	if code, resp := harness.CDC(t, cp.Base, "position", map[string]any{"task_id": id}); code != 200 || !strings.Contains(fmt.Sprint(resp), "rootcoord-dml") {
		t.Errorf("position: %d %v", code, resp)
	}
	for _, c := range []struct {
		body string
		want int
	}{
		{`{"request_type": "get", "request_data": {"task_id": "nope"}}`, 404},
		{`{"request_type": "get", "request_data": {}}`, 400},
		{`{"request_type": "explode"}`, 400},
		{`{"request_type": `, 400},
	} {
		if code, resp := harness.CDCRaw(t, cp.Base, []byte(c.body)); code != c.want || int(resp["code"].(float64)) != c.want {
			t.Errorf("%s: %d %v, want %d", c.body, code, resp, c.want)
		}
	}
	if r, err := http.Get(cp.Base + "/cdc"); err != nil || r.StatusCode != 405 {
		t.Errorf("GET /cdc: %v %v", r, err)
	}
	// Create errors: an unreachable target, a second task for the same
	// collections on the same target, a body over 1 MiB, wrong JSON types.
	createErrors := []struct {
		what string
		body string
		want int
	}{
		{"unreachable target", `{"request_type":"create","request_data":{"milvus_connect_param":{"host":"127.0.0.1","port":1,"connect_timeout":2},"collection_infos":[{"name":"x"}]}}`, 400},
		{"overlapping task", fmt.Sprintf(`{"request_type":"create","request_data":{"milvus_connect_param":{"uri":"http://%s"},"collection_infos":[{"name":"*"}]}}`, env.TargetAddr), 409},
		{"wrong JSON type", `{"request_type":"create","request_data":{"milvus_connect_param":{"host":"h","port":"abc"},"collection_infos":[{"name":"x"}]}}`, 400},
		{"username without password", `{"request_type":"create","request_data":{"milvus_connect_param":{"host":"h","port":1,"username":"u"},"collection_infos":[{"name":"x"}]}}`, 400},
		{"body over 1 MiB", `{"request_type":"list","request_data":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`, 413},
	}
	for _, c := range createErrors {
		code, resp := harness.CDCRaw(t, cp.Base, []byte(c.body))
		if code != c.want || int(resp["code"].(float64)) != c.want || resp["message"] == "" {
			t.Errorf("%s: %d %v, want %d with a message", c.what, code, resp, c.want)
		}
	}

	// kill -9 the server mid-load; after a restart the task still runs.
	done := make(chan error, 1)
	go func() { done <- workload.InsertRows(ctx, src, coll, 1000, 2000, 100, 8, rng) }()
	time.Sleep(500 * time.Millisecond)
	cp.Server.Kill9()
	must("insert during the server crash", <-done)
	cp.RestartServer(t)
	if code, resp := harness.CDC(t, cp.Base, "get", map[string]any{"task_id": id}); code != 200 || !strings.Contains(fmt.Sprint(resp), "Running") {
		t.Fatalf("after the server crash: %d %v", code, resp)
	}
	verified("3,000 rows after the server crash")

	// kill -9 the worker that runs the task: it moves to the other one.
	var running *harness.Proc
	for i, w := range cp.Workers {
		if harness.HasStream(cp.URLs[i], id) {
			running = w
		}
	}
	if running == nil {
		t.Fatal("no worker runs the task")
	}
	running.Kill9()
	must("insert after the worker crash", workload.InsertRows(ctx, src, coll, 3000, 500, 100, 8, rng))
	verified("3,500 rows after the worker crash")

	if code, resp := harness.CDC(t, cp.Base, "delete", map[string]any{"task_id": id}); code != 200 {
		t.Fatalf("delete: %d %v", code, resp)
	}
	if code, _ := harness.CDC(t, cp.Base, "get", map[string]any{"task_id": id}); code != 404 {
		t.Errorf("get after delete: %d, want 404", code)
	}
}

// TestStackControlPlaneTaskFails: a permanent error in the task's stream (a
// collection of the same name on the target that replication did not create)
// puts the task in Failed with a reason that names the collection.
func TestStackControlPlaneTaskFails(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	coll := harness.UniqueName("cp_fail")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tgt, src := harness.Connect(t, env.TargetAddr), harness.Connect(t, env.SourceAddr)
	if err := tgt.CreateCollection(ctx, workload.VectorSchema(coll, 16), 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = tgt.DropCollection(context.Background(), coll)
		_ = src.DropCollection(context.Background(), coll)
	})
	code, resp := harness.CDC(t, cp.Base, "create", map[string]any{
		"milvus_connect_param": map[string]any{"host": "127.0.0.1", "port": harness.PortOf(env.TargetAddr)},
		"db_collections":       map[string]any{"default": []map[string]any{{"name": coll}}},
	})
	if code != 200 {
		t.Fatalf("create: %d %v", code, resp)
	}
	id := resp["data"].(map[string]any)["task_id"].(string)
	time.Sleep(3 * time.Second)
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 1); err != nil {
		t.Fatal(err)
	}
	var last map[string]any
	harness.WaitFor(t, 90*time.Second, "the task in state Failed", func() bool {
		_, last = harness.CDC(t, cp.Base, "get", map[string]any{"task_id": id})
		return strings.Contains(fmt.Sprint(last), "Failed")
	})
	task := last["data"].(map[string]any)["task"].(map[string]any)
	if reason, _ := task["reason"].(string); !strings.Contains(reason, coll) || !strings.Contains(reason, "not created by replication") {
		t.Fatalf("reason %q does not name the collection and the conflict", reason)
	}
}

// TestStackControlPlaneCheckpointGone: a checkpoint pointing at a Pulsar
// message that no longer exists (as after retention removed it) puts the
// task in Failed with a reason that says so and what to do; nothing is
// skipped silently.
func TestStackControlPlaneCheckpointGone(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	coll := harness.UniqueName("cp_gone")
	// A collection of the task, so its channel ticks: a corrupted position is
	// noticed at the channel's first message after the restart.
	src := harness.Connect(t, env.SourceAddr)
	if err := src.CreateCollection(context.Background(), workload.VectorSchema(coll, 8), 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.DropCollection(context.Background(), coll) })
	desc, err := src.DescribeCollection(context.Background(), coll)
	if err != nil || len(desc.PhysicalChannels) != 1 {
		t.Fatalf("describe: %v %v", desc, err)
	}
	channel := desc.PhysicalChannels[0]
	code, resp := harness.CDC(t, cp.Base, "create", map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr},
		"collection_infos":     []map[string]any{{"name": coll}},
	})
	if code != 200 {
		t.Fatalf("create: %d %v", code, resp)
	}
	id := resp["data"].(map[string]any)["task_id"].(string)
	harness.WaitFor(t, 30*time.Second, "the task's first checkpoint", func() bool {
		_, r := harness.CDC(t, cp.Base, "position", map[string]any{"task_id": id})
		return strings.Contains(fmt.Sprint(r), "rootcoord-dml_0")
	})
	if code, _ := harness.CDC(t, cp.Base, "pause", map[string]any{"task_id": id}); code != 200 {
		t.Fatal("pause failed")
	}
	// Point the collection's channel just before its earliest retained
	// message: what a checkpoint looks like after retention removed the
	// messages it points at.
	gone := contract.EncodePosition(beforeEarliest(t, env.PulsarURL, contract.DefaultTopics().Topic(channel)).Serialize())
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr})
	defer rdb.Close()
	key := cp.Prefix + contract.CheckpointKey(id)
	raw, err := rdb.Get(context.Background(), key).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	ck, err := contract.ParseCheckpoint(raw)
	if err != nil {
		t.Fatal(err)
	}
	ck.Channels[channel] = gone
	b, _ := json.Marshal(ck)
	if err := rdb.Set(context.Background(), key, b, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if code, _ := harness.CDC(t, cp.Base, "resume", map[string]any{"task_id": id}); code != 200 {
		t.Fatal("resume failed")
	}
	var last map[string]any
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(fmt.Sprint(last), "Failed") {
		if time.Now().After(deadline) {
			t.Fatalf("the task is not Failed after 60 s: %v\nworker log:\n%s", last, cp.Workers[0].Logs.String())
		}
		time.Sleep(500 * time.Millisecond)
		_, last = harness.CDC(t, cp.Base, "get", map[string]any{"task_id": id})
	}
	reason, _ := last["data"].(map[string]any)["task"].(map[string]any)["reason"].(string)
	for _, want := range []string{"no longer has", "Nothing was skipped", "delete the checkpoint"} {
		if !strings.Contains(reason, want) {
			t.Errorf("reason %q lacks %q", reason, want)
		}
	}
}

// beforeEarliest returns a message ID just before the earliest message the
// topic retains (one that no longer exists).
func beforeEarliest(t *testing.T, url, topic string) pulsar.MessageID {
	t.Helper()
	c, err := pulsar.NewClient(pulsar.ClientOptions{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r, err := c.CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.EarliestMessageID()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := r.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := m.ID()
	if first.EntryID() > 0 {
		return pulsar.NewMessageID(first.LedgerID(), first.EntryID()-1, -1, -1)
	}
	return pulsar.NewMessageID(first.LedgerID()-1, 0, -1, -1)
}
