package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// waitVerified runs verify until source and target match (the pipeline may
// still be catching up) or the timeout passes; it fails with the last report.
func waitVerified(t *testing.T, env harness.Env, dbs []string, timeout time.Duration) *verify.Report {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		rep, err := verify.Run(ctx, verify.Options{SourceAddr: env.SourceAddr, TargetAddr: env.TargetAddr, Databases: dbs})
		cancel()
		if err == nil && rep.OK() {
			return rep
		}
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			if rep != nil {
				_ = rep.WriteText(&buf)
			}
			t.Fatalf("source and target still differ after %s (err %v):\n%s", timeout, err, buf.String())
		}
		time.Sleep(3 * time.Second)
	}
}

// TestStackReplicateScenario: the scenario workload (2 databases, every field
// type, partitions, 100,000 rows of 128-d vectors, deletes, upserts, index,
// load/release, drop partition, drop collection, create/drop database) goes
// through milvus_binlog → milvus_apply; verify finds no difference. Then the
// pipeline restarts from an older checkpoint (a replay of everything after
// it) and verify again finds no difference.
func TestStackReplicateScenario(t *testing.T) {
	env := harness.RequireStack(t)
	rows := 100000
	if testing.Short() {
		rows = 10000
	}
	sc := workload.Scenario{Addr: env.SourceAddr, Prefix: harness.UniqueName("repl"), Rows: rows, Logf: t.Logf}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sc.DropDatabases(ctx, env.SourceAddr)
		sc.DropDatabases(ctx, env.TargetAddr)
	})
	dir := t.TempDir()
	cacheYAML := fmt.Sprintf("label: ckpt\nfile:\n  directory: %s\n", dir)
	inputExtra := "  start_from: latest\n  checkpoint_cache: ckpt\n  checkpoint_key: repl\n"
	filter := fmt.Sprintf(`"%s_*.*"`, sc.Prefix)
	stop := runPipeline(t, env, filter, inputExtra, cacheYAML)
	time.Sleep(3 * time.Second)

	// Keep a copy of the checkpoint from the middle of the run: the replay
	// starts there.
	var mu sync.Mutex
	var older []byte
	logf := sc.Logf
	sc.Logf = func(f string, args ...any) {
		logf(f, args...)
		if strings.Contains(fmt.Sprintf(f, args...), "upsert vectors") {
			b, _ := os.ReadFile(filepath.Join(dir, "repl"))
			mu.Lock()
			older = b
			mu.Unlock()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	if err := sc.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("workload written in %s", time.Since(start).Round(time.Millisecond))
	rep := waitVerified(t, env, sc.AllDatabases(), 3*time.Minute)
	t.Logf("verified after %s: %d databases, %d collections, %d rows compared", time.Since(start).Round(time.Millisecond),
		rep.DatabasesCompared, rep.CollectionsCompared, rep.RowsCompared)
	stop()

	mu.Lock()
	replayFrom := older
	mu.Unlock()
	if len(replayFrom) == 0 {
		t.Fatal("no checkpoint was stored during the run")
	}
	if err := os.WriteFile(filepath.Join(dir, "repl"), replayFrom, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("replaying from %s", replayFrom)
	runPipeline(t, env, filter, "  start_from: checkpoint\n  checkpoint_cache: ckpt\n  checkpoint_key: repl\n", cacheYAML)
	time.Sleep(5 * time.Second) // let the replay run before the first comparison
	rep = waitVerified(t, env, sc.AllDatabases(), 3*time.Minute)
	t.Logf("after the replay: %d collections, %d rows compared, no difference", rep.CollectionsCompared, rep.RowsCompared)
}
