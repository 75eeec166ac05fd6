package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackFailedStreamRemovedPromptly: a task's output stops on a
// permanent error (the target already has a collection of the source's name
// that replication did not make), so the task turns Failed. The control
// plane's DELETE /streams/<id> to the worker answers and the stream is gone
// within 20 s. Before, the worker never answered in time: the stream's
// graceful stop waited for the input's last batch, which the failed output
// held in its reconnect loop forever ("context deadline exceeded").
func TestStackFailedStreamRemovedPromptly(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	db := harness.UniqueName("faildel")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		harness.DropDatabase(env.SourceAddr, db, "c")
		harness.DropDatabase(env.TargetAddr, db, "c")
	})
	for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
		if err := harness.Connect(t, addr).CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
		if err := dbClient(t, addr, db).CreateCollection(ctx, workload.VectorSchema("c", 8), 1); err != nil {
			t.Fatal(err)
		}
	}
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"db_collections":       map[string]any{db: []map[string]any{{"name": "*"}}},
	})
	harness.WaitFor(t, 2*time.Minute, "the task Failed", func() bool {
		state, _ := cp.TaskState(t, id)
		return state == "Failed"
	})
	failedAt := time.Now()
	removed := func() bool {
		return strings.Contains(cp.Server.Logs.String(), `msg="task stream removed" task_id=`+id)
	}
	harness.WaitFor(t, 20*time.Second, "the control plane removing the failed stream from its worker", func() bool {
		if logs := cp.Server.Logs.String(); strings.Contains(logs, `msg="cannot remove stream" task_id=`+id) {
			t.Fatalf("the worker did not answer the DELETE of the failed stream:\n%s", logs)
		}
		return removed() && !harness.HasStream(cp.URLs[0], id)
	})
	t.Logf("stream removed %s after the task turned Failed", time.Since(failedAt).Round(100*time.Millisecond))
}
