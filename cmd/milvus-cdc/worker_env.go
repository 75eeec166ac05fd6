package main

import (
	"github.com/redpanda-data/benthos/v4/public/bloblang"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// workerEnvironment is what `milvus-cdc streams` (a task worker) offers the
// stream configs posted to its streams API: the components task streams use
// and nothing that runs commands, starts processes, or reads or writes files
// (inputs, outputs, processors and Bloblang functions alike). `milvus-cdc
// run` keeps the full set the example pipelines need.
func workerEnvironment() *service.Environment {
	env := service.GlobalEnvironment().
		WithInputs("milvus_binlog").
		WithOutputs("milvus_apply").
		WithCaches("redis").
		WithProcessors().
		WithRateLimits().
		WithScanners()
	env.UseBloblangEnvironment(bloblang.GlobalEnvironment().WithoutFunctions("file", "file_rel", "env", "hostname", "os"))
	return env
}

// isWorker reports whether the command line starts a task worker (the
// streams sub command, after root flags or not; not its help).
func isWorker(args []string) bool {
	return streamsIndex(args) >= 0 && !wantsHelp(args)
}
