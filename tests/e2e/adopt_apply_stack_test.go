package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackApplyAdoptsCopies: replication r1 copies a collection (rows, an
// index, an alias) with its snapshot and stops. While no replication runs
// the source deletes, upserts and inserts. Replication r2, adopting r1's
// copies (adopt_replications), copies the source again with its snapshot:
// the target equals the source (the deleted rows are gone), the copy is
// tagged as r2's (created again: a new collection ID), and the alias is
// back on it. Without adoption r2 would
// stop at once: the copy is another replication's.
func TestStackApplyAdoptsCopies(t *testing.T) {
	env := harness.RequireStack(t)
	db := harness.UniqueName("adopt")
	const coll, alias = "c", "c_alias"
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("create source database", harness.Connect(t, env.SourceAddr).CreateDatabase(ctx, db))
	t.Cleanup(func() {
		for _, addr := range []string{env.SourceAddr, env.TargetAddr} {
			_, _ = rawMilvus(t, addr).DropAlias(context.Background(), &milvuspb.DropAliasRequest{DbName: db, Alias: alias})
			harness.DropDatabase(addr, db, coll)
		}
	})
	src := dbClient(t, env.SourceAddr, db)
	rng := rand.New(rand.NewSource(24))
	must("create", src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 1))
	must("insert", workload.InsertRows(ctx, src, coll, 0, 200, 200, 8, rng))
	must("index and load", workload.IndexAndLoad(ctx, src, coll))
	must("alias", src.CreateAlias(ctx, coll, alias))

	cluster := contract.SourceCluster(env.SourceAddr, "by-dev")
	run := func(key, output string) func() {
		dir := t.TempDir()
		return startPipeline(t, env, pipeline{
			collections: fmt.Sprintf(`"%s.*"`, db),
			inputExtra:  fmt.Sprintf("  stream_snapshot: true\n  checkpoint_cache: ckpt\n  checkpoint_key: %s\n", key),
			cacheYAML:   fmt.Sprintf("label: ckpt\nfile:\n  directory: %s\n", dir),
			outputExtra: output,
		})
	}
	stop := run("r1", fmt.Sprintf("  replication_id: r1\n  source_cluster: %s\n", cluster))
	waitVerified(t, env, []string{db}, 3*time.Minute)
	stop()
	raw := rawMilvus(t, env.TargetAddr)
	first, err := raw.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: coll})
	must("describe r1's copy", contract.StatusErr(first.GetStatus(), err))

	// While no replication runs.
	must("delete", src.DeleteByPks(ctx, coll, "", entity.NewColumnInt64("id", []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})))
	_, err = src.Upsert(ctx, coll, "", workload.Rows(20, 20, 8, rng)...)
	must("upsert", err)
	_, err = src.Insert(ctx, coll, "", workload.Rows(200, 20, 8, rng)...)
	must("insert more", err)
	must("flush", src.Flush(ctx, coll, false))

	run("r2", fmt.Sprintf("  replication_id: r2\n  source_cluster: %s\n  adopt_replications: [ r1 ]\n", cluster))
	waitVerified(t, env, []string{db}, 3*time.Minute)

	d, err := raw.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: coll})
	must("describe the copy", contract.StatusErr(d.GetStatus(), err))
	props := map[string]string{}
	for _, kv := range d.GetProperties() {
		props[kv.GetKey()] = kv.GetValue()
	}
	if props[contract.PropReplication] != "r2" || props[contract.PropSourceCluster] != cluster {
		t.Errorf("the copy is tagged %v, want r2's of %s", props, cluster)
	}
	if d.GetCollectionID() == first.GetCollectionID() {
		t.Error("the adopted copy was not created again by r2's snapshot (same collection ID)")
	}
	harness.WaitFor(t, time.Minute, "the alias on the adopted copy", func() bool {
		a, err := raw.DescribeCollection(ctx, &milvuspb.DescribeCollectionRequest{DbName: db, CollectionName: alias})
		return err == nil && contract.StatusOK(a.GetStatus()) && a.GetSchema().GetName() == coll && a.GetCollectionID() == d.GetCollectionID()
	})
}
