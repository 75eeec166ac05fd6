package milvus

import (
	"fmt"

	"github.com/apache/pulsar-client-go/pulsar"
)

// msgKey identifies a Pulsar message by value: two serializations of the same
// MessageID need not be byte-equal, their keys are.
type msgKey struct {
	ledger, entry    int64
	batch, partition int32
}

func keyOf(id pulsar.MessageID) msgKey {
	return msgKey{ledger: id.LedgerID(), entry: id.EntryID(), batch: id.BatchIdx(), partition: id.PartitionIdx()}
}

// keyOfPosition decodes a stored position; "earliest" sorts before all.
func keyOfPosition(pos []byte) (msgKey, error) {
	if string(pos) == earliestPos {
		return msgKey{ledger: -1, entry: -1, batch: -1}, nil
	}
	id, err := pulsar.DeserializeMessageID(pos)
	if err != nil {
		return msgKey{}, fmt.Errorf("not a Pulsar message id: %w", err)
	}
	return keyOf(id), nil
}

// after reports whether k comes after o in one topic.
func (k msgKey) after(o msgKey) bool {
	if k.ledger != o.ledger {
		return k.ledger > o.ledger
	}
	if k.entry != o.entry {
		return k.entry > o.entry
	}
	return k.batch > o.batch
}
