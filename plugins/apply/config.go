package apply

import (
	"fmt"
	"strings"
	"time"

	cbackoff "github.com/cenkalti/backoff/v4"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/milvusconn"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/taskstore"
)

// applyConfig is the parsed output configuration.
type applyConfig struct {
	target        *milvusconn.Conn
	dbMap         map[string]string
	collectionMap map[string]contract.CollectionRef
	retry         *backoffFactory
	maxRetry      time.Duration // 0: retry transient failures without limit
	// replicationID: which target collections are this replication's
	// (replication_id, source_cluster, adopt_replications).
	replicationID replication
	// failures, status: the task store's failure and output status keys;
	// lease: the task's writer lease. Without a task_store (a pipeline on
	// its own) the writers write nothing and lease is nil; without a run,
	// lease is nil too.
	failures, status *taskstore.Writer
	lease            *lease.Config
}

// applyConfigFromParsed reads every field but the batch policy and
// max_in_flight, which the registration reads.
func applyConfigFromParsed(conf *service.ParsedConfig, res *service.Resources) (*applyConfig, error) {
	c := &applyConfig{collectionMap: map[string]contract.CollectionRef{}}
	var err error
	if c.target, err = milvusconn.FromParsed(conf, res); err != nil {
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
	if c.maxRetry, err = conf.FieldDuration(maoFieldMaxRetry); err != nil {
		return nil, err
	}
	if c.replicationID, err = replicationFromParsed(conf); err != nil {
		return nil, err
	}
	store, err := taskstore.FromParsed(conf, res)
	if err != nil {
		return nil, err
	}
	c.failures, c.status, c.lease = store.Failure(), store.OutputStatus(), store.Lease()
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
		c.collectionMap[from] = contract.CollectionRef{DB: db, Name: coll}
	}
	return c, nil
}

// mapName returns the target names of a source collection.
func (c *applyConfig) mapName(db, coll string) contract.CollectionRef {
	if to, ok := c.collectionMap[db+"."+coll]; ok {
		return to
	}
	return contract.CollectionRef{DB: c.mapDB(db), Name: coll}
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
