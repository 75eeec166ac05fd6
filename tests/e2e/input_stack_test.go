package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/entity"
	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"

	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/all"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// change is one JSON object emitted by milvus_binlog with format: json.
type change struct {
	Op         string         `json:"op"`
	DB         string         `json:"db"`
	Collection string         `json:"collection"`
	Ts         uint64         `json:"ts"`
	Upsert     bool           `json:"upsert"`
	Row        map[string]any `json:"row"`
	PK         any            `json:"pk"`
	Partition  string         `json:"partition"`
}

// runInput starts a stream milvus_binlog → collector and returns a function
// that reads what was collected so far, and a stop function.
// cacheYAML, if not empty, adds a cache resource (for checkpoints).
func runInput(t *testing.T, inputYAML, cacheYAML string) (func() []change, func()) {
	t.Helper()
	sb := service.NewStreamBuilder()
	if cacheYAML != "" {
		if err := sb.AddCacheYAML(cacheYAML); err != nil {
			t.Fatal(err)
		}
	}
	if err := sb.SetLoggerYAML("level: warn"); err != nil {
		t.Fatal(err)
	}
	if err := sb.AddInputYAML(inputYAML); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []change
	if err := sb.AddConsumerFunc(func(ctx context.Context, m *service.Message) error {
		b, err := m.AsBytes()
		if err != nil {
			return err
		}
		var c change
		if err := json.Unmarshal(b, &c); err != nil {
			return fmt.Errorf("not JSON: %s", b)
		}
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stop := startStream(t, sb)
	return func() []change {
		mu.Lock()
		defer mu.Unlock()
		return append([]change(nil), got...)
	}, stop
}

// jsonInputYAML is a milvus_binlog config that streams one collection of the
// default database as JSON from "latest"; extra adds indented fields.
func jsonInputYAML(env harness.Env, coll, extra string) string {
	return fmt.Sprintf(`
milvus_binlog:
  pulsar_url: %s
  source:
    address: %s
  collections: [ "default.%s" ]
  start_from: latest
  format: json
%s`, env.PulsarURL, env.SourceAddr, coll, extra)
}

// TestStackInputEmitsOrderedJSONChanges runs the milvus_binlog input on the
// real stack: every inserted row, the upsert, the deletes and the DDL come out
// once, in non-decreasing timestamp order (ordering: total), with names
// resolved.
func TestStackInputEmitsOrderedJSONChanges(t *testing.T) {
	env := harness.RequireStack(t)
	coll := harness.UniqueName("stack_input")
	read, _ := runInput(t, jsonInputYAML(env, coll, "  ordering: total\n"), "")
	time.Sleep(3 * time.Second) // readers positioned at "latest" before writing

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src := harness.Connect(t, env.SourceAddr)
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 16), 2); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.DropCollection(context.Background(), coll) })
	rng := rand.New(rand.NewSource(2))
	if err := workload.InsertRows(ctx, src, coll, 0, 300, 100, 16, rng); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Upsert(ctx, coll, "", workload.Rows(0, 2, 16, rng)...); err != nil {
		t.Fatal(err)
	}
	if err := src.DeleteByPks(ctx, coll, "", entity.NewColumnInt64("id", []int64{10, 11, 12})); err != nil {
		t.Fatal(err)
	}
	if err := src.DropCollection(ctx, coll); err != nil {
		t.Fatal(err)
	}

	harness.WaitFor(t, 60*time.Second, "the drop_collection", func() bool {
		for _, c := range read() {
			if c.Op == "drop_collection" {
				return true
			}
		}
		return false
	})
	time.Sleep(time.Second) // anything after the drop would be a bug: let it show
	got := read()
	counts := map[string]int{}
	upserts := 0
	var last uint64
	for i, c := range got {
		if c.Collection != coll || c.DB != "default" {
			t.Fatalf("change %d names %s.%s, want default.%s", i, c.DB, c.Collection, coll)
		}
		if c.Ts < last {
			t.Fatalf("change %d (%s) has ts %d < previous %d", i, c.Op, c.Ts, last)
		}
		last = c.Ts
		counts[c.Op]++
		if c.Upsert {
			upserts++
		}
	}
	// The collection has 2 shards on 2 physical channels: Milvus writes its
	// create and drop to each of them.
	want := map[string]int{"create_collection": 2, "insert": 302, "delete": 5, "drop_collection": 2}
	for op, n := range want {
		if counts[op] != n {
			t.Errorf("%s: got %d, want %d (all: %v)", op, counts[op], n, counts)
		}
	}
	if upserts != 4 { // 2 rows inserted + 2 keys deleted by the upsert
		t.Errorf("upsert-marked changes: %d, want 4", upserts)
	}
	if got[len(got)-1].Op != "drop_collection" {
		t.Errorf("last change is %s, want drop_collection", got[len(got)-1].Op)
	}
}
