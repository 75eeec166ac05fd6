// Package contract owns every format that crosses a package or process
// boundary of milvus-cdc: op names and message metadata (milvus_binlog →
// milvus_apply), the checkpoint schema and the Redis key layout (streams ↔
// control plane), Pulsar topic names, Milvus status helpers and credential
// parsing, and how credentials are sealed at rest. It holds formats only: no I/O.
package contract
