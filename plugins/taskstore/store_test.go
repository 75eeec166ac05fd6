package taskstore

import (
	"strconv"
	"strings"
	"testing"

	// parse_duration, which the lint entries use.
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/lease"
)

// parse reads yaml with a spec holding field, against resources with the
// cache "store".
func parse(t *testing.T, field *service.ConfigField, yaml string) (*Store, error) {
	t.Helper()
	conf, err := service.NewConfigSpec().Field(field).ParseYAML(yaml, nil)
	if err != nil {
		t.Fatalf("%s: %v", yaml, err)
	}
	return FromParsed(conf, service.MockResources(service.MockResourcesOptAddCache("store")))
}

// TestKeysDerivedFromTask: every key is package contract's for the task;
// without a run there is neither lease nor fence.
func TestKeysDerivedFromTask(t *testing.T) {
	s, err := parse(t, InputField(), "task_store: { cache: store, task: t1 }")
	if err != nil {
		t.Fatal(err)
	}
	if s.Cache() != "store" || s.Task() != "t1" || s.CheckpointKey() != contract.CheckpointKey("t1") {
		t.Errorf("cache %q task %q checkpoint %q", s.Cache(), s.Task(), s.CheckpointKey())
	}
	for got, want := range map[string]string{
		s.Failure().Key():      contract.FailureKey("t1"),
		s.InputStatus().Key():  contract.InputStatusKey("t1"),
		s.OutputStatus().Key(): contract.OutputStatusKey("t1"),
	} {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
	if s.Lease() != nil || s.Fence() != nil {
		t.Error("a lease or fence without a run")
	}
}

// TestRunTakesRedis: with a run, the lease and the fence come from the
// redis block, the URL from url_env's variable when it is set.
func TestRunTakesRedis(t *testing.T) {
	t.Setenv("TASKSTORE_TEST_URL", "redis://:pw@127.0.0.1:1/2")
	for _, yaml := range []string{
		"task_store: { cache: store, task: t1, run: r1 }",
		"task_store: { cache: store, task: t1, run: r1, lease_ttl: 1s, redis: { url_env: TASKSTORE_TEST_URL, prefix: 'p:' } }",
		"task_store: { cache: store, task: t1, run: r1, redis: { url_env: TASKSTORE_UNSET_VAR, url: 'rediss://h:6380' } }",
	} {
		s, err := parse(t, OutputField(), yaml)
		if err != nil {
			t.Fatalf("%s: %v", yaml, err)
		}
		f := s.Fence()
		if s.Lease() == nil || f == nil {
			t.Fatalf("%s: no lease or fence", yaml)
		}
		_ = f.Close()
	}
}

// TestRefused: a task store that cannot work is refused at construction,
// and a Redis URL is never echoed (it may hold a password).
func TestRefused(t *testing.T) {
	t.Setenv("TASKSTORE_TEST_BAD_URL", "mysql://:hunter2@h")
	for yaml, want := range map[string]string{
		"task_store: { cache: nope, task: t1 }":                                                       "not a cache resource",
		"task_store: { cache: store, task: '' }":                                                      "task_store.task is empty",
		"task_store: { cache: store, task: t1, run: r1, lease_ttl: 50ms }":                            "ttl 50ms is under",
		"task_store: { cache: store, task: t1, run: r1, redis: { url_env: TASKSTORE_TEST_BAD_URL } }": "TASKSTORE_TEST_BAD_URL does not parse",
	} {
		_, err := parse(t, OutputField(), yaml)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error %v, want one containing %q (and no password)", yaml, err, want)
		}
	}
	if s, err := parse(t, InputField(), "{}"); s != nil || err != nil {
		t.Errorf("no block: %+v %v", s, err)
	}
}

// TestNilStore: a stream without a task store has disabled writers and no
// lease.
func TestNilStore(t *testing.T) {
	var s *Store
	if s.Failure().Enabled() || s.InputStatus().Enabled() || s.Lease() != nil || s.Fence() != nil {
		t.Error("a nil store writes or leases")
	}
	s.Failure().Report("x", service.MockResources().Logger()) // no panic
}

// TestLintChecks: the lint entries name each mistake, and their minimum TTL
// is lease.MinTTL.
func TestLintChecks(t *testing.T) {
	if !strings.Contains(LintChecks, "< "+strconv.FormatInt(int64(lease.MinTTL), 10)+" ") {
		t.Fatalf("the lint's minimum TTL is not lease.MinTTL (%d ns)", lease.MinTTL)
	}
	spec := service.NewConfigSpec().Field(OutputField()).LintRule(`root = [` + LintChecks + `].filter(e -> e != null)`)
	env := service.NewEnvironment()
	if err := env.RegisterBatchOutput("taskstore_test", spec, func(*service.ParsedConfig, *service.Resources) (service.BatchOutput, service.BatchPolicy, int, error) {
		return nil, service.BatchPolicy{}, 1, nil
	}); err != nil {
		t.Fatal(err)
	}
	for yaml, want := range map[string]string{
		"task: ''":                         "task_store.task must name the task",
		"task: t1\n    cache: ''":          "task_store.cache must name a cache resource",
		"task: t1\n    lease_ttl: 10ms":    "lease_ttl must be a duration of at least 100ms",
		"task: t1\n    lease_ttl: forever": "lease_ttl must be a duration",
	} {
		sb := env.NewStreamBuilder()
		err := sb.AddOutputYAML("taskstore_test:\n  task_store:\n    cache: store\n    " + yaml + "\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: lint error %v, want %q", yaml, err, want)
		}
	}
	if err := env.NewStreamBuilder().AddOutputYAML("taskstore_test:\n  task_store: { cache: store, task: t1, run: r1 }\n"); err != nil {
		t.Errorf("a valid block: %v", err)
	}
}
