package main

import (
	"fmt"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	plog "github.com/apache/pulsar-client-go/pulsar/log"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// topics are the source's WAL topics: Milvus defaults (cluster prefix
// by-dev, rootCoord.dmlChannelNum 16, the replicate channel), in
// public/default.
var topics = contract.DefaultTopics()

// topicNames lists the short names of the DML topics and the replicate topic.
func topicNames() []string {
	return append(topics.DMLNames(), topics.ReplicateName())
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
func lastPositions(c pulsar.Client) (map[string][]byte, error) {
	out := make(map[string][]byte)
	for _, name := range topicNames() {
		pos, err := lastPosition(c, topics.Topic(name))
		if err != nil {
			return nil, err
		}
		out[name] = pos
	}
	return out, nil
}

// lastPosition returns the serialized id of the last message of topic, or
// contract.EarliestPosition when it had none yet.
func lastPosition(c pulsar.Client, topic string) ([]byte, error) {
	r, err := c.CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.LatestMessageID()})
	if err != nil {
		return nil, fmt.Errorf("open reader on %s: %w", topic, err)
	}
	defer r.Close()
	id, err := r.GetLastMessageID()
	if err != nil {
		return nil, fmt.Errorf("last message id of %s: %w", topic, err)
	}
	// An empty topic reports negative ledger and entry ids.
	if id.LedgerID() < 0 || id.EntryID() < 0 {
		return []byte(contract.EarliestPosition), nil
	}
	return id.Serialize(), nil
}

// parsePosition turns a recorded position back into a message id; nil for
// contract.EarliestPosition.
func parsePosition(pos []byte) (pulsar.MessageID, error) {
	if string(pos) == contract.EarliestPosition {
		return nil, nil
	}
	id, err := pulsar.DeserializeMessageID(pos)
	if err != nil {
		return nil, fmt.Errorf("position %s is not a message id: %w", contract.EncodePosition(pos), err)
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
