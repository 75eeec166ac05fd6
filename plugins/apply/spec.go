// Package apply is the milvus_apply output: it applies milvus_binlog's changes to a target Milvus (plan, rows, DDL, admin ops).
package apply

import (
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/confcheck"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/milvusconn"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/taskstore"
)

// Field names of the milvus_apply output.
const (
	maoFieldCollectionMap = "collection_mapping"
	maoFieldDBMap         = "database_mapping"
	maoFieldMaxInFlight   = "max_in_flight"
	maoFieldBatching      = "batching"
	maoFieldRetryBackoff  = "retry_backoff"
	maoFieldMaxRetry      = "max_retry_duration"
	maoFieldReplicationID = "replication_id"
	maoFieldSourceCluster = "source_cluster"
	maoFieldAdopt         = "adopt_replications"
)

// outputLint is both the lint rule of the spec and a check of the
// constructor: a batch overtaking another would apply changes out of order;
// the task_store entries are the task store's.
const outputLint confcheck.Rule = `root = [
  if this.` + maoFieldMaxInFlight + `.or(1) != 1 { "` + maoFieldMaxInFlight + ` must be 1: changes are applied in source order" },` +
	taskstore.LintChecks + `
].filter(e -> e != null)`

func milvusApplyOutputSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Beta().
		Categories("Services").
		Version("0.1.0").
		Summary("Applies Milvus changes read by `milvus_binlog` to a target Milvus, in source order and idempotently, so the target becomes an exact copy of the source.").
		Description(outputDescription).
		Fields(milvusconn.Fields("127.0.0.1:19530")...).
		Fields(
			service.NewStringMapField(maoFieldDBMap).
				Description("Rename databases: source database → target database. Unlisted databases keep their name.").
				Default(map[string]any{}).Example(map[string]any{"default": "replica"}),
			service.NewStringMapField(maoFieldCollectionMap).
				Description("Rename collections: `db.collection` on the source → `db.collection` on the target (wins over `database_mapping`).").
				Default(map[string]any{}).Example(map[string]any{"default.products": "backup.products"}),
			service.NewOutputMaxInFlightField().
				Description("Must be 1: changes must be applied in source order.").
				Default(1).Advanced(),
			service.NewBatchPolicyField(maoFieldBatching),
			service.NewBackOffField(maoFieldRetryBackoff, false, nil).
				Description("Backoff between attempts while a change fails transiently (its max_elapsed_time is not used: see `"+maoFieldMaxRetry+"`)."),
			service.NewStringField(maoFieldReplicationID).
				Description("Names this replication in the tags of the collections it creates (`"+replicationProperty+"`; a control-plane task uses its task ID). It writes to and drops only collections it created or adopts (`"+maoFieldAdopt+"`): a target collection it did not create (untagged, or tagged by another replication) with the name of a source collection stops the output with an error naming it, and nothing is written to it or dropped.").
				Default("").Advanced(),
			service.NewStringField(maoFieldSourceCluster).
				Description("Names the source cluster (`<cluster prefix>@<host:port>`; a control-plane task sets it) in the tags of the collections this replication creates (`"+clusterProperty+"`). When set, a copy of another replication is adopted only if it carries the same source cluster.").
				Default("").Advanced(),
			service.NewStringListField(maoFieldAdopt).
				Description("Replications (their `"+maoFieldReplicationID+"`s) whose copies this replication takes over: a target collection tagged by one of them (and, when `"+maoFieldSourceCluster+"` is set, with that source cluster) counts as this replication's own. The first create_collection of the snapshot that meets such a copy drops it (and its aliases) and creates it again, so the snapshot makes it equal to the source, rows deleted on the source while no replication ran included; any other change that meets it first re-tags it as this replication's (`"+replicationProperty+"`) and applies as usual. The control plane lists here the earlier tasks of the same source cluster that no live task holds, when a new task is created over their copies.").
				Default([]any{}).Advanced(),
			service.NewDurationField(maoFieldMaxRetry).
				Description("How long one change may keep failing transiently before the output stops for good with its last error (0: retry until it succeeds or the stream stops). Waiting for the task's lease does not count.").
				Default("10m").Advanced(),
		).
		Field(taskstore.OutputField()).
		LintRule(outputLint.Text()).
		Example("Replicate the local stack", "", `
input:
  milvus_binlog:
    source:
      address: 127.0.0.1:19530
output:
  milvus_apply:
    address: 127.0.0.1:19540
    token: root:Milvus
`)
}

// outputDescription is the spec's description.
const outputDescription = `
Works against any normal Milvus 2.3+ (no special settings; the target stays writable and queryable). Each message
is one WAL message from ` + "`milvus_binlog`" + ` (` + "`format: protobuf`" + `) and is applied according to
` + "`milvus_op`" + `:

| source op | on the target |
|---|---|
| insert | upsert with the source's primary keys (a replay never doubles a row); consecutive inserts of one collection and partition are merged into one call (≤ 8 MiB), a key repeated in that call keeps its newest row |
| upsert (Insert + Delete, one ts) | one upsert; the Delete is not applied (it would remove the new rows) |
| delete | ` + "`pk in [...]`" + ` (≤ 4,096 keys per call), in the source's partition or all |
| create_collection | the source schema without the system fields, ` + "`AutoID`" + ` off, same shards, consistency level and properties, partition-key partitions; tagged ` + "`milvus_cdc.source_collection_id=<id>`" + ` (and ` + "`milvus_cdc.replication=<replication_id>`" + `, ` + "`milvus_cdc.source_cluster=<source_cluster>`" + `); once, though Milvus logs it per channel. A same-named target collection replication did not create (nor adopts, see ` + "`" + maoFieldAdopt + "`" + `) is a conflict: the output stops with an error naming it and never writes to or drops it. An adopted copy met by the snapshot's create_collection is dropped (its aliases first) and created again, so the snapshot's copy that follows makes it equal to the source |
| drop_collection | only if the target collection is this replication's copy of *that* source collection (the tags): Milvus writes drops late, sometimes after the name was reused |
| alter_collection | 2.3 logs no AlterCollection: the input asks the source for each followed collection's properties (every 3 s) and sends alter_collection when they change (e.g. ` + "`collection.ttl.seconds`" + `); the output sets them on its copy |
| partitions | create_partition: 2.3 logs no CreatePartition, so the input asks the source for the partitions of each collection it follows (every 3 s) and sends one create_partition per new partition, empty ones included; a partition named by rows is also created before them. drop_partition drops (releasing the partition first if needed) |
| create/drop index, load/release, flush | the client's request, re-sent with mapped names, to this replication's copies only (skipped when the target has no such collection); "already exists" / "not found" are success |
| create/drop database | create if missing; a drop first drops this replication's copies there, and keeps (with a warning) a database that still holds collections it did not create |

Idempotent by construction: replaying any suffix leaves the target unchanged. Rows are upserts and key deletes,
DDL is create-if-missing / drop-if-present, and the ownership tag makes a replayed or late message of an older
incarnation of a name a no-op (collection IDs only grow).

Errors are classed by the gRPC status of a transport failure and by the Milvus status (its retriable flag and
error code; the legacy error code from servers that send none), never by their text. Transport failures and
"not now" answers (not ready, rate limit, quota, data still loading, a replica, channel, segment or node
missing, an error Milvus did not classify) are transient: they are retried in place with
` + "`" + maoFieldRetryBackoff + "`" + `, so a later batch can never overtake, and each retry logs the target address. A
change still failing after ` + "`" + maoFieldMaxRetry + "`" + ` becomes permanent with its last error. Anything else
(invalid parameters, unknown database, index conflict, permission denied) is permanent at once: the output
stops, logs ` + "`milvus_apply stopped: <op> on <db>.<collection>: ...`" + `, and acknowledges nothing after it
(Connect keeps failing with that error until the pipeline is fixed and restarted; a control-plane task turns
Failed with it, and resume retries).`

func init() {
	err := service.RegisterBatchOutput("milvus_apply", milvusApplyOutputSpec(),
		func(conf *service.ParsedConfig, mgr *service.Resources) (service.BatchOutput, service.BatchPolicy, int, error) {
			var bp service.BatchPolicy
			maxInFlight, err := conf.FieldMaxInFlight()
			if err != nil {
				return nil, bp, 0, err
			}
			if bp, err = conf.FieldBatchPolicy(maoFieldBatching); err != nil {
				return nil, bp, 0, err
			}
			w, err := milvusApplyOutputFromParsed(conf, mgr)
			if err != nil {
				return nil, bp, 0, err
			}
			return w, bp, maxInFlight, nil
		})
	if err != nil {
		panic(err)
	}
}
