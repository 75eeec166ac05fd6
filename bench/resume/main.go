// Command resume measures how long a paused task's backlog takes to reach the
// target after `resume` (issue 6: goal < 0.5 s for 500 rows; the established
// CDC server: 6.5 s). It starts a worker and the control plane from the
// milvus-cdc binary on the running stack, creates a task over HTTP, and for
// each round: pause, insert rows into the source, resume, and time until the
// target's count(*) shows them (Eventually queries polled every 5 ms).
package main

import (
	"flag"
	"fmt"
	"os"
)

type options struct {
	bin, source, target, pulsar, redis string
	rows, rounds                       int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/milvus-cdc", "milvus-cdc binary")
	flag.StringVar(&o.source, "source", env("MILVUS_SOURCE_ADDR", "127.0.0.1:19530"), "source Milvus")
	flag.StringVar(&o.target, "target", env("MILVUS_TARGET_ADDR", "127.0.0.1:19540"), "target Milvus")
	flag.StringVar(&o.pulsar, "pulsar", env("PULSAR_URL", "pulsar://127.0.0.1:6650"), "Pulsar of the source")
	flag.StringVar(&o.redis, "redis", env("REDIS_ADDR", "127.0.0.1:6379"), "Redis (task store)")
	flag.IntVar(&o.rows, "rows", 500, "rows written while the task is paused")
	flag.IntVar(&o.rounds, "rounds", 5, "pause/resume rounds")
	flag.Parse()
	if o.rows <= 0 || o.rounds <= 0 {
		fmt.Fprintln(os.Stderr, "bench/resume: -rows and -rounds must be positive")
		os.Exit(2)
	}
	took, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/resume:", err)
		os.Exit(1)
	}
	s := summarize(took)
	s.print(o)
	s.appendRows(o)
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
