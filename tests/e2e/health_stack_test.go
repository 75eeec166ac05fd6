package e2e

import (
	"context"
	"math/rand"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// scrape is harness.Scrape failing the test on an error.
func scrape(t *testing.T, url, prefix string) map[string]float64 {
	t.Helper()
	out, err := harness.Scrape(context.Background(), url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// health is a task's health as get shows it.
func health(t *testing.T, base, id string) (lag float64, hasLag bool, until string, inserted float64) {
	t.Helper()
	code, resp := harness.CDC(t, base, "get", map[string]any{"task_id": id})
	if code != 200 {
		t.Fatalf("get: %d %v", code, resp)
	}
	d, _ := resp["data"].(map[string]any)
	task, _ := d["task"].(map[string]any)
	lag, hasLag = task["lag_seconds"].(float64)
	until, _ = task["applied_until"].(string)
	rows, _ := task["rows_applied"].(map[string]any)
	inserted, _ = rows["insert"].(float64)
	return lag, hasLag, until, inserted
}

// TestStackTaskHealth: while a task replicates, get shows its lag, the time
// of the newest applied change and the rows applied; the worker's /metrics
// has the lag and the rows by op; the control plane's /metrics has the tasks
// by state, the requests and the task's lag. With the source idle the lag
// stays small (it follows the source's ticks); with the worker frozen it
// grows (measured from now, not from the last report).
func TestStackTaskHealth(t *testing.T) {
	env := harness.RequireStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cp := harness.StartControlPlane(t, env, 1)
	coll := harness.UniqueName("health")
	src := harness.Connect(t, env.SourceAddr)
	t.Cleanup(func() {
		harness.DropDatabase(env.SourceAddr, "default", coll)
		harness.DropDatabase(env.TargetAddr, "default", coll)
	})
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"collection_infos":     []map[string]any{{"name": coll}},
	})
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 1); err != nil {
		t.Fatal(err)
	}
	if err := workload.InsertRows(ctx, src, coll, 0, 2000, 500, 8, rand.New(rand.NewSource(20))); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 90*time.Second, "2000 rows applied in get", func() bool {
		_, _, _, n := health(t, cp.Base, id)
		return n >= 2000
	})
	// Idle source: the lag follows the ticks.
	harness.WaitFor(t, 30*time.Second, "a small lag with the source idle", func() bool {
		lag, ok, until, _ := health(t, cp.Base, id)
		return ok && lag < 3 && until != ""
	})

	worker := cp.URLs[0] + "/metrics"
	rows := scrape(t, worker, "milvus_cdc_rows_applied_total")
	var inserted float64
	for k, v := range rows {
		if strings.Contains(k, `op="insert"`) {
			inserted += v
		}
	}
	if inserted < 2000 {
		t.Errorf("worker milvus_cdc_rows_applied_total{op=insert} = %v, want >= 2000 (samples %v)", inserted, rows)
	}
	lags := scrape(t, worker, "milvus_cdc_replication_lag_seconds")
	if len(lags) == 0 {
		t.Error("the worker's /metrics has no milvus_cdc_replication_lag_seconds")
	}
	for k, v := range lags {
		if v > 10 {
			t.Errorf("worker lag %s = %v s with the source idle", k, v)
		}
	}
	cpm := scrape(t, cp.Base+"/metrics", "milvus_cdc_")
	if cpm[`milvus_cdc_tasks{state="Running"}`] != 1 || cpm[`milvus_cdc_requests_total{code="200",type="create"}`] != 1 {
		t.Errorf("control plane metrics: tasks Running %v, creates %v", cpm[`milvus_cdc_tasks{state="Running"}`],
			cpm[`milvus_cdc_requests_total{code="200",type="create"}`])
	}
	if _, ok := cpm[`milvus_cdc_replication_lag_seconds{task="`+id+`"}`]; !ok {
		t.Errorf("control plane metrics lack the task's lag")
	}

	// A frozen worker: the lag grows.
	cp.Workers[0].Signal(syscall.SIGSTOP)
	defer cp.Workers[0].Signal(syscall.SIGCONT)
	time.Sleep(2 * time.Second)
	first, _, _, _ := health(t, cp.Base, id)
	time.Sleep(4 * time.Second)
	second, _, _, _ := health(t, cp.Base, id)
	if second < first+3 {
		t.Fatalf("lag %v s then %v s 4 s later with the worker frozen: it must grow", first, second)
	}
	cp.Workers[0].Signal(syscall.SIGCONT)
	harness.WaitFor(t, 60*time.Second, "the lag back down after the worker woke", func() bool {
		lag, ok, _, _ := health(t, cp.Base, id)
		return ok && lag < 3
	})
}
