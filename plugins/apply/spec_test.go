package apply

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/wal"
)

// TestMaxInFlightEnforced: max_in_flight other than 1 is reported by lint
// and refused by the constructor too (a config that skipped linting cannot
// reorder changes); 1 and the default pass both.
func TestMaxInFlightEnforced(t *testing.T) {
	const want = "max_in_flight must be 1"
	if err := service.NewStreamBuilder().AddOutputYAML("milvus_apply:\n  max_in_flight: 2\n"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("lint: error %v, want one containing %q", err, want)
	}
	if err := service.NewStreamBuilder().AddOutputYAML("milvus_apply:\n  max_in_flight: 1\n"); err != nil {
		t.Errorf("lint refuses max_in_flight: 1: %v", err)
	}
	for yaml, refused := range map[string]bool{"max_in_flight: 2": true, "max_in_flight: 1": false, "{}": false} {
		conf, err := milvusApplyOutputSpec().ParseYAML(yaml, nil)
		if err != nil {
			t.Fatalf("parse %q: %v", yaml, err)
		}
		_, err = milvusApplyOutputFromParsed(conf, service.MockResources())
		if refused != (err != nil) || (refused && !strings.Contains(err.Error(), want)) {
			t.Errorf("constructor with %q: error %v, want refused=%v", yaml, err, refused)
		}
	}
}

// TestDescriptionMatchesCode: the numbers the docs give are the code's.
func TestDescriptionMatchesCode(t *testing.T) {
	desc := descriptionOf(t)
	keys := fmt.Sprintf("%d,%03d keys per call", wal.MaxKeysPerExpr/1000, wal.MaxKeysPerExpr%1000)
	for _, s := range []string{fmt.Sprintf("≤ %d MiB", maxStepBytes>>20), keys, ownerProperty + "=<id>", clusterProperty + "=<" + maoFieldSourceCluster + ">", maoFieldAdopt, "milvus_apply stopped: <op> on <db>.<collection>"} {
		if !strings.Contains(desc, s) {
			t.Errorf("the description does not say %q", s)
		}
	}
}

// descriptionOf returns the spec's description from the registered plugin docs.
func descriptionOf(t *testing.T) string {
	t.Helper()
	var desc string
	service.GlobalEnvironment().WalkOutputs(func(name string, c *service.ConfigView) {
		if name != "milvus_apply" {
			return
		}
		desc = c.Description()
	})
	if desc == "" {
		t.Fatal("milvus_apply is not registered")
	}
	return desc
}
