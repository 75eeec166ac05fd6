package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/snapshot"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackSnapshotPagerReadsEveryKey: paging a collection by primary key
// returns every live key once, with sealed and growing segments, keys
// inserted twice (a duplicate in another segment), deleted keys, and keys
// upserted and inserted out of key order into growing segments, on 2 shards.
func TestStackSnapshotPagerReadsEveryKey(t *testing.T) {
	env := harness.RequireStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	src := harness.Connect(t, env.SourceAddr)
	coll := harness.UniqueName("snap_page")
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 4), 2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.DropCollection(context.Background(), coll) })
	rng := rand.New(rand.NewSource(16))
	live := map[int64]bool{}
	insert := func(first int64, n int) {
		t.Helper()
		if err := workload.InsertRows(ctx, src, coll, first, n, 1000, 4, rng); err != nil {
			t.Fatal(err)
		}
		for k := first; k < first+int64(n); k++ {
			live[k] = true
		}
	}
	insert(0, 6000)
	if err := src.Flush(ctx, coll, false); err != nil {
		t.Fatal(err)
	}
	insert(3000, 2000) // the same keys again, in new segments: duplicates
	if err := src.Flush(ctx, coll, false); err != nil {
		t.Fatal(err)
	}
	var del []int64
	for k := int64(0); k < 8000; k += 7 {
		del = append(del, k)
		delete(live, k)
	}
	if err := src.DeleteByPks(ctx, coll, "", entity.NewColumnInt64("id", del)); err != nil {
		t.Fatal(err)
	}
	insert(8000, 1500) // growing
	// Keys upserted (and inserted) out of key order into the growing
	// segments: a limited query answers in storage order there.
	var shuffled []int64
	for _, k := range rng.Perm(2000) {
		if k%3 != 0 {
			shuffled = append(shuffled, int64(k)*5) // existing keys: upserts
		} else {
			shuffled = append(shuffled, 20000+int64(k)) // new keys
		}
	}
	titles := make([]string, len(shuffled))
	vecs := make([][]float32, len(shuffled))
	for i, k := range shuffled {
		titles[i], vecs[i] = fmt.Sprintf("shuffled-%d", k), []float32{rng.Float32(), 0, 0, 1}
		live[k] = true
	}
	if _, err := src.Upsert(ctx, coll, "", entity.NewColumnInt64("id", shuffled), entity.NewColumnVarChar("title", titles),
		entity.NewColumnFloatVector("vec", 4, vecs)); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, src, coll); err != nil {
		t.Fatal(err)
	}
	// A Strong query makes everything written visible first.
	if _, err := src.Query(ctx, coll, nil, "id >= 0", []string{"count(*)"}, client.WithSearchQueryConsistencyLevel(entity.ClStrong)); err != nil {
		t.Fatal(err)
	}
	p := &snapshot.Pager{Src: sourcemeta.GRPC{Svc: rawMilvus(t, env.SourceAddr)}, DB: "default", Coll: coll,
		Partition: "_default", PK: &schemapb.FieldSchema{Name: "id", DataType: schemapb.DataType_Int64}, Fields: []string{"id"}, Limit: 1000}
	var got []int64
	pages := 0
	for !p.Done() {
		page, err := p.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if page.Rows > 0 {
			pages++
			got = append(got, page.Fields[0].GetScalars().GetLongData().GetData()...)
		}
	}
	var want []int64
	for k := range live {
		want = append(want, k)
	}
	slices.Sort(want)
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if n := len(slices.Compact(slices.Clone(sorted))); n != len(got) {
		t.Errorf("%d keys read, %d distinct: a key came twice", len(got), n)
	}
	if !slices.Equal(slices.Compact(sorted), want) {
		t.Fatalf("read %d keys in %d pages, want the %d live keys", len(got), pages, len(want))
	}
	t.Logf("%d live keys read in %d pages of at most 1000", len(got), pages)
}
