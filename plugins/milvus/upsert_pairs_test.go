package milvus

import (
	"context"
	"testing"
	"time"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// upsertInsertOf is the Insert half of an upsert of keys 1,2,3 at ts 50.
func upsertInsertOf(t *testing.T) *walEvent {
	t.Helper()
	payload, err := proto.Marshal(&msgpb.InsertRequest{NumRows: 3, FieldsData: []*schemapb.FieldData{
		{FieldName: "id", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{1, 2, 3}}}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &walEvent{Op: OpInsert, Ts: 50, BaseTs: 0, Rows: 3, DbName: "default", CollectionName: "c", CollectionID: 7, Payload: payload, Position: []byte("ins")}
}

func testReader(src rowSource) *channelReader {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	return &channelReader{name: "a", merge: newTestMerger(1, false, clk), rows: newShapeCache(src), log: service.MockResources().Logger()}
}

// TestBrokenUpsertTakesSourceRows: a tick after an upsert's Insert without
// its Delete releases the Insert at once and adds, at the tick, the
// source's rows for its keys (key 1) and a delete of those it lacks (2, 3).
func TestBrokenUpsertTakesSourceRows(t *testing.T) {
	c := testReader(fakeRows{parts: map[string]map[int64]string{"_default": {1: "one"}}})
	ins := upsertInsertOf(t)
	c.trackUpsert(ins)
	c.merge.pushEvent(0, ins)
	if !c.brokenUpserts(context.Background(), 60, []byte("tick")) {
		t.Fatal("merger closed")
	}
	c.merge.pushTick(0, 60, []byte("tick"))
	got, _ := c.merge.popReady(10, 1<<30)
	if len(got) != 3 || got[0] != ins {
		t.Fatalf("released %d events (first %v), want the Insert then 2 derived", len(got), got)
	}
	for _, e := range got[1:] {
		if e.Ts != 60 || string(e.Position) != "tick" || !e.Derived || (e.Op == OpDelete && e.Upsert) {
			t.Errorf("derived %s: ts %d pos %q derived %v upsert %v", e.Op, e.Ts, e.Position, e.Derived, e.Upsert)
		}
	}
	if got[1].Op != OpInsert || got[1].Rows != 1 || got[2].Op != OpDelete || got[2].Rows != 2 {
		t.Errorf("derived: %s of %d, %s of %d; want insert of 1, delete of 2", got[1].Op, got[1].Rows, got[2].Op, got[2].Rows)
	}
	if len(c.unpaired) != 0 {
		t.Errorf("%d upserts still tracked", len(c.unpaired))
	}
}

// TestCompleteUpsertIsLeftAlone: the Delete of the same upsert clears it;
// a tick before the upsert's timestamp does not break it.
func TestCompleteUpsertIsLeftAlone(t *testing.T) {
	c := testReader(fakeRows{parts: map[string]map[int64]string{"_default": {}}})
	ins := upsertInsertOf(t)
	c.trackUpsert(ins)
	c.brokenUpserts(context.Background(), 49, []byte("early-tick"))
	if len(c.unpaired) != 1 {
		t.Fatalf("a tick before the upsert broke it")
	}
	c.trackUpsert(&walEvent{Op: OpDelete, Ts: 50, BaseTs: 50, CollectionID: 7})
	c.brokenUpserts(context.Background(), 60, []byte("tick"))
	c.merge.pushTick(0, 60, []byte("tick"))
	if got, _ := c.merge.popReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("%d events derived for a complete upsert", len(got))
	}
}
