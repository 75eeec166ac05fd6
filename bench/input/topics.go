package main

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"
)

// The source's WAL topics: Milvus defaults (cluster prefix by-dev,
// rootCoord.dmlChannelNum 16, the replicate channel), in public/default.
const (
	dmlChannels  = 16
	topicPrefix  = "persistent://public/default/"
	replicateTop = "by-dev-replicate-msg"
	earliest     = "earliest" // position of a topic that had no message yet
)

// topicNames lists the short names of the 16 DML topics and the replicate topic.
func topicNames() []string {
	names := make([]string, 0, dmlChannels+1)
	for i := 0; i < dmlChannels; i++ {
		names = append(names, fmt.Sprintf("by-dev-rootcoord-dml_%d", i))
	}
	return append(names, replicateTop)
}

func newPulsarClient(url string) (pulsar.Client, error) {
	c, err := pulsar.NewClient(pulsar.ClientOptions{
		URL:               url,
		ConnectionTimeout: 10 * time.Second,
		OperationTimeout:  30 * time.Second,
		Logger:            plog.DefaultNopLogger(), // keep the table readable
	})
	if err != nil {
		return nil, fmt.Errorf("pulsar client for %s: %w", url, err)
	}
	return c, nil
}

// lastPositions returns, per short topic name, its last message now.
func lastPositions(c pulsar.Client) (map[string]string, error) {
	out := make(map[string]string)
	for _, name := range topicNames() {
		pos, err := lastPosition(c, topicPrefix+name)
		if err != nil {
			return nil, err
		}
		out[name] = pos
	}
	return out, nil
}

func lastPosition(c pulsar.Client, topic string) (string, error) {
	r, err := c.CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.LatestMessageID()})
	if err != nil {
		return "", fmt.Errorf("open reader on %s: %w", topic, err)
	}
	defer r.Close()
	id, err := r.GetLastMessageID()
	if err != nil {
		return "", fmt.Errorf("last message id of %s: %w", topic, err)
	}
	// An empty topic reports negative ledger and entry ids.
	if id.LedgerID() < 0 || id.EntryID() < 0 {
		return earliest, nil
	}
	return base64.StdEncoding.EncodeToString(id.Serialize()), nil
}

// parsePosition turns a recorded position back into a message id; nil for
// "earliest".
func parsePosition(pos string) (pulsar.MessageID, error) {
	if pos == earliest {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(pos)
	if err != nil {
		return nil, fmt.Errorf("position %q: %w", pos, err)
	}
	id, err := pulsar.DeserializeMessageID(b)
	if err != nil {
		return nil, fmt.Errorf("position %q is not a message id: %w", pos, err)
	}
	return id, nil
}

// reached tells whether id is at or after end. Milvus produces without
// batching, so ledger and entry order the messages of one topic.
func reached(id, end pulsar.MessageID) bool {
	if id.LedgerID() != end.LedgerID() {
		return id.LedgerID() > end.LedgerID()
	}
	return id.EntryID() >= end.EntryID()
}
