package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackInputResumesFromCheckpoint: a pipeline that acknowledged
// everything and stopped resumes exactly after it, even for channels it had
// read nothing from: the rows written while it was down come once, and
// nothing before them comes again.
func TestStackInputResumesFromCheckpoint(t *testing.T) {
	env := harness.RequireStack(t)
	coll := harness.UniqueName("stack_ckpt")
	dir := t.TempDir()
	inputYAML := jsonInputYAML(env, coll, `  checkpoint_cache: ckpt
  checkpoint_key: test
`)
	cacheYAML := fmt.Sprintf(`
label: ckpt
file:
  directory: %s
`, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src := harness.Connect(t, env.SourceAddr)
	rng := rand.New(rand.NewSource(3))

	// First run: positions pinned at start (nothing read yet on any channel).
	read, stop := runInput(t, inputYAML, cacheYAML)
	time.Sleep(3 * time.Second)
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.DropCollection(context.Background(), coll) })
	if err := workload.InsertRows(ctx, src, coll, 0, 100, 50, 8, rng); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 60*time.Second, "100 rows in the first run", func() bool { return countRows(read()) == 100 })
	time.Sleep(time.Second) // let the acknowledgements reach the checkpoint
	stop()

	// While stopped: 50 more rows.
	if err := workload.InsertRows(ctx, src, coll, 100, 50, 25, 8, rng); err != nil {
		t.Fatal(err)
	}

	// Second run: exactly the 50 rows written while it was down.
	read2, _ := runInput(t, inputYAML, cacheYAML)
	harness.WaitFor(t, 60*time.Second, "50 rows after the restart", func() bool { return countRows(read2()) >= 50 })
	time.Sleep(2 * time.Second) // a repeat would arrive right behind
	got := read2()
	seen := map[float64]int{}
	for _, c := range got {
		if c.Op != "insert" {
			t.Errorf("after restart: unexpected %s (the first run acknowledged it)", c.Op)
			continue
		}
		id, _ := c.Row["id"].(float64)
		seen[id]++
	}
	if len(seen) != 50 || countRows(got) != 50 {
		t.Fatalf("after restart: %d rows, %d distinct keys; want 50 and 50", countRows(got), len(seen))
	}
	for id, n := range seen {
		if id < 100 || id >= 150 || n != 1 {
			t.Fatalf("after restart: key %v seen %d times (want keys 100..149 once)", id, n)
		}
	}
}

func countRows(cs []change) int {
	n := 0
	for _, c := range cs {
		if c.Op == "insert" {
			n++
		}
	}
	return n
}
