package taskstore

import (
	"fmt"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
)

// Store is a parsed task_store block: one task's keys in one store. A nil
// Store (no block) has no keys: its writers write nothing, and it has no
// lease.
type Store struct {
	res   *service.Resources
	cache string
	task  string
	lease *lease.Config // nil: no run, so no lease and no fence
}

// FromParsed reads the task_store block of conf; nil when there is none.
func FromParsed(conf *service.ParsedConfig, res *service.Resources) (*Store, error) {
	if !conf.Contains(FieldTaskStore) {
		return nil, nil
	}
	ns := conf.Namespace(FieldTaskStore)
	s := &Store{res: res}
	var err error
	if s.cache, err = ns.FieldString(fieldCache); err != nil {
		return nil, err
	}
	if s.task, err = ns.FieldString(fieldTask); err != nil {
		return nil, err
	}
	if s.task == "" {
		return nil, fmt.Errorf("%s.%s is empty: the task's keys are derived from it", FieldTaskStore, fieldTask)
	}
	if !res.HasCache(s.cache) {
		return nil, fmt.Errorf("%s.%s %q is not a cache resource", FieldTaskStore, fieldCache, s.cache)
	}
	run, err := ns.FieldString(fieldRun)
	if err != nil || run == "" {
		return s, err
	}
	if s.lease, err = leaseFromParsed(ns, s.task, run); err != nil {
		return nil, fmt.Errorf("%s: %w", FieldTaskStore, err)
	}
	return s, nil
}

// leaseFromParsed reads the lease of task `task` for run `run`: the Redis
// block and the TTL (the output's; the input only fences, any valid TTL does).
func leaseFromParsed(ns *service.ParsedConfig, task, run string) (*lease.Config, error) {
	ttl := defaultLeaseTTL
	if ns.Contains(fieldLeaseTTL) {
		var err error
		if ttl, err = ns.FieldDuration(fieldLeaseTTL); err != nil {
			return nil, err
		}
	}
	opts, prefix, err := redisFromParsed(ns.Namespace(fieldRedis))
	if err != nil {
		return nil, err
	}
	return lease.NewConfig(opts, prefix, task, run, ttl)
}

// Cache is the cache resource over the store.
func (s *Store) Cache() string { return s.cache }

// Task is the task's ID.
func (s *Store) Task() string { return s.task }

// CheckpointKey is where the input keeps the task's checkpoint.
func (s *Store) CheckpointKey() string { return contract.CheckpointKey(s.task) }

// Failure writes the reason of a permanent failure.
func (s *Store) Failure() *Writer { return s.writer(contract.FailureKey) }

// InputStatus writes the input's progress (contract.InputStatus).
func (s *Store) InputStatus() *Writer { return s.writer(contract.InputStatusKey) }

// OutputStatus writes the output's progress (contract.OutputStatus).
func (s *Store) OutputStatus() *Writer { return s.writer(contract.OutputStatusKey) }

func (s *Store) writer(key func(task string) string) *Writer {
	if s == nil {
		return nil
	}
	return NewWriter(s.res, s.cache, key(s.task))
}

// Lease is the task's writer lease; nil without a run.
func (s *Store) Lease() *lease.Config {
	if s == nil {
		return nil
	}
	return s.lease
}

// Fence is a new run fence for the task's writes (the caller closes it);
// nil without a run.
func (s *Store) Fence() *lease.Fence { return s.Lease().Fence() }
