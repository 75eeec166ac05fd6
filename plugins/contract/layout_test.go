package contract

import (
	"reflect"
	"testing"
)

// TestLayoutIsStable: stored keys and topic names are read by deployed
// streams, control planes and Milvus itself; they must not change.
func TestLayoutIsStable(t *testing.T) {
	if got := TaskKeys("t1"); !reflect.DeepEqual(got, []string{"task:t1", "secret:t1", "ckpt:t1", "failed:t1", "lease:t1", "lease:t1:epoch", "lease:t1:run", "status_in:t1", "status_out:t1"}) {
		t.Errorf("task keys: %v", got)
	}
	tp := DefaultTopics()
	if tp.DML(3) != "by-dev-rootcoord-dml_3" || len(tp.DMLNames()) != 16 || tp.ReplicateName() != "by-dev-replicate-msg" ||
		tp.Topic(tp.DML(0)) != "persistent://public/default/by-dev-rootcoord-dml_0" {
		t.Errorf("topics: %s %d %s %s", tp.DML(3), len(tp.DMLNames()), tp.ReplicateName(), tp.Topic(tp.DML(0)))
	}
	tp.Replicate = ""
	if tp.ReplicateName() != "" {
		t.Error("a disabled replicate channel has a name")
	}
}

// TestRunLabel: a stream's label names its store and run, and splits back.
func TestRunLabel(t *testing.T) {
	l := RunLabel("s1", "ab12")
	if store, run := ParseRunLabel(l); store != StreamLabel("s1") || run != "ab12" {
		t.Errorf("%s splits into %q %q", l, store, run)
	}
	if store, run := ParseRunLabel(StreamLabel("s1")); store != StreamLabel("s1") || run != "" {
		t.Errorf("a label without a run splits into %q %q", store, run)
	}
}
