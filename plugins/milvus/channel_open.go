package milvus

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// receiverQueueSize is how many messages pulsar-client-go prefetches per
// channel. Insert messages reach 5 MiB, so this bounds memory more than speed.
const receiverQueueSize = 8

// openChannel opens the reader of one channel at its stored position (or
// where this run starts) and tells the merger how long the channel has been
// silent.
func (b *binlogInput) openChannel(ctx context.Context, client pulsar.Client, idx int, name string, stored []byte, m *merger, meta *sourceMeta) (*channelReader, error) {
	topic := b.topic(name)
	last, err := b.lastMessage(client, topic)
	if err != nil {
		return nil, err
	}
	if last == nil {
		m.setLastSeen(idx, time.Time{}) // an empty topic: nothing uses the channel
	}
	if stored == nil {
		// Pin where this run starts, so the first checkpoint names every
		// channel, including the ones nothing was read from yet: resuming
		// such a channel "at latest" after a crash would skip what arrived
		// in between.
		stored = []byte(earliestPos)
		if b.conf.startFrom == startLatest && last != nil {
			stored = last.Serialize()
		}
	}
	m.setStart(idx, stored)

	ro := pulsar.ReaderOptions{Topic: topic, ReceiverQueueSize: receiverQueueSize, StartMessageID: pulsar.EarliestMessageID()}
	var verify pulsar.MessageID
	if string(stored) != earliestPos {
		id, err := pulsar.DeserializeMessageID(stored)
		if err != nil {
			return nil, fmt.Errorf("stored position of channel %s is not a Pulsar message id: %w", name, err)
		}
		if last != nil && keyOf(id).after(keyOf(last)) {
			// Pulsar would silently drop every message before this position.
			return nil, &fatalInputError{fmt.Errorf(
				"the checkpoint of channel %s points at message %s, after the newest message Pulsar has (%s): it does not belong to this Pulsar "+
					"(copied from another cluster, or the topic was recreated). Nothing was read. Delete the checkpoint to start afresh", name, id, last)}
		}
		// Start AT the stored message so we can check it still exists (and
		// learn from its publish time whether the channel is idle); it is
		// skipped when read.
		ro.StartMessageID, ro.StartMessageIDInclusive, verify = id, true, id
	}
	reader, err := client.CreateReader(ro)
	if err != nil {
		return nil, fmt.Errorf("open pulsar reader on %s at %s: %w", topic, b.conf.pulsarURL, err)
	}
	atEnd := false
	if verify != nil && last != nil {
		atEnd = keyOf(verify) == keyOf(last)
	}
	return &channelReader{
		idx: idx, name: name, reader: reader, verify: verify, verifyIsLast: atEnd,
		merge: m, meta: meta, filter: b.conf.filter, log: b.log,
		pulsarURL: b.conf.pulsarURL, sourceAddr: b.conf.source.address,
	}, nil
}

// lastMessage returns the ID of the newest message of a topic; nil when the
// topic is empty. (A reader positioned at the latest message inclusively
// would do the same, but pulsar-client-go keeps retrying its internal lookup
// after such a reader is closed.)
func (b *binlogInput) lastMessage(client pulsar.Client, topic string) (pulsar.MessageID, error) {
	probe, err := client.CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.LatestMessageID(), ReceiverQueueSize: 1})
	if err != nil {
		return nil, fmt.Errorf("open pulsar reader on %s at %s: %w", topic, b.conf.pulsarURL, err)
	}
	defer probe.Close()
	last, err := probe.GetLastMessageID()
	if err != nil {
		return nil, fmt.Errorf("last message of %s at %s: %w", topic, b.conf.pulsarURL, err)
	}
	if last.EntryID() < 0 || last.LedgerID() < 0 {
		return nil, nil
	}
	return last, nil
}
