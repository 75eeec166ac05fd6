package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// holdOutput acknowledges most batches at once but holds every third one
// until released, then rejects it: the input sees acknowledgements out of
// order and some batches never acknowledged.
type holdOutput struct {
	mu      sync.Mutex
	n       int
	acked   map[int64]int // row id -> times acknowledged
	held    map[int64]int // row id -> times held
	release chan struct{}
}

func (h *holdOutput) Connect(context.Context) error { return nil }
func (h *holdOutput) Close(context.Context) error   { return nil }

func (h *holdOutput) WriteBatch(ctx context.Context, b service.MessageBatch) error {
	var ids []int64
	for _, m := range b {
		raw, err := m.AsBytes()
		if err != nil {
			return err
		}
		var c change
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		if c.Op == "insert" {
			id, _ := c.Row["id"].(float64)
			ids = append(ids, int64(id))
		}
	}
	h.mu.Lock()
	h.n++
	hold := h.n%3 == 2
	dst := h.acked
	if hold {
		dst = h.held
	}
	for _, id := range ids {
		dst[id]++
	}
	h.mu.Unlock()
	if !hold {
		return nil
	}
	select {
	case <-h.release:
	case <-ctx.Done():
	}
	return fmt.Errorf("held batch rejected")
}

func (h *holdOutput) counts() (acked, held int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.acked), len(h.held)
}

// TestStackInputRestartAfterOutOfOrderAcks: 10,000 rows are read, two thirds
// of the batches acknowledged out of order and the rest never; after a restart
// exactly the never-acknowledged rows come again, each once, and nothing else.
func TestStackInputRestartAfterOutOfOrderAcks(t *testing.T) {
	env := harness.RequireStack(t)
	coll := harness.UniqueName("stack_ooo")
	dir := t.TempDir()
	inputYAML := jsonInputYAML(env, coll, `  checkpoint_cache: ckpt
  checkpoint_key: ooo
  checkpoint_limit: 100000
  auto_replay_nacks: false
  batching:
    count: 2 # each insert request (2 shard messages) ends a batch
`)
	cacheYAML := fmt.Sprintf("label: ckpt\nfile:\n  directory: %s\n", dir)

	out := &holdOutput{acked: map[int64]int{}, held: map[int64]int{}, release: make(chan struct{})}
	senv := service.NewEnvironment()
	if err := senv.RegisterBatchOutput("hold_every_third", service.NewConfigSpec(),
		func(*service.ParsedConfig, *service.Resources) (service.BatchOutput, service.BatchPolicy, int, error) {
			return out, service.BatchPolicy{}, 256, nil
		}); err != nil {
		t.Fatal(err)
	}
	sb := senv.NewStreamBuilder()
	for _, step := range []error{sb.AddCacheYAML(cacheYAML), sb.SetLoggerYAML("level: warn"), sb.AddInputYAML(inputYAML), sb.AddOutputYAML("hold_every_third: {}")} {
		if step != nil {
			t.Fatal(step)
		}
	}
	stop := startStream(t, sb)
	time.Sleep(3 * time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	src := harness.Connect(t, env.SourceAddr)
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.DropCollection(context.Background(), coll) })
	const total = 10000
	if err := workload.InsertRows(ctx, src, coll, 0, total, 200, 8, rand.New(rand.NewSource(4))); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 2*time.Minute, "10,000 rows read", func() bool { a, h := out.counts(); return a+h >= total })
	time.Sleep(time.Second) // the last acknowledgements reach the checkpoint
	acked, held := out.counts()
	if acked+held != total || held == 0 || acked == 0 {
		t.Fatalf("first run: %d acknowledged + %d held rows, want %d in all and both > 0", acked, held, total)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "ooo"))
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Acked map[string][]string `json:"acked"`
	}
	if err := json.Unmarshal(raw, &stored); err != nil || len(stored.Acked) == 0 {
		t.Fatalf("the checkpoint lists no message acknowledged ahead (err %v): %s", err, raw)
	}
	close(out.release)
	stop()

	// Second run: exactly the held rows, once each.
	read, _ := runInput(t, inputYAML, cacheYAML)
	harness.WaitFor(t, 90*time.Second, fmt.Sprintf("%d held rows after the restart", held), func() bool { return countRows(read()) >= held })
	time.Sleep(3 * time.Second) // a repeat of an acknowledged row would arrive right behind
	seen := map[int64]int{}
	for _, c := range read() {
		if c.Op != "insert" {
			t.Errorf("after restart: unexpected %s", c.Op)
			continue
		}
		id, _ := c.Row["id"].(float64)
		seen[int64(id)]++
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	for id, n := range seen {
		if out.held[id] == 0 {
			t.Errorf("after restart: row %d came again although the output acknowledged it", id)
		} else if n != 1 {
			t.Errorf("after restart: row %d came %d times", id, n)
		}
	}
	for id := range out.held {
		if seen[id] == 0 {
			t.Errorf("after restart: held row %d never came again (lost)", id)
		}
	}
	t.Logf("first run: %d rows acknowledged out of order, %d held; after restart %d rows came again", acked, held, len(seen))
}
