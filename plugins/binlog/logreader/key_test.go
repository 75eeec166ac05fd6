package logreader

import (
	"testing"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

func TestPulsarPositionsOrder(t *testing.T) {
	var p PulsarPositions
	a := pulsar.NewMessageID(7, 5, -1, -1).Serialize()
	b := pulsar.NewMessageID(7, 6, -1, -1).Serialize()
	c := pulsar.NewMessageID(8, 0, -1, -1).Serialize()
	e := []byte(contract.EarliestPosition)
	after := func(x, y []byte) bool {
		t.Helper()
		ok, err := p.After(x, y)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !after(b, a) || !after(c, b) || after(a, b) || after(a, a) || !after(a, e) {
		t.Fatal("order wrong")
	}
	if _, err := p.Key([]byte{0xff, 0x01}); err == nil {
		t.Fatal("garbage position accepted")
	}
	if _, err := p.After([]byte{0xff, 0x01}, a); err == nil {
		t.Fatal("garbage position compared")
	}
}

func TestPulsarKeysIdentifyMessages(t *testing.T) {
	var p PulsarPositions
	ka, _ := p.Key(pulsar.NewMessageID(7, 5, -1, -1).Serialize())
	ka2, _ := p.Key(pulsar.NewMessageID(7, 5, -1, -1).Serialize())
	kb, _ := p.Key(pulsar.NewMessageID(7, 5, 0, -1).Serialize())
	if ka != ka2 || ka == kb {
		t.Fatalf("keys: %x %x %x", ka, ka2, kb)
	}
	set := SetOf(p, [][]byte{pulsar.NewMessageID(7, 5, -1, -1).Serialize(), {0xff}})
	if len(set) != 1 || !set[ka] {
		t.Fatalf("set %v", set)
	}
}
