package binlog

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
)

// TestMissingCheckpointFailsForGood: with start_from: checkpoint and no
// checkpoint stored, Connect fails for good (no silent start at "latest"),
// keeps failing, and the failure cache gets the reason.
func TestMissingCheckpointFailsForGood(t *testing.T) {
	res := service.MockResources(service.MockResourcesOptAddCache("store"))
	parsed, err := milvusBinlogInputSpec().ParseYAML(`
start_from: checkpoint
task_store: { cache: store, task: t1 }
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err := milvusBinlogInputFromParsed(parsed, res)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		if err := in.Connect(ctx); !logreader.IsFatal(err) || !strings.Contains(err.Error(), "no checkpoint is stored") {
			t.Fatalf("connect %d: %v, want the fatal missing-checkpoint error", i, err)
		}
	}
	var reason []byte
	for reason == nil && ctx.Err() == nil { // reported in the background
		_ = res.AccessCache(ctx, "store", func(c service.Cache) { reason, _ = c.Get(ctx, "failed:t1") })
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(string(reason), "no checkpoint is stored under key \"ckpt:t1\"") {
		t.Fatalf("failure cache holds %q", reason)
	}
	if err := in.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
