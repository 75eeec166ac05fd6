package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// pipeline describes a milvus_binlog → milvus_apply stream for a test.
type pipeline struct {
	collections string    // YAML list items, e.g. `"db.*"`
	inputExtra  string    // extra input fields, indented by two spaces
	cacheYAML   string    // a cache resource (label ckpt), if any
	target      string    // target address; default the stack's target
	outputExtra string    // extra output fields, indented by two spaces
	logs        io.Writer // warn-level logs (default: stderr)
}

// runPipeline starts milvus_binlog → milvus_apply; stop it with the returned func.
func runPipeline(t *testing.T, env harness.Env, collections, extraInput, cacheYAML string) func() {
	return startPipeline(t, env, pipeline{collections: collections, inputExtra: extraInput, cacheYAML: cacheYAML})
}

func startPipeline(t *testing.T, env harness.Env, p pipeline) func() {
	t.Helper()
	sb := service.NewStreamBuilder()
	if p.logs != nil {
		sb.SetLogger(slog.New(slog.NewTextHandler(p.logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	} else if err := sb.SetLoggerYAML("level: warn"); err != nil {
		t.Fatal(err)
	}
	if p.cacheYAML != "" {
		if err := sb.AddCacheYAML(p.cacheYAML); err != nil {
			t.Fatal(err)
		}
	}
	if err := sb.AddInputYAML(fmt.Sprintf(`
milvus_binlog:
  pulsar_url: %s
  source:
    address: %s
  collections: [ %s ]
%s`, env.PulsarURL, env.SourceAddr, p.collections, p.inputExtra)); err != nil {
		t.Fatal(err)
	}
	target := p.target
	if target == "" {
		target = env.TargetAddr
	}
	if err := sb.AddOutputYAML(fmt.Sprintf("milvus_apply:\n  address: %s\n  connect_timeout: 2s\n%s", target, p.outputExtra)); err != nil {
		t.Fatal(err)
	}
	return startStream(t, sb)
}

func TestStackApplySmoke(t *testing.T) {
	env := harness.RequireStack(t)
	db := harness.UniqueName("cdc_apply")
	runPipeline(t, env, fmt.Sprintf(`"%s.*"`, db), "  start_from: latest\n", "")
	time.Sleep(3 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	admin := harness.Connect(t, env.SourceAddr)
	tadmin := harness.Connect(t, env.TargetAddr)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("create db", admin.CreateDatabase(ctx, db))
	t.Cleanup(func() {
		for _, c := range []client.Client{admin, tadmin} {
			_ = c.UsingDatabase(context.Background(), db)
			for _, n := range []string{"all_types", "bin"} {
				_ = c.DropCollection(context.Background(), n)
			}
			_ = c.UsingDatabase(context.Background(), "default")
			_ = c.DropDatabase(context.Background(), db)
		}
	})
	src, err := client.NewClient(ctx, client.Config{Address: env.SourceAddr, DBName: db})
	must("connect", err)
	defer src.Close()
	must("create", src.CreateCollection(ctx, workload.TypesSchema("all_types"), 1, client.WithConsistencyLevel(entity.ClSession)))
	must("create bin", src.CreateCollection(ctx, workload.BinarySchema("bin"), 2))
	must("partition", src.CreatePartition(ctx, "all_types", "p1"))
	_, err = src.Insert(ctx, "all_types", "", workload.TypesRows(0, 10)...)
	must("insert", err)
	_, err = src.Insert(ctx, "all_types", "p1", workload.TypesRows(10, 5)...)
	must("insert p1", err)
	_, err = src.Insert(ctx, "bin", "", workload.BinaryRows(0, 50)...)
	must("insert bin", err)
	_, err = src.Upsert(ctx, "all_types", "", workload.TypesRows(0, 2)...)
	must("upsert", err)
	must("delete", src.DeleteByPks(ctx, "all_types", "", entity.NewColumnVarChar("pk", []string{"k5", "k6"})))
	idx, _ := entity.NewIndexIvfFlat(entity.L2, 8)
	must("index", src.CreateIndex(ctx, "all_types", "vec", idx, false, client.WithIndexName("vec_idx")))
	must("load", src.LoadCollection(ctx, "all_types", false))

	tgt, err := client.NewClient(ctx, client.Config{Address: env.TargetAddr, DBName: db})
	must("connect target", err)
	defer tgt.Close()
	harness.WaitFor(t, 90*time.Second, "all_types loaded on the target", func() bool {
		st, err := tgt.GetLoadState(ctx, "all_types", nil)
		return err == nil && st == entity.LoadStateLoaded
	})
	rs, err := tgt.Query(ctx, "all_types", nil, `pk != ""`, []string{"pk", "f_json", "color"}, client.WithSearchQueryConsistencyLevel(entity.ClStrong))
	must("query target", err)
	if n := rs.GetColumn("pk").Len(); n != 13 {
		t.Fatalf("target rows: %d, want 13", n)
	}
	coll, err := tgt.DescribeCollection(ctx, "all_types")
	must("describe", err)
	if coll.ConsistencyLevel != entity.ClSession || !coll.Schema.EnableDynamicField || coll.ShardNum != 1 {
		t.Errorf("target collection: consistency %v dynamic %v shards %d", coll.ConsistencyLevel, coll.Schema.EnableDynamicField, coll.ShardNum)
	}
	parts, err := tgt.ShowPartitions(ctx, "all_types")
	must("partitions", err)
	if len(parts) != 2 {
		t.Errorf("target partitions: %d, want 2", len(parts))
	}
}
