// Package binlog is the milvus_binlog input: it reads a source Milvus's
// write-ahead log through a log reader (package logreader), decodes it (wal),
// names and filters it (sourcemeta), repairs what the WAL got wrong
// (repair), merges every channel into timestamp order (order), and
// checkpoints only what the output acknowledged (checkpoint).
package binlog

import (
	"fmt"
	"strings"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/order"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/confcheck"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/milvusconn"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/taskstore"
)

// Field names of the milvus_binlog input.
const (
	mbiFieldPulsarURL        = "pulsar_url"
	mbiFieldPulsarToken      = "pulsar_token"
	mbiFieldPulsarTLS        = "pulsar_tls"
	mbiFieldTenant           = "tenant"
	mbiFieldNamespace        = "namespace"
	mbiFieldClusterPrefix    = "cluster_prefix"
	mbiFieldDMLChannels      = "dml_channels"
	mbiFieldReplicateChannel = "replicate_channel"
	mbiFieldSource           = "source"
	mbiFieldCollections      = "collections"
	mbiFieldStartFrom        = "start_from"
	mbiFieldFormat           = "format"
	mbiFieldCheckpointCache  = "checkpoint_cache"
	mbiFieldCheckpointKey    = "checkpoint_key"
	mbiFieldCheckpointLimit  = "checkpoint_limit"
	mbiFieldAutoReplayNacks  = "auto_replay_nacks"
	mbiFieldBatching         = "batching"
	mbiFieldIdleChannel      = "idle_channel_timeout"
	mbiFieldQueueSize        = "channel_queue_size"
	mbiFieldQueueBytes       = "channel_queue_bytes"
	mbiFieldOrdering         = "ordering"

	mbiFieldStreamSnapshot       = "stream_snapshot"
	mbiFieldSnapshotBatchSize    = "snapshot_max_batch_size"
	mbiFieldSnapshotParallelColl = "max_parallel_snapshot_collections"
)

// defaultCheckpointKey is checkpoint_key's default (a task_store's
// checkpoint key is the task's).
const defaultCheckpointKey = "milvus_binlog_position"

func milvusBinlogInputSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Beta().
		Categories("Services").
		Version("0.1.0").
		Summary("Streams the changes of a Milvus 2.3 database (inserts, deletes, upserts, collection, partition, index and database operations) by reading its write-ahead log from Apache Pulsar.").
		Description(inputDescription+metadataDocs()+inputDescriptionCheckpoints).
		Fields(logFields()...).
		Fields(selectionFields()...).
		Fields(checkpointFields()...).
		Fields(tuningFields()...).
		Field(taskstore.InputField()).
		LintRule(inputLint.Text()).
		Example("Replicate to another Milvus", "Read every change and apply it to a second Milvus, checkpointing in Redis.", exampleReplicate).
		Example("Changes as JSON lines", "Write one JSON object per changed row to a file.", exampleJSONLines)
}

// logFields are where the log is and the source it belongs to.
func logFields() []*service.ConfigField {
	return []*service.ConfigField{
		service.NewStringField(mbiFieldPulsarURL).
			Description("Pulsar service URL of the source Milvus's message queue.").
			Example("pulsar://127.0.0.1:6650").Example("pulsar+ssl://pulsar.example.com:6651").
			Default("pulsar://127.0.0.1:6650"),
		service.NewStringField(mbiFieldPulsarToken).
			Description("Pulsar JWT authentication token; empty when authentication is off.").
			Default("").Secret(),
		service.NewTLSToggledField(mbiFieldPulsarTLS),
		service.NewStringField(mbiFieldTenant).Description("Pulsar tenant of the Milvus topics.").Default("public").Advanced(),
		service.NewStringField(mbiFieldNamespace).Description("Pulsar namespace of the Milvus topics.").Default("default").Advanced(),
		service.NewStringField(mbiFieldClusterPrefix).
			Description("Milvus `msgChannel.chanNamePrefix.cluster`: the prefix of every topic name.").
			Default("by-dev"),
		service.NewIntField(mbiFieldDMLChannels).
			Description("Milvus `rootCoord.dmlChannelNum`: how many physical DML channels the source has.").
			Default(16),
		service.NewStringField(mbiFieldReplicateChannel).
			Description("Milvus `msgChannel.chanNamePrefix.replicateMsg`: suffix of the replicate channel topic. Empty disables it (then flush, index, load/release and database operations are not seen).").
			Default("replicate-msg"),
		service.NewObjectField(mbiFieldSource, milvusconn.Fields("127.0.0.1:19530")...).
			Description("The source Milvus itself, asked for database and collection names (its WAL carries only IDs)."),
	}
}

// selectionFields say what is read, from where, and how it is rendered.
func selectionFields() []*service.ConfigField {
	return []*service.ConfigField{
		service.NewStringListField(mbiFieldCollections).
			Description("Collections to stream, as `db.collection` patterns whose parts are globs (`*`, `?`, `[...]`). A pattern without a dot matches that collection in every database.").
			Example([]string{"*.*"}).Example([]string{"default.products", "analytics.*"}).
			Default([]string{"*.*"}),
		service.NewStringEnumField(mbiFieldStartFrom, startEarliest, startLatest, startCheckpoint).
			Description("Where to start when no checkpoint is stored: `earliest` (everything Pulsar still retains), `latest` (only new changes), or `checkpoint` (without a stored checkpoint the input stops for good and reports why: a lost checkpoint never silently restarts elsewhere).").
			Default(startEarliest),
		service.NewBoolField(mbiFieldStreamSnapshot).
			Description("Copy what the source already holds before streaming (see Snapshot). Only when no checkpoint is stored; a snapshot cut short goes on where it was on the next start. Needs a checkpoint (`checkpoint_cache`, or a `task_store`). A fresh start with a snapshot streams from the positions pinned before the copy, whatever `start_from` says (`start_from: checkpoint` still refuses to start without a stored checkpoint).").
			Default(false),
		service.NewIntField(mbiFieldSnapshotBatchSize).
			Description("Rows per query while copying (at most 16384, Milvus's limit); one page is one message.").
			Default(2000).Advanced(),
		service.NewIntField(mbiFieldSnapshotParallelColl).
			Description("Collections copied at once, and partitions of one collection copied at once.").
			Default(1).Advanced(),
		service.NewStringEnumField(mbiFieldFormat, formatProtobuf, formatJSON).
			Description("Body of each message: `protobuf` (the original WAL payload, what `milvus_apply` consumes) or `json` (one object per row / key / operation, for any other output).").
			Default(formatProtobuf),
	}
}

// checkpointFields say where the read positions are kept, for a pipeline of its own.
func checkpointFields() []*service.ConfigField {
	return []*service.ConfigField{
		service.NewStringField(mbiFieldCheckpointCache).
			Description("A cache resource to store the read positions in (e.g. a `redis` cache in production), for a pipeline of its own; a control-plane task's stream keeps them in its `task_store` instead. Empty (and no `task_store`): no checkpoints, every start uses `start_from`.").
			Default("").Example("milvus_checkpoints"),
		service.NewStringField(mbiFieldCheckpointKey).
			Description("The key under which positions are stored in `checkpoint_cache`; one per pipeline. Not used with a `task_store`.").
			Default(defaultCheckpointKey),
		service.NewIntField(mbiFieldCheckpointLimit).
			Description("The maximum number of messages that can be in flight (not yet acknowledged) at once. Checkpoints only advance over acknowledged messages.").
			Default(1024),
		service.NewAutoRetryNacksToggleField(),
		service.NewBatchPolicyField(mbiFieldBatching),
	}
}

// tuningFields bound what is in flight and buffered, and order the output.
func tuningFields() []*service.ConfigField {
	return []*service.ConfigField{
		service.NewDurationField(mbiFieldIdleChannel).
			Description("A DML channel that shows nothing (not even a time tick) for this long no longer holds the merge back (no collection uses it), but only while its reader is idle and Pulsar confirms the reader has the topic's last message (checked every second, trusted for 2 s): a reader that is reconnecting or stuck keeps holding the merge.").
			Default("2s").Advanced(),
		service.NewStringEnumField(mbiFieldOrdering, order.OrderingKey, order.OrderingTotal).
			Description("`key`: inserts and deletes are released on arrival, in order per primary key, everything else in source timestamp order (see Order). `total`: every message in source timestamp order, e.g. for a log that must hold one global order.").
			Default(order.OrderingKey),
		service.NewIntField(mbiFieldQueueSize).
			Description("Decoded messages buffered per channel while the merge waits for other channels.").
			Default(1024).Advanced(),
		service.NewIntField(mbiFieldQueueBytes).
			Description("Payload bytes buffered per channel while the merge waits for other channels; bounds memory when one channel runs ahead (insert messages reach 5 MiB).").
			Default(8 << 20).Advanced(),
	}
}

// inputLint is every check of the config that needs no resources: `lint`
// reports it and the constructor refuses it. A collections pattern has
// contract.PatternShape; the task_store entries are the task store's.
const inputLint confcheck.Rule = `root = [
  if this.dml_channels.or(16) <= 0 { "dml_channels must be positive" },
  if this.checkpoint_limit.or(1024) <= 0 { "checkpoint_limit must be positive" },
  if this.channel_queue_size.or(1024) <= 0 { "channel_queue_size must be positive" },
  if this.channel_queue_bytes.or(1) <= 0 { "channel_queue_bytes must be positive" },
  if this.idle_channel_timeout.or("2s").parse_duration().catch(0) < 1000000 { "idle_channel_timeout must be a duration of at least 1ms" },
  if this.start_from.or("") == "checkpoint" && this.checkpoint_cache.or("") == "" && this.task_store == null { "start_from: checkpoint needs a checkpoint_cache or a task_store" },
  if this.stream_snapshot.or(false) && this.checkpoint_cache.or("") == "" && this.task_store == null { "stream_snapshot needs a checkpoint_cache or a task_store (the copy's progress and the pinned positions are kept with the checkpoint)" },
  if this.task_store != null && (this.checkpoint_cache.or("") != "" || this.checkpoint_key.or("` + defaultCheckpointKey + `") != "` + defaultCheckpointKey + `") { "a task_store says where the checkpoint goes (ckpt:<task> in its cache): drop checkpoint_cache and checkpoint_key" },
  if this.snapshot_max_batch_size.or(2000) <= 0 || this.snapshot_max_batch_size.or(2000) > 16384 { "snapshot_max_batch_size must be between 1 and 16384" },
  if this.max_parallel_snapshot_collections.or(1) <= 0 { "max_parallel_snapshot_collections must be positive" },
  if !["key", "total"].contains(this.ordering.or("key")) { "ordering must be key or total" },
  if !this.pulsar_url.or("pulsar://").re_match("^pulsar(\\+ssl)?://.+") { "pulsar_url must start with pulsar:// or pulsar+ssl://" },
  if this.pulsar_tls.enabled.or(false) && !this.pulsar_url.or("pulsar://").has_prefix("pulsar+ssl://") { "pulsar_tls is enabled but pulsar_url does not start with pulsar+ssl:// (Pulsar's TLS port)" },
  if this.collections.type() == "array" && this.collections.any(p -> !p.string().trim().re_match("` + contract.PatternShape + `")) { "every collections pattern must be 'collection' or 'db.collection'" },` +
	taskstore.LintChecks + `
].filter(e -> e != null)`

func init() {
	err := service.RegisterBatchInput("milvus_binlog", milvusBinlogInputSpec(),
		func(conf *service.ParsedConfig, mgr *service.Resources) (service.BatchInput, error) {
			in, err := milvusBinlogInputFromParsed(conf, mgr)
			if err != nil {
				return nil, err
			}
			return service.AutoRetryNacksBatchedToggled(conf, in)
		})
	if err != nil {
		panic(err)
	}
}

// inputDescription is the spec's description up to the metadata list,
// inputDescriptionCheckpoints what follows it.
const (
	inputDescription = `
Milvus writes every change to a write-ahead log before applying it: one Pulsar topic per physical DML channel
(` + "`{cluster_prefix}-rootcoord-dml_0`" + ` ... ` + "`_{dml_channels-1}`" + `) plus a replicate channel that
carries flush, index, load/release and database operations. This input opens one Pulsar reader per channel,
decodes each message with the Milvus protobuf types, and merges all channels. Time ticks themselves are not
emitted. Messages that were written by replication (` + "`Base.ReplicateInfo.IsReplicate`" + `) are skipped, so
active-active setups do not loop.

### Order

A time tick t of a channel promises that nothing older than t follows on it. With ` + "`ordering: total`" + ` a message
with timestamp t is released only when every channel that still produces has shown a tick >= t: one global
source commit order, at the cost of waiting for the ticks (Milvus ticks every 200 ms by default).

With ` + "`ordering: key`" + ` (the default) an insert or delete is released as soon as it heads its channel's queue. A
row's final state depends only on the order of the changes to its own primary key, and Milvus writes every key
of a collection to one channel, always in the same place relative to the collection's other operations. Within
a channel, writes of several proxies (or writes Milvus re-publishes after a Pulsar outage) can arrive out of
timestamp order until the channel's next tick; the input keeps each key right anyway: it remembers the writes
read since the channel's last tick, releases a late write whose keys no newer write touched as it is, and
follows one whose keys a newer write touched by copies of the newer writes of its collection, in timestamp
order, so the newest change of each key is applied last (no source query: this works on collections that are
not loaded too). A write older than the channel's last tick (Milvus re-publishes timed-out writes after a
Pulsar outage), and a reconnect to Pulsar, open a 60 s window in which each write is replaced by the source's
current rows for its keys. Everything else stays
in total order: a collection, partition, database, rename, alias, index, load, release or flush operation is
released only when every channel ticked past it and every older message went first, and a channel's messages
are released in the order they were read, so rows written after their collection's create (which Milvus writes
to each of the collection's channels) wait for it. What changes for a consumer: a row may come before rows of
other keys with older timestamps, and before older operations read from other channels (another collection's
create or drop, an index, load or flush request, a database operation); the changes of one key keep timestamp
order, a row never passes what its own channel carried before it (its collection's create, a partition drop),
and an operation that is not a row change comes after every message older than it. A consumer that needs one
global order (a log) sets ` + "`ordering: total`" + `.

Milvus 2.3 logs no CreatePartition and no AlterCollection. Every 3 seconds each channel asks the source
(` + "`ShowPartitions`" + `, ` + "`DescribeCollection`" + `) for the partitions and properties of the collections it has
seen created or written, and emits, at one of the channel's time ticks, a ` + "`create_partition`" + ` event for each
partition not yet shown and an ` + "`alter_collection`" + ` event when the properties changed: a partition with no
rows, and a TTL set after creation, reach the target too.

Each message's body is the original protobuf payload (` + "`format: protobuf`" + `) or JSON (` + "`format: json`" + `:
one object per inserted row, per deleted key and per DDL operation).
`
	inputDescriptionCheckpoints = `
### Checkpoints

Positions are written to ` + "`checkpoint_cache`" + ` under ` + "`checkpoint_key`" + ` (a control-plane task's stream: to its
` + "`task_store`" + `, under ` + "`ckpt:<task>`" + `) only after the output acknowledged a message and every message before it,
per channel. A stored checkpoint always wins over ` + "`start_from`" + `, which
only says where to begin when there is none. When a stored position no longer exists in Pulsar (retention removed
it) the input fails with an error instead of skipping data.

### Snapshot

With ` + "`stream_snapshot: true`" + ` and no checkpoint stored, the input first pins the end of every channel (the
checkpoint is written there at once), then copies what the source already holds for every selected collection:
the database, the collection with its schema and properties, every partition (empty ones too) and every index,
then every row, page by page in primary-key order at a guarantee timestamp taken after the pin, then aliases and
the load state. Only then does it stream, from the pinned positions: a change made during the copy is in the copy
or after the pin (often both), and the output applies it again idempotently (inserts are upserts), so the target
ends equal to the source with nothing missing and nothing doubled. Progress (per partition, the last primary key
the output acknowledged) is kept in the checkpoint: a restart goes on from there, not from zero. A collection that
is not loaded on the source is loaded for the copy and released after it. Snapshot messages carry the metadata
` + "`milvus_snapshot: true`" + `.`
)

// metadataDocs lists the metadata keys of every message (contract.Meta).
func metadataDocs() string {
	var b strings.Builder
	b.WriteString("\n### Metadata\n\n")
	for _, kv := range contract.MetaDocs {
		fmt.Fprintf(&b, "- `%s`: %s\n", kv[0], kv[1])
	}
	return b.String()
}

// The spec's examples.
const (
	exampleReplicate = `
input:
  milvus_binlog:
    pulsar_url: pulsar://127.0.0.1:6650
    source:
      address: 127.0.0.1:19530
    checkpoint_cache: positions
output:
  milvus_apply:
    address: 127.0.0.1:19540
cache_resources:
  - label: positions
    redis:
      url: redis://127.0.0.1:6379
`
	exampleJSONLines = `
input:
  milvus_binlog:
    format: json
    collections: [ "default.*" ]
output:
  file:
    path: ./changes.jsonl
    codec: lines
`
)
