// Command snapshot measures the initial snapshot of milvus_binlog: a source
// collection already holding -rows rows of -dim float vectors is copied to
// the target through the real milvus-cdc binary (milvus_binlog with
// stream_snapshot → milvus_apply), and the same rows are upserted straight
// into the target with milvus-sdk-go, in one run. It prints a markdown table:
// the two rates and their ratio, the pipeline's peak RSS and the time until
// the target holds every row. Nothing here asserts on timings. See
// bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	rows, dim, batch, shards int
	source, target           string
	pulsarURL, redisAddr     string
	bin                      string
	timeout                  time.Duration
}

func main() {
	o := &options{}
	flag.IntVar(&o.rows, "rows", 1_000_000, "rows the source holds before the copy")
	flag.IntVar(&o.dim, "dim", 128, "dimension of the float vectors")
	flag.IntVar(&o.batch, "batch", 2000, "rows per upsert (direct) and per page (snapshot_max_batch_size)")
	flag.IntVar(&o.shards, "shards", 2, "shards of the bench collections")
	flag.StringVar(&o.source, "source", envOr("MILVUS_SOURCE_ADDR", "127.0.0.1:19530"), "source Milvus address")
	flag.StringVar(&o.target, "target", envOr("MILVUS_TARGET_ADDR", "127.0.0.1:19540"), "target Milvus address")
	flag.StringVar(&o.pulsarURL, "pulsar", envOr("PULSAR_URL", "pulsar://127.0.0.1:6650"), "Pulsar URL of the source's WAL")
	flag.StringVar(&o.redisAddr, "redis", envOr("REDIS_ADDR", "127.0.0.1:6379"), "Redis address for the checkpoint")
	flag.StringVar(&o.bin, "bin", "", "a built milvus-cdc binary (default: go build one)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long")
	flag.Parse()
	if o.rows <= 0 || o.dim <= 0 || o.batch <= 0 || o.batch > 16384 {
		fmt.Fprintln(os.Stderr, "bench: -rows and -dim must be positive and -batch within 1..16384")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	res.print(os.Stdout, o)
	res.appendRows(o)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
