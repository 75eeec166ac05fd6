package sourcemeta

import (
	"context"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// countingRows is a source whose collection 7 has the given partitions; it
// counts Describe calls.
type countingRows struct {
	parts     map[string]bool
	describes *int
}

func (c countingRows) Describe(context.Context, string, string) (*schemapb.CollectionSchema, error) {
	*c.describes++
	return &schemapb.CollectionSchema{Fields: []*schemapb.FieldSchema{
		{FieldID: 0, Name: "RowID"}, {FieldID: 100, Name: "id", IsPrimaryKey: true, DataType: schemapb.DataType_Int64},
	}}, nil
}

func (c countingRows) Partitions(context.Context, string, string) ([]string, error) {
	var out []string
	for p := range c.parts {
		out = append(out, p)
	}
	return out, nil
}

func (c countingRows) Query(context.Context, string, string, string, string, []string, uint64) ([]*schemapb.FieldData, error) {
	return nil, nil
}

// TestShapeCacheRefreshes: a collection's shape is fetched once, again when
// an insert names a partition it lacks, again after it expired.
func TestShapeCacheRefreshes(t *testing.T) {
	n := 0
	src := countingRows{parts: map[string]bool{"_default": true}, describes: &n}
	sc := NewShapes(src)
	clock := time.Unix(1000, 0)
	sc.now = func() time.Time { return clock }
	ctx := context.Background()
	ins := &wal.Event{Op: contract.OpInsert, CollectionID: 7, PartitionName: "_default"}
	for i := 0; i < 3; i++ {
		if sh, err := sc.Get(ctx, ins); err != nil || sh.PK != "id" {
			t.Fatalf("get: %v %v", sh, err)
		}
	}
	if n != 1 {
		t.Fatalf("%d describes for one collection, want 1", n)
	}
	src.parts["p1"] = true
	sh, _ := sc.Get(ctx, &wal.Event{Op: contract.OpInsert, CollectionID: 7, PartitionName: "p1"})
	if n != 2 || len(sh.Parts) != 2 {
		t.Fatalf("new partition: %d describes, parts %v", n, sh.Parts)
	}
	clock = clock.Add(shapeTTL)
	sc.Get(ctx, &wal.Event{Op: contract.OpDelete, CollectionID: 7})
	if n != 3 {
		t.Fatalf("expired shape not fetched again (%d describes)", n)
	}
}
