// Command input measures the throughput of the milvus_binlog input against a
// bare pulsar-client-go reader draining the same Pulsar topics.
//
// The parent process fills a fresh collection of the source Milvus with
// -rows rows of -dim float vectors, records where each WAL topic stood
// before and after, then runs each reader as a child process of this same
// binary (-role bare, -role input), one after the other, so the peak RSS the
// kernel reports for a child belongs to that reader alone. It prints one
// markdown table. Nothing here asserts on timings: this is a benchmark.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

// options are the command-line flags, shared by the parent and its children.
type options struct {
	rows, dim, batch, shards int
	source, pulsarURL        string
	keep, warmup             bool
	role                     string        // "" = parent; "bare" or "input" = child
	plan                     string        // child: the JSON file with the positions
	cpuProfile               string        // input child: write a CPU profile here
	timeout                  time.Duration // a child gives up after this long
}

func main() {
	o := parseFlags()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags() *options {
	o := &options{}
	flag.IntVar(&o.rows, "rows", 1000000, "rows to insert and read")
	flag.IntVar(&o.dim, "dim", 128, "dimension of the float vectors")
	flag.IntVar(&o.batch, "batch", 2000, "rows per insert (Milvus splits WAL messages over 5 MiB)")
	flag.IntVar(&o.shards, "shards", 2, "shards of the bench collection")
	flag.StringVar(&o.source, "source", envOr("MILVUS_SOURCE_ADDR", "127.0.0.1:19530"), "source Milvus address")
	flag.StringVar(&o.pulsarURL, "pulsar", envOr("PULSAR_URL", "pulsar://127.0.0.1:6650"), "Pulsar service URL of the source's WAL")
	flag.BoolVar(&o.keep, "keep", false, "do not drop the bench collection at the end, and keep the positions file (to rerun a reader by hand with -role and -plan)")
	flag.BoolVar(&o.warmup, "warmup", true, "drain the topics once, untimed, before measuring, so neither reader meets colder caches than the other")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the milvus_binlog input child to this file")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "a reader that has not finished after this long fails (a safety net, not a measurement)")
	flag.StringVar(&o.role, "role", "", "internal: bare or input, to run one reader as a child process")
	flag.StringVar(&o.plan, "plan", "", "internal: positions file written by the parent")
	flag.Parse()
	return o
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run(o *options) error {
	switch o.role {
	case "":
		return runParent(o)
	case roleBare, roleInput:
		return runChild(o)
	default:
		return fmt.Errorf("unknown -role %q (want %s or %s)", o.role, roleBare, roleInput)
	}
}

// runChild runs one reader over the positions in -plan and prints its result
// as one JSON line on stdout.
func runChild(o *options) error {
	p, err := readPlan(o.plan)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	var res result
	if o.role == roleBare {
		res, err = runBare(ctx, o, p)
	} else {
		res, err = runInput(ctx, o, p)
	}
	if err != nil {
		return fmt.Errorf("%s reader: %w", o.role, err)
	}
	return writeResult(os.Stdout, res)
}
