// Command milvus-cdc is the Benthos CLI (run, streams, lint, list, ...) with
// the Milvus CDC plugins built in, plus `milvus-cdc verify` (source vs. target
// comparison, see package verify).
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/all"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
)

// Set at build time with -ldflags "-X main.version=... -X main.dateBuilt=...".
var (
	version   = "dev"
	dateBuilt = "unknown"
)

// defaultMemoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT
// is set. A pipeline catching up holds WAL messages of up to 5 MiB in
// several bounded queues; without a limit the garbage collector lets the
// heap grow to twice the live data before it runs. The mapped binary adds
// ~46 MiB of RSS on top: at the source's top insert rate (bench/sustained)
// the worker's RSS peaked at 249 MiB with 192 MiB here and at 207 MiB with
// 160 MiB, at the same rate and lag.
const defaultMemoryLimit = 160 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	startPprof()
	// verify is ours, not a Benthos command: handle it before Benthos's CLI
	// parses the arguments.
	if len(os.Args) > 1 && os.Args[1] == "server" {
		os.Exit(runServer(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "docs" {
		os.Exit(runDocs(os.Args[2:], os.Stdout, os.Stderr))
	}
	if isVerify(os.Args) {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := verify.Main(ctx, os.Args[2:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	opts := []service.CLIOptFunc{
		service.CLIOptSetBinaryName("milvus-cdc"),
		service.CLIOptSetProductName("milvus-cdc"),
		service.CLIOptSetVersion(version, dateBuilt),
		service.CLIOptSetShowRunCommand(true),
		service.CLIOptSetArgs(hoistConfigFlag(os.Args)...),
	}
	if isWorker(os.Args) {
		// Behind the worker gateway (worker_gateway.go), with only the
		// components task streams use.
		opts = append(opts, service.CLIOptSetEnvironment(workerEnvironment()))
		os.Exit(runWorker(os.Args, opts))
	}
	service.RunCLI(context.Background(), opts...)
}
