package order

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// stalledMerger: channel a ticked past an event queued at 10; channel b
// ticked once at 5 and has been silent for 5 s since.
func stalledMerger(clk *fakeClock) *Merger {
	m := newTestMerger(2, false, clk)
	m.PushTick(1, 5, []byte("b-t5"))
	m.PushEvent(0, ev(contract.OpDropCollection, 1, 10, "a10"))
	clk.t = clk.t.Add(5 * time.Second)
	m.PushTick(0, 20, []byte("a-t20"))
	return m
}

// TestMergeSilenceAloneIsNotIdle: a channel whose reader is stuck
// (reconnecting, backing off) is as silent as an unused one; unless its log
// confirmed it was read to the end it keeps holding the merge back, however
// long the silence.
func TestMergeSilenceAloneIsNotIdle(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := stalledMerger(clk)
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %v past a silent channel not known to be at its end", tss(got))
	}
	m.SetAtEnd(1, true)
	if got, _ := m.PopReady(10, 1<<30); len(got) != 1 || got[0].Ts != 10 {
		t.Fatalf("got %v once b was confirmed at its end", tss(got))
	}
}

// TestMergeNewMessageClearsAtEnd: a message of a channel confirmed at its end
// clears the confirmation: silent again, it blocks until confirmed again.
func TestMergeNewMessageClearsAtEnd(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := stalledMerger(clk)
	m.SetAtEnd(1, true)
	m.PushTick(1, 6, []byte("b-t6"))
	m.PushEvent(0, ev(contract.OpDropCollection, 1, 15, "a15"))
	clk.t = clk.t.Add(5 * time.Second)
	m.PushTick(0, 30, []byte("a-t30"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %v: b spoke after its confirmation", tss(got))
	}
	m.SetAtEnd(1, true)
	if got, _ := m.PopReady(10, 1<<30); len(got) != 2 {
		t.Fatalf("got %v once b was confirmed again", tss(got))
	}
}

// TestMergeAtEndExpires: a confirmation counts for endValid only: a reader
// that got stuck after it (and whose next question never came back) holds
// the merge back again.
func TestMergeAtEndExpires(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := stalledMerger(clk)
	m.SetAtEnd(1, true)
	clk.t = clk.t.Add(m.endValid)
	m.PushTick(0, 21, []byte("a-t21"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %v on an expired confirmation", tss(got))
	}
}

// TestMergeIdleAtStartNeedsNoQuestion: a channel at the end of its log when
// it opened (SetLastSeen) is idle at once, until that expires.
func TestMergeIdleAtStartNeedsNoQuestion(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := newTestMerger(2, false, clk)
	m.SetLastSeen(1, time.Time{})
	m.PushEvent(0, ev(contract.OpInsert, 1, 10, "a10"))
	m.PushTick(0, 20, []byte("a-t20"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 1 {
		t.Fatalf("released %d; a channel at its end at start must not block", len(got))
	}
	clk.t = clk.t.Add(m.endValid)
	m.PushEvent(0, ev(contract.OpInsert, 1, 30, "a30"))
	m.PushTick(0, 40, []byte("a-t40"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %v: the start's confirmation expired unrenewed", tss(got))
	}
}

// waitReleased polls PopReady until it returns events or d passes.
func waitReleased(m *Merger, d time.Duration) []uint64 {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if got, _ := m.PopReady(10, 1<<30); len(got) > 0 {
			return tss(got)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

// TestWatchEndConfirmsSilentChannel: the watch asks a silent channel's log,
// with the last position the merge took from it, and a yes lets it go idle.
func TestWatchEndConfirmsSilentChannel(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := stalledMerger(clk)
	m.endEvery = time.Millisecond
	var asked atomic.Value
	stop := m.WatchEnd(context.Background(), 1, func(_ context.Context, pos []byte) (bool, error) {
		asked.Store(string(pos))
		return true, nil
	})
	defer stop()
	if got := waitReleased(m, 2*time.Second); len(got) != 1 || got[0] != 10 {
		t.Fatalf("got %v, want [10] once the log confirmed b's end", got)
	}
	if p, _ := asked.Load().(string); p != "b-t5" {
		t.Fatalf("asked about %q, want b's last position b-t5", p)
	}
}

// TestWatchEndFailureKeepsBlocking: a log that cannot answer (an error, or
// no answer within endTimeout: the reader is reconnecting) is not at its end;
// stop returns even while a question hangs.
func TestWatchEndFailureKeepsBlocking(t *testing.T) {
	for name, atEnd := range map[string]func(context.Context, []byte) (bool, error){
		"error": func(context.Context, []byte) (bool, error) { return true, errors.New("connection closed") },
		"no":    func(context.Context, []byte) (bool, error) { return false, nil },
		"hangs": func(ctx context.Context, _ []byte) (bool, error) { <-ctx.Done(); return true, ctx.Err() },
	} {
		clk := &fakeClock{t: time.Unix(1000, 0)}
		m := stalledMerger(clk)
		m.endEvery, m.endTimeout = time.Millisecond, 5*time.Millisecond
		m.SetAtEnd(1, true) // an earlier confirmation: the failure clears it
		stop := m.WatchEnd(context.Background(), 1, atEnd)
		time.Sleep(100 * time.Millisecond)
		got := waitReleased(m, 50*time.Millisecond)
		stopped := make(chan struct{})
		go func() { stop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: stop did not return", name)
		}
		if len(got) != 0 {
			t.Fatalf("%s: released %v past a channel not known to be at its end", name, got)
		}
	}
}

// TestWatchEndAnswerOvertakenByMessage: a yes that a message of the channel
// overtook is dropped (it was about an older position): only the next
// question can confirm the channel again.
func TestWatchEndAnswerOvertakenByMessage(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	m := stalledMerger(clk)
	m.endValid = time.Hour
	m.checkEnd(context.Background(), 1, func(context.Context, []byte) (bool, error) {
		m.PushSkipped(1, []byte("b-skipped")) // read while the question was out
		return true, nil
	})
	clk.t = clk.t.Add(2 * m.idleAfter) // silent again, not asked again
	m.PushTick(0, 21, []byte("a-t21"))
	if got, _ := m.PopReady(10, 1<<30); len(got) != 0 {
		t.Fatalf("released %v on an overtaken answer", tss(got))
	}
}
