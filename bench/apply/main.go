// Command apply measures replication through the milvus_binlog →
// milvus_apply pipeline against the physical limit of the target Milvus.
//
// In one run it prints a markdown table with: the direct upsert rate into the
// target with milvus-sdk-go; the replication rate source → target through the
// pipeline for the same rows; their ratio; the end-to-end lag (source insert
// returned → row visible on the target) for single inserts and at a steady
// insert rate; and the peak RSS of the pipeline process. The pipeline is the
// real milvus-cdc binary, run as a child process. Nothing here asserts on
// timings: it only prints figures. See bench/README.md.
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

// options are the command-line flags.
type options struct {
	rows, dim, batch, shards  int
	source, target            string
	sourceMetrics             string // Prometheus endpoints of the two Milvus
	targetMetrics             string
	sourceConfig              string // milvus.yaml of the two Milvus (time tick interval)
	targetConfig              string
	pulsarURL, redisAddr      string
	bin                       string // prebuilt milvus-cdc; "" = build one
	single, probes            int
	task                      bool // phase 5: through a task created with POST /cdc
	taskShards                int
	steadySeconds, steadyRate int
	steadyBatch               int
	observe, floorSteady      bool
	floorLoaded               bool
	pollEvery, visibleTimeout time.Duration
	replicateTimeout          time.Duration
}

func main() {
	o := parseFlags()
	if err := validate(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	// Ctrl-C or SIGTERM cancels the phases; cleanup still runs.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		os.Exit(1)
	}
}

func parseFlags() *options {
	o := &options{}
	flag.IntVar(&o.rows, "rows", 100000, "rows for the direct upsert and the replication rate")
	flag.IntVar(&o.dim, "dim", 128, "dimension of the float vectors")
	flag.IntVar(&o.batch, "batch", 1000, "rows per upsert (direct) and per insert (source)")
	flag.IntVar(&o.shards, "shards", 2, "shards of every bench collection")
	flag.StringVar(&o.source, "source", envOr("MILVUS_SOURCE_ADDR", "127.0.0.1:19530"), "source Milvus address")
	flag.StringVar(&o.target, "target", envOr("MILVUS_TARGET_ADDR", "127.0.0.1:19540"), "target Milvus address")
	flag.StringVar(&o.sourceMetrics, "source-metrics", "http://"+envOr("MILVUS_SOURCE_METRICS_ADDR", "127.0.0.1:9091")+"/metrics", "source Milvus metrics (write amplification)")
	flag.StringVar(&o.targetMetrics, "target-metrics", "http://"+envOr("MILVUS_TARGET_METRICS_ADDR", "127.0.0.1:9092")+"/metrics", "target Milvus metrics (write amplification)")
	flag.StringVar(&o.sourceConfig, "source-config", envOr("MILVUS_SOURCE_CONFIG", ".stack/data/source/configs/milvus.yaml"), "source Milvus config (its time tick interval is reported)")
	flag.StringVar(&o.targetConfig, "target-config", envOr("MILVUS_TARGET_CONFIG", ".stack/data/target/configs/milvus.yaml"), "target Milvus config (its time tick interval is reported)")
	flag.StringVar(&o.pulsarURL, "pulsar", envOr("PULSAR_URL", "pulsar://127.0.0.1:6650"), "Pulsar service URL of the source's WAL")
	flag.StringVar(&o.redisAddr, "redis", envOr("REDIS_ADDR", "127.0.0.1:6379"), "Redis for the pipeline's checkpoints (host:port)")
	flag.StringVar(&o.bin, "bin", "", "milvus-cdc binary to run as the pipeline (default: go build ./cmd/milvus-cdc into a temp dir)")
	flag.BoolVar(&o.task, "task", true, "phase 5: the lag through a task created with POST /cdc on a worker (started from -bin), beside the target alone")
	flag.IntVar(&o.taskShards, "task-shards", 1, "shards of phase 5's collections (one: the condition a new user's probe has)")
	flag.IntVar(&o.single, "single", 100, "single-row inserts whose lag is measured")
	flag.IntVar(&o.probes, "probes", 30, "single rows for each floor measurement (target alone, source alone); 0 skips the floors")
	flag.BoolVar(&o.floorSteady, "floor-steady", true, "also measure the target alone at the steady rate (upserts straight into the target)")
	flag.BoolVar(&o.floorLoaded, "floor-loaded", true, "measure the steady floor again while the source takes the same inserts (both Milvus share this machine's cores, as in the pipeline's run)")
	flag.IntVar(&o.steadySeconds, "steady-seconds", 20, "duration of the steady-rate lag measurement")
	flag.IntVar(&o.steadyRate, "steady-rate", 2000, "rows/s inserted into the source during the steady lag measurement")
	flag.IntVar(&o.steadyBatch, "steady-batch", 100, "rows per insert during the steady lag measurement")
	flag.BoolVar(&o.observe, "observe", true, "read the source's WAL topics during the lag phase to split the lag into source time-tick wait and the rest")
	flag.DurationVar(&o.pollEvery, "poll", 5*time.Millisecond, "pause between visibility checks")
	flag.DurationVar(&o.visibleTimeout, "visible-timeout", 10*time.Second, "a row not visible after this long counts as lost (and is reported)")
	flag.DurationVar(&o.replicateTimeout, "replicate-timeout", 15*time.Minute, "give up waiting for the replicated rows after this long")
	flag.Parse()
	return o
}

func validate(o *options) error {
	for _, v := range []struct {
		name string
		n    int
	}{{"-rows", o.rows}, {"-dim", o.dim}, {"-batch", o.batch}, {"-shards", o.shards}, {"-task-shards", o.taskShards},
		{"-single", o.single}, {"-steady-seconds", o.steadySeconds}, {"-steady-rate", o.steadyRate}, {"-steady-batch", o.steadyBatch}} {
		if v.n <= 0 {
			return fmt.Errorf("%s must be positive, got %d", v.name, v.n)
		}
	}
	if o.probes < 0 {
		return fmt.Errorf("-probes must not be negative")
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
