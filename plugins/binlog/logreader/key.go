package logreader

import (
	"fmt"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Key identifies a log message by value: two serializations of the same
// Pulsar MessageID need not be byte-equal, their keys are.
type Key struct {
	ledger, entry    int64
	batch, partition int32
}

func keyOf(id pulsar.MessageID) Key {
	return Key{ledger: id.LedgerID(), entry: id.EntryID(), batch: id.BatchIdx(), partition: id.PartitionIdx()}
}

// KeyOf decodes a stored position; contract.EarliestPosition sorts before all.
func KeyOf(pos []byte) (Key, error) {
	if string(pos) == contract.EarliestPosition {
		return Key{ledger: -1, entry: -1, batch: -1}, nil
	}
	id, err := pulsar.DeserializeMessageID(pos)
	if err != nil {
		return Key{}, fmt.Errorf("not a Pulsar message id: %w", err)
	}
	return keyOf(id), nil
}

// After reports whether k comes after o in one channel.
func (k Key) After(o Key) bool {
	if k.ledger != o.ledger {
		return k.ledger > o.ledger
	}
	if k.entry != o.entry {
		return k.entry > o.entry
	}
	return k.batch > o.batch
}

// Set is a set of message keys (e.g. messages acknowledged ahead of a
// checkpoint); the zero value is empty.
type Set map[Key]bool

// SetOf decodes positions into a set; undecodable ones are left out.
func SetOf(positions [][]byte) Set {
	if len(positions) == 0 {
		return nil
	}
	out := make(Set, len(positions))
	for _, p := range positions {
		if k, err := KeyOf(p); err == nil {
			out[k] = true
		}
	}
	return out
}
