package order

import (
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

func positionsOf(t *testing.T, m *Merger) []string {
	t.Helper()
	got, _ := m.PopReady(100, 1<<30)
	var out []string
	for _, e := range got {
		out = append(out, string(e.Position))
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestKeyOrderReleasesRowsOnArrival: with OrderingKey a row change goes as
// soon as it heads its queue, without a tick of any channel; with
// OrderingTotal it waits for every channel's tick.
func TestKeyOrderReleasesRowsOnArrival(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.PushEvent(0, ev(contract.OpInsert, 1, 10, "a10"))
	if got := positionsOf(t, m); len(got) != 0 {
		t.Fatalf("total order released %v before any tick", got)
	}
	m.SetOrdering(OrderingKey)
	m.PushEvent(1, ev(contract.OpDelete, 2, 5, "b5"))
	if got := positionsOf(t, m); !equal(got, []string{"b5", "a10"}) {
		t.Fatalf("released %v, want [b5 a10] at once", got)
	}
	// Nothing is ticked: the checkpoint still moves past what went.
	if pos := m.Positions(); string(pos["a"]) != "a10" || string(pos["b"]) != "b5" {
		t.Fatalf("positions %q", pos)
	}
	if m.Passed(10) {
		t.Errorf("Passed(10) with no channel ticked: rows released early are not a total order")
	}
}

// TestKeyOrderKeepsDDLBehindTicks: a create_collection waits for every
// channel's tick, the rows its channel read after it wait behind it, while
// the rows of another channel go; the DDL never goes before an older row.
func TestKeyOrderKeepsDDLBehindTicks(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.SetOrdering(OrderingKey)
	m.PushEvent(0, ev(contract.OpCreateCollection, 3, 20, "a-create"))
	m.PushEvent(0, ev(contract.OpInsert, 3, 21, "a-rows-of-new"))
	m.PushEvent(1, ev(contract.OpInsert, 2, 30, "b-rows"))
	m.PushTick(0, 25, []byte("a-t25"))
	if got := positionsOf(t, m); !equal(got, []string{"b-rows"}) {
		t.Fatalf("released %v, want only b's rows (a's create waits for b's tick)", got)
	}
	if pos := m.Positions(); pos["a"] != nil {
		t.Fatalf("channel a resumes at %q, want before its create", pos["a"])
	}
	m.PushTick(1, 20, []byte("b-t20"))
	if got := positionsOf(t, m); !equal(got, []string{"a-create", "a-rows-of-new"}) {
		t.Fatalf("released %v, want the create then its rows", got)
	}
	if !m.Passed(20) || m.Passed(26) {
		t.Errorf("Passed: the total order is at 20..25")
	}
}

// TestKeyOrderHoldsUpsertInsertForItsDelete: an upsert's Insert heading its
// queue waits for its Delete (or they would apply as a plain insert and a
// plain delete of the new rows); other channels' rows go meanwhile; the pair
// goes in one batch, marked, even with a batch of one.
func TestKeyOrderHoldsUpsertInsertForItsDelete(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.SetOrdering(OrderingKey)
	m.PushEvent(0, upsertIns(7, 50, "a-ins"))
	m.PushEvent(1, upsertIns(7, 50, "b-ins"))
	m.PushEvent(1, ev(contract.OpDelete, 7, 50, "b-del"))
	m.PushEvent(1, ev(contract.OpInsert, 9, 60, "b-other"))
	got, _ := m.PopReady(1, 1<<30)
	if len(got) != 2 || string(got[0].Position) != "b-ins" || string(got[1].Position) != "b-del" || !got[0].Upsert || !got[1].Upsert {
		t.Fatalf("first batch %v, want b's pair marked as one upsert", got)
	}
	if got := positionsOf(t, m); !equal(got, []string{"b-other"}) {
		t.Fatalf("released %v while a's Insert waits for its Delete", got)
	}
	m.PushEvent(0, ev(contract.OpDelete, 7, 50, "a-del"))
	got, _ = m.PopReady(1, 1<<30)
	if len(got) != 2 || !got[0].Upsert || !got[1].Upsert {
		t.Fatalf("a's pair: %v, want both halves marked", got)
	}
	// A Delete that never comes stops holding after pairWait.
	m.PushEvent(0, upsertIns(7, 70, "a-lonely"))
	if got := positionsOf(t, m); len(got) != 0 {
		t.Fatalf("released %v before pairWait", got)
	}
	clk.t = clk.t.Add(m.pairWait)
	if got := positionsOf(t, m); !equal(got, []string{"a-lonely"}) {
		t.Fatalf("released %v after pairWait", got)
	}
}

// TestKeyOrderReplicateChannelDDL: an index or load op on the replicate
// channel (no ticks) goes after every older row and only once the DML
// channels ticked past it; newer rows do not wait for it.
func TestKeyOrderReplicateChannelDDL(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(1, true, clk)
	m.SetOrdering(OrderingKey)
	m.PushEvent(1, ev(contract.OpCreateIndex, 7, 40, "r-index"))
	m.PushEvent(0, ev(contract.OpInsert, 7, 45, "a45"))
	if got := positionsOf(t, m); !equal(got, []string{"a45"}) {
		t.Fatalf("released %v, want the row only", got)
	}
	m.PushTick(0, 50, []byte("a-t50"))
	if got := positionsOf(t, m); !equal(got, []string{"r-index"}) {
		t.Fatalf("released %v, want the index once a ticked", got)
	}
}
