// Package all registers every Benthos plugin of milvus-cdc (import it for
// its side effect): the milvus_binlog input, the milvus_apply output and the
// redis cache.
package all

import (
	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/apply"
	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog"
	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/prometheus"
	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/redis"
)
