package milvus

import (
	"fmt"
	"strings"

	cbackoff "github.com/cenkalti/backoff/v4"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// Field names of the milvus_apply output.
const (
	maoFieldCollectionMap = "collection_mapping"
	maoFieldDBMap         = "database_mapping"
	maoFieldMaxInFlight   = "max_in_flight"
	maoFieldBatching      = "batching"
	maoFieldRetryBackoff  = "retry_backoff"
)

func milvusApplyOutputSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Beta().
		Categories("Services").
		Version("0.1.0").
		Summary("Applies Milvus changes read by `milvus_binlog` to a target Milvus, in source order and idempotently, so the target becomes an exact copy of the source.").
		Description(`
Works against any normal Milvus 2.3+ (no special settings; the target stays writable and queryable). Each message
is one WAL message from `+"`milvus_binlog`"+` (`+"`format: protobuf`"+`) and is applied according to `+"`milvus_op`"+`:

- insert: written as an upsert with the source's primary keys, so a replayed insert never doubles a row;
- delete: delete by primary key; an Insert+Delete pair marked `+"`milvus_upsert`"+` is applied as one upsert;
- create_collection: the source schema (fields, types, params, description, shards, consistency level, dynamic
  field) with `+"`AutoID`"+` off, so keys match; created only if missing;
- drop_collection, create/drop partition, create/drop index (same name and params), load/release, flush,
  create/drop database: each applied only if it changes something, once even when the source broadcast it on
  several channels.

Consecutive row operations on one collection are sent in one call. While the target is unreachable the output
retries with backoff and acknowledges nothing; a permanent error (e.g. the target has a collection of that name
with another schema) stops the stream with an error naming the collection and the operation.`).
		Fields(milvusConnFields("127.0.0.1:19530")...).
		Fields(
			service.NewStringMapField(maoFieldDBMap).
				Description("Rename databases: source database → target database. Unlisted databases keep their name.").
				Default(map[string]any{}).Example(map[string]any{"default": "replica"}),
			service.NewStringMapField(maoFieldCollectionMap).
				Description("Rename collections: `db.collection` on the source → `db.collection` on the target (wins over `database_mapping`).").
				Default(map[string]any{}).Example(map[string]any{"default.products": "backup.products"}),
			service.NewOutputMaxInFlightField().
				Description("Keep at 1: changes must be applied in source order.").
				Default(1).Advanced(),
			service.NewBatchPolicyField(maoFieldBatching),
			service.NewBackOffField(maoFieldRetryBackoff, false, nil).
				Description("Backoff between attempts while the target is unreachable; it retries until it succeeds or the stream stops."),
		).
		Fields(failureReportFields()...).
		LintRule(`root = if this.max_in_flight.or(1) != 1 { [ "max_in_flight must be 1: changes are applied in source order" ] }`).
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

// applyConfig is the parsed output configuration.
type applyConfig struct {
	target        *milvusConn
	dbMap         map[string]string
	collectionMap map[string]collectionRef
	retry         *backoffFactory
	failures      *failureReporter
}

func applyConfigFromParsed(conf *service.ParsedConfig, res *service.Resources) (*applyConfig, error) {
	c := &applyConfig{collectionMap: map[string]collectionRef{}}
	var err error
	if c.target, err = milvusConnFromParsed(conf, res); err != nil {
		return nil, err
	}
	if c.dbMap, err = conf.FieldStringMap(maoFieldDBMap); err != nil {
		return nil, err
	}
	bo, err := conf.FieldBackOff(maoFieldRetryBackoff)
	if err != nil {
		return nil, err
	}
	c.retry = &backoffFactory{proto: bo}
	if c.failures, err = failureReporterFromParsed(conf, res); err != nil {
		return nil, err
	}
	cm, err := conf.FieldStringMap(maoFieldCollectionMap)
	if err != nil {
		return nil, err
	}
	for from, to := range cm {
		if !strings.Contains(from, ".") {
			return nil, fmt.Errorf("%s key %q: want `db.collection`", maoFieldCollectionMap, from)
		}
		db, coll, ok := strings.Cut(to, ".")
		if !ok || db == "" || coll == "" {
			return nil, fmt.Errorf("%s value %q: want `db.collection`", maoFieldCollectionMap, to)
		}
		c.collectionMap[from] = collectionRef{DB: db, Name: coll}
	}
	return c, nil
}

// mapName returns the target names of a source collection.
func (c *applyConfig) mapName(db, coll string) collectionRef {
	if to, ok := c.collectionMap[db+"."+coll]; ok {
		return to
	}
	return collectionRef{DB: c.mapDB(db), Name: coll}
}

// mapDB returns the target name of a source database.
func (c *applyConfig) mapDB(db string) string {
	if to, ok := c.dbMap[db]; ok {
		return to
	}
	return db
}

// backoffFactory hands out fresh copies of the configured backoff.
type backoffFactory struct{ proto *cbackoff.ExponentialBackOff }

func (f *backoffFactory) NewBackOff() *cbackoff.ExponentialBackOff {
	b := *f.proto
	b.MaxElapsedTime = 0 // retry until it works or the stream stops
	b.Reset()
	return &b
}
