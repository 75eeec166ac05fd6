// Package taskstore is where a task stream keeps what the control plane
// reads and writes about its task: the checkpoint, the reason of a permanent
// failure, the progress of the input and of the output, and the writer
// lease with its run fence. A plugin's `task_store` block names the task
// and the store; every key is derived from package contract's layout, and
// every value is written by one Writer.
package taskstore

import (
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// Field names of the task_store block.
const (
	FieldTaskStore = "task_store"
	fieldCache     = "cache"
	fieldTask      = "task"
	fieldRun       = "run"
	fieldLeaseTTL  = "lease_ttl"
	fieldRedis     = "redis"
	fieldURL       = "url"
	fieldURLEnv    = "url_env"
	fieldPrefix    = "prefix"
	fieldTLS       = "tls"
)

// defaultLeaseTTL is the lease's default TTL (the control plane renders its
// own, the same).
const defaultLeaseTTL = 10 * time.Second

// LintChecks are the task_store entries of a plugin's lint rule (a Bloblang
// list of errors; confcheck runs the same rule in the constructor). The
// 100000000 is lease.MinTTL in nanoseconds (a test holds them together).
const LintChecks = `
  if this.` + FieldTaskStore + `.` + fieldTask + `.or("-") == "" { "` + FieldTaskStore + `.` + fieldTask + ` must name the task: its keys are derived from it" },
  if this.` + FieldTaskStore + `.` + fieldCache + `.or("-") == "" { "` + FieldTaskStore + `.` + fieldCache + ` must name a cache resource" },
  if this.` + FieldTaskStore + `.` + fieldLeaseTTL + `.or("10s").parse_duration().catch(0) < 100000000 { "` + FieldTaskStore + `.` + fieldLeaseTTL + ` must be a duration of at least 100ms" },
`

// InputField is the task_store block of milvus_binlog.
func InputField() *service.ConfigField {
	return service.NewObjectField(FieldTaskStore, commonFields()...).
		Description("The control-plane task this stream runs, and the task store (Redis) that keeps its keys. Every key is derived from `" + fieldTask + "` (package contract's layout, under the cache's prefix): the checkpoint `ckpt:<task>`, the reason of a permanent failure `failed:<task>` (the control plane marks the task Failed with it) and the input's progress `status_in:<task>` (applied-until, i.e. the lag, every 2 s). With a `" + fieldRun + "` every write is a compare-and-set on the task's run, so a stream the control plane paused, deleted or started elsewhere but cannot reach records nothing more. The control plane renders this block; a pipeline of its own sets `checkpoint_cache` instead (or this block, with a task name of its choosing and no run, to get the failure and progress keys too).").
		Example(map[string]any{fieldCache: "cdc_store", fieldTask: "t1", fieldRun: "9f2c", fieldRedis: map[string]any{fieldURLEnv: "REDIS_URL", fieldPrefix: "milvus-cdc:"}}).
		Optional().Advanced()
}

// OutputField is the task_store block of milvus_apply: the input's, plus
// the writer lease's TTL.
func OutputField() *service.ConfigField {
	fields := append(commonFields(), service.NewDurationField(fieldLeaseTTL).
		Description("How long the writer lease lives without renewal. The output renews it every tenth of this (so a call to the target has at least 70% of it) and stops applying once it could not for 90% of it; a task's next writer waits at most this long after a crash. Every call to the target ends a tenth of it before the lease could expire. Used with a `"+fieldRun+"`.").
		Default(defaultLeaseTTL.String()))
	return service.NewObjectField(FieldTaskStore, fields...).
		Description("The control-plane task this stream runs, and the task store (Redis) that keeps its keys. Every key is derived from `" + fieldTask + "` (package contract's layout, under the cache's prefix): the reason of a permanent failure `failed:<task>` (the control plane marks the task Failed with it) and the output's progress `status_out:<task>` (rows applied, retries, the last error; every 2 s). With a `" + fieldRun + "` the output holds the task's writer lease `lease:<task>` (one writer per task) and applies only while it does and the run is the task's current one, and its writes are compare-and-sets on the run: a writer that is frozen, partitioned, replaced or whose run ended applies and records nothing more. The control plane renders this block; a pipeline of its own leaves it out.").
		Example(map[string]any{fieldCache: "cdc_store", fieldTask: "t1", fieldRun: "9f2c", fieldLeaseTTL: "10s", fieldRedis: map[string]any{fieldURLEnv: "REDIS_URL", fieldPrefix: "milvus-cdc:"}}).
		Optional().Advanced()
}

func commonFields() []*service.ConfigField {
	return []*service.ConfigField{
		service.NewStringField(fieldCache).
			Description("The cache resource over the task store (a `redis` cache; a worker's is `cdc_store`). Without a `" + fieldRun + "` every key is written through it.").
			Example("cdc_store"),
		service.NewStringField(fieldTask).
			Description("The task's ID: every key of the task is derived from it.").
			Example("t1"),
		service.NewStringField(fieldRun).
			Description("The run this stream belongs to: the control plane starts each run of a task with a new one and writes it under `lease:<task>:run`. Set: the task's keys are written only while that key names this run (a compare-and-set in `" + fieldRedis + "`), and the output takes and keeps the writer lease only then. A store that lost its data (run key and the store's identity both gone: Redis flushed) fences nothing: the control plane starts and moves nothing then, and the writer already running goes on. Empty: no Redis is used; no lease, no fence.").
			Default(""),
		service.NewObjectField(fieldRedis, redisFields()...).
			Description("The Redis behind `" + fieldCache + "`, which the lease and the run fence use directly (their compare-and-set is a script, which a cache cannot run). Used with a `" + fieldRun + "` only."),
	}
}

func redisFields() []*service.ConfigField {
	return []*service.ConfigField{
		service.NewStringField(fieldURL).
			Description("The Redis URL (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS): the one `" + fieldCache + "` uses.").
			Default("redis://127.0.0.1:6379"),
		service.NewStringField(fieldURLEnv).
			Description("An environment variable holding the Redis URL, used instead of `" + fieldURL + "` when set: a password in it never shows in the stream's config. The control plane names `REDIS_URL`, which a worker's `cdc_store` cache reads too.").
			Default("").Example("REDIS_URL"),
		service.NewStringField(fieldPrefix).
			Description("The `prefix` of the cache resource: the lease and the fenced writes put it before every key, as the cache does.").
			Default("").Example("milvus-cdc:"),
		service.NewTLSToggledField(fieldTLS),
	}
}
