package fault

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// killWorker kills the worker running the task; the control plane must move
// the task to the other worker by itself.
func killWorker(f *fixture) time.Time {
	i := f.cp.RunningOn(f.id)
	if i < 0 {
		f.t.Fatalf("no worker runs the task before the fault: %s", f.describe())
	}
	f.cp.Workers[i].Kill9()
	killed := time.Now()
	harness.WaitFor(f.t, time.Minute, "the task moved to the other worker", func() bool {
		j := f.cp.RunningOn(f.id)
		return j >= 0 && j != i
	})
	f.t.Logf("task moved off the killed worker in %s", time.Since(killed).Round(time.Millisecond))
	return killed
}

// freezeWorker freezes (SIGSTOP) the worker running the task, as a long GC
// pause or a network partition would: alive, but unreachable. The control
// plane moves the task; its new stream applies only once the frozen stream's
// lease has run out. The frozen worker is woken (SIGCONT) as soon as the new
// stream runs, while it catches up: the woken stream has lost its lease and
// must apply nothing (a stale row would show as a verify difference).
func freezeWorker(f *fixture) time.Time {
	i := f.cp.RunningOn(f.id)
	if i < 0 {
		f.t.Fatalf("no worker runs the task before the fault: %s", f.describe())
	}
	other := f.cp.URLs[1-i]
	f.cp.Workers[i].Signal(syscall.SIGSTOP)
	f.t.Cleanup(func() { f.cp.Workers[i].Signal(syscall.SIGCONT) })
	frozen := time.Now()
	harness.WaitFor(f.t, 2*time.Minute, "the task started on the other worker", func() bool { return harness.HasStream(other, f.id) })
	f.t.Logf("task started on the other worker %s after the freeze; waking the frozen one", time.Since(frozen).Round(time.Millisecond))
	f.cp.Workers[i].Signal(syscall.SIGCONT)
	woken := time.Now()
	harness.WaitFor(f.t, time.Minute, "the woken worker's stale stream removed", func() bool { return !harness.HasStream(f.cp.URLs[i], f.id) })
	f.t.Logf("stale stream removed from the woken worker %s after the wake-up", time.Since(woken).Round(time.Millisecond))
	return woken
}

// killLeader runs a second control plane on the same store, kills the
// first (the one reconciling) and then the worker running the task: the
// second takes over reconciling (once the leader key expires) and moves the
// task by itself.
func killLeader(f *fixture) time.Time {
	first := f.cp.AddServer(f.t)
	time.Sleep(3 * time.Second) // both answer /cdc; the first reconciles
	first.Kill9()
	killed := time.Now()
	if state, reason := f.cp.TaskState(f.t, f.id); state != "Running" {
		f.t.Fatalf("the second control plane shows the task %s (%s)", state, reason)
	}
	healed := killWorker(f)
	f.t.Logf("the second control plane moved the task %s after the first was killed", time.Since(killed).Round(time.Millisecond))
	return healed
}

// killServer kills the control plane; replication must go on without it
// (the streams live on the workers), and a restarted server (as a
// supervisor would restart it) takes over the tasks without restarting
// their streams.
func killServer(f *fixture) time.Time {
	f.cp.Server.Kill9()
	mark := f.load.Stats().LastInsertedKey
	time.Sleep(5 * time.Second)
	if !f.caughtUp(f.t.Context(), mark) {
		f.t.Errorf("replication stopped while the control plane was down (key %d not on the target 5 s later)", mark)
	}
	f.cp.RestartServer(f.t)
	return time.Now()
}

// restartRedis stops Redis for 5 s (it holds the tasks, the checkpoints and
// the failure reports) and starts it again.
func restartRedis(f *fixture) time.Time {
	f.t.Cleanup(func() { harness.StackCtl(f.t, "start", "redis") })
	harness.StackCtl(f.t, "stop", "redis")
	time.Sleep(5 * time.Second)
	harness.StackCtl(f.t, "start", "redis")
	return time.Now()
}

// stopPart stops a part of the stack for d and starts it again; the fault
// ends when the part is healthy.
func stopPart(part string, d time.Duration) func(*fixture) time.Time {
	return func(f *fixture) time.Time {
		f.t.Cleanup(func() { harness.StackCtl(f.t, "start", part) })
		harness.StackCtl(f.t, "stop", part)
		time.Sleep(d)
		harness.StackCtl(f.t, "start", part)
		return time.Now()
	}
}

// stopTarget stops the target Milvus for d (at least 40 s): meanwhile the
// task's lag (get's lag_seconds, measured from now) must grow, not freeze.
func stopTarget(d time.Duration) func(*fixture) time.Time {
	return func(f *fixture) time.Time {
		f.t.Cleanup(func() { harness.StackCtl(f.t, "start", "target") })
		harness.StackCtl(f.t, "stop", "target")
		stopped := time.Now()
		lagAt := func(at time.Duration) float64 {
			time.Sleep(time.Until(stopped.Add(at)))
			_, resp := harness.CDC(f.t, f.cp.Base, "get", map[string]any{"task_id": f.id})
			d, _ := resp["data"].(map[string]any)
			task, _ := d["task"].(map[string]any)
			lag, _ := task["lag_seconds"].(float64)
			return lag
		}
		early, late := lagAt(15*time.Second), lagAt(40*time.Second)
		f.t.Logf("target stopped: lag %.1f s after 15 s, %.1f s after 40 s", early, late)
		if late < early+20 {
			f.t.Errorf("with the target stopped the lag went from %.1f s to %.1f s in 25 s: it must grow", early, late)
		}
		time.Sleep(time.Until(stopped.Add(d)))
		harness.StackCtl(f.t, "start", "target")
		return time.Now()
	}
}

// pauseResume pauses and resumes the task 50 times while the load runs;
// a pause has stopped the stream when it returns, a resume starts it again.
func pauseResume(f *fixture) time.Time {
	var last time.Time
	for i := 0; i < 50; i++ {
		if code, resp := harness.CDC(f.t, f.cp.Base, "pause", map[string]any{"task_id": f.id}); code != http.StatusOK {
			f.t.Fatalf("pause %d: %d %v", i, code, resp)
		}
		if w := f.cp.RunningOn(f.id); w >= 0 {
			f.t.Fatalf("pause %d returned while worker %d still runs the stream", i, w)
		}
		time.Sleep(300 * time.Millisecond)
		if code, resp := harness.CDC(f.t, f.cp.Base, "resume", map[string]any{"task_id": f.id}); code != http.StatusOK {
			f.t.Fatalf("resume %d: %d %v", i, code, resp)
		}
		last = time.Now()
		harness.WaitFor(f.t, 30*time.Second, "the stream running again", func() bool { return f.cp.RunningOn(f.id) >= 0 })
		time.Sleep(500 * time.Millisecond)
	}
	return last
}

// foreignServer starts, mid-load, a second control plane with a store of
// its own on the same workers (a second deployment pointed at them by
// mistake): it must leave the task's stream alone (no restart, no removal)
// and say why in its log.
func foreignServer(f *fixture) time.Time {
	i := f.cp.RunningOn(f.id)
	if i < 0 {
		f.t.Fatalf("no worker runs the task before the fault: %s", f.describe())
	}
	before, err := harness.StreamUptime(f.cp.URLs[i], f.id)
	if err != nil {
		f.t.Fatal(err)
	}
	other := f.cp.StartForeign(f.t)
	time.Sleep(8 * time.Second) // four reconcile passes of each control plane
	after, err := harness.StreamUptime(f.cp.URLs[i], f.id)
	if err != nil || after < before+7 {
		f.t.Fatalf("the task's stream was removed or restarted under a foreign control plane (uptime %.1f s, then %.1f s; %v)", before, after, err)
	}
	if !strings.Contains(other.Logs.String(), "did not start") {
		f.t.Errorf("the foreign control plane does not report the stream it leaves alone:\n%s", other.Logs.String())
	}
	other.Stop()
	return time.Now()
}

// flushRedis empties Redis (FLUSHALL) mid-load, as a flush by mistake or a
// cache restored empty would: tasks, checkpoints and leases are gone. No
// stream is removed and replication goes on; the control plane answers
// every request with 503 saying the store lost its data. The operator then
// restores the backup taken before (keys and TTLs, as an RDB snapshot holds
// them): the task is Running again, on the stream that never stopped.
func flushRedis(f *fixture) time.Time {
	i := f.cp.RunningOn(f.id)
	if i < 0 {
		f.t.Fatalf("no worker runs the task before the fault: %s", f.describe())
	}
	backup := harness.BackupPrefix(f.t, f.env.RedisAddr, f.cp.Prefix)
	harness.FlushAll(f.t, f.env.RedisAddr)
	flushed := time.Now()
	time.Sleep(2 * time.Second)
	mark := f.load.Stats().LastInsertedKey
	harness.WaitFor(f.t, time.Minute, "replication going on after the flush", func() bool { return f.caughtUp(f.t.Context(), mark) })
	f.t.Logf("a key written 2 s after the flush reached the target %s after the flush", time.Since(flushed).Round(time.Millisecond))
	for _, rt := range []string{"list", "get"} {
		code, resp := harness.CDC(f.t, f.cp.Base, rt, map[string]any{"task_id": f.id})
		if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(resp["message"]), "lost its data") {
			f.t.Fatalf("%s after the flush: %d %v, want 503 saying the store lost its data", rt, code, resp)
		}
	}
	if j := f.cp.RunningOn(f.id); j != i {
		f.t.Fatalf("the task's stream moved or vanished after the flush (worker %d, was %d)", j, i)
	}
	backup.Restore(f.t)
	harness.WaitFor(f.t, 30*time.Second, "the task Running after the restore", func() bool {
		state, _ := f.cp.TaskState(f.t, f.id)
		return state == "Running"
	})
	return time.Now()
}
