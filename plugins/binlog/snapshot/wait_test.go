package snapshot

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// guarantees records the guarantee timestamp of every query.
type guarantees struct {
	*fakeRunnerSource
	mu  sync.Mutex
	got []uint64
}

func (g *guarantees) QueryPage(ctx context.Context, db, coll, part, expr string, fields []string, limit int, ts uint64) ([]*schemapb.FieldData, error) {
	g.mu.Lock()
	g.got = append(g.got, ts)
	g.mu.Unlock()
	return g.fakeRunnerSource.QueryPage(ctx, db, coll, part, expr, fields, limit, ts)
}

func vectorDesc() *milvuspb.DescribeCollectionResponse {
	return &milvuspb.DescribeCollectionResponse{Schema: &schemapb.CollectionSchema{Name: "c", Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{FieldID: 101, Name: "vec", DataType: schemapb.DataType_FloatVector}}}}
}

// TestRunnerUnindexedWaits: a collection with rows and no index on its
// vector field is neither loaded nor failed: it is recorded as waiting
// (with the field named), after its catalog, and the copy ends without it.
func TestRunnerUnindexedWaits(t *testing.T) {
	src := &fakeRunnerSource{fakeCatalog: fakeCatalog{desc: vectorDesc(), parts: []string{"_default"}}, fakeSource: fakeSource{keys: []int64{1, 2}}}
	state := &contract.SnapshotState{State: contract.SnapshotCopying, Collections: []contract.SnapshotCollection{{ID: 7, DB: "db", Name: "c"}}}
	var mu sync.Mutex
	save := func(_ context.Context, fn func(*contract.SnapshotState)) error {
		mu.Lock()
		defer mu.Unlock()
		fn(state)
		return nil
	}
	ops := runAll(t, NewRunner(src, save, state.Collections, 5, 10, 1, func(int64, contract.CollectionRef) {}, service.MockResources().Logger()))
	c := state.Collections[0]
	if c.Done || !c.CatalogDone || !strings.Contains(c.Waiting, "no index on vector field vec") {
		t.Fatalf("progress %+v: want catalog done, waiting on vec", c)
	}
	if len(src.loads) != 0 || len(src.exprs) != 0 || len(ops) != 2 || ops[1] != contract.OpCreateCollection {
		t.Fatalf("loads %v, queries %v, events %v: want the catalog only", src.loads, src.exprs, ops)
	}
	if w := state.Waiting(); len(w) != 1 || w[0].Collection != "db.c" || w[0].Reason != c.Waiting {
		t.Fatalf("Waiting() = %+v", w)
	}
	if d := (&contract.SnapshotState{State: contract.SnapshotDone, Collections: state.Collections}).Deferred(); len(d) != 0 {
		t.Fatalf("a waiting collection is not deferred: %+v", d)
	}

	// Indexed now, copied with its own timestamp (after the stream began):
	// every query reads at it, the catalog again first, and it stops waiting.
	src.indexes = []*milvuspb.IndexDescription{{FieldName: "vec", IndexName: "ix"}}
	state.Collections[0].Waiting, state.Collections[0].GuaranteeTs, state.Collections[0].CatalogDone = "", 99, false
	g := &guarantees{fakeRunnerSource: src}
	ops = runAll(t, NewRunner(g, save, state.Collections, 5, 10, 1, func(int64, contract.CollectionRef) {}, service.MockResources().Logger()))
	c = state.Collections[0]
	if !c.Done || c.Waiting != "" || c.Parts["_default"].Rows != 2 {
		t.Fatalf("progress %+v: want done with 2 rows", c)
	}
	if len(g.got) == 0 {
		t.Fatal("no query")
	}
	for _, ts := range g.got {
		if ts != 99 {
			t.Fatalf("queried at %v, want the collection's own timestamp 99", g.got)
		}
	}
	if ops[1] != contract.OpCreateCollection || len(src.loads) != 1 || len(src.releases) != 1 {
		t.Fatalf("events %v loads %v releases %v: want the catalog first, loaded for the copy and released", ops, src.loads, src.releases)
	}
}

func TestUnreadable(t *testing.T) {
	ctx := context.Background()
	src := &fakeCatalog{desc: vectorDesc()}
	if why, err := Unreadable(ctx, src, "db", "c"); err != nil || !strings.Contains(why, "vec") {
		t.Fatalf("no index: %q %v", why, err)
	}
	src.indexes = []*milvuspb.IndexDescription{{FieldName: "vec"}}
	if why, err := Unreadable(ctx, src, "db", "c"); err != nil || why != "" {
		t.Fatalf("indexed: %q %v", why, err)
	}
	src.indexes, src.loaded = nil, []string{"_default"}
	if why, err := Unreadable(ctx, src, "db", "c"); err != nil || why != "" {
		t.Fatalf("loaded: %q %v", why, err)
	}
}
