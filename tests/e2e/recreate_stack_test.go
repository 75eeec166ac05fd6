package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackDeleteAndCreateAgain is the operator's day: a task over two
// databases copies what the source holds and is deleted (its copies stay on
// the target); while no task runs the source upserts, deletes and inserts,
// drops a collection and creates another; the same create again, through
// POST /cdc, with writes at once after it, ends Running with the target
// equal to the source: the earlier copies adopted and made equal again, the
// dropped collection's copy gone, the new collection copied. A create by
// another control plane (another task store) onto those copies is refused
// with 409 before anything is written.
func TestStackDeleteAndCreateAgain(t *testing.T) {
	env := harness.RequireStack(t)
	cp := harness.StartControlPlane(t, env, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	prefix := harness.UniqueName("recreate")
	dbA, dbB := prefix+"_a", prefix+"_b"
	admin := harness.Connect(t, env.SourceAddr)
	t.Cleanup(func() {
		for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
			harness.DropDatabase(addr, dbA, "kept")
			harness.DropDatabase(addr, dbB, "grows", "dropped", "fresh")
		}
	})
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for _, db := range []string{dbA, dbB} {
		must("create database "+db, admin.CreateDatabase(ctx, db))
	}
	a, b := dbClient(t, env.SourceAddr, dbA), dbClient(t, env.SourceAddr, dbB)
	rng := rand.New(rand.NewSource(24))
	for _, c := range []struct {
		cl   client.Client
		name string
	}{{a, "kept"}, {b, "grows"}, {b, "dropped"}} {
		must("create "+c.name, c.cl.CreateCollection(ctx, workload.VectorSchema(c.name, 8), 2))
		must("insert into "+c.name, workload.InsertRows(ctx, c.cl, c.name, 0, 1000, 250, 8, rng))
		must("index "+c.name, workload.IndexAndLoad(ctx, c.cl, c.name))
	}
	request := map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus", "connect_timeout": 10},
		"db_collections":       map[string]any{dbA: []map[string]any{{"name": "*"}}, dbB: []map[string]any{{"name": "*"}}},
	}
	equal := func(what string, colls ...string) {
		t.Helper()
		var last string
		defer func() {
			if t.Failed() {
				t.Logf("last verify: %s", last)
			}
		}()
		harness.WaitFor(t, 3*time.Minute, what, func() bool {
			rep, err := verify.Run(ctx, verify.Options{SourceAddr: env.SourceAddr, TargetAddr: env.TargetAddr, Collections: colls})
			if err != nil {
				last = err.Error()
				return false
			}
			var sb strings.Builder
			_ = rep.WriteText(&sb)
			last = sb.String()
			return rep.OK() && rep.RowsCompared > 0
		})
	}
	first := cp.CreateTask(t, request)
	defer func() {
		if t.Failed() {
			_, resp := harness.CDC(t, cp.Base, "get", map[string]any{"task_id": first})
			t.Logf("first task: %v", resp)
		}
	}()
	equal("the first task's copy", dbA+".kept", dbB+".grows", dbB+".dropped")
	if code, resp := harness.CDC(t, cp.Base, "delete", map[string]any{"task_id": first}); code != 200 {
		t.Fatalf("delete: %d %v", code, resp)
	}

	// While no task runs: upserts (new values), deletes, inserts, a drop and
	// a new collection.
	_, err := a.Upsert(ctx, "kept", "", workload.Rows(100, 50, 8, rng)...)
	must("upsert", err)
	must("delete", a.Delete(ctx, "kept", "", "id in [0,1,2,3,4,5,6,7,8,9,500,999]"))
	must("insert", workload.InsertRows(ctx, b, "grows", 1000, 500, 250, 8, rng))
	must("drop", b.DropCollection(ctx, "dropped"))
	must("create new", b.CreateCollection(ctx, workload.VectorSchema("fresh", 8), 2))
	must("insert into new", workload.InsertRows(ctx, b, "fresh", 0, 300, 300, 8, rng))
	must("index new", workload.IndexAndLoad(ctx, b, "fresh"))

	// Another control plane (its own task store) may not take these copies
	// over: whether its owner still runs cannot be told there.
	other := harness.StartControlPlane(t, env, 1)
	code, resp := harness.CDC(t, other.Base, "create", request)
	if code != 409 || !strings.Contains(fmt.Sprint(resp), "another control plane") {
		t.Fatalf("create by another control plane onto these copies: %d %v, want 409 naming it", code, resp)
	}

	second := cp.CreateTask(t, request)
	// Writes at once after create answered.
	_, err = a.Upsert(ctx, "kept", "", workload.Rows(200, 20, 8, rng)...)
	must("upsert after create", err)
	must("insert after create", workload.InsertRows(ctx, b, "fresh", 300, 100, 100, 8, rng))
	equal("the target equal to the source after the task was created again", dbA+".kept", dbB+".grows", dbB+".fresh")
	if s, reason := cp.TaskState(t, second); s != "Running" {
		t.Fatalf("the new task is %s (%s), want Running", s, reason)
	}
	tb := dbClient(t, env.TargetAddr, dbB)
	has, err := tb.HasCollection(ctx, "dropped")
	if err != nil || has {
		t.Fatalf("the copy of a collection dropped while no task ran is still on the target (%v)", err)
	}
	if code, resp := harness.CDC(t, cp.Base, "get", map[string]any{"task_id": second}); code != 200 || !strings.Contains(fmt.Sprint(resp), first) {
		t.Errorf("get does not show the adopted task %s: %d %v", first, code, resp)
	}
}
