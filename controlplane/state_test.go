package controlplane

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// TestStateCreateRuns: a create stores the task Running with its pinned
// checkpoint and its credentials (never in the task), and the next pass
// runs its stream; disable_auto_start stores it Paused, with why.
func TestStateCreateRuns(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	task := p.task(t, "t1")
	if task.State != StateRunning || task.Target.Token != "" || task.SnapshotMode != SnapshotInitial {
		t.Fatalf("stored task %+v: want Running, no token, snapshot initial", task)
	}
	if same, _ := p.store.SameCredentials(ctx, contract.SecretKey("t1"), "root:secret", "", ""); !same {
		t.Fatal("the task's credentials are not stored beside it")
	}
	if pos, err := p.m.Position(ctx, "t1"); err != nil || pos["by-dev-rootcoord-dml_0"] != contract.EncodePosition([]byte("p")) {
		t.Fatalf("the pinned start is not the task's position: %v %v", pos, err)
	}
	got, err := p.m.Get(ctx, "t1")
	if err != nil || got.Snapshot == nil || got.Snapshot.State != contract.SnapshotPending {
		t.Fatalf("get: %+v %v, want a pending snapshot", got.Snapshot, err)
	}
	p.pass(t)
	p.runningOn(t, "t1", "http://w1")

	p.create(t, "t2", "http://target:19530", "c2", true)
	if task := p.task(t, "t2"); task.State != StatePaused || task.Reason != "created with disable_auto_start" {
		t.Fatalf("disable_auto_start stored %s (%q)", task.State, task.Reason)
	}
	p.pass(t)
	p.notRunning(t, "t2")
}

// TestStatePauseResume: pause removes the stream, ends the run and releases
// the lease before it answers; pausing again or resuming a Running task is a
// 400; resume runs the task again with a new run.
func TestStatePauseResume(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.pass(t)
	first := p.runningOn(t, "t1", "http://w1")
	if held, _ := p.store.LeaseHeld(ctx, "t1"); !held {
		t.Fatal("the running stream holds no lease")
	}
	wantAPICode(t, "resume of a running task", p.m.Resume(ctx, "t1"), http.StatusBadRequest, "already running")
	if err := p.m.Pause(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	p.notRunning(t, "t1")
	run, _ := p.store.Run(ctx, "t1")
	held, _ := p.store.LeaseHeld(ctx, "t1")
	if task := p.task(t, "t1"); task.State != StatePaused || task.Reason != "paused by request" || run != "" || held {
		t.Fatalf("after pause: %s %q, run %q, lease held %v", task.State, task.Reason, run, held)
	}
	wantAPICode(t, "pause of a paused task", p.m.Pause(ctx, "t1"), http.StatusBadRequest, "already paused")
	if err := p.m.Resume(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if task := p.task(t, "t1"); task.State != StateRunning || task.Reason != "" {
		t.Fatalf("after resume: %s %q", task.State, task.Reason)
	}
	p.pass(t)
	if again := p.runningOn(t, "t1", "http://w1"); again == first {
		t.Fatal("the resumed task runs its old run")
	}
}

// TestStatePauseWaitsForLease: a stream on a worker that cannot be reached
// keeps its lease: pause answers only once the lease is gone, and a 503 if
// it stays past the wait. The task is Paused either way.
func TestStatePauseWaitsForLease(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.pass(t)
	p.workers.setDown("http://w1", true)
	expires := time.Now().Add(200 * time.Millisecond)
	p.store.with("t1", func(k *fakeKeys) { k.lease = expires })
	if err := p.m.Pause(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(expires) {
		t.Fatal("pause answered while the cut-off stream's lease was still held")
	}
	if err := p.m.Resume(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	p.m.leaseWait = 100 * time.Millisecond
	p.store.with("t1", func(k *fakeKeys) { k.lease = time.Now().Add(time.Hour) })
	wantAPICode(t, "pause while the lease stays held", p.m.Pause(ctx, "t1"), http.StatusServiceUnavailable, "still held")
	if task := p.task(t, "t1"); task.State != StatePaused {
		t.Fatalf("the task is %s after a pause that timed out waiting, want Paused", task.State)
	}
	// Back, the worker's stream (of the ended run) is removed by a pass.
	p.workers.setDown("http://w1", false)
	p.pass(t)
	p.notRunning(t, "t1")
}

// TestStateDelete: delete stops the stream, forgets the task and its keys
// (a new task of that id starts clean); unknown tasks are 404s.
func TestStateDelete(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.pass(t)
	if err := p.m.Delete(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	p.notRunning(t, "t1")
	if _, err := p.m.Get(ctx, "t1"); err == nil {
		t.Fatal("a deleted task is still there")
	}
	if ck, _ := p.store.Checkpoint(ctx, "t1"); ck != nil {
		t.Fatalf("a deleted task's checkpoint is still there: %v", ck)
	}
	for what, err := range map[string]error{
		"delete": p.m.Delete(ctx, "t1"), "pause": p.m.Pause(ctx, "t1"), "resume": p.m.Resume(ctx, "t1"),
		"get": func() error { _, err := p.m.Get(ctx, "t1"); return err }(),
	} {
		wantAPICode(t, what+" of a missing task", err, http.StatusNotFound, "not found")
	}
}

// TestStateFailedWithReason: a permanent failure its stream reported turns
// the task Failed with that reason and removes its stream; pause of a
// Failed task is a 400; resume retries it (the failure is forgotten, so the
// next pass runs it instead of failing it again).
func TestStateFailedWithReason(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.pass(t)
	p.store.with("t1", func(k *fakeKeys) { k.failure = "schema conflict on the target" })
	p.pass(t)
	task, err := p.m.Get(ctx, "t1")
	if err != nil || task.State != StateFailed || task.Reason != "schema conflict on the target" {
		t.Fatalf("after the reported failure: %s %q %v", task.State, task.Reason, err)
	}
	p.notRunning(t, "t1")
	if run, _ := p.store.Run(ctx, "t1"); run != "" {
		t.Fatalf("a failed task keeps run %q", run)
	}
	wantAPICode(t, "pause of a failed task", p.m.Pause(ctx, "t1"), http.StatusBadRequest, "is failed, not running")
	if err := p.m.Resume(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	p.pass(t)
	p.runningOn(t, "t1", "http://w1")
	if task := p.task(t, "t1"); task.State != StateRunning || task.Reason != "" {
		t.Fatalf("the resumed task is %s (%q)", task.State, task.Reason)
	}
}

// TestStatePauseBetweenRunAndStream: a pause that lands after a pass
// started a run but before the stream is on the worker ends that run, so
// the stream the pass then starts is fenced (no lease) and the next pass
// removes it.
func TestStatePauseBetweenRunAndStream(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	paused := make(chan error, 1)
	p.workers.beforeCreate = func(string, string) {
		p.workers.beforeCreate = nil
		paused <- p.m.Pause(ctx, "t1")
	}
	p.pass(t)
	if err := <-paused; err != nil {
		t.Fatal(err)
	}
	run, _ := p.store.Run(ctx, "t1")
	held, _ := p.store.LeaseHeld(ctx, "t1")
	if run != "" || held {
		t.Fatalf("the paused task has run %q (lease held %v): the late stream could write", run, held)
	}
	p.pass(t)
	p.notRunning(t, "t1")
}

// TestStatePauseBeforeRun: a pause that lands after a pass listed the task
// Running but before it started a run wins: the pass starts no stream.
func TestStatePauseBeforeRun(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.store.beforeStartRun = func(string) {
		p.store.beforeStartRun = nil
		if err := p.m.Pause(ctx, "t1"); err != nil {
			t.Error(err)
		}
	}
	p.pass(t)
	p.notRunning(t, "t1")
	if run, _ := p.store.Run(ctx, "t1"); run != "" || p.workers.created != 0 {
		t.Fatalf("a pass started run %q and %d streams of a task paused before the run", run, p.workers.created)
	}
}

// TestStatePauseRacesReconcile: pauses and reconcile passes at the same
// time, many times: a paused task never keeps a run, and once the passes
// are done no stream of it runs.
func TestStatePauseRacesReconcile(t *testing.T) {
	p := newUnitPlane(t, "http://w1", "http://w2")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	var passMu sync.Mutex // passes of one reconciler never overlap (Run)
	for i := range 50 {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			passMu.Lock()
			defer passMu.Unlock()
			_ = p.rec.Pass(ctx)
		}()
		var perr error
		go func() { defer wg.Done(); perr = p.m.Pause(ctx, "t1") }()
		wg.Wait()
		if perr != nil {
			t.Fatalf("round %d: pause: %v", i, perr)
		}
		if run, _ := p.store.Run(ctx, "t1"); run != "" {
			t.Fatalf("round %d: the paused task keeps run %s", i, run)
		}
		p.pass(t)
		p.notRunning(t, "t1")
		if err := p.m.Resume(ctx, "t1"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStateRefusedOnLostStore: while the store has lost its identity every
// request is a 503 saying so.
func TestStateRefusedOnLostStore(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	ctx := context.Background()
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.store.mu.Lock()
	p.store.id = "another"
	p.store.mu.Unlock()
	_, lerr := p.m.List(ctx)
	_, cerr := p.m.Create(ctx, CreateRequest{Target: ConnectParam{URI: "http://t:1"}, CollectionInfos: []CollectionInfo{{Name: "c2"}}})
	for what, err := range map[string]error{"list": lerr, "create": cerr, "pause": p.m.Pause(ctx, "t1"), "delete": p.m.Delete(ctx, "t1")} {
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s on a store that lost its data: %v, want a 503", what, err)
		}
	}
	if task := p.task(t, "t1"); task.State != StateRunning {
		t.Fatalf("a refused pause changed the task to %s", task.State)
	}
}
