package repair

import (
	"context"
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/sourcemeta"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// upsertInsertOf is the Insert half of an upsert of keys 1,2,3 at ts 50.
func upsertInsertOf(t *testing.T) *wal.Event {
	t.Helper()
	payload, err := proto.Marshal(&msgpb.InsertRequest{NumRows: 3, FieldsData: []*schemapb.FieldData{
		{FieldName: "id", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: []int64{1, 2, 3}}}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &wal.Event{Op: contract.OpInsert, Ts: 50, BaseTs: 0, Rows: 3, DbName: "default", CollectionName: "c", CollectionID: 7, Payload: payload, Position: []byte("ins")}
}

func testChannel(src sourcemeta.RowSource) *Channel {
	return NewChannel("a", sourcemeta.NewShapes(src), service.MockResources().Logger(), "source")
}

// TestBrokenUpsertTakesSourceRows: a tick after an upsert's Insert without
// its Delete reports the Insert as broken and gives, at the tick, the
// source's rows for its keys (key 1) and a delete of those it lacks (2, 3).
func TestBrokenUpsertTakesSourceRows(t *testing.T) {
	c := testChannel(fakeRows{parts: map[string]map[int64]string{"_default": {1: "one"}}})
	ins := upsertInsertOf(t)
	if got := c.Write(context.Background(), ins); len(got) != 1 || got[0] != ins {
		t.Fatalf("outside a resync the Insert must pass as it is: %v", got)
	}
	broken, evs := c.Tick(context.Background(), 60, []byte("tick"))
	if len(broken) != 1 || broken[0].Ts != 50 || broken[0].CollectionID != 7 {
		t.Fatalf("broken %v, want the upsert at 50", broken)
	}
	if len(evs) != 2 {
		t.Fatalf("%d derived events, want 2", len(evs))
	}
	for _, e := range evs {
		if e.Ts != 60 || string(e.Position) != "tick" || !e.Derived || e.Upsert {
			t.Errorf("derived %s: ts %d pos %q derived %v upsert %v", e.Op, e.Ts, e.Position, e.Derived, e.Upsert)
		}
	}
	if evs[0].Op != contract.OpInsert || evs[0].Rows != 1 || evs[1].Op != contract.OpDelete || evs[1].Rows != 2 {
		t.Errorf("derived: %s of %d, %s of %d; want insert of 1, delete of 2", evs[0].Op, evs[0].Rows, evs[1].Op, evs[1].Rows)
	}
	if broken, evs := c.Tick(context.Background(), 70, []byte("tick2")); len(broken)+len(evs) != 0 {
		t.Errorf("a broken upsert was reported twice: %v %v", broken, evs)
	}
}

// TestCompleteUpsertIsLeftAlone: the Delete of the same upsert clears it;
// a tick before the upsert's timestamp does not break it.
func TestCompleteUpsertIsLeftAlone(t *testing.T) {
	c := testChannel(fakeRows{parts: map[string]map[int64]string{"_default": {}}})
	ins := upsertInsertOf(t)
	c.Write(context.Background(), ins)
	if broken, _ := c.Tick(context.Background(), 49, []byte("early-tick")); len(broken) != 0 {
		t.Fatalf("a tick before the upsert broke it")
	}
	c.Write(context.Background(), &wal.Event{Op: contract.OpDelete, Ts: 50, BaseTs: 50, CollectionID: 7})
	if broken, evs := c.Tick(context.Background(), 60, []byte("tick")); len(broken)+len(evs) != 0 {
		t.Fatalf("a complete upsert was repaired: %v %v", broken, evs)
	}
}

// TestLateWriteStartsResync: a write behind the channel's newest timestamp
// is replaced by the source's rows, and so are the writes after it.
func TestLateWriteStartsResync(t *testing.T) {
	c := testChannel(fakeRows{parts: map[string]map[int64]string{"_default": {1: "one"}}})
	c.Tick(context.Background(), 100, []byte("tick"))
	late := upsertInsertOf(t)
	late.BaseTs = 50 // a plain insert, late
	evs := c.Write(context.Background(), late)
	if len(evs) != 2 || !evs[0].Derived || evs[0].Rows != 1 || evs[1].Op != contract.OpDelete {
		t.Fatalf("late insert: %d events %v, want the source's row and a delete of the missing keys", len(evs), evs)
	}
	next := upsertInsertOf(t)
	next.Ts, next.BaseTs = 200, 200
	if evs := c.Write(context.Background(), next); len(evs) != 2 || !evs[0].Derived {
		t.Fatalf("a write in the resync window was not taken from the source: %v", evs)
	}
}
