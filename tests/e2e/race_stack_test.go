package e2e

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackRacingDDLAndRows: with the default ordering (key: inserts and
// deletes go on arrival, everything else behind the ticks), DDL and rows on
// different channels race and the target still ends an exact copy:
//   - a database is created, a collection in it, and rows written at once;
//   - a 4-shard collection gets, right after its create, rows on every shard
//     from 4 concurrent writers upserting and deleting the same keys (and
//     inserting keys of their own, which others delete); then it is dropped
//     and created again under its name with other rows, and indexed and
//     loaded by name;
//   - rows, then at once a flush, an index and a load, then more rows.
func TestStackRacingDDLAndRows(t *testing.T) {
	env := harness.RequireStack(t)
	prefix := harness.UniqueName("race")
	db := prefix + "_db"
	admin := harness.Connect(t, env.SourceAddr)
	tadmin := harness.Connect(t, env.TargetAddr)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, c := range []client.Client{admin, tadmin} {
			_ = c.UsingDatabase(ctx, db)
			for _, n := range []string{"churn", "ordered", "fresh"} {
				_ = c.DropCollection(ctx, n)
			}
			_ = c.UsingDatabase(ctx, "default")
			_ = c.DropDatabase(ctx, db)
		}
	})
	runPipeline(t, env, fmt.Sprintf(`"%s.*"`, db), "  start_from: latest\n", "")
	time.Sleep(3 * time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	const dim = 8
	rng := rand.New(rand.NewSource(17))
	// Database → collection → rows, with nothing in between.
	must("create database", admin.CreateDatabase(ctx, db))
	src, err := client.NewClient(ctx, client.Config{Address: env.SourceAddr, DBName: db})
	must("connect", err)
	defer src.Close()
	must("create fresh", src.CreateCollection(ctx, workload.VectorSchema("fresh", dim), 2))
	must("insert fresh", workload.InsertRows(ctx, src, "fresh", 0, 300, 100, dim, rng))

	// Create → rows on every shard from concurrent writers → drop → create.
	churn := func(round int) {
		must("create churn", src.CreateCollection(ctx, workload.VectorSchema("churn", dim), 4))
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				r := rand.New(rand.NewSource(int64(100*round + w)))
				for i := 0; i < 15; i++ {
					first := int64(r.Intn(60))
					var err error
					switch i % 3 {
					case 0:
						// Inserts take keys no other write inserts: an insert
						// of a key that exists leaves two rows on the source.
						_, err = src.Insert(ctx, "churn", "", workload.Rows(int64(100+100*w+20*(i/3)), 20, dim, r)...)
					case 1:
						_, err = src.Upsert(ctx, "churn", "", workload.Rows(first, 20, dim, r)...)
					default:
						err = src.Delete(ctx, "churn", "", fmt.Sprintf("id in [%d, %d, %d, %d]", first, first+3, first+7, 100+first))
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("writer: %v", err)
		}
	}
	churn(0)
	must("drop churn", src.DropCollection(ctx, "churn"))
	churn(1)

	// Rows → flush, index, load at once → rows.
	must("create ordered", src.CreateCollection(ctx, workload.VectorSchema("ordered", dim), 2))
	must("insert ordered", workload.InsertRows(ctx, src, "ordered", 0, 500, 250, dim, rng))
	must("index and load ordered", workload.IndexAndLoad(ctx, src, "ordered"))
	must("insert ordered after load", workload.InsertRows(ctx, src, "ordered", 500, 100, 100, dim, rng))
	must("delete ordered", src.Delete(ctx, "ordered", "", "id in [1, 2, 3, 501]"))

	// verify compares the rows of loadable collections only: index them.
	for _, c := range []string{"fresh", "churn"} {
		must("index and load "+c, workload.IndexAndLoad(ctx, src, c))
	}
	rep := waitVerified(t, env, []string{db}, 3*time.Minute)
	if rep.CollectionsCompared != 3 || rep.RowsCompared < 300+596 {
		t.Fatalf("verify compared %d collections and %d rows: want 3 collections and every row", rep.CollectionsCompared, rep.RowsCompared)
	}
	tgt, err := client.NewClient(ctx, client.Config{Address: env.TargetAddr, DBName: db})
	must("connect target", err)
	defer tgt.Close()
	for _, c := range []string{"fresh", "ordered", "churn"} {
		st, err := tgt.GetLoadState(ctx, c, nil)
		must("load state of "+c, err)
		if st != entity.LoadStateLoaded {
			t.Errorf("%s on the target: load state %v, want loaded", c, st)
		}
	}
	t.Logf("verified: %d collections, %d rows compared", rep.CollectionsCompared, rep.RowsCompared)
}
