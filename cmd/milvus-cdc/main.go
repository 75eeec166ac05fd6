// Command milvus-cdc is the Benthos CLI (run, streams, lint, list, ...) with
// the Milvus CDC plugins built in.
package main

import (
	"context"
	"os"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/milvus"
	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/redis"
)

// Set at build time with -ldflags "-X main.version=... -X main.dateBuilt=...".
var (
	version   = "dev"
	dateBuilt = "unknown"
)

func main() {
	service.RunCLI(context.Background(),
		service.CLIOptSetBinaryName("milvus-cdc"),
		service.CLIOptSetProductName("milvus-cdc"),
		service.CLIOptSetVersion(version, dateBuilt),
		service.CLIOptSetShowRunCommand(true),
		service.CLIOptSetArgs(hoistConfigFlag(os.Args)...),
	)
}
