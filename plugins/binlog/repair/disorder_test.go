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

// TestLateWriteOfTheSameKeyTakesSourceRows: a delete of keys 1-3 at 20 that
// arrives after an insert of key 1 at 30 would remove key 1 on the target
// (the insert may be applied already): it becomes the source's rows instead
// (key 1 kept, keys 2 and 3 deleted). It starts no resync window.
func TestLateWriteOfTheSameKeyTakesSourceRows(t *testing.T) {
	c := testChannel(fakeRows{parts: map[string]map[int64]string{"_default": {1: "one"}}})
	ctx := context.Background()
	c.Tick(ctx, 10, []byte("t10"))
	c.Write(ctx, writeOf(t, contract.OpInsert, 30, 1))
	got := c.Write(ctx, writeOf(t, contract.OpDelete, 20, 1, 2, 3))
	if !derivedOnly(got) || len(got) != 2 || got[0].Op != contract.OpInsert || got[0].Rows != 1 || got[1].Op != contract.OpDelete || got[1].Rows != 2 {
		t.Fatalf("late delete of a key written since: %d events %v, want the source's row 1 and a delete of 2,3", len(got), got)
	}
	if !c.resyncTill.IsZero() {
		t.Errorf("a key conflict between two ticks started a resync window")
	}
	// The next tick passes both: a write older than the newest one but newer
	// than the tick is compared with nothing older than the tick.
	c.Tick(ctx, 40, []byte("t40"))
	c.Write(ctx, writeOf(t, contract.OpInsert, 60, 9))
	if got := c.Write(ctx, writeOf(t, contract.OpDelete, 50, 1, 2, 3)); derivedOnly(got) {
		t.Errorf("a late write was compared with writes before the last tick")
	}
}

// TestUpsertWhoseInsertWasReplacedLosesItsDelete: when an upsert's Insert is
// replaced by the source's rows, its Delete is replaced too (as a plain
// delete after the source's rows it would remove them on the target).
func TestUpsertWhoseInsertWasReplacedLosesItsDelete(t *testing.T) {
	c := testChannel(fakeRows{parts: map[string]map[int64]string{"_default": {1: "one", 2: "two", 3: "three"}}})
	ctx := context.Background()
	c.Tick(ctx, 10, []byte("t10"))
	c.Write(ctx, writeOf(t, contract.OpDelete, 60, 2))
	ins := upsertInsertOf(t) // keys 1,2,3 at 50
	if got := c.Write(ctx, ins); !derivedOnly(got) {
		t.Fatalf("upsert Insert behind a newer delete of key 2 was not replaced: %v", got)
	}
	del := writeOf(t, contract.OpDelete, 50, 1, 2, 3)
	if got := c.Write(ctx, del); !derivedOnly(got) {
		t.Fatalf("the Delete of a replaced upsert went as a plain delete: %v", got)
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
