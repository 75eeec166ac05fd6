// Command cdc-workload writes a small, varied workload to a Milvus: it
// creates a collection, inserts rows, upserts and deletes some, then flushes,
// indexes and loads it. The README's demo runs it against the source.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/entity"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19530", "Milvus address")
	coll := flag.String("collection", "", "collection name (default: demo_<unix time>)")
	rows := flag.Int("rows", 1000, "rows to insert")
	batch := flag.Int("batch", 250, "rows per insert call")
	dim := flag.Int("dim", 128, "vector dimension")
	drop := flag.Bool("drop", false, "drop the collection at the end")
	cleanup := flag.String("cleanup", "", "write nothing: drop the collection on -addr and wait until the Milvus at this address (the replication's target) no longer has it")
	flag.Parse()
	if *coll == "" {
		*coll = fmt.Sprintf("demo_%d", time.Now().Unix())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *cleanup != "" {
		if err := dropReplicated(ctx, *addr, *cleanup, *coll); err != nil {
			fmt.Fprintln(os.Stderr, "cdc-workload:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, *addr, *coll, *rows, *batch, *dim, *drop); err != nil {
		fmt.Fprintln(os.Stderr, "cdc-workload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, coll string, rows, batch, dim int, drop bool) error {
	c, err := workload.Connect(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	step := func(format string, args ...any) { fmt.Printf("workload: "+format+"\n", args...) }

	if err := c.CreateCollection(ctx, workload.VectorSchema(coll, dim), 1); err != nil {
		return fmt.Errorf("create collection %s: %w", coll, err)
	}
	step("created collection %s", coll)
	if err := workload.InsertRows(ctx, c, coll, 0, rows, batch, dim, rng); err != nil {
		return err
	}
	step("inserted %d rows in batches of %d", rows, batch)
	if rows >= 10 {
		if _, err := c.Upsert(ctx, coll, "", workload.Rows(0, 5, dim, rng)...); err != nil {
			return fmt.Errorf("upsert: %w", err)
		}
		step("upserted keys 0..4")
		if err := c.DeleteByPks(ctx, coll, "", entity.NewColumnInt64("id", []int64{5, 6, 7})); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		step("deleted keys 5, 6, 7")
	}
	if err := workload.IndexAndLoad(ctx, c, coll); err != nil {
		return err
	}
	step("flushed, indexed and loaded %s", coll)
	if drop {
		if err := c.DropCollection(ctx, coll); err != nil {
			return fmt.Errorf("drop %s: %w", coll, err)
		}
		step("dropped %s", coll)
	}
	return nil
}

// dropReplicated drops coll on the source and waits (at most a minute) for
// the replication to drop its copy on the target, so that a later task
// finds no copy of a task that is gone.
func dropReplicated(ctx context.Context, source, target, coll string) error {
	src, err := workload.Connect(ctx, source)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := src.DropCollection(ctx, coll); err != nil {
		return fmt.Errorf("drop %s: %w", coll, err)
	}
	fmt.Printf("workload: dropped %s\n", coll)
	tgt, err := workload.Connect(ctx, target)
	if err != nil {
		return err
	}
	defer tgt.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		has, err := tgt.HasCollection(ctx, coll)
		if err == nil && !has {
			fmt.Printf("workload: the target dropped its copy of %s\n", coll)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the target at %s still has %s a minute after its drop on the source (last error: %v)", target, coll, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
