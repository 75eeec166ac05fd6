package upsert

import (
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// TestMarkPairsPerCollection: an Insert and a Delete of one collection and
// timestamp are one upsert; a lone Delete of another collection and a
// derived Delete are not halves.
func TestMarkPairsPerCollection(t *testing.T) {
	ins := &wal.Event{Op: contract.OpInsert, Ts: 5, CollectionID: 1}
	del := &wal.Event{Op: contract.OpDelete, Ts: 5, CollectionID: 1}
	derived := &wal.Event{Op: contract.OpDelete, Ts: 5, CollectionID: 1, Derived: true}
	other := &wal.Event{Op: contract.OpDelete, Ts: 5, CollectionID: 2}
	ddl := &wal.Event{Op: contract.OpCreateIndex, Ts: 5, CollectionID: 1}
	Mark([]*wal.Event{ins, del, derived, other, ddl})
	if !ins.Upsert || !del.Upsert {
		t.Errorf("pair not marked: insert %v delete %v", ins.Upsert, del.Upsert)
	}
	if derived.Upsert || other.Upsert || ddl.Upsert {
		t.Errorf("marked wrongly: derived %v other %v ddl %v", derived.Upsert, other.Upsert, ddl.Upsert)
	}
}

// TestTrackerBrokenAfterTick: an upsert Insert is broken once a tick at or
// past it came without its Delete; its Delete clears it.
func TestTrackerBrokenAfterTick(t *testing.T) {
	var tr Tracker
	tr.Track(&wal.Event{Op: contract.OpInsert, Ts: 10, CollectionID: 1})             // upsert half (BaseTs 0)
	tr.Track(&wal.Event{Op: contract.OpInsert, Ts: 20, BaseTs: 20, CollectionID: 1}) // plain insert: not tracked
	tr.Track(&wal.Event{Op: contract.OpInsert, Ts: 30, CollectionID: 1})
	tr.Track(&wal.Event{Op: contract.OpDelete, Ts: 30, BaseTs: 30, CollectionID: 1})
	if got := tr.Broken(9); len(got) != 0 || !tr.Pending() {
		t.Fatalf("broken before its tick: %v", got)
	}
	if got := tr.Broken(40); len(got) != 1 || got[0].Ts != 10 || tr.Pending() {
		t.Fatalf("broken %v pending %v; want only the upsert at 10", got, tr.Pending())
	}
}
