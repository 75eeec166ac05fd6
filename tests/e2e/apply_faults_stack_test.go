package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// targetRows counts the rows of a loaded target collection (Strong).
func targetRows(ctx context.Context, c client.Client, coll string) (int, error) {
	rs, err := c.Query(ctx, coll, nil, "id >= 0", []string{"id"}, client.WithSearchQueryConsistencyLevel(entity.ClStrong))
	if err != nil {
		return 0, err
	}
	return rs.GetColumn("id").Len(), nil
}

// TestStackApplyTargetDownAcknowledgesNothing: with the target unreachable
// nothing is acknowledged (the checkpoint stays where it was); a pipeline
// started later against the real target applies everything from there.
func TestStackApplyTargetDownAcknowledgesNothing(t *testing.T) {
	env := harness.RequireStack(t)
	coll := harness.UniqueName("apply_down")
	dir := t.TempDir()
	p := pipeline{
		collections: fmt.Sprintf(`"default.%s"`, coll),
		inputExtra:  "  start_from: latest\n  checkpoint_cache: ckpt\n  checkpoint_key: down\n",
		cacheYAML:   fmt.Sprintf("label: ckpt\nfile:\n  directory: %s\n", dir),
		target:      "127.0.0.1:1", // nothing listens there
		logs:        &harness.SyncBuffer{},
	}
	stop := startPipeline(t, env, p)
	time.Sleep(3 * time.Second)
	pinned, err := os.ReadFile(filepath.Join(dir, "down"))
	if err != nil {
		t.Fatalf("the start positions were not stored at start: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src := harness.Connect(t, env.SourceAddr)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("create", src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 1))
	t.Cleanup(func() {
		_ = src.DropCollection(context.Background(), coll)
		if tc, err := workload.Connect(context.Background(), env.TargetAddr); err == nil {
			_ = tc.DropCollection(context.Background(), coll)
			_ = tc.Close()
		}
	})
	must("insert", workload.InsertRows(ctx, src, coll, 0, 500, 100, 8, rand.New(rand.NewSource(1))))
	harness.WaitFor(t, 30*time.Second, "a log line naming the unreachable target", func() bool {
		return strings.Contains(p.logs.(*harness.SyncBuffer).String(), "127.0.0.1:1")
	})
	time.Sleep(2 * time.Second)
	stop()
	after, err := os.ReadFile(filepath.Join(dir, "down"))
	if err != nil {
		t.Fatalf("no checkpoint: the start positions must be stored at once: %v", err)
	}
	if string(after) != string(pinned) {
		t.Fatalf("the checkpoint moved while the target was down:\n%s\n%s", pinned, after)
	}

	// Against the real target, from the checkpoint: every row arrives.
	p.target, p.logs = "", nil
	startPipeline(t, env, p)
	must("index+load", workload.IndexAndLoad(ctx, src, coll))
	tgt := harness.Connect(t, env.TargetAddr)
	harness.WaitFor(t, 90*time.Second, "500 rows on the target", func() bool {
		n, err := targetRows(ctx, tgt, coll)
		return err == nil && n == 500
	})
}

// TestStackApplyConflictStops: the source creates a collection whose name
// the target already uses for a collection of its own (same schema, rows of
// its own), writes to it and drops it. The output never writes to or drops
// what it did not create: a permanent error names the op and the collection,
// and the target's collection keeps its own rows.
func TestStackApplyConflictStops(t *testing.T) {
	env := harness.RequireStack(t)
	coll := harness.UniqueName("apply_conflict")
	logs := &harness.SyncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tgt := harness.Connect(t, env.TargetAddr)
	if err := tgt.CreateCollection(ctx, workload.VectorSchema(coll, 8), 1); err != nil {
		t.Fatal(err)
	}
	if err := workload.InsertRows(ctx, tgt, coll, 1000, 5, 5, 8, rand.New(rand.NewSource(2))); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, tgt, coll); err != nil {
		t.Fatal(err)
	}
	src := harness.Connect(t, env.SourceAddr)
	t.Cleanup(func() {
		_ = tgt.DropCollection(context.Background(), coll)
		_ = src.DropCollection(context.Background(), coll)
	})
	startPipeline(t, env, pipeline{collections: fmt.Sprintf(`"default.%s"`, coll), inputExtra: "  start_from: latest\n", logs: logs})
	time.Sleep(3 * time.Second)
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 1); err != nil {
		t.Fatal(err)
	}
	if err := workload.InsertRows(ctx, src, coll, 0, 100, 100, 8, rand.New(rand.NewSource(1))); err != nil {
		t.Fatal(err)
	}
	if err := src.DropCollection(ctx, coll); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("create_collection on default.%s", coll)
	harness.WaitFor(t, 60*time.Second, "the permanent error naming "+want, func() bool {
		l := logs.String()
		return strings.Contains(l, want) && strings.Contains(l, "was not created by replication")
	})
	time.Sleep(3 * time.Second)
	n, err := targetRows(ctx, tgt, coll)
	if err != nil {
		t.Fatalf("the target's own collection is gone or unreadable: %v", err)
	}
	if n != 5 {
		t.Fatalf("the target's own collection holds %d rows, want its own 5", n)
	}
}

// TestStackApplyDropWhileStopped: a collection copied into a non-default
// database is dropped on the source while the pipeline is stopped; after the
// restart the input no longer knows its database, and the copy is found by
// its tag and dropped all the same.
func TestStackApplyDropWhileStopped(t *testing.T) {
	env := harness.RequireStack(t)
	db := harness.UniqueName("apply_gone")
	dir := t.TempDir()
	p := pipeline{
		collections: fmt.Sprintf(`"%s.*"`, db),
		inputExtra:  "  start_from: latest\n  checkpoint_cache: ckpt\n  checkpoint_key: gone\n",
		cacheYAML:   fmt.Sprintf("label: ckpt\nfile:\n  directory: %s\n", dir),
	}
	stop := startPipeline(t, env, p)
	time.Sleep(3 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin := harness.Connect(t, env.SourceAddr)
	if err := admin.CreateDatabase(ctx, db); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
			if c, err := client.NewClient(context.Background(), client.Config{Address: addr, DBName: db}); err == nil {
				_ = c.DropCollection(context.Background(), "c")
				_ = c.Close()
			}
			if c, err := workload.Connect(context.Background(), addr); err == nil {
				_ = c.DropDatabase(context.Background(), db)
				_ = c.Close()
			}
		}
	})
	src, err := client.NewClient(ctx, client.Config{Address: env.SourceAddr, DBName: db})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.CreateCollection(ctx, workload.VectorSchema("c", 8), 1); err != nil {
		t.Fatal(err)
	}
	if err := workload.InsertRows(ctx, src, "c", 0, 10, 10, 8, rand.New(rand.NewSource(1))); err != nil {
		t.Fatal(err)
	}
	tadmin := harness.Connect(t, env.TargetAddr)
	harness.WaitFor(t, 60*time.Second, "the database on the target", func() bool {
		dbs, err := tadmin.ListDatabases(ctx)
		for _, d := range dbs {
			if d.Name == db {
				return err == nil
			}
		}
		return false
	})
	tgt, err := client.NewClient(ctx, client.Config{Address: env.TargetAddr, DBName: db})
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.Close()
	harness.WaitFor(t, 60*time.Second, "the copy on the target", func() bool { ok, err := tgt.HasCollection(ctx, "c"); return err == nil && ok })
	time.Sleep(time.Second)
	stop()
	if err := src.DropCollection(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	startPipeline(t, env, p)
	harness.WaitFor(t, 90*time.Second, "the copy dropped on the target", func() bool { ok, err := tgt.HasCollection(ctx, "c"); return err == nil && !ok })
}
