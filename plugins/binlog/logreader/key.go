package logreader

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/pulsar-client-go/pulsar"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Key identifies a log message by value, opaquely: two serializations of
// one message need not be byte-equal, their keys are. Only the log that made
// it can tell what it holds.
type Key string

// Positions orders the positions of one log's messages. Above this package
// positions are opaque bytes: the checkpoint, the names registry and the
// readers compare them only through a Positions, so a second log is one new
// implementation.
type Positions interface {
	// Key is the identity of the message at pos.
	Key(pos []byte) (Key, error)
	// After reports whether position a comes after position b of one
	// channel; contract.EarliestPosition comes before every other.
	After(a, b []byte) (bool, error)
}

// SetOf decodes positions into a set of keys; undecodable ones are left out.
func SetOf(p Positions, positions [][]byte) Set {
	if len(positions) == 0 {
		return nil
	}
	out := make(Set, len(positions))
	for _, pos := range positions {
		if k, err := p.Key(pos); err == nil {
			out[k] = true
		}
	}
	return out
}

// Set is a set of message keys (e.g. messages acknowledged ahead of a
// checkpoint); the zero value is empty.
type Set map[Key]bool

// PulsarPositions are the positions of a Pulsar log: serialized message IDs.
type PulsarPositions struct{}

// Key implements Positions.
func (PulsarPositions) Key(pos []byte) (Key, error) {
	k, err := pulsarKeyOf(pos)
	if err != nil {
		return "", err
	}
	return k.opaque(), nil
}

// After implements Positions.
func (PulsarPositions) After(a, b []byte) (bool, error) {
	ka, err := pulsarKeyOf(a)
	if err != nil {
		return false, err
	}
	kb, err := pulsarKeyOf(b)
	if err != nil {
		return false, err
	}
	return ka.After(kb), nil
}

// pulsarKey is what identifies a Pulsar message.
type pulsarKey struct {
	ledger, entry    int64
	batch, partition int32
}

func keyOf(id pulsar.MessageID) pulsarKey {
	return pulsarKey{ledger: id.LedgerID(), entry: id.EntryID(), batch: id.BatchIdx(), partition: id.PartitionIdx()}
}

// pulsarKeyOf decodes a stored position; contract.EarliestPosition sorts
// before all.
func pulsarKeyOf(pos []byte) (pulsarKey, error) {
	if string(pos) == contract.EarliestPosition {
		return pulsarKey{ledger: -1, entry: -1, batch: -1}, nil
	}
	id, err := pulsar.DeserializeMessageID(pos)
	if err != nil {
		return pulsarKey{}, fmt.Errorf("not a Pulsar message id: %w", err)
	}
	return keyOf(id), nil
}

// opaque is k as a Key: its fields, fixed width.
func (k pulsarKey) opaque() Key {
	var b [24]byte
	binary.BigEndian.PutUint64(b[0:], uint64(k.ledger))
	binary.BigEndian.PutUint64(b[8:], uint64(k.entry))
	binary.BigEndian.PutUint32(b[16:], uint32(k.batch))
	binary.BigEndian.PutUint32(b[20:], uint32(k.partition))
	return Key(b[:])
}

// After reports whether k comes after o in one channel.
func (k pulsarKey) After(o pulsarKey) bool {
	if k.ledger != o.ledger {
		return k.ledger > o.ledger
	}
	if k.entry != o.entry {
		return k.entry > o.entry
	}
	return k.batch > o.batch
}
