package controlplane

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// TestPickKeptAndLeastLoaded: which stream of a task is kept (its worker's,
// else the first) and where a new one goes (fewest streams; the task's
// previous worker on a tie, else the first in order).
func TestPickKeptAndLeastLoaded(t *testing.T) {
	for _, c := range []struct {
		on     []string
		worker string
		want   string
	}{
		{nil, "w1", ""},
		{[]string{"w1", "w2"}, "", "w1"},
		{[]string{"w1", "w2"}, "w2", "w2"},
		{[]string{"w1", "w2"}, "w3", "w1"},
	} {
		if got := pickKept(c.on, c.worker); got != c.want {
			t.Errorf("pickKept(%v, %q) = %q, want %q", c.on, c.worker, got, c.want)
		}
	}
	live := []string{"w1", "w2", "w3"}
	for _, c := range []struct {
		load     map[string]int
		previous string
		want     string
	}{
		{map[string]int{}, "", "w1"},
		{map[string]int{"w1": 2, "w2": 1, "w3": 1}, "", "w2"},
		{map[string]int{"w1": 2, "w2": 1, "w3": 1}, "w3", "w3"},
		{map[string]int{"w1": 1, "w2": 1, "w3": 0}, "w1", "w3"},
		{map[string]int{"w1": 0, "w2": 0, "w3": 0}, "gone", "w1"},
	} {
		if got := leastLoaded(live, c.load, c.previous); got != c.want {
			t.Errorf("leastLoaded(%v, %q) = %q, want %q", c.load, c.previous, got, c.want)
		}
	}
}

// TestPlacementSpreadsTasks: a pass starts each Running task's stream once,
// on the least-loaded worker, records the worker in the task, and a second
// pass changes nothing; a Paused task gets no stream.
func TestPlacementSpreadsTasks(t *testing.T) {
	p := newUnitPlane(t, "http://w1", "http://w2")
	for i := range 4 {
		p.create(t, fmt.Sprintf("t%d", i), "http://target:19530", fmt.Sprintf("c%d", i), false)
	}
	p.create(t, "paused", "http://target:19530", "cp", true)
	p.pass(t)
	count := map[string]int{}
	runs := map[string]string{}
	for i := range 4 {
		id := fmt.Sprintf("t%d", i)
		w := p.task(t, id).Worker
		runs[id] = p.runningOn(t, id, w)
		count[w]++
	}
	if count["http://w1"] != 2 || count["http://w2"] != 2 {
		t.Fatalf("streams per worker %v, want 2 and 2", count)
	}
	p.notRunning(t, "paused")
	created := p.workers.created
	p.pass(t)
	for id, run := range runs {
		if got := p.runningOn(t, id, p.task(t, id).Worker); got != run {
			t.Fatalf("a second pass started task %s again (run %s, was %s)", id, got, run)
		}
	}
	if p.workers.created != created {
		t.Fatalf("a pass with nothing to do created %d streams", p.workers.created-created)
	}
}

// TestPlacementMovesOffDeadWorker: the tasks of a worker that stops
// answering move to a live one with a new run; when the dead worker is back
// with the old stream still running there, that duplicate is removed and
// the task stays where it moved.
func TestPlacementMovesOffDeadWorker(t *testing.T) {
	p := newUnitPlane(t, "http://w1", "http://w2")
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.pass(t)
	first := p.task(t, "t1").Worker
	old := p.runningOn(t, "t1", first)
	other := "http://w1"
	if first == other {
		other = "http://w2"
	}
	p.workers.setDown(first, true)
	p.pass(t)
	if got := p.task(t, "t1").Worker; got != other {
		t.Fatalf("task on dead worker %s recorded on %q, want %s", first, got, other)
	}
	run, _ := p.store.Run(context.Background(), "t1")
	if run == old {
		t.Fatal("the moved stream kept the dead worker's run: both could write")
	}
	p.workers.setDown(first, false)
	p.pass(t)
	if got := p.runningOn(t, "t1", other); got != run {
		t.Fatalf("after the dead worker came back the task runs run %s, want %s", got, run)
	}
}

// TestPlacementKeepsRecordedWorker: with streams of one task on two workers
// (a restart of the control plane), the one on the task's recorded worker
// stays and the other goes.
func TestPlacementKeepsRecordedWorker(t *testing.T) {
	p := newUnitPlane(t, "http://w1", "http://w2")
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.pass(t)
	run := p.runningOn(t, "t1", p.task(t, "t1").Worker)
	if err := p.store.Update(context.Background(), "t1", func(t *Task) error { t.Worker = "http://w2"; return nil }); err != nil {
		t.Fatal(err)
	}
	label := contract.RunLabel(unitStoreID, run)
	p.workers.put("http://w1", "t1", label)
	p.workers.put("http://w2", "t1", label)
	p.rec.runs = map[string]string{} // a restarted reconciler reads the labels
	p.pass(t)
	p.runningOn(t, "t1", "http://w2")
}

// TestPlacementReplacesEndedRun: a stream of an ended run of a Running task
// (paused and resumed while its worker was cut off) is fenced and replaced
// by one of a new run.
func TestPlacementReplacesEndedRun(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.workers.put("http://w1", "t1", contract.RunLabel(unitStoreID, "ended"))
	p.pass(t)
	if run := p.runningOn(t, "t1", "http://w1"); run == "ended" {
		t.Fatal("the stream of the ended run was kept")
	}
	if !strings.Contains(p.logs.String(), "a stream of an ended run of the task runs: replacing it") {
		t.Fatalf("the replacement is not logged:\n%s", p.logs)
	}
}

// TestPlacementLeavesForeignStreams: a stream another store started is
// never removed (reported once), whether its id is unknown here or that of
// a paused task; an unlabelled stream of our task's id is not ours either.
func TestPlacementLeavesForeignStreams(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	p.create(t, "paused", "http://target:19530", "c1", true)
	foreign := contract.RunLabel("otherstore", "r9")
	p.workers.put("http://w1", "stranger", foreign)
	p.workers.put("http://w1", "paused", foreign)
	p.pass(t)
	p.pass(t)
	for _, id := range []string{"stranger", "paused"} {
		if on, _ := p.workers.where(id); len(on) != 1 {
			t.Fatalf("the foreign stream %s was removed", id)
		}
	}
	if n := strings.Count(p.logs.String(), "did not start runs on a worker"); n != 2 {
		t.Fatalf("foreign streams reported %d times in two passes, want once each:\n%s", n, p.logs)
	}
}

// TestPlacementRemovesDeletedTasksStreams: a stream of ours whose task is
// gone is removed.
func TestPlacementRemovesDeletedTasksStreams(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	p.workers.put("http://w1", "gone", contract.RunLabel(unitStoreID, "r1"))
	p.pass(t)
	p.notRunning(t, "gone")
}

// TestPlacementWithoutLiveWorker: with every worker down a pass starts
// nothing (and says why); once one answers the task starts there.
func TestPlacementWithoutLiveWorker(t *testing.T) {
	p := newUnitPlane(t, "http://w1", "http://w2")
	p.workers.setDown("http://w1", true)
	p.workers.setDown("http://w2", true)
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.pass(t)
	if run, _ := p.store.Run(context.Background(), "t1"); run != "" || p.task(t, "t1").Worker != "" {
		t.Fatalf("a run (%q) or worker was recorded with no live worker", run)
	}
	if !strings.Contains(p.logs.String(), "no live worker") {
		t.Fatalf("the pass does not say why nothing started:\n%s", p.logs)
	}
	p.workers.setDown("http://w2", false)
	p.pass(t)
	p.runningOn(t, "t1", "http://w2")
}

// TestPassStartsNothingOnLostStore: once the store's identity changed (its
// data lost) a pass neither starts nor removes a stream.
func TestPassStartsNothingOnLostStore(t *testing.T) {
	p := newUnitPlane(t, "http://w1")
	p.create(t, "t1", "http://target:19530", "c1", false)
	p.workers.put("http://w1", "gone", contract.RunLabel(unitStoreID, "r1"))
	p.store.mu.Lock()
	p.store.id = ""
	p.store.mu.Unlock()
	p.pass(t)
	p.notRunning(t, "t1")
	if on, _ := p.workers.where("gone"); len(on) != 1 {
		t.Fatal("a pass on a store that lost its data removed a stream")
	}
}
