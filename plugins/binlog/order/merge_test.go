package order

import (
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

type fakeClock struct{ t time.Time }

func (f *fakeClock) now() time.Time { return f.t }

func newTestMerger(n int, repl bool, clk *fakeClock) *Merger {
	var chans []string
	for i := 0; i < n; i++ {
		chans = append(chans, string(rune('a'+i)))
	}
	r := ""
	if repl {
		r = "repl"
	}
	m := New(chans, r, time.Second, 4, 1<<20)
	m.now = clk.now
	for _, c := range m.chans {
		c.lastSeen = clk.t
	}
	return m
}

// ev is a plain event (Base.Timestamp = ts).
func ev(op string, coll int64, ts uint64, pos string) *wal.Event {
	return &wal.Event{Op: op, CollectionID: coll, Ts: ts, BaseTs: ts, Position: []byte(pos)}
}

// upsertIns is the Insert half of an upsert (Base.Timestamp 0, as Milvus writes it).
func upsertIns(coll int64, ts uint64, pos string) *wal.Event {
	e := ev(contract.OpInsert, coll, ts, pos)
	e.BaseTs = 0
	return e
}

func tss(evs []*wal.Event) []uint64 {
	var out []uint64
	for _, e := range evs {
		out = append(out, e.Ts)
	}
	return out
}

func TestMergeWaitsForEveryTickingChannel(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.PushEvent(0, ev(contract.OpInsert, 1, 10, "a10"))
	m.PushTick(0, 20, []byte("a-t20"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %v before channel b ticked", tss(got))
	}
	m.PushEvent(1, ev(contract.OpInsert, 2, 5, "b5"))
	m.PushTick(1, 12, []byte("b-t12"))
	got, pos := m.PopReady(10, 1<<30)
	if len(got) != 2 || got[0].Ts != 5 || got[1].Ts != 10 {
		t.Fatalf("got %v, want [5 10]", tss(got))
	}
	if string(pos["a"]) != "a-t20" || string(pos["b"]) != "b-t12" {
		t.Fatalf("positions %q", pos)
	}
}

func TestMergeIdleChannelStopsBlocking(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.PushEvent(0, ev(contract.OpInsert, 1, 10, "a10"))
	m.PushTick(0, 10, []byte("a-t10"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatal("released while channel b may still produce")
	}
	clk.t = clk.t.Add(1500 * time.Millisecond)
	m.PushTick(0, 11, []byte("a-t11")) // a keeps ticking, b stays silent
	m.SetAtEnd(1, true)                // and b's log says it was read to the end
	got, _ := m.PopReady(10, 1<<30)
	if len(got) != 1 || got[0].Ts != 10 {
		t.Fatalf("got %v after b went idle", tss(got))
	}
}

func TestMergeCheckpointStopsBeforePending(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.PushEvent(0, ev(contract.OpInsert, 1, 10, "a10"))
	m.PushEvent(0, ev(contract.OpInsert, 1, 30, "a30"))
	m.PushTick(0, 30, []byte("a-t30"))
	m.PushTick(1, 20, []byte("b-t20"))
	got, pos := m.PopReady(10, 1<<30)
	if len(got) != 1 || got[0].Ts != 10 {
		t.Fatalf("got %v, want [10]", tss(got))
	}
	// a30 is still pending: channel a resumes right after a10, not after its tick.
	if string(pos["a"]) != "a10" {
		t.Fatalf("position of a = %q, want a10", pos["a"])
	}
}

func TestMergeMarksUpsertPairs(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.PushEvent(0, ev(contract.OpInsert, 7, 50, "i"))
	m.PushEvent(0, ev(contract.OpDelete, 7, 50, "d"))
	m.PushEvent(1, ev(contract.OpDelete, 8, 50, "plain-delete-other-collection"))
	m.PushEvent(1, ev(contract.OpDelete, 7, 60, "later-delete"))
	m.PushTick(0, 100, []byte("ta"))
	m.PushTick(1, 100, []byte("tb"))
	got, _ := m.PopReady(10, 1<<30)
	if len(got) != 4 {
		t.Fatalf("got %d events", len(got))
	}
	want := map[string]bool{"i": true, "d": true, "plain-delete-other-collection": false, "later-delete": false}
	for _, e := range got {
		if e.Upsert != want[string(e.Position)] {
			t.Fatalf("%s: upsert=%v", e.Position, e.Upsert)
		}
	}
}

// TestMergeDerivedDeleteIsNoUpsertHalf: a late write replaced by the
// source's rows (an Insert of the keys it has, a Delete of those it lost)
// shares its timestamp with an upsert's halves on another channel; the
// derived Delete must still apply, not be skipped as an upsert's Delete.
func TestMergeDerivedDeleteIsNoUpsertHalf(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	di, dd := ev(contract.OpInsert, 7, 50, "derived-insert"), ev(contract.OpDelete, 7, 50, "derived-delete")
	di.Derived, dd.Derived = true, true
	m.PushEvent(0, di)
	m.PushEvent(0, dd)
	m.PushEvent(1, upsertIns(7, 50, "i"))
	m.PushEvent(1, ev(contract.OpDelete, 7, 50, "d"))
	m.PushTick(0, 100, []byte("ta"))
	m.PushTick(1, 100, []byte("tb"))
	got, _ := m.PopReady(10, 1<<30)
	want := map[string]bool{"derived-insert": true, "derived-delete": false, "i": true, "d": true}
	if len(got) != len(want) {
		t.Fatalf("got %d events", len(got))
	}
	for _, e := range got {
		if e.Upsert != want[string(e.Position)] {
			t.Errorf("%s: upsert=%v, want %v", e.Position, e.Upsert, want[string(e.Position)])
		}
	}
}

func TestMergeReplicateChannelNeverBlocks(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(1, true, clk)
	m.PushEvent(1, ev(contract.OpCreateIndex, 0, 40, "r40"))
	m.PushEvent(0, ev(contract.OpInsert, 1, 45, "a45"))
	m.PushTick(0, 45, []byte("ta"))
	got, pos := m.PopReady(10, 1<<30)
	if len(got) != 2 || got[0].Ts != 40 || got[1].Ts != 45 {
		t.Fatalf("got %v", tss(got))
	}
	if string(pos["repl"]) != "r40" {
		t.Fatalf("replicate position %q", pos["repl"])
	}
}

func TestMergeBackpressureDoesNotDeadlock(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(1, false, clk)
	// Queue cap is 4, but the channel has not ticked past its events yet, so
	// pushing must not block (only its own tick can release them).
	done := make(chan struct{})
	go func() {
		for i := uint64(1); i <= 10; i++ {
			m.PushEvent(0, ev(contract.OpInsert, 1, i, "x"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("pushEvent blocked while the channel waits for its own tick")
	}
	m.PushTick(0, 10, []byte("t"))
	got, _ := m.PopReady(100, 1<<30)
	if len(got) != 10 {
		t.Fatalf("released %d, want 10", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Ts < got[i-1].Ts {
			t.Fatalf("order: %v", tss(got))
		}
	}
}

// TestMergeKeepsUpsertPairTogether: a batch limit never separates the Insert
// and Delete of one upsert (a restart that skips acknowledged batches would
// otherwise replay a lone Delete of the new rows).
func TestMergeKeepsUpsertPairTogether(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(1, false, clk)
	m.PushEvent(0, upsertIns(7, 50, "i"))
	m.PushEvent(0, ev(contract.OpDelete, 7, 50, "d"))
	m.PushEvent(0, ev(contract.OpInsert, 7, 60, "next"))
	m.PushTick(0, 100, []byte("t"))
	got, _ := m.PopReady(1, 1<<30)
	if len(got) != 2 || string(got[0].Position) != "i" || string(got[1].Position) != "d" {
		t.Fatalf("popReady(1, 1<<30) gave %d events; want the insert and delete of ts 50", len(got))
	}
	got, _ = m.PopReady(1, 1<<30)
	if len(got) != 1 || string(got[0].Position) != "next" {
		t.Fatalf("second popReady(1, 1<<30) gave %d events", len(got))
	}
}

// TestMergeBytesCapBlocksOnlyCoveredQueue: a channel whose queue holds more
// than bytesCap payload bytes, all covered by its own ticks, waits for the
// other channels; a release lets it go on.
func TestMergeBytesCapBlocksOnlyCoveredQueue(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.bytesCap = 100
	big := func(ts uint64) *wal.Event {
		e := ev(contract.OpInsert, 1, ts, "x")
		e.Payload = make([]byte, 60)
		return e
	}
	m.PushEvent(0, big(1))
	m.PushEvent(0, big(2)) // 120 bytes queued, but no tick yet: must not block
	m.PushTick(0, 5, []byte("t"))
	pushed := make(chan struct{})
	go func() { m.PushEvent(0, big(6)); close(pushed) }()
	select {
	case <-pushed:
		t.Fatal("pushEvent did not wait with 120 bytes queued and covered by its own tick")
	case <-time.After(100 * time.Millisecond):
	}
	m.PushTick(1, 5, []byte("u")) // the other channel catches up: 1 and 2 are released
	if got, _ := m.PopReady(10, 1<<30); len(got) != 2 {
		t.Fatalf("released %d, want 2", len(got))
	}
	select {
	case <-pushed:
	case <-time.After(2 * time.Second):
		t.Fatal("pushEvent still blocked after the queue drained")
	}
}

// TestMergeBytesCapKeyOrderingBlocksBeforeTick: with OrderingKey a full
// queue headed by a row waits for space even before its channel ticks (the
// row goes without one), and goes on once the row is released; a full queue
// headed by DDL does not wait (it needs the channel's next tick to move).
func TestMergeBytesCapKeyOrderingBlocksBeforeTick(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.SetOrdering(OrderingKey)
	m.bytesCap = 100
	big := func(op string, ts uint64) *wal.Event {
		e := ev(op, 1, ts, "x")
		e.Payload = make([]byte, 60)
		return e
	}
	m.PushEvent(0, big(contract.OpInsert, 1))
	m.PushEvent(0, big(contract.OpInsert, 2)) // 120 bytes: full, no tick
	pushed := make(chan struct{})
	go func() { m.PushEvent(0, big(contract.OpInsert, 3)); close(pushed) }()
	select {
	case <-pushed:
		t.Fatal("pushEvent did not wait with a full queue headed by a row under ordering: key")
	case <-time.After(100 * time.Millisecond):
	}
	if got, _ := m.PopReady(10, 1<<30); len(got) != 2 {
		t.Fatalf("released %d rows without a tick, want 2", len(got))
	}
	select {
	case <-pushed:
	case <-time.After(2 * time.Second):
		t.Fatal("pushEvent still blocked after the rows were released")
	}
	m.PopReady(10, 1<<30)
	m.PushEvent(1, big(contract.OpCreateCollection, 4))
	m.PushEvent(1, big(contract.OpInsert, 5)) // full, headed by DDL that needs ticks
	done := make(chan struct{})
	go func() { m.PushEvent(1, big(contract.OpInsert, 6)); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("pushEvent blocked a queue headed by DDL before its channel's tick: the merge could deadlock")
	}
}

// TestMergeSilentChannelIdleAtStart: a channel whose newest message is older
// than the idle timeout does not hold the merge back at start.
func TestMergeSilentChannelIdleAtStart(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(3, false, clk)
	m.SetLastSeen(1, clk.t.Add(-time.Hour)) // last message an hour ago
	m.SetLastSeen(2, time.Time{})           // empty topic
	m.PushEvent(0, ev(contract.OpInsert, 1, 10, "a"))
	m.PushTick(0, 20, []byte("t"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 1 {
		t.Fatalf("released %d; silent channels must not block", len(got))
	}
	m.SetLastSeen(0, clk.t.Add(time.Hour)) // never moves lastSeen forward
	if m.chans[0].lastSeen.After(clk.t) {
		t.Fatal("setLastSeen moved lastSeen forward")
	}
}

// TestMergePopReadyByteCap: a batch ends at maxBytes of payload (at least
// one event, and never between events of one timestamp).
func TestMergePopReadyByteCap(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(1, false, clk)
	for i, ts := range []uint64{1, 2, 2, 3} {
		e := ev(contract.OpInsert, 1, ts, string(rune('a'+i)))
		e.Payload = make([]byte, 100)
		m.PushEvent(0, e)
	}
	m.PushTick(0, 10, []byte("t"))
	if got, _ := m.PopReady(100, 50); len(got) != 1 {
		t.Fatalf("first: %d events, want 1 (one event even above the cap)", len(got))
	}
	if got, _ := m.PopReady(100, 150); len(got) != 2 {
		t.Fatalf("second: %d events, want the 2 of ts 2", len(got))
	}
}

// TestMergeLateUpsertWaitsForItsDelete: after a Pulsar outage an upsert's
// Insert and Delete can arrive after a newer tick. The Insert is held until
// its Delete is queued, and both go out together marked as one upsert (a lone
// Delete would remove the new rows on the target).
func TestMergeLateUpsertWaitsForItsDelete(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.PushTick(0, 100, []byte("t0"))
	m.PushTick(1, 100, []byte("t1"))
	// ts 50 < both watermarks: late. Another upsert of ts 50 on channel 1
	// arrived in time and went out first.
	m.PushEvent(1, upsertIns(7, 50, "i1"))
	m.PushEvent(1, ev(contract.OpDelete, 7, 50, "d1"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 2 || !got[0].Upsert || !got[1].Upsert {
		t.Fatalf("in-time pair: %d events, marked %v", len(got), len(got) == 2 && got[1].Upsert)
	}
	m.PushEvent(0, upsertIns(7, 50, "i0"))
	if got, pos := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("the late Insert went out without its Delete (%d events, pos %q)", len(got), pos["c0"])
	}
	m.PushEvent(0, ev(contract.OpDelete, 7, 50, "d0"))
	got, _ := m.PopReady(10, 1<<30)
	if len(got) != 2 || string(got[0].Position) != "i0" || string(got[1].Position) != "d0" {
		t.Fatalf("got %d events, want the late Insert and Delete", len(got))
	}
	if !got[0].Upsert || !got[1].Upsert {
		t.Fatalf("late pair not marked as one upsert: insert %v delete %v", got[0].Upsert, got[1].Upsert)
	}
}

// TestMergeLateUpsertInsertAloneAfterWait: a Delete that never comes (its
// produce failed on the source) holds the stream back at most pairWait.
func TestMergeLateUpsertInsertAloneAfterWait(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(1, false, clk)
	m.PushTick(0, 100, []byte("t0"))
	m.PushEvent(0, upsertIns(7, 50, "i0"))
	m.PushEvent(0, ev(contract.OpInsert, 7, 60, "plain"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %d events before the wait ended", len(got))
	}
	clk.t = clk.t.Add(m.pairWait)
	got, _ := m.PopReady(10, 1<<30)
	if len(got) != 2 || got[0].Upsert {
		t.Fatalf("after pairWait: %d events (want 2, the insert unmarked)", len(got))
	}
}

// TestMergePairBrokenReleasesInsert: an Insert whose Delete is known lost
// (the channel ticked past it, see upsert.Tracker) goes out at once.
func TestMergePairBrokenReleasesInsert(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(1, false, clk)
	m.PushTick(0, 100, []byte("t0"))
	m.PushEvent(0, upsertIns(7, 50, "i0"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %d events while the Delete may still come", len(got))
	}
	m.PairBroken(0, 50, 8) // another collection: no effect
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatal("PairBroken of another collection released the Insert")
	}
	m.PairBroken(0, 50, 7)
	if got, _ := m.PopReady(10, 1<<30); len(got) != 1 || got[0].Upsert {
		t.Fatalf("after PairBroken: %d events (want the Insert, unmarked)", len(got))
	}
}

// TestMergeBusyChannelNeverIdle: a channel whose reader is handling a
// message (asking the source, say) holds the merge back however long that
// takes; once it is back to waiting, silence makes it idle again.
func TestMergeBusyChannelNeverIdle(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.PushEvent(0, ev(contract.OpInsert, 1, 10, "a10"))
	m.PushTick(0, 10, []byte("a-t10"))
	m.SetBusy(1, true)
	clk.t = clk.t.Add(5 * time.Second)
	m.PushTick(0, 11, []byte("a-t11"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %v past a busy channel", tss(got))
	}
	m.SetBusy(1, false)
	clk.t = clk.t.Add(1500 * time.Millisecond)
	m.PushTick(0, 12, []byte("a-t12"))
	m.SetAtEnd(1, true)
	if got, _ := m.PopReady(10, 1<<30); len(got) != 1 || got[0].Ts != 10 {
		t.Fatalf("got %v after b went idle", tss(got))
	}
	if r := m.Released(); r != 10 {
		t.Fatalf("Released() = %d, want 10", r)
	}
}

// TestMergeBusyClearsAtEnd: a reader that takes a message is not at its end
// any more, even before it is done with it.
func TestMergeBusyClearsAtEnd(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.PushEvent(0, ev(contract.OpInsert, 1, 10, "a10"))
	clk.t = clk.t.Add(5 * time.Second)
	m.PushTick(0, 10, []byte("a-t10"))
	m.SetAtEnd(1, true)
	m.SetBusy(1, true)
	m.SetBusy(1, false) // handled at once, and silent since...
	clk.t = clk.t.Add(1500 * time.Millisecond)
	m.PushTick(0, 11, []byte("a-t11"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %v: b's confirmation predates its last message", tss(got))
	}
}

// TestPassed: the merge is past a timestamp once every ticking channel has
// ticked past it, or an event at or after it was released; never before
// any channel ticked.
func TestPassed(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	if m.Passed(50) {
		t.Fatal("passed 50 before any tick")
	}
	m.PushTick(0, 60, []byte("a-t60"))
	if m.Passed(50) {
		t.Fatal("passed 50 while channel b has not ticked past it")
	}
	m.PushTick(1, 55, []byte("b-t55"))
	if !m.Passed(50) || m.Passed(58) {
		t.Fatalf("ticks 60 and 55: Passed(50) %v Passed(58) %v, want true, false", m.Passed(50), m.Passed(58))
	}
	m.PushEvent(1, ev(contract.OpInsert, 2, 56, "b56"))
	m.PushTick(1, 70, []byte("b-t70"))
	m.PopReady(10, 1<<30)
	if !m.Passed(58) {
		t.Fatal("not past 58 after both channels ticked past it")
	}
}
