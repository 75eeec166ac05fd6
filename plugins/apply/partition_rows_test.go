package apply

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// rowsMilvus is copyMilvus that also records upserts.
type rowsMilvus struct {
	copyMilvus
	upserts []*milvuspb.UpsertRequest
}

func (m *rowsMilvus) Upsert(_ context.Context, r *milvuspb.UpsertRequest) (*milvuspb.MutationResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.upserts = append(m.upserts, r)
	return &milvuspb.MutationResult{Status: &commonpb.Status{}}, nil
}

func (m *rowsMilvus) upsertPartitions() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var parts []string
	for _, u := range m.upserts {
		parts = append(parts, fmt.Sprintf("%q", u.GetPartitionName()))
	}
	return parts
}

func rowMeta(part string, extra ...string) map[string]string {
	m := map[string]string{contract.MetaDB: "default", contract.MetaCollection: "c", contract.MetaCollectionID: "7", contract.MetaPartition: part}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// TestUpsertKeepsDefaultPartition: rows the source wrote into _default go
// to the target with that partition named, like every other partition. The
// source's upsert deleted its keys in _default only (its Delete carries
// _default and the partition's ID); an upsert without a name leaves the
// scope of its delete to the target (Milvus 2.3.5 takes its own default
// partition, which common.defaultPartitionName may name otherwise).
func TestUpsertKeepsDefaultPartition(t *testing.T) {
	fake := &rowsMilvus{}
	w := writerFor(t, fake)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	upsertDel := &msgpb.DeleteRequest{CollectionName: "c", CollectionID: 7, PartitionName: "_default", PartitionID: 11, NumRows: 1,
		PrimaryKeys: &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: []int64{5}}}}, Timestamps: []uint64{1}}
	batches := []service.MessageBatch{
		{ // a source upsert of key 5 into _default
			walMsg(t, contract.OpInsert, insertReq([]int64{5}, []string{"x"}, []float32{1}), rowMeta("_default", contract.MetaUpsert, "true")),
			walMsg(t, contract.OpDelete, upsertDel, rowMeta("_default", contract.MetaUpsert, "true")),
		},
		{walMsg(t, contract.OpInsert, insertReq([]int64{6}, []string{"y"}, []float32{2}), rowMeta("_default"))},
		{walMsg(t, contract.OpInsert, insertReq([]int64{5}, []string{"z"}, []float32{3}), rowMeta("p1", contract.MetaUpsert, "true"))},
	}
	for _, b := range batches {
		if err := w.WriteBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	want := `["_default" "_default" "p1"]`
	if got := fmt.Sprint(fake.upsertPartitions()); got != want {
		t.Fatalf("upserts went to partitions %s, want %s: the source's partition, _default included", got, want)
	}
	if len(fake.deletes) != 0 {
		t.Errorf("the Delete of an upsert was applied: %v", fake.deletes)
	}
}

// TestBadInsertFailsTheTask: two merged inserts with a negative vector
// dimension fail the output for good with a reason naming the op and the
// collection (reported to the failure cache), nothing is written, and the
// writer (with every other task of its worker) lives on.
func TestBadInsertFailsTheTask(t *testing.T) {
	fake := &rowsMilvus{}
	res := service.MockResources(service.MockResourcesOptAddCache("store"))
	conf, err := milvusApplyOutputSpec().ParseYAML(fmt.Sprintf("address: %s\nconnect_timeout: 5s\ntask_store: { cache: store, task: t1 }\n", serveFake(t, fake)), nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := milvusApplyOutputFromParsed(conf, res)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(ctx) }()
	bad := func(id int64) *service.Message {
		r := insertReq([]int64{id}, []string{"x"}, []float32{1})
		r.FieldsData[2].GetVectors().Dim = -1
		return walMsg(t, contract.OpInsert, r, rowMeta("_default"))
	}
	err = w.WriteBatch(ctx, service.MessageBatch{bad(1), bad(2)})
	if err == nil || !strings.Contains(err.Error(), "insert on default.c") || !strings.Contains(err.Error(), "dimension -1") {
		t.Fatalf("WriteBatch: %v, want a failure naming the insert on default.c and the dimension", err)
	}
	if w.failed == nil {
		t.Error("no permanent failure recorded")
	}
	var reason []byte
	_ = res.AccessCache(ctx, "store", func(c service.Cache) { reason, _ = c.Get(ctx, "failed:t1") })
	if !strings.Contains(string(reason), "insert on default.c") {
		t.Errorf("failure cache holds %q", reason)
	}
	if n := len(fake.upsertPartitions()); n != 0 {
		t.Errorf("%d upserts sent", n)
	}
}
