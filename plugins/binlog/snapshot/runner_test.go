package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

type fakeRunnerSource struct {
	fakeCatalog
	fakeSource
}

// runAll drives a runner like the input does: take an item, acknowledge it.
func runAll(t *testing.T, r *Runner) (ops []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go r.Run(ctx)
	for {
		it, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return ops
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range it.Events {
			if !e.Snapshot {
				t.Errorf("%s not marked as a snapshot event", e.Op)
			}
			ops = append(ops, e.Op)
		}
		if err := it.Ack(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunnerCopiesAndResumes(t *testing.T) {
	src := &fakeRunnerSource{
		fakeCatalog: fakeCatalog{desc: &milvuspb.DescribeCollectionResponse{Schema: &schemapb.CollectionSchema{Name: "c", Fields: []*schemapb.FieldSchema{
			{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true}}}, Aliases: []string{"al"}},
			parts: []string{"_default"}},
		fakeSource: fakeSource{keys: []int64{1, 2, 3, 4, 5, 6, 7}},
	}
	var mu sync.Mutex
	state := &contract.SnapshotState{State: contract.SnapshotCopying, Collections: []contract.SnapshotCollection{{ID: 7, DB: "default", Name: "c"}}}
	save := func(_ context.Context, fn func(*contract.SnapshotState)) error {
		mu.Lock()
		defer mu.Unlock()
		fn(state)
		return nil
	}
	seen := map[int64]bool{}
	r := NewRunner(src, save, state.Collections, 5, 3, 2, func(id int64, _ contract.CollectionRef) { seen[id] = true }, service.MockResources().Logger())
	ops := runAll(t, r)
	want := []string{"create_collection", "insert", "insert", "insert", "create_alias"}
	if len(ops) != len(want) {
		t.Fatalf("events %v, want %v", ops, want)
	}
	c := state.Collection(7)
	if !c.Done || !c.CatalogDone || !c.Parts["_default"].Done || c.Parts["_default"].Rows != 7 || string(c.Parts["_default"].LastPK) != "7" || !seen[7] {
		t.Fatalf("progress %+v part %+v seen %v", c, c.Parts["_default"], seen)
	}

	// A restart after key 4 was acknowledged: no catalog again, keys 5..7 only.
	state.Collections[0] = contract.SnapshotCollection{ID: 7, DB: "default", Name: "c", CatalogDone: true,
		Parts: map[string]*contract.PartCursor{"_default": {LastPK: json.RawMessage("4"), Rows: 4}}}
	src.exprs = nil
	r = NewRunner(src, save, []contract.SnapshotCollection{state.Collections[0]}, 5, 3, 1, func(int64, contract.CollectionRef) {}, service.MockResources().Logger())
	ops = runAll(t, r)
	if len(ops) != 2 || ops[0] != "insert" || ops[1] != "create_alias" {
		t.Fatalf("after the restart: %v", ops)
	}
	if src.exprs[0] != "id > 4" || state.Collection(7).Parts["_default"].Rows != 7 {
		t.Fatalf("resumed with %q, rows %d", src.exprs[0], state.Collection(7).Parts["_default"].Rows)
	}
}
