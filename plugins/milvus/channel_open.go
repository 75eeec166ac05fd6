package milvus

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
)

// receiverQueueSize is how many messages pulsar-client-go prefetches per
// channel. Insert messages reach 5 MiB, so this bounds memory more than speed.
const receiverQueueSize = 64

// openChannel opens the reader of one channel at its stored position (or
// where this run starts) and tells the merger how long the channel has been
// silent.
func (b *binlogInput) openChannel(ctx context.Context, client pulsar.Client, idx int, name string, stored []byte, m *merger, meta *sourceMeta) (*channelReader, error) {
	topic := b.topic(name)
	probe, err := b.probeTopic(ctx, client, topic)
	if err != nil {
		return nil, err
	}
	if stored == nil {
		// Pin where this run starts, so the first checkpoint names every
		// channel, including the ones nothing was read from yet: resuming
		// such a channel "at latest" after a crash would skip what arrived
		// in between.
		stored = []byte(earliestPos)
		if b.conf.startFrom == startLatest && probe.last != nil {
			stored = probe.last.Serialize()
		}
	}
	m.setStart(idx, stored)
	// A channel whose newest message is older than the idle timeout is used
	// by no collection (those tick every 200 ms): it need not hold the merge
	// back for another idle timeout first.
	m.setLastSeen(idx, probe.published)

	ro := pulsar.ReaderOptions{Topic: topic, ReceiverQueueSize: receiverQueueSize, StartMessageID: pulsar.EarliestMessageID()}
	var verify pulsar.MessageID
	if string(stored) != earliestPos {
		id, err := pulsar.DeserializeMessageID(stored)
		if err != nil {
			return nil, fmt.Errorf("stored position of channel %s is not a Pulsar message id: %w", name, err)
		}
		// Start AT the stored message so we can check it still exists; it is
		// skipped when read.
		ro.StartMessageID, ro.StartMessageIDInclusive, verify = id, true, id
	}
	reader, err := client.CreateReader(ro)
	if err != nil {
		return nil, fmt.Errorf("open pulsar reader on %s at %s: %w", topic, b.conf.pulsarURL, err)
	}
	return &channelReader{
		idx: idx, name: name, reader: reader, verify: verify,
		merge: m, meta: meta, filter: b.conf.filter, log: b.log,
		pulsarURL: b.conf.pulsarURL, sourceAddr: b.conf.source.address,
	}, nil
}

// topicProbe is what a topic holds right now.
type topicProbe struct {
	last      pulsar.MessageID // nil: the topic is empty
	published time.Time        // publish time of the last message; zero when empty
}

// probeTopic reads the newest message of a topic.
func (b *binlogInput) probeTopic(ctx context.Context, client pulsar.Client, topic string) (topicProbe, error) {
	r, err := client.CreateReader(pulsar.ReaderOptions{
		Topic: topic, StartMessageID: pulsar.LatestMessageID(), StartMessageIDInclusive: true, ReceiverQueueSize: 1,
	})
	if err != nil {
		return topicProbe{}, fmt.Errorf("open pulsar reader on %s at %s: %w", topic, b.conf.pulsarURL, err)
	}
	defer r.Close()
	last, err := r.GetLastMessageID()
	if err != nil {
		return topicProbe{}, fmt.Errorf("last message of %s at %s: %w", topic, b.conf.pulsarURL, err)
	}
	if last.EntryID() < 0 || last.LedgerID() < 0 {
		return topicProbe{}, nil
	}
	if !r.HasNext() {
		return topicProbe{last: last}, nil
	}
	nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msg, err := r.Next(nctx)
	if err != nil {
		return topicProbe{}, fmt.Errorf("read the last message of %s at %s: %w", topic, b.conf.pulsarURL, err)
	}
	return topicProbe{last: msg.ID(), published: msg.PublishTime()}, nil
}
