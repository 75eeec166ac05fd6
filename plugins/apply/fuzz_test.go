package apply

import (
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// FuzzMergeColumns feeds pairs of insert payloads (as the WAL carries them)
// to the merge of inserts into one upsert, alone and together: each gives
// columns that hold exactly the rows it reports, or a permanent error;
// never a panic. The seeds are a good pair, one with a repeated key, and
// every bad pair of TestMergeInsertsRefusesBadColumns (negative dimension
// included).
func FuzzMergeColumns(f *testing.F) {
	add := func(a, b *msgpb.InsertRequest) {
		pa, _ := proto.Marshal(a)
		pb, _ := proto.Marshal(b)
		f.Add(pa, pb, "id")
	}
	add(insertReq([]int64{1, 2}, []string{"a", "b"}, []float32{1, 2}), insertReq([]int64{3}, []string{"c"}, []float32{3}))
	add(insertReq([]int64{1, 2}, []string{"a", "b"}, []float32{1, 2}), insertReq([]int64{2}, []string{"c"}, []float32{3}))
	add(vecReq([]int64{1}, floatVec(-1, 1), 0), vecReq([]int64{2}, floatVec(-1, 2), 0))
	for _, pair := range badMerges() {
		add(pair[0], pair[1])
	}
	f.Fuzz(func(t *testing.T, pa, pb []byte, pk string) {
		var a, b msgpb.InsertRequest
		if proto.Unmarshal(pa, &a) != nil || proto.Unmarshal(pb, &b) != nil {
			return
		}
		for _, reqs := range [][]*msgpb.InsertRequest{{&a}, {&a, &b}} {
			fields, n, err := mergeInserts(reqs, pk)
			if err != nil {
				if !isPermanent(err) {
					t.Fatalf("merge of %d inserts: %v is not permanent", len(reqs), err)
				}
				continue
			}
			if n > 0 {
				if err := wal.CheckColumns(fields, uint64(n)); err != nil {
					t.Fatalf("merge of %d inserts gave %d rows in bad columns: %v", len(reqs), n, err)
				}
			}
		}
	})
}
