package sourcemeta

import (
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

func pos(entry int64) []byte { return pulsar.NewMessageID(7, entry, -1, -1).Serialize() }

// TestKnownNamesPrunedAfterDrop: names stay in the checkpoint until the
// checkpoint passes the collection's drop on every channel it was seen on.
func TestKnownNamesPrunedAfterDrop(t *testing.T) {
	k := NewNames(logreader.PulsarPositions{})
	k.Seen(7, contract.CollectionRef{DB: "db", Name: "c"})
	k.Seen(8, contract.CollectionRef{DB: "db", Name: "d"})
	k.DroppedAt(7, "a", pos(10))
	k.DroppedAt(7, "b", pos(20))
	if got := k.Snapshot(map[string][]byte{"a": pos(10), "b": pos(19)}); len(got) != 2 {
		t.Fatalf("pruned before the drop on b was passed: %v", got)
	}
	got := k.Snapshot(map[string][]byte{"a": pos(11), "b": pos(20)})
	if _, ok := got[7]; ok || got[8].Name != "d" {
		t.Fatalf("after both drops: %v", got)
	}
	b, err := contract.EncodeCheckpoint(contract.CheckpointState{Positions: map[string][]byte{"a": pos(1)}, Names: got})
	if err != nil {
		t.Fatal(err)
	}
	st, err := contract.DecodeCheckpoint(b)
	if err != nil || st.Names[8] != (contract.CollectionRef{DB: "db", Name: "d"}) {
		t.Fatalf("names round trip: %v %v (%s)", st.Names, err, b)
	}
	if _, err := contract.DecodeCheckpoint([]byte(`{"version":1,"channels":{},"collections":{"x":{"db":"a","name":"b"}}}`)); err == nil {
		t.Fatal("a non-numeric collection id was accepted")
	}
}
