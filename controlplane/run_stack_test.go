package controlplane

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// TestRunEndsWithState: starting a run needs the task Running; pausing,
// deleting or failing it ends the run in the same change, so a stream the
// reconciler starts after (or while) the task is paused is fenced.
func TestRunEndsWithState(t *testing.T) {
	m := stackManager(t, 10)
	ctx := context.Background()
	s := redisOf(m)
	if err := s.Put(ctx, Task{ID: "run1", State: StateRunning}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Delete(context.Background(), "run1") })
	run, err := s.StartRun(ctx, "run1")
	if err != nil || run == "" {
		t.Fatalf("start a run: %q %v", run, err)
	}
	if cur, _ := s.Run(ctx, "run1"); cur != run {
		t.Fatalf("current run %q, want %q", cur, run)
	}
	if err := m.setState(ctx, "run1", StateRunning, StatePaused, "paused by request"); err != nil {
		t.Fatal(err)
	}
	if cur, _ := s.Run(ctx, "run1"); cur != "" {
		t.Fatalf("a paused task still has run %q", cur)
	}
	if _, err := s.StartRun(ctx, "run1"); !errors.Is(err, errStateChanged) {
		t.Fatalf("a run of a paused task: %v, want errStateChanged", err)
	}
}

// TestPauseRacesStartRun: pause and the reconciler's start of a run, at the
// same moment, many times: whichever wins, a paused task never keeps a run.
func TestPauseRacesStartRun(t *testing.T) {
	m := stackManager(t, 10)
	ctx := context.Background()
	s := redisOf(m)
	t.Cleanup(func() { _ = s.Delete(context.Background(), "race1") })
	for i := 0; i < 200; i++ {
		if err := s.Put(ctx, Task{ID: "race1", State: StateRunning}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, _ = s.StartRun(ctx, "race1") }()
		go func() { defer wg.Done(); _ = m.setState(ctx, "race1", StateRunning, StatePaused, "paused by request") }()
		wg.Wait()
		task, err := s.Get(ctx, "race1")
		if err != nil {
			t.Fatal(err)
		}
		if run, _ := s.Run(ctx, "race1"); task.State == StatePaused && run != "" {
			t.Fatalf("round %d: the task is paused and run %s is current: its stream would go on writing", i, run)
		}
	}
}

// TestResumeKeepsFailure: resume of a Running task is refused and leaves its
// failure reason; resume of a Failed one forgets it; a task created again
// with the same id starts without the old failure.
func TestResumeKeepsFailure(t *testing.T) {
	m := stackManager(t, 10)
	ctx := context.Background()
	s := redisOf(m)
	t.Cleanup(func() { _ = s.Delete(context.Background(), "fail1") })
	if err := s.Put(ctx, Task{ID: "fail1", State: StateRunning}); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.Set(ctx, s.key(contract.FailureKey("fail1")), "boom", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var apiErr *APIError
	if err := m.Resume(ctx, "fail1"); !errors.As(err, &apiErr) || apiErr.Code != http.StatusBadRequest {
		t.Fatalf("resume of a running task: %v, want 400", err)
	}
	if f, _ := s.Failure(ctx, "fail1"); f != "boom" {
		t.Fatalf("resume of a running task erased its failure (now %q)", f)
	}
	if err := s.SetState(ctx, "fail1", func(t *Task) error { t.State, t.Reason = StateFailed, "boom"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := m.Resume(ctx, "fail1"); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.Failure(ctx, "fail1"); f != "" {
		t.Fatalf("resume of a failed task kept its failure %q", f)
	}
	// Deleted, its stream reports a failure late, created again: clean.
	if err := s.Delete(ctx, "fail1"); err != nil {
		t.Fatal(err)
	}
	_ = s.rdb.Set(ctx, s.key(contract.FailureKey("fail1")), "late", 0).Err()
	if _, err := m.Create(ctx, CreateRequest{TaskID: "fail1", Target: ConnectParam{URI: "http://t:1"}, CollectionInfos: []CollectionInfo{{Name: "c"}}}); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.Failure(ctx, "fail1"); f != "" {
		t.Fatalf("a task created again starts with the old failure %q", f)
	}
}
