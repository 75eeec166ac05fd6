package binlog

import (
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// TestAppliedTracker: the applied timestamp moves over acknowledged batches
// in order only, and with the merge's ticks only while nothing is pending.
func TestAppliedTracker(t *testing.T) {
	var tr appliedTracker
	a, b := tr.add(10), tr.add(20)
	tr.ack(b)
	if tr.get() != 0 {
		t.Fatalf("moved to %d past an unacknowledged batch", tr.get())
	}
	tr.ack(a)
	if tr.get() != 20 {
		t.Fatalf("applied until %d, want 20", tr.get())
	}
	m := order.New([]string{"c"}, "", time.Second, 16, 1<<20)
	m.SetStart(0, []byte{0})
	m.PushEvent(0, &wal.Event{Op: contract.OpInsert, Ts: 25, BaseTs: 25, Position: []byte{1}})
	m.PushTick(0, 30, []byte{2})
	tr.idle(m, false)
	if tr.get() != 20 {
		t.Fatalf("moved to %d with an event queued", tr.get())
	}
	m.PopReady(10, 1<<20)
	c := tr.add(25)
	tr.idle(m, false)
	if tr.get() != 20 {
		t.Fatalf("moved to %d with a batch unacknowledged", tr.get())
	}
	tr.ack(c)
	tr.idle(m, true)
	if tr.get() != 25 {
		t.Fatalf("applied until %d, want 25 (held by the batch policy: no tick)", tr.get())
	}
	tr.idle(m, false)
	if tr.get() != 30 {
		t.Fatalf("applied until %d, want the tick 30 once nothing is pending", tr.get())
	}
}
