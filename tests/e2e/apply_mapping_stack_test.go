package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackApplyDatabaseMapping: database_mapping writes a source database
// into a target database of another name; verify with the same mapping finds
// no difference.
func TestStackApplyDatabaseMapping(t *testing.T) {
	env := harness.RequireStack(t)
	from, to := harness.UniqueName("map_src"), harness.UniqueName("map_dst")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	startPipeline(t, env, pipeline{
		collections: fmt.Sprintf(`"%s.*"`, from),
		inputExtra:  "  start_from: latest\n",
		outputExtra: fmt.Sprintf("  database_mapping: { %s: %s }\n", from, to),
	})
	time.Sleep(3 * time.Second)
	admin, tadmin := harness.Connect(t, env.SourceAddr), harness.Connect(t, env.TargetAddr)
	if err := admin.CreateDatabase(ctx, from); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, x := range []struct {
			addr, db string
			c        client.Client
		}{{env.SourceAddr, from, admin}, {env.TargetAddr, to, tadmin}} {
			if c, err := client.NewClient(context.Background(), client.Config{Address: x.addr, DBName: x.db}); err == nil {
				_ = c.DropCollection(context.Background(), "m")
				_ = c.Close()
			}
			_ = x.c.DropDatabase(context.Background(), x.db)
		}
	})
	src, err := client.NewClient(ctx, client.Config{Address: env.SourceAddr, DBName: from})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.CreateCollection(ctx, workload.VectorSchema("m", 16), 1); err != nil {
		t.Fatal(err)
	}
	if err := workload.InsertRows(ctx, src, "m", 0, 3000, 1000, 16, rand.New(rand.NewSource(9))); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, src, "m"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rep, err := verify.Run(ctx, verify.Options{SourceAddr: env.SourceAddr, TargetAddr: env.TargetAddr,
			Databases: []string{from}, DatabaseMapping: map[string]string{from: to}})
		if err == nil && rep.OK() && rep.RowsCompared == 3000 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mapped copy differs (err %v): %+v", err, rep)
		}
		time.Sleep(3 * time.Second)
	}
}
