package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackImportReported: a bulk import into a collection a task streams
// bypasses the WAL, so the task cannot copy it; it turns Failed with a
// reason naming the import and the collection instead of going on without
// the imported rows. Resumed, it goes on (the import is not reported again).
func TestStackImportReported(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	db := harness.UniqueName("imp")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		harness.DropDatabase(env.SourceAddr, db, "c")
		harness.DropDatabase(env.TargetAddr, db, "c")
	})
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"db_collections":       map[string]any{db: []map[string]any{{"name": "c"}}},
	})
	admin := harness.Connect(t, env.SourceAddr)
	if err := admin.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	src := dbClient(t, env.SourceAddr, db)
	if err := src.CreateCollection(ctx, workload.VectorSchema("c", 4), 1); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, time.Minute, "the copy on the target", func() bool {
		ok, err := dbClient(t, env.TargetAddr, db).HasCollection(ctx, "c")
		return err == nil && ok
	})
	// The source reads import files from its own storage; on this stack
	// that is the local file system, so an absolute path works.
	var rows []map[string]any
	for i := 0; i < 10; i++ {
		rows = append(rows, map[string]any{"id": 9000 + i, "vec": []float32{1, 2, 3, float32(i)}})
	}
	b, _ := json.Marshal(map[string]any{"rows": rows})
	file := filepath.Join(t.TempDir(), "rows.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	impID, err := src.BulkInsert(ctx, "c", "", []string{file})
	if err != nil {
		t.Fatal(err)
	}
	var state, reason string
	harness.WaitFor(t, time.Minute, "the task Failed by the import", func() bool {
		state, reason = cp.TaskState(t, id)
		return state == "Failed"
	})
	for _, want := range []string{"bulk import", fmt.Sprint(impID), db + ".c", "Run the same import on the target"} {
		if !strings.Contains(reason, want) {
			t.Errorf("reason %q does not say %q", reason, want)
		}
	}
	if code, resp := harness.CDC(t, cp.Base, "resume", map[string]any{"task_id": id}); code != 200 {
		t.Fatalf("resume: %d %v", code, resp)
	}
	harness.WaitFor(t, time.Minute, "the task Running again", func() bool {
		state, reason = cp.TaskState(t, id)
		return state == "Running"
	})
	time.Sleep(8 * time.Second) // two import checks
	if state, reason = cp.TaskState(t, id); state != "Running" {
		t.Fatalf("after resume: %s (%s): the import was reported again", state, reason)
	}
}
