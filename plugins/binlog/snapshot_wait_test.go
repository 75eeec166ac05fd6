package binlog

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/checkpoint"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// fakeWaitSource is a source with one collection (ID 7, db.c) holding no
// rows to read, indexed or not.
type fakeWaitSource struct {
	mu      sync.Mutex
	indexed bool
	dropped bool
}

func (f *fakeWaitSource) Locate(context.Context, int64) (string, string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return "db", "c", !f.dropped, nil
}
func (f *fakeWaitSource) DescribeFull(context.Context, string, string) (*milvuspb.DescribeCollectionResponse, error) {
	return &milvuspb.DescribeCollectionResponse{Schema: &schemapb.CollectionSchema{Name: "c", Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{FieldID: 101, Name: "vec", DataType: schemapb.DataType_FloatVector}}}}, nil
}
func (f *fakeWaitSource) Partitions(context.Context, string, string) ([]string, error) {
	return []string{"_default"}, nil
}
func (f *fakeWaitSource) LoadedPartitions(context.Context, string, string) ([]string, error) {
	return nil, nil
}
func (f *fakeWaitSource) Indexes(context.Context, string, string) ([]*milvuspb.IndexDescription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.indexed {
		return nil, nil
	}
	return []*milvuspb.IndexDescription{{FieldName: "vec", IndexName: "ix"}}, nil
}
func (f *fakeWaitSource) QueryPage(context.Context, string, string, string, string, []string, int, uint64) ([]*schemapb.FieldData, error) {
	return nil, nil
}
func (f *fakeWaitSource) RowCount(context.Context, string, string) (int64, error) { return 0, nil }
func (f *fakeWaitSource) Load(context.Context, string, string, []string) error    { return nil }
func (f *fakeWaitSource) Release(context.Context, string, string, []string) error { return nil }
func (f *fakeWaitSource) Loading(context.Context, string, string, []string) (bool, error) {
	return false, nil
}

func row(coll int64) *wal.Event { return &wal.Event{Op: contract.OpInsert, CollectionID: coll} }

// waitingRun is a run whose snapshot is done but for collection 7, which
// waits; the source's clock gives 777.
func waitingRun(t *testing.T, src *fakeWaitSource) *run {
	t.Helper()
	log := service.MockResources().Logger()
	acks := checkpoint.New(checkpoint.Destination{Res: service.MockResources()}, 100, nil, nil)
	r := &run{
		in:     &binlogInput{conf: &binlogConfig{snapshotBatch: 10, snapshotParallel: 1}, log: log},
		src:    opened{copies: src, catalog: sourcemeta.NewCatalog(nil, nil)},
		acks:   acks,
		phases: snapshot.NewPhases(acks.UpdateSnapshot, acks.Snapshot, log),
		stream: &stream{},
		life:   lifecycle{ctx: context.Background(), cancel: func() {}},
	}
	if err := r.acks.UpdateSnapshot(context.Background(), func(s *contract.SnapshotState) {
		*s = contract.SnapshotState{State: contract.SnapshotDone, GuaranteeTs: 5, Collections: []contract.SnapshotCollection{
			{ID: 3, DB: "db", Name: "other", Done: true},
			{ID: 7, DB: "db", Name: "c", CatalogDone: true, Waiting: "no index on vector field vec"},
		}}
	}); err != nil {
		t.Fatal(err)
	}
	clock := sourceClock{alloc: func(context.Context) (uint64, error) { return 777, nil }, patience: time.Second, log: log}
	r.waits = newWaitState(src, clock, log)
	r.waits.every = 10 * time.Millisecond
	r.waits.refresh(r.acks.Snapshot())
	return r
}

// TestWaitingCollectionCopiedOnceIndexed: while collection 7 waits the
// stream drops its rows (only its rows); the watch finds it indexed; the
// copy then reads at a timestamp the source gives at that moment, catalog
// first, and the stream passes its rows again.
func TestWaitingCollectionCopiedOnceIndexed(t *testing.T) {
	src := &fakeWaitSource{}
	r := waitingRun(t, src)
	w := r.waits
	if !w.drops(row(7)) || w.drops(row(3)) || w.drops(&wal.Event{Op: contract.OpCreateIndex, CollectionID: 7}) || w.due() {
		t.Fatal("want the rows of 7 dropped, nothing else, nothing due")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wctx, stop := context.WithCancel(ctx)
	go w.watch(wctx, r.acks.Snapshot)
	time.Sleep(50 * time.Millisecond)
	if w.due() {
		t.Fatal("due while still unindexed")
	}
	src.mu.Lock()
	src.indexed = true
	src.mu.Unlock()
	select {
	case <-w.woken():
	case <-ctx.Done():
		t.Fatal("the watch never saw the index")
	}
	stop()
	if !w.due() {
		t.Fatal("not due once indexed")
	}
	if err := r.startDeferred(ctx); err != nil {
		t.Fatal(err)
	}
	c := r.acks.Snapshot().Collection(7)
	if c.Waiting != "" || c.GuaranteeTs != 777 || c.CatalogDone || c.Done {
		t.Fatalf("progress %+v: want copying at the source's 777, catalog again", c)
	}
	if r.copy == nil || !r.copy.deferred || w.drops(row(7)) {
		t.Fatal("want a deferred copy running and the rows of 7 passing")
	}
	var ops []string
	for {
		it, err := r.copy.runner.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range it.Events {
			ops = append(ops, e.Op)
			if e.Ts != 777 {
				t.Errorf("%s at %d, want 777", e.Op, e.Ts)
			}
		}
		_ = it.Ack(ctx, nil)
	}
	if got := strings.Join(ops, ","); !strings.Contains(got, "create_collection,create_index") {
		t.Fatalf("events %v: want the catalog, its index too", ops)
	}
	if err := r.endCopy(ctx, r.copy); err != nil {
		t.Fatal(err)
	}
	st := r.acks.Snapshot()
	if !st.Collection(7).Done || len(st.Waiting()) != 0 || r.copy != nil || w.due() || st.State != contract.SnapshotDone {
		t.Fatalf("after the copy: %+v", st)
	}
}

// TestWaitingCollectionDropped: a waiting collection dropped on the source
// stops waiting (gone) without any copy.
func TestWaitingCollectionDropped(t *testing.T) {
	src := &fakeWaitSource{dropped: true}
	r := waitingRun(t, src)
	v, ok := r.waits.check(context.Background(), *r.acks.Snapshot().Collection(7))
	if !ok || !v.gone {
		t.Fatalf("check = %+v %v, want gone", v, ok)
	}
	r.waits.found(7, v)
	if err := r.startDeferred(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := r.acks.Snapshot().Collection(7)
	if !c.Done || c.Gone == "" || c.Waiting != "" || r.copy != nil || r.waits.drops(row(7)) {
		t.Fatalf("progress %+v, copy %v: want gone, no copy", c, r.copy != nil)
	}
}

// TestDeferredCopyResumes: a restart finds a copy of a collection that
// waited in progress: it is resumed at its stored timestamp (no new one),
// before the stream goes on.
func TestDeferredCopyResumes(t *testing.T) {
	src := &fakeWaitSource{indexed: true}
	r := waitingRun(t, src)
	if err := r.acks.UpdateSnapshot(context.Background(), func(s *contract.SnapshotState) {
		sc := s.Collection(7)
		sc.Waiting, sc.GuaranteeTs = "", 555
	}); err != nil {
		t.Fatal(err)
	}
	r.waits.clock.alloc = func(context.Context) (uint64, error) { return 0, errors.New("must not be asked") }
	r.waits.refresh(r.acks.Snapshot())
	if !r.waits.due() {
		t.Fatal("a stored deferred copy is not due")
	}
	if err := r.startDeferred(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.copy == nil || r.acks.Snapshot().Collection(7).GuaranteeTs != 555 {
		t.Fatalf("want the copy resumed at 555: %+v", r.acks.Snapshot().Collection(7))
	}
	r.copy.cancel()
	if w := (&contract.SnapshotState{Collections: []contract.SnapshotCollection{{DB: "d", Name: "n", Waiting: "why"}}}).Waiting(); len(w) != 1 ||
		!strings.Contains(w[0].Collection, "d.n") {
		t.Fatalf("Waiting() = %+v", w)
	}
}
