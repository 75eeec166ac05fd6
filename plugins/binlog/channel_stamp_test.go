package binlog

import (
	"context"
	"testing"
	"time"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/repair"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// onePartitionMore is a source whose collections all have partition p1.
type onePartitionMore struct{}

func (onePartitionMore) Partitions(context.Context, string, string) ([]string, error) {
	return []string{"_default", "p1"}, nil
}
func (onePartitionMore) LoadedPartitions(context.Context, string, string) ([]string, error) {
	return nil, nil
}
func (onePartitionMore) DescribeID(context.Context, int64, uint64) (sourcemeta.Description, error) {
	return sourcemeta.Description{Found: true}, nil
}

// TestCatalogEventsNeverGoBackInTime: Milvus 2.3 can write a time tick with
// a lower timestamp than a CreateCollection already read on the same channel
// (seen on the real stack). The create_partition the catalog watch finds at
// that tick is stamped no lower than the CreateCollection, so the output
// sees timestamps that never go back.
func TestCatalogEventsNeverGoBackInTime(t *testing.T) {
	merge := order.New([]string{"dml_0"}, "", time.Second, 16, 1<<20)
	merge.SetStart(0, []byte{0})
	log := service.MockResources().Logger()
	cr := &channelReader{idx: 0, name: "dml_0", merge: merge, log: log,
		catalog: sourcemeta.NewCatalog(nil, nil),
		filter:  &collectionFilter{},
		repair:  repair.NewChannel("dml_0", nil, log, ""),
		watch:   sourcemeta.NewCatalogWatch(onePartitionMore{}, nil, 0)}
	create := &wal.Event{Op: contract.OpCreateCollection, DbName: "default", CollectionName: "c1", CollectionID: 1,
		Ts: 733, BaseTs: 733, Channel: "dml_0", Position: []byte{1}}
	cr.catalog.Remember(map[int64]contract.CollectionRef{1: {DB: "default", Name: "c1"}})
	cr.watch.Observe(create)
	if !cr.push(create) {
		t.Fatal("merge closed")
	}
	tick, err := proto.Marshal(&msgpb.TimeTickMsg{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_TimeTick, Timestamp: 707}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cr.handle(context.Background(), logreader.Message{Kind: logreader.Data, Position: []byte{2}, Payload: tick}); err != nil {
		t.Fatal(err)
	}
	merge.PushTick(0, 800, []byte{3})
	got, _ := merge.PopReady(10, 1<<20)
	if len(got) != 2 || got[1].Op != contract.OpCreatePartition || got[1].PartitionName != "p1" {
		t.Fatalf("got %d events %v, want create_collection then create_partition p1", len(got), got)
	}
	if got[1].Ts < got[0].Ts {
		t.Fatalf("create_partition at ts %d, before its collection's create at %d", got[1].Ts, got[0].Ts)
	}
}

// TestStartBetweenUpsertHalves: a channel that starts at the Insert of an
// upsert (a pin taken between its two messages) does not replay the Delete
// that follows alone: the source holds the upserted row, and a lone delete
// would remove it on the target.
func TestStartBetweenUpsertHalves(t *testing.T) {
	ins, err := proto.Marshal(&msgpb.InsertRequest{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_Insert}, CollectionID: 9,
		Timestamps: []uint64{500}, RowIDs: []int64{1}, NumRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	del, err := proto.Marshal(&msgpb.DeleteRequest{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_Delete, Timestamp: 500}, CollectionID: 9,
		Timestamps: []uint64{500}, NumRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	tick, err := proto.Marshal(&msgpb.TimeTickMsg{Base: &commonpb.MsgBase{MsgType: commonpb.MsgType_TimeTick, Timestamp: 600}})
	if err != nil {
		t.Fatal(err)
	}
	merge := order.New([]string{"dml_0"}, "", time.Second, 16, 1<<20)
	merge.SetStart(0, []byte{0})
	log := service.MockResources().Logger()
	cr := &channelReader{idx: 0, name: "dml_0", merge: merge, log: log, repair: repair.NewChannel("dml_0", nil, log, ""),
		catalog: sourcemeta.NewCatalog(nil, nil),
		watch:   sourcemeta.NewCatalogWatch(onePartitionMore{}, nil, time.Hour),
		ch: &scriptedChannel{msgs: []logreader.Message{
			{Kind: logreader.StartMark, Position: []byte{1}, Payload: ins},
			{Kind: logreader.Data, Position: []byte{2}, Payload: del},
			{Kind: logreader.Data, Position: []byte{3}, Payload: tick},
		}}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = cr.run(ctx)
	if got, _ := merge.PopReady(10, 1<<20); len(got) != 0 {
		t.Fatalf("released %d events, want the lone Delete dropped", len(got))
	}
	if pos := merge.Positions()["dml_0"]; string(pos) != "\x03" {
		t.Fatalf("position %x, want past the Delete and the tick", pos)
	}
	if cr.at.startHalf != nil {
		t.Fatal("the start's upsert is still remembered after a later tick")
	}
}
