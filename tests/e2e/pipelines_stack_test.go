package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// TestStackExamplePipelineAsDocumented runs `milvus-cdc run -c
// pipelines/wal-to-jsonl.yaml` from the repository root as the README shows,
// with the default checkpoint directory: it must store its start position
// there at once (a fresh clone once lacked the directory and failed forever).
func TestStackExamplePipelineAsDocumented(t *testing.T) {
	env := harness.RequireStack(t)
	ckpt := filepath.Join(harness.RepoRoot(t), ".checkpoints", "wal-to-jsonl")
	if _, err := os.Stat(ckpt); err == nil {
		// Someone's own run left one: keep it aside, and put it back after.
		aside := ckpt + ".aside-" + harness.RandSuffix()
		if err := os.Rename(ckpt, aside); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Rename(aside, ckpt) })
	} else {
		t.Cleanup(func() { _ = os.Remove(ckpt) })
	}
	out := filepath.Join(t.TempDir(), "changes.jsonl")
	p := harness.StartProc(t, []string{"OUT_FILE=" + out, fmt.Sprintf("HTTP_ADDRESS=127.0.0.1:%d", harness.FreePort(t)),
		"PULSAR_URL=" + env.PulsarURL, "MILVUS_SOURCE_ADDR=" + env.SourceAddr},
		"run", "-c", "pipelines/wal-to-jsonl.yaml")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(ckpt); err == nil && strings.Contains(string(b), "rootcoord-dml") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint in %s 30 s after the start:\n%s", ckpt, p.Logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.Stop()
}
