package repair

import (
	"context"
	"testing"

	"github.com/golang/protobuf/proto"
	"github.com/milvus-io/milvus-proto/go-api/v2/msgpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// writeOf is a plain insert (or delete) of keys at ts in collection 7.
func writeOf(t *testing.T, op string, ts uint64, keys ...int64) *wal.Event {
	t.Helper()
	var payload []byte
	var err error
	if op == contract.OpInsert {
		payload, err = proto.Marshal(&msgpb.InsertRequest{NumRows: uint64(len(keys)), FieldsData: []*schemapb.FieldData{
			{FieldName: "id", Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: keys}}}}},
		}})
	} else {
		payload, err = proto.Marshal(&msgpb.DeleteRequest{PrimaryKeys: &schemapb.IDs{IdField: &schemapb.IDs_IntId{IntId: &schemapb.LongArray{Data: keys}}}})
	}
	if err != nil {
		t.Fatal(err)
	}
	return &wal.Event{Op: op, Ts: ts, BaseTs: ts, Rows: int64(len(keys)), DbName: "default", CollectionName: "c", CollectionID: 7,
		Payload: payload, Position: []byte(op)}
}

func derivedOnly(evs []*wal.Event) bool {
	for _, e := range evs {
		if !e.Derived {
			return false
		}
	}
	return len(evs) > 0
}

// TestLateWriteOfOtherKeysPassesAsItIs: writes of different keys that arrive
// out of order between two ticks (two proxies) go as they are, without a
// resync window.
func TestLateWriteOfOtherKeysPassesAsItIs(t *testing.T) {
	c := testChannel(fakeRows{parts: map[string]map[int64]string{"_default": {1: "one"}}})
	ctx := context.Background()
	c.Tick(ctx, 10, []byte("t10"))
	newer := writeOf(t, contract.OpInsert, 30, 4, 5)
	late := writeOf(t, contract.OpDelete, 20, 1, 2, 3)
	if got := c.Write(ctx, newer); len(got) != 1 || got[0] != newer {
		t.Fatalf("in-order write replaced: %v", got)
	}
	if got := c.Write(ctx, late); len(got) != 1 || got[0] != late {
		t.Fatalf("late write of other keys replaced: %v", got)
	}
	if !c.resyncTill.IsZero() {
		t.Errorf("a resync window started for writes of different keys")
	}
}

// TestLateWriteOfTheSameKeyReplaysNewer: a delete of keys 1-3 at 20 that
// arrives after an insert of key 1 at 30 would remove key 1 on the target
// (the insert may be applied already): the insert is applied again after
// it. No source query, no resync window.
func TestLateWriteOfTheSameKeyReplaysNewer(t *testing.T) {
	c := testChannel(fakeRows{parts: map[string]map[int64]string{"_default": {1: "one"}}})
	ctx := context.Background()
	c.Tick(ctx, 10, []byte("t10"))
	newer := writeOf(t, contract.OpInsert, 30, 1)
	c.Write(ctx, newer)
	late := writeOf(t, contract.OpDelete, 20, 1, 2, 3)
	got := c.Write(ctx, late)
	if len(got) != 2 || got[0] != late || got[1].Op != contract.OpInsert || got[1].Ts != 30 || string(got[1].Position) != string(late.Position) || derivedOnly(got) {
		t.Fatalf("late delete of a key written since: %v, want it and the insert at 30 again (at the delete's position)", got)
	}
	if !c.resyncTill.IsZero() {
		t.Errorf("a key conflict between two ticks started a resync window")
	}
	// The next tick passes both: a write older than the newest one but newer
	// than the tick is compared with nothing older than the tick.
	c.Tick(ctx, 40, []byte("t40"))
	c.Write(ctx, writeOf(t, contract.OpInsert, 60, 9))
	if got := c.Write(ctx, writeOf(t, contract.OpDelete, 50, 1, 2, 3)); len(got) != 1 {
		t.Errorf("a late write was compared with writes before the last tick: %v", got)
	}
}

// TestWriteBehindTheTickResyncs: a write older than the channel's tick breaks
// Milvus's promise (it re-published after an outage): a resync window starts.
func TestWriteBehindTheTickResyncs(t *testing.T) {
	c := testChannel(fakeRows{parts: map[string]map[int64]string{"_default": {1: "one"}}})
	ctx := context.Background()
	c.Tick(ctx, 100, []byte("t100"))
	if got := c.Write(ctx, writeOf(t, contract.OpDelete, 20, 1, 2, 3)); !derivedOnly(got) {
		t.Fatalf("a write behind the tick was not replaced: %v", got)
	}
	if c.resyncTill.IsZero() {
		t.Errorf("no resync window after a write behind the tick")
	}
}
