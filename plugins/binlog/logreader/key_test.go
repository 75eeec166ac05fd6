package logreader

import (
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

func TestMsgKeyOrder(t *testing.T) {
	a, _ := KeyOf(pulsar.NewMessageID(7, 5, -1, -1).Serialize())
	b, _ := KeyOf(pulsar.NewMessageID(7, 6, -1, -1).Serialize())
	c, _ := KeyOf(pulsar.NewMessageID(8, 0, -1, -1).Serialize())
	e, _ := KeyOf([]byte(contract.EarliestPosition))
	if !b.After(a) || !c.After(b) || a.After(b) || a.After(a) || !a.After(e) {
		t.Fatalf("order wrong: %v %v %v %v", e, a, b, c)
	}
	if _, err := KeyOf([]byte{0xff, 0x01}); err == nil {
		t.Fatal("garbage position accepted")
	}
}
