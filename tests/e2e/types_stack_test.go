package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// rawMsg is one protobuf-format message: the WAL payload and its metadata.
type rawMsg struct {
	Meta map[string]string
	Body []byte
}

// runRawInput starts milvus_binlog (protobuf format) → collector.
func runRawInput(t *testing.T, inputYAML string) func() []rawMsg {
	t.Helper()
	sb := service.NewStreamBuilder()
	for _, err := range []error{sb.SetLoggerYAML("level: warn"), sb.AddInputYAML(inputYAML)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var got []rawMsg
	if err := sb.AddConsumerFunc(func(_ context.Context, m *service.Message) error {
		b, err := m.AsBytes()
		if err != nil {
			return err
		}
		meta := map[string]string{}
		_ = m.MetaWalk(func(k, v string) error { meta[k] = v; return nil })
		mu.Lock()
		got = append(got, rawMsg{Meta: meta, Body: append([]byte(nil), b...)})
		mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	startStream(t, sb)
	return func() []rawMsg {
		mu.Lock()
		defer mu.Unlock()
		return append([]rawMsg(nil), got...)
	}
}

// TestStackInputEveryTypeAndOp: a database of its own, a collection with
// every field type (VarChar key, JSON, arrays, dynamic field), one with binary
// vectors, a partition, upsert, delete, and every replicate-channel op. Both
// formats come out complete, in order, with names, partitions and values
// right. MILVUS_CDC_RECORD_DIR=dir saves the payloads (plugins/wal/testdata).
func TestStackInputEveryTypeAndOp(t *testing.T) {
	env := harness.RequireStack(t)
	db := harness.UniqueName("cdc_types")
	typesColl, binColl := "all_types", "binary_vectors"
	base := fmt.Sprintf(`
milvus_binlog:
  pulsar_url: %s
  source:
    address: %s
  collections: [ "%s.*" ]
  start_from: latest
`, env.PulsarURL, env.SourceAddr, db)
	// The JSON log is checked for one global timestamp order: ordering: total
	// (the default, key, lets rows pass older operations of other channels).
	readJSON, _ := runInput(t, base+"  format: json\n  ordering: total\n", "")
	readRaw := runRawInput(t, base+"  format: protobuf\n")
	time.Sleep(3 * time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	admin := harness.Connect(t, env.SourceAddr)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("create database", admin.CreateDatabase(ctx, db))
	t.Cleanup(func() { _ = admin.DropDatabase(context.Background(), db) })
	src, err := client.NewClient(ctx, client.Config{Address: env.SourceAddr, DBName: db})
	must("connect to "+db, err)
	defer src.Close()

	must("create "+typesColl, src.CreateCollection(ctx, workload.TypesSchema(typesColl), 1))
	must("create "+binColl, src.CreateCollection(ctx, workload.BinarySchema(binColl), 1))
	must("create partition", src.CreatePartition(ctx, typesColl, "p1"))
	_, err = src.Insert(ctx, typesColl, "", workload.TypesRows(0, 10)...)
	must("insert", err)
	_, err = src.Insert(ctx, typesColl, "p1", workload.TypesRows(10, 5)...)
	must("insert into p1", err)
	_, err = src.Insert(ctx, binColl, "", workload.BinaryRows(0, 5)...)
	must("insert binary", err)
	_, err = src.Upsert(ctx, typesColl, "", workload.TypesRows(0, 2)...)
	must("upsert", err)
	must("delete", src.DeleteByPks(ctx, typesColl, "", entity.NewColumnVarChar("pk", []string{"k5", "k6"})))
	must("flush", src.Flush(ctx, typesColl, false))
	idx, _ := entity.NewIndexIvfFlat(entity.L2, 8)
	must("create index", src.CreateIndex(ctx, typesColl, "vec", idx, false, client.WithIndexName("vec_idx")))
	must("load", src.LoadCollection(ctx, typesColl, false))
	must("release", src.ReleaseCollection(ctx, typesColl))
	must("drop index", src.DropIndex(ctx, typesColl, "vec", client.WithIndexName("vec_idx")))
	must("drop partition", src.DropPartition(ctx, typesColl, "p1"))
	must("drop "+binColl, src.DropCollection(ctx, binColl))
	must("drop "+typesColl, src.DropCollection(ctx, typesColl))
	must("drop database", admin.DropDatabase(ctx, db))

	hasOp := func(op string) bool {
		for _, c := range readJSON() {
			if c.Op == op {
				return true
			}
		}
		return false
	}
	harness.WaitFor(t, 90*time.Second, "drop_database in JSON", func() bool { return hasOp("drop_database") })
	harness.WaitFor(t, 30*time.Second, "drop_database in protobuf", func() bool {
		for _, m := range readRaw() {
			if m.Meta["milvus_op"] == "drop_database" {
				return true
			}
		}
		return false
	})
	// DropCollection is written asynchronously; give both a moment.
	harness.WaitFor(t, 90*time.Second, "both drop_collection", func() bool {
		n := 0
		for _, c := range readJSON() {
			if c.Op == "drop_collection" {
				n++
			}
		}
		return n >= 2
	})
	// DropPartition is written asynchronously too (2.3 releases the
	// partition first) and can land after the collection's drop.
	harness.WaitFor(t, 90*time.Second, "drop_partition in JSON", func() bool { return hasOp("drop_partition") })
	time.Sleep(time.Second)

	checkJSONChanges(t, readJSON(), db, typesColl, binColl)
	checkRawChanges(t, readRaw(), db)
	if dir := os.Getenv("MILVUS_CDC_RECORD_DIR"); dir != "" {
		recordPayloads(t, dir, readRaw())
	}
}

func checkJSONChanges(t *testing.T, got []change, db, typesColl, binColl string) {
	t.Helper()
	counts := map[string]int{}
	var last uint64
	rows := map[string]map[string]any{}
	parts := map[string]string{}
	var deleted []any
	upserts := 0
	for i, c := range got {
		if c.DB != db {
			t.Errorf("change %d (%s) in db %q, want %q", i, c.Op, c.DB, db)
		}
		if c.Ts < last {
			t.Errorf("change %d (%s) ts %d < previous %d", i, c.Op, c.Ts, last)
		}
		last = c.Ts
		counts[c.Op+" "+c.Collection]++
		if c.Upsert {
			upserts++
		}
		switch c.Op {
		case "insert":
			if c.Collection == typesColl {
				pk, _ := c.Row["pk"].(string)
				rows[pk] = c.Row
				parts[pk] = c.Partition
			} else {
				id, _ := c.Row["id"].(float64)
				want := []any{id, 255 - id}
				if !reflect.DeepEqual(c.Row["bvec"], want) {
					t.Errorf("binary row %v: bvec %v, want %v", id, c.Row["bvec"], want)
				}
			}
		case "delete":
			deleted = append(deleted, c.PK)
		case "create_partition":
			// Learned from the source's catalog (2.3 logs no CreatePartition):
			// there when a check ran while p1 existed, which is timing.
			if c.Collection != typesColl || c.Partition != "p1" {
				t.Errorf("create_partition of %s/%s, want p1 of %s", c.Collection, c.Partition, typesColl)
			}
			delete(counts, c.Op+" "+c.Collection)
		case "load_partitions", "release_partitions":
			// Also from the catalog: the partitions the load_collection
			// loaded, when a check ran while they were loaded (timing).
			if c.Collection != typesColl {
				t.Errorf("%s of %s, want %s", c.Op, c.Collection, typesColl)
			}
			delete(counts, c.Op+" "+c.Collection)
		}
	}
	want := map[string]int{
		"create_database ": 1, "create_collection " + typesColl: 1, "create_collection " + binColl: 1,
		"insert " + typesColl: 17, "insert " + binColl: 5, "delete " + typesColl: 4,
		"flush ": 1, "create_index " + typesColl: 1, "load_collection " + typesColl: 1,
		"release_collection " + typesColl: 1, "drop_index " + typesColl: 1, "drop_partition " + typesColl: 1,
		"drop_collection " + binColl: 1, "drop_collection " + typesColl: 1, "drop_database ": 1,
	}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("changes by op and collection:\n got %v\nwant %v", counts, want)
	}
	if upserts != 4 {
		t.Errorf("upsert-marked changes: %d, want 4 (2 rows + 2 keys)", upserts)
	}
	for i := 0; i < 15; i++ {
		pk := fmt.Sprintf("k%d", i)
		if !reflect.DeepEqual(rows[pk], workload.TypesRow(i)) {
			t.Errorf("row %s:\n got %v\nwant %v", pk, rows[pk], workload.TypesRow(i))
		}
		wantPart := "_default"
		if i >= 10 {
			wantPart = "p1"
		}
		if parts[pk] != wantPart {
			t.Errorf("row %s in partition %q, want %q", pk, parts[pk], wantPart)
		}
	}
	wantDeleted := map[any]bool{"k0": true, "k1": true, "k5": true, "k6": true}
	for _, k := range deleted {
		if !wantDeleted[k] {
			t.Errorf("unexpected deleted key %v", k)
		}
	}
	if t.Failed() {
		for i, c := range got {
			if c.Op != "insert" && c.Op != "delete" {
				t.Logf("change %d: %s %s/%s ts %d", i, c.Op, c.Collection, c.Partition, c.Ts)
			}
		}
	}
}

func checkRawChanges(t *testing.T, got []rawMsg, db string) {
	t.Helper()
	ops := map[string]int{}
	rows := 0
	for _, m := range got {
		ops[m.Meta["milvus_op"]]++
		if m.Meta["milvus_db"] != db {
			t.Errorf("%s: milvus_db %q, want %q", m.Meta["milvus_op"], m.Meta["milvus_db"], db)
		}
		if m.Meta["milvus_op"] == "insert" {
			var n int
			fmt.Sscan(m.Meta["milvus_rows"], &n)
			rows += n
			if m.Meta["milvus_partition"] == "" || m.Meta["milvus_position"] == "" || m.Meta["milvus_collection_id"] == "" {
				t.Errorf("insert without partition/position/collection id: %v", m.Meta)
			}
		}
	}
	if rows != 22 {
		t.Errorf("protobuf inserts carry %d rows, want 22", rows)
	}
	for _, op := range []string{"create_database", "create_collection", "insert", "delete", "flush", "create_index",
		"load_collection", "release_collection", "drop_index", "drop_partition", "drop_collection", "drop_database"} {
		if ops[op] == 0 {
			t.Errorf("protobuf format: no %s (all: %v)", op, ops)
		}
	}
}

// recordPayloads writes each payload and a manifest, for the decoder's unit
// tests (plugins/wal/testdata/wal).
func recordPayloads(t *testing.T, dir string, msgs []rawMsg) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		File string            `json:"file"`
		Meta map[string]string `json:"meta"`
	}
	var manifest []entry
	for i, m := range msgs {
		name := fmt.Sprintf("%02d_%s.pb", i, m.Meta["milvus_op"])
		if err := os.WriteFile(filepath.Join(dir, name), m.Body, 0o644); err != nil {
			t.Fatal(err)
		}
		manifest = append(manifest, entry{File: name, Meta: m.Meta})
	}
	b, _ := json.MarshalIndent(manifest, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
