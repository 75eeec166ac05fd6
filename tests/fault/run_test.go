package fault

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// result is one row of the fault table.
type result struct {
	Scenario                    string
	Inserted, Upserted, Deleted int64 // rows in source calls that succeeded
	FailedCalls                 int64 // source calls that failed during the fault
	SourceRows, TargetRows      int64 // count(*) at the end
	Lost, Extra, Doubled        int
	Recover                     time.Duration
	State                       string
	Diffs                       int // differences verify found at the end
}

// written is every row the load changed on the source.
func (r result) written() int64 { return r.Inserted + r.Upserted + r.Deleted }

// runScenario starts the load, lets it run 10 s, applies the fault (which
// returns when the fault is over: the part is back, or the process was
// killed), times how long the target takes to hold the rows written at that
// moment, lets the load finish, and checks the copy: any difference fails.
func runScenario(t *testing.T, f *fixture, name string, fault func(*fixture) time.Time) result {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	loadCtx, stopLoad := context.WithCancel(ctx)
	loadDone := make(chan struct{})
	started := time.Now()
	go func() { defer close(loadDone); f.load.Run(loadCtx, 0) }()
	defer func() { stopLoad(); <-loadDone }()

	time.Sleep(10 * time.Second)
	healed := fault(f)
	// Recovered: a row whose insert began after the fault ended is on the
	// target (the source itself may need a moment to accept writes again).
	deadline := time.Now().Add(5 * time.Minute)
	var mark int64
	for {
		if st := f.load.Stats(); st.LastInsertStarted.After(healed) {
			mark = st.LastInsertedKey
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the source accepted no insert for 5 min after the fault ended (last error: %s)", name, f.load.Stats().LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for !f.caughtUp(ctx, mark) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the target does not hold key %d (written after the fault ended) after 5 min; task %s", name, mark, f.describe())
		}
		time.Sleep(100 * time.Millisecond)
	}
	res := result{Scenario: name, Recover: time.Since(healed)}
	t.Logf("%s: target caught up %s after the fault ended", name, res.Recover.Round(time.Millisecond))
	if rest := loadDuration() - time.Since(started); rest > 0 {
		time.Sleep(rest)
	}
	stopLoad()
	<-loadDone
	st := f.load.Stats()
	res.Inserted, res.Upserted, res.Deleted, res.FailedCalls = st.Inserted, st.Upserted, st.Deleted, st.FailedCalls
	if st.FailedCalls > 0 {
		t.Logf("%s: %d source calls failed during the fault (last: %s)", name, st.FailedCalls, st.LastError)
	}

	deadline = time.Now().Add(2 * time.Minute)
	for !f.running() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: task not Running on a worker 2 min after the load: %s", name, f.describe())
		}
		time.Sleep(500 * time.Millisecond)
	}
	res.State = "Running"
	res.Diffs = f.verified(ctx, name)
	f.count(ctx, &res)
	for _, w := range f.cp.Workers {
		logs := w.Logs.String()
		if n := strings.Count(logs, "after a reconnect to Pulsar"); n > 0 {
			t.Logf("%s: %d channels reconnected to Pulsar and took writes from the source for a while", name, n)
		}
		if n := strings.Count(logs, "has no Delete in the WAL"); n > 0 {
			t.Logf("%s: %d upserts failed half-way on the source (Insert without Delete); the target took the source's rows for their keys", name, n)
		}
		if strings.Contains(logs, "jumped from entry") {
			t.Errorf("%s: a channel skipped Pulsar entries:\n%s", name, logs)
		}
	}
	if code, resp := harness.CDC(t, f.cp.Base, "delete", map[string]any{"task_id": f.id}); code != 200 {
		t.Errorf("delete task: %d %v", code, resp)
	}
	return res
}

// describe is the task's state, reason and place, for failure messages.
func (f *fixture) describe() string {
	state, reason := f.cp.TaskState(f.t, f.id)
	return fmt.Sprintf("state %q reason %q on worker %d", state, reason, f.cp.RunningOn(f.id))
}

// verified waits (up to 3 min) until `verify` finds no difference between
// source and target: schema, index, load state, counts, keys and values.
func (f *fixture) verified(ctx context.Context, name string) int {
	f.t.Helper()
	var rep *verify.Report
	var err error
	deadline := time.Now().Add(3 * time.Minute)
	for {
		rep, err = verify.Run(ctx, verify.Options{SourceAddr: f.env.SourceAddr, TargetAddr: f.env.TargetAddr,
			Collections: []string{"default." + f.coll}})
		if err == nil && rep.OK() && rep.RowsCompared > 0 {
			f.t.Logf("%s: verify: %d rows compared, no difference", name, rep.RowsCompared)
			return rep.DiffCount
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		f.t.Fatalf("%s: verify: %v", name, err)
	}
	var b strings.Builder
	for i, d := range rep.Diffs {
		if i == 20 {
			break
		}
		fmt.Fprintf(&b, "\n  %s %s: %s", d.Kind, d.Collection, d.Detail)
	}
	f.t.Fatalf("%s: verify finds %d differences 3 min after the load (task %s):%s", name, rep.DiffCount, f.describe(), b.String())
	return rep.DiffCount
}

// count fills the row figures: keys on each side, lost (on the source, not
// the target), extra (the other way) and doubled (count(*) over distinct keys).
func (f *fixture) count(ctx context.Context, res *result) {
	f.t.Helper()
	sk, sn, err := keys(ctx, f.src, f.coll)
	if err != nil {
		f.t.Fatalf("source keys: %v", err)
	}
	tk, tn, err := keys(ctx, f.tgt, f.coll)
	if err != nil {
		f.t.Fatalf("target keys: %v", err)
	}
	for k := range sk {
		if !tk[k] {
			res.Lost++
		}
	}
	for k := range tk {
		if !sk[k] {
			res.Extra++
		}
	}
	res.SourceRows, res.TargetRows = sn, tn
	res.Doubled = int(tn) - len(tk)
	if dup := sn - int64(len(sk)); dup > 0 {
		// An upsert that failed half-way leaves its new rows beside the old
		// ones on the source (see package plugins/binlog/upsert).
		f.t.Logf("%s: the source itself holds %d rows with a duplicate primary key (count(*) %d, %d keys)", res.Scenario, dup, sn, len(sk))
	}
	if res.Lost != 0 || res.Extra != 0 || res.Doubled != 0 {
		f.t.Fatalf("%s: lost %d, extra %d, doubled %d (source count %d, %d keys; target count %d, %d keys)",
			res.Scenario, res.Lost, res.Extra, res.Doubled, sn, len(sk), tn, len(tk))
	}
}
