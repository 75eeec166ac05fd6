package fault

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// scenario is one fault; fault returns the moment the fault ended.
type scenario struct {
	name, short string
	fault       func(*fixture) time.Time
}

// scenarios in the order they run.
func scenarios() []scenario {
	return []scenario{
		{"kill -9 worker", "worker", killWorker},
		{"worker frozen (SIGSTOP) while its task moves, woken as the new owner catches up", "freeze", freezeWorker},
		{"kill -9 control plane (back after 5 s)", "server", killServer},
		{"two control planes, the reconciling one killed -9, then the task's worker", "leader", killLeader},
		{"a second control plane with another store on the same workers", "foreign", foreignServer},
		{"Redis restarted (down 5 s)", "redis", restartRedis},
		{"Redis emptied (FLUSHALL), restored from a backup", "flush", flushRedis},
		{"Pulsar stopped 20 s", "pulsar", stopPart("pulsar", 20*time.Second)},
		{"target Milvus stopped 60 s", "target", stopTarget(60 * time.Second)},
		{"50 pause/resume cycles", "pause", pauseResume},
		{"worker cut off from the control plane (not from Redis or the target) while its task is paused 20 s, then healed and resumed", "partition", partitionPause},
		{"task deleted and created again under load (same request)", "recreate", deleteCreate},
	}
}

// TestFaults runs every scenario under load (FAULT_ONLY=worker,redis,...
// picks some) and prints the table; FAULT_REPORT names a file to write it to.
func TestFaults(t *testing.T) {
	env := harness.RequireStack(t)
	only := map[string]bool{}
	for _, s := range strings.Split(os.Getenv("FAULT_ONLY"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			only[s] = true
		}
	}
	var results []result
	for _, sc := range scenarios() {
		if len(only) > 0 && !only[sc.short] {
			continue
		}
		t.Run(sc.short, func(t *testing.T) {
			f := newFixture(t, env, sc.short)
			results = append(results, runScenario(t, f, sc.name, sc.fault))
		})
	}
	table := formatTable(results, loadDuration())
	t.Log("\n" + table)
	if path := os.Getenv("FAULT_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Errorf("write %s: %v", path, err)
		}
	}
}

func formatTable(rs []result, load time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Fault suite: steady load of inserts, upserts and deletes (~2,000 rows/s) for at least %s per scenario (until it recovered); "+
		"rows written = rows in successful source calls (inserted + upserted + deleted); time to recover = from the end "+
		"of the fault until the target holds the rows written at that moment.\n\n", load)
	b.WriteString("| scenario | rows written (ins/ups/del) | failed source calls | rows on source | rows on target | lost | extra | doubled | verify differences | time to recover | task after |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %d (%d/%d/%d) | %d | %d | %d | %d | %d | %d | %d | %.2f s | %s |\n", r.Scenario, r.written(),
			r.Inserted, r.Upserted, r.Deleted, r.FailedCalls, r.SourceRows, r.TargetRows, r.Lost, r.Extra, r.Doubled,
			r.Diffs, r.Recover.Seconds(), r.State)
	}
	return b.String()
}
