package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

type fakeRunnerSource struct {
	fakeCatalog
	fakeSource
	loads, releases []string // "db.coll:parts"
	loadErr         error
	dropped         bool // Locate finds nothing
	ownerLoads      bool // Loading answers true
}

func (f *fakeRunnerSource) Locate(_ context.Context, id int64) (string, string, bool, error) {
	if f.dropped {
		return "", "", false, nil
	}
	return "db", "c", true, nil
}

func (f *fakeRunnerSource) RowCount(context.Context, string, string) (int64, error) {
	return int64(len(f.keys)), nil
}
func (f *fakeRunnerSource) Load(_ context.Context, db, coll string, parts []string) error {
	f.loads = append(f.loads, fmt.Sprintf("%s.%s:%v", db, coll, parts))
	return f.loadErr
}
func (f *fakeRunnerSource) Loading(context.Context, string, string, []string) (bool, error) {
	return f.ownerLoads, nil
}
func (f *fakeRunnerSource) Release(_ context.Context, db, coll string, parts []string) error {
	f.releases = append(f.releases, fmt.Sprintf("%s.%s:%v", db, coll, parts))
	return nil
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
		if err := it.Ack(ctx, nil); err != nil {
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

// TestRunnerLoadsWhatIsNotLoaded: a collection not loaded on the source is
// loaded for the copy (recorded first, so a restart releases it too) and
// released after it; one that never held a row is neither loaded nor read;
// one the source refuses to load stops the copy with a reason.
func TestRunnerLoadsWhatIsNotLoaded(t *testing.T) {
	desc := &milvuspb.DescribeCollectionResponse{Schema: &schemapb.CollectionSchema{Name: "c", Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true}}}}
	var sawTemp bool // a save recorded a load
	newState := func() (*contract.SnapshotState, Progress) {
		state := &contract.SnapshotState{State: contract.SnapshotCopying, Collections: []contract.SnapshotCollection{{ID: 7, DB: "db", Name: "c"}}}
		var mu sync.Mutex
		sawTemp = false
		return state, func(_ context.Context, fn func(*contract.SnapshotState)) error {
			mu.Lock()
			defer mu.Unlock()
			fn(state)
			sawTemp = sawTemp || len(state.Collections[0].TempLoaded) > 0
			return nil
		}
	}
	log := service.MockResources().Logger()
	nop := func(int64, contract.CollectionRef) {}

	src := &fakeRunnerSource{fakeCatalog: fakeCatalog{desc: desc, parts: []string{"_default", "p1"}, loaded: []string{"_default"}},
		fakeSource: fakeSource{keys: []int64{1, 2, 3}}}
	state, save := newState()
	runAll(t, NewRunner(src, save, state.Collections, 5, 10, 1, nop, log))
	if len(src.loads) != 1 || src.loads[0] != "db.c:[p1]" || len(src.releases) != 1 || src.releases[0] != "db.c:[p1]" {
		t.Fatalf("loads %v releases %v, want p1 loaded and released", src.loads, src.releases)
	}
	if c := state.Collections[0]; !c.Done || len(c.TempLoaded) != 0 || !sawTemp {
		t.Fatalf("progress %+v: want done, the load recorded then cleared", c)
	}

	src = &fakeRunnerSource{fakeCatalog: fakeCatalog{desc: desc, parts: []string{"_default"}}}
	state, save = newState()
	ops := runAll(t, NewRunner(src, save, state.Collections, 5, 10, 1, nop, log))
	if len(src.loads) != 0 || len(src.exprs) != 0 || len(ops) != 2 || !state.Collections[0].Done {
		t.Fatalf("empty collection: loads %v queries %v events %v done %v", src.loads, src.exprs, ops, state.Collections[0].Done)
	}

	src = &fakeRunnerSource{fakeCatalog: fakeCatalog{desc: desc, parts: []string{"_default"}}, fakeSource: fakeSource{keys: []int64{1}},
		loadErr: errors.New("index not found")}
	state, save = newState()
	r := NewRunner(src, save, state.Collections, 5, 10, 1, nop, log)
	r.loadPatience = 0
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go r.Run(ctx)
	var err error
	for err == nil {
		var it *Item
		if it, err = r.Next(ctx); err == nil {
			_ = it.Ack(ctx, nil)
		}
	}
	if !logreader.IsFatal(err) || !strings.Contains(err.Error(), "db.c") || !strings.Contains(err.Error(), "nothing was skipped") {
		t.Fatalf("refused load: %v, want a fatal error naming db.c", err)
	}
	if len(src.loads) != 1 || state.Collections[0].Done {
		t.Fatalf("loads %v, done %v", src.loads, state.Collections[0].Done)
	}
}

type failingQueries struct {
	*fakeRunnerSource
	err error
}

func (f failingQueries) QueryPage(context.Context, string, string, string, string, []string, int, uint64) ([]*schemapb.FieldData, error) {
	return nil, f.err
}

// TestRunnerDroppedAndRefused: a collection whose queries answer "not found"
// and that the source no longer has by ID is recorded as gone (its drop is
// in the stream) and the copy ends; a batch the output refuses ends the
// copy with an error and moves no progress.
func TestRunnerDroppedAndRefused(t *testing.T) {
	desc := &milvuspb.DescribeCollectionResponse{Schema: &schemapb.CollectionSchema{Name: "c", Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true}}}}
	log := service.MockResources().Logger()
	nop := func(int64, contract.CollectionRef) {}
	newState := func() (*contract.SnapshotState, Progress) {
		state := &contract.SnapshotState{State: contract.SnapshotCopying, Collections: []contract.SnapshotCollection{{ID: 7, DB: "db", Name: "c"}}}
		var mu sync.Mutex
		return state, func(_ context.Context, fn func(*contract.SnapshotState)) error {
			mu.Lock()
			defer mu.Unlock()
			fn(state)
			return nil
		}
	}

	base := &fakeRunnerSource{fakeCatalog: fakeCatalog{desc: desc, parts: []string{"_default"}, loaded: []string{"_default"}}, dropped: true}
	state, save := newState()
	runAll(t, NewRunner(failingQueries{base, errors.New("milvus error (code 100): collection not found[collection=7]")}, save, state.Collections, 5, 10, 1, nop, log))
	if c := state.Collections[0]; !c.Done || c.Gone == "" {
		t.Fatalf("dropped collection: progress %+v, want done and gone", c)
	}

	src := &fakeRunnerSource{fakeCatalog: fakeCatalog{desc: desc, parts: []string{"_default"}, loaded: []string{"_default"}},
		fakeSource: fakeSource{keys: []int64{1, 2, 3}}}
	state, save = newState()
	r := NewRunner(src, save, state.Collections, 5, 10, 1, nop, log)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go r.Run(ctx)
	it, err := r.Next(ctx) // the catalog
	if err != nil {
		t.Fatal(err)
	}
	if err := it.Ack(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if it, err = r.Next(ctx); err != nil { // the first page
		t.Fatal(err)
	}
	_ = it.Ack(ctx, errors.New("target down"))
	if _, err = r.Next(ctx); err == nil || !strings.Contains(err.Error(), "target down") {
		t.Fatalf("after a refused page: %v, want the refusal", err)
	}
	if c := state.Collections[0]; c.Done || c.Parts["_default"].Rows != 0 || c.Parts["_default"].LastPK != nil {
		t.Fatalf("progress moved past a refused page: %+v %+v", c, c.Parts["_default"])
	}
}

// TestRunnerLeavesTheOwnersLoad: a collection its owner starts loading while
// the copy waits to load it (index not built yet) is read once loaded and
// not released after the copy.
func TestRunnerLeavesTheOwnersLoad(t *testing.T) {
	desc := &milvuspb.DescribeCollectionResponse{Schema: &schemapb.CollectionSchema{Name: "c", Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true}}}}
	src := &fakeRunnerSource{fakeCatalog: fakeCatalog{desc: desc, parts: []string{"_default"}}, fakeSource: fakeSource{keys: []int64{1, 2}},
		ownerLoads: true}
	state := &contract.SnapshotState{State: contract.SnapshotCopying, Collections: []contract.SnapshotCollection{{ID: 7, DB: "db", Name: "c"}}}
	var mu sync.Mutex
	save := func(_ context.Context, fn func(*contract.SnapshotState)) error {
		mu.Lock()
		defer mu.Unlock()
		fn(state)
		return nil
	}
	runAll(t, NewRunner(src, save, state.Collections, 5, 10, 1, func(int64, contract.CollectionRef) {}, service.MockResources().Logger()))
	if len(src.releases) != 0 || len(state.Collections[0].TempLoaded) != 0 || !state.Collections[0].Done {
		t.Fatalf("releases %v, progress %+v: want the owner's load left alone", src.releases, state.Collections[0])
	}
}

// TestRunnerSkipsRowsCreatedAfterThePin: a collection that is not loaded and
// was created after the stream's start is neither loaded nor read: the
// stream replays it from its creation.
func TestRunnerSkipsRowsCreatedAfterThePin(t *testing.T) {
	desc := &milvuspb.DescribeCollectionResponse{Schema: &schemapb.CollectionSchema{Name: "c", Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true}}},
		PhysicalChannelNames: []string{"dml_1"}, CreatedTimestamp: 42}
	src := &fakeRunnerSource{fakeCatalog: fakeCatalog{desc: desc, parts: []string{"_default"}}, fakeSource: fakeSource{keys: []int64{1, 2}}}
	state := &contract.SnapshotState{State: contract.SnapshotCopying, Collections: []contract.SnapshotCollection{{ID: 7, DB: "db", Name: "c"}}}
	var mu sync.Mutex
	save := func(_ context.Context, fn func(*contract.SnapshotState)) error {
		mu.Lock()
		defer mu.Unlock()
		fn(state)
		return nil
	}
	r := NewRunner(src, save, state.Collections, 5, 10, 1, func(int64, contract.CollectionRef) {}, service.MockResources().Logger())
	var asked string
	r.SetAfterPin(func(_ context.Context, id int64, chans []string, ts uint64) (bool, error) {
		asked = fmt.Sprint(id, chans, ts)
		return true, nil
	})
	ops := runAll(t, r)
	if asked != "7 [dml_1] 42" || len(src.loads) != 0 || len(src.exprs) != 0 || !state.Collections[0].Done {
		t.Fatalf("asked %q, loads %v, queries %v, events %v, done %v", asked, src.loads, src.exprs, ops, state.Collections[0].Done)
	}
}
