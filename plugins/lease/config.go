package lease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Field names of the lease block.
const (
	fieldLease  = "lease"
	fieldURL    = "url"
	fieldURLEnv = "url_env"
	fieldKey    = "key"
	fieldTTL    = "ttl"
	fieldRun    = "run"
	fieldPrefix = "store_prefix"
)

// Field is the `lease` block of a writer's config.
func Field() *service.ConfigField {
	return service.NewObjectField(fieldLease, fields()...).
		Description("One writer per task: the output applies only while it holds this lease in Redis. A writer that loses it (frozen, partitioned, replaced, its run ended) applies nothing more.").Advanced()
}

// FenceField is the `lease` block of a reader that writes a task's store
// keys (checkpoint, status, failure) but applies nothing: only its run fence
// is used.
func FenceField() *service.ConfigField {
	return service.NewObjectField(fieldLease, fields()...).
		Description("The task's lease, for its run fence: with a `" + fieldRun + "`, the checkpoint, status and failure are written only while the task's current run is this stream's, so a stream the control plane paused, deleted or replaced but cannot reach moves nothing. The lease itself is held by the output.").Advanced()
}

func fields() []*service.ConfigField {
	return []*service.ConfigField{
		service.NewStringField(fieldURL).
			Description("Redis URL holding the lease (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS). Empty: no lease (a pipeline run on its own).").
			Default("").Example("redis://127.0.0.1:6379"),
		service.NewStringField(fieldURLEnv).
			Description("An environment variable holding the Redis URL, used instead of `" + fieldURL + "` when set: a password in it then never shows in the stream's config.").
			Default("").Example("REDIS_URL"),
		service.NewStringField(fieldKey).
			Description("The lease's key (the control plane uses `<prefix>lease:<task id>`).").
			Default(""),
		service.NewDurationField(fieldTTL).
			Description("How long a lease lives without renewal. The writer renews it every third of this and stops applying once it could not for 90% of it; a task's next writer waits at most this long after a crash. Every call to the target ends a tenth of it before the lease could expire.").
			Default("10s"),
		service.NewStringField(fieldRun).
			Description("The run this stream belongs to (the control plane starts each run of a task with a new one and writes it to `<key>:run`). Set: the lease is taken and kept only while `<key>:run` names this run, and the task's checkpoint, status and failure are written only then (a compare-and-set), so a stream the control plane cannot reach stops writing as soon as its task is paused, deleted or run elsewhere. A store that lost its data (run key and the store's identity both gone: Redis flushed) fences nothing: the control plane starts and moves nothing then, and the writer already running goes on. Empty: no run fence.").
			Default(""),
		service.NewStringField(fieldPrefix).
			Description("The prefix of the task store's keys (the `prefix` of the cache the checkpoint, status and failure are written to): with a `" + fieldRun + "`, those keys are written under it through the run fence instead of through the cache.").
			Default(""),
	}
}

// Config is a parsed lease block; nil when no lease is configured.
type Config struct {
	opts   *goredis.Options
	key    string
	ttl    time.Duration
	run    string
	prefix string
}

// ConfigFromParsed reads the lease block of conf.
func ConfigFromParsed(conf *service.ParsedConfig) (*Config, error) {
	ns := conf.Namespace(fieldLease)
	url, err := ns.FieldString(fieldURL)
	if err != nil {
		return nil, err
	}
	urlEnv, err := ns.FieldString(fieldURLEnv)
	if err != nil {
		return nil, err
	}
	if v := os.Getenv(urlEnv); urlEnv != "" && v != "" {
		url = v
	}
	if url == "" {
		return nil, nil
	}
	c := &Config{}
	if c.key, err = ns.FieldString(fieldKey); err != nil {
		return nil, err
	}
	if c.ttl, err = ns.FieldDuration(fieldTTL); err != nil {
		return nil, err
	}
	if c.run, err = ns.FieldString(fieldRun); err != nil {
		return nil, err
	}
	if c.prefix, err = ns.FieldString(fieldPrefix); err != nil {
		return nil, err
	}
	if c.key == "" || c.ttl < 100*time.Millisecond {
		return nil, errors.New("lease: a url needs a key and a ttl of at least 100ms")
	}
	if c.opts, err = goredis.ParseURL(url); err != nil {
		return nil, fmt.Errorf("lease url: %w", err)
	}
	return c, nil
}

// Acquire waits for and takes the lease (see the package Acquire).
func (c *Config) Acquire(ctx context.Context, log *service.Logger) (*Lease, error) {
	rdb := goredis.NewClient(c.opts)
	l, err := Acquire(ctx, rdb, c.key, c.ttl, c.fenceRun(), log)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return l, nil
}

// Fence returns the run fence for the task store's writes; nil when no run
// is configured (the writes then go through the cache unfenced).
func (c *Config) Fence() *Fence {
	if c == nil || c.run == "" {
		return nil
	}
	return &Fence{rdb: goredis.NewClient(c.opts), runKey: RunKey(c.key), run: c.fenceRun(), prefix: c.prefix}
}

func (c *Config) fenceRun() Run {
	return Run{ID: c.run, StoreIDKey: c.prefix + contract.KeyStoreID}
}
