package taskstore

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

func stored(t *testing.T, res *service.Resources, key string) []byte {
	t.Helper()
	var b []byte
	ctx := context.Background()
	if err := res.AccessCache(ctx, "store", func(c service.Cache) { b, _ = c.Get(ctx, key) }); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWriterReportAndRun: one writer type reports a failure once and a
// progress periodically, as JSON, keeping the last value while get has
// nothing to say.
func TestWriterReportAndRun(t *testing.T) {
	res := service.MockResources(service.MockResourcesOptAddCache("store"))
	log := res.Logger()
	NewWriter(res, "store", "failed:t1").Report("boom", log)
	if got := stored(t, res, "failed:t1"); string(got) != "boom" {
		t.Fatalf("failure stored as %q", got)
	}

	w := NewWriter(res, "store", "status_out:t1")
	ctx, cancel := context.WithCancel(context.Background())
	values := make(chan any, 3)
	values <- map[string]int{"n": 1}
	values <- nil
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.runEvery(ctx, 10*time.Millisecond, func() any {
			select {
			case v := <-values:
				return v
			default:
				return nil
			}
		}, log)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(values) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(30 * time.Millisecond)
	cancel()
	<-done
	var got map[string]int
	if err := json.Unmarshal(stored(t, res, "status_out:t1"), &got); err != nil || got["n"] != 1 {
		t.Fatalf("status stored as %v (%v)", got, err)
	}
}

// TestDisabledWriter: a writer without a cache or key writes nothing and
// Run returns at once.
func TestDisabledWriter(t *testing.T) {
	res := service.MockResources()
	for _, w := range []*Writer{nil, NewWriter(res, "", "k"), NewWriter(res, "c", "")} {
		if w.Enabled() || w.Key() != "" {
			t.Errorf("%+v enabled", w)
		}
		if err := w.Write(context.Background(), []byte("x")); err != nil {
			t.Errorf("write of a disabled writer: %v", err)
		}
		w.Run(context.Background(), func() any { t.Error("get called"); return nil }, res.Logger())
	}
}
