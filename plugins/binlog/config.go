package binlog

import (
	"fmt"
	"slices"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/milvusconn"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/taskstore"
)

// binlogConfig is the parsed configuration of the input.
type binlogConfig struct {
	pulsar            logreader.PulsarConfig
	source            *milvusconn.Conn
	filter            *collectionFilter
	startFrom, format string
	// cacheName, cacheKey: where the checkpoint is kept (checkpoint_cache
	// and checkpoint_key, or the task store's).
	cacheName, cacheKey   string
	checkpointLimit       int
	batching              service.BatchPolicy
	idleAfter             time.Duration
	queueSize, queueBytes int
	// failures, status: the task store's failure and input status keys
	// (disabled without a task store).
	failures, status *taskstore.Writer
	// fence: the task's run fence for the checkpoint, status and failure
	// writes (nil: written through the cache unfenced).
	fence            *lease.Fence
	streamSnapshot   bool
	snapshotBatch    int
	snapshotParallel int
	ordering         string
}

func binlogConfigFromParsed(conf *service.ParsedConfig, mgr *service.Resources) (*binlogConfig, error) {
	if err := inputLint.Check(conf); err != nil {
		return nil, err
	}
	c := &binlogConfig{}
	if err := c.scalarsFromParsed(conf); err != nil {
		return nil, err
	}
	if err := c.connectionsFromParsed(conf, mgr); err != nil {
		return nil, err
	}
	pats, err := conf.FieldStringList(mbiFieldCollections)
	if err != nil {
		return nil, err
	}
	if c.filter, err = newCollectionFilter(pats); err != nil {
		return nil, err
	}
	if c.batching, err = conf.FieldBatchPolicy(mbiFieldBatching); err != nil {
		return nil, err
	}
	if c.idleAfter, err = conf.FieldDuration(mbiFieldIdleChannel); err != nil {
		return nil, err
	}
	if c.cacheName != "" && !mgr.HasCache(c.cacheName) {
		return nil, fmt.Errorf("%s %q is not a cache resource", mbiFieldCheckpointCache, c.cacheName)
	}
	// Last: the run fence it may open is the input's to close.
	if err := c.taskStoreFromParsed(conf, mgr); err != nil {
		return nil, err
	}
	return c, nil
}

// scalarsFromParsed reads the string, number and flag fields.
func (c *binlogConfig) scalarsFromParsed(conf *service.ParsedConfig) error {
	t := &c.pulsar.Topics
	var err error
	str := func(name string, dst *string) {
		if err == nil {
			*dst, err = conf.FieldString(name)
		}
	}
	num := func(name string, dst *int) {
		if err == nil {
			*dst, err = conf.FieldInt(name)
		}
	}
	str(mbiFieldPulsarURL, &c.pulsar.URL)
	str(mbiFieldPulsarToken, &c.pulsar.Token)
	str(mbiFieldTenant, &t.Tenant)
	str(mbiFieldNamespace, &t.Namespace)
	str(mbiFieldClusterPrefix, &t.Prefix)
	num(mbiFieldDMLChannels, &t.DMLChannels)
	str(mbiFieldReplicateChannel, &t.Replicate)
	str(mbiFieldStartFrom, &c.startFrom)
	str(mbiFieldFormat, &c.format)
	str(mbiFieldOrdering, &c.ordering)
	str(mbiFieldCheckpointCache, &c.cacheName)
	str(mbiFieldCheckpointKey, &c.cacheKey)
	num(mbiFieldCheckpointLimit, &c.checkpointLimit)
	num(mbiFieldQueueSize, &c.queueSize)
	num(mbiFieldQueueBytes, &c.queueBytes)
	num(mbiFieldSnapshotBatchSize, &c.snapshotBatch)
	num(mbiFieldSnapshotParallelColl, &c.snapshotParallel)
	if err == nil {
		c.streamSnapshot, err = conf.FieldBool(mbiFieldStreamSnapshot)
	}
	if err != nil {
		return err
	}
	// Benthos lints enum values but hands any string to the constructor.
	if !slices.Contains([]string{startEarliest, startLatest, startCheckpoint}, c.startFrom) {
		return fmt.Errorf("%s %q: want earliest, latest or checkpoint", mbiFieldStartFrom, c.startFrom)
	}
	if c.format != formatProtobuf && c.format != formatJSON {
		return fmt.Errorf("%s %q: want protobuf or json", mbiFieldFormat, c.format)
	}
	return nil
}

// connectionsFromParsed reads Pulsar's TLS and the source Milvus.
func (c *binlogConfig) connectionsFromParsed(conf *service.ParsedConfig, mgr *service.Resources) error {
	// pulsar-client-go speaks TLS only to a pulsar+ssl:// URL; inputLint
	// refuses TLS settings beside a plain URL.
	tlsConf, tlsOn, err := conf.FieldTLSToggled(mbiFieldPulsarTLS)
	if err != nil {
		return err
	}
	if tlsOn {
		c.pulsar.TLS = tlsConf
	}
	if c.source, err = milvusconn.FromParsed(conf.Namespace(mbiFieldSource), mgr); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	return nil
}

// topics names the log's channels.
func (c *binlogConfig) topics() contract.Topics { return c.pulsar.Topics }

// taskStoreFromParsed reads the task_store block: with one, the checkpoint
// is the task's (inputLint refuses a checkpoint_cache beside it), and the
// failure and status keys and the run fence come with it.
func (c *binlogConfig) taskStoreFromParsed(conf *service.ParsedConfig, mgr *service.Resources) error {
	store, err := taskstore.FromParsed(conf, mgr)
	if err != nil || store == nil {
		return err
	}
	c.cacheName, c.cacheKey = store.Cache(), store.CheckpointKey()
	c.failures, c.status = store.Failure(), store.InputStatus()
	c.fence = store.Fence()
	c.failures.Fenced(c.fence)
	c.status.Fenced(c.fence)
	return nil
}
