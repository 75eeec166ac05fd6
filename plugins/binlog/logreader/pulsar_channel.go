package logreader

import (
	"context"
	"fmt"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/backoff"
)

// pulsarChannel is one Pulsar topic read by a Reader.
type pulsarChannel struct {
	name, url string
	reader    pulsar.Reader
	start     []byte
	empty     bool
	log       *service.Logger
	// verify is the stored position the reader starts at, to check and
	// report as a StartMark; verifyIsLast: it was the topic's newest message.
	verify       pulsar.MessageID
	verifyIsLast bool
	// last is the newest message handed on; hasLast says it is set.
	last    pulsarKey
	hasLast bool
	end     *endCheck
}

func (c *pulsarChannel) Start() []byte { return c.start }
func (c *pulsarChannel) Empty() bool   { return c.empty }

// Close closes the reader. It does not wait for a last-message-id request an
// AtEnd gave up on (see endCheck); pulsar-client-go's own close waits at most
// for the request its event loop is sending (the client's operation timeout).
func (c *pulsarChannel) Close() { c.reader.Close() }

// AtEnd asks the broker for the topic's newest message (EndChecker).
func (c *pulsarChannel) AtEnd(ctx context.Context, pos []byte) (bool, error) {
	ok, err := c.end.atEnd(ctx, pos)
	if err != nil {
		return false, fmt.Errorf("is channel %s read to its end (%s): %w", c.name, c.url, err)
	}
	return ok, nil
}

func (c *pulsarChannel) Next(ctx context.Context) (Message, error) {
	bo := backoff.New()
	for {
		msg, err := c.reader.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return Message{}, ctx.Err()
			}
			c.log.Warnf("Reading Pulsar topic %s at %s failed, retrying with backoff: %v", c.reader.Topic(), c.url, err)
			if !bo.Wait(ctx) {
				return Message{}, ctx.Err()
			}
			continue
		}
		id := msg.ID()
		k := keyOf(id)
		m := Message{Position: id.Serialize(), Key: k.opaque(), Payload: msg.Payload(), PublishTime: msg.PublishTime()}
		if c.verify != nil {
			if k != keyOf(c.verify) {
				return Message{}, &FatalError{fmt.Errorf(
					"the checkpoint of channel %s points at message %s, which Pulsar no longer has (the first message left is %s): "+
						"its retention removed data this pipeline has not read yet. Nothing was skipped. To go on, delete the checkpoint "+
						"and copy the collections afresh, or raise the retention of the namespace so it cannot happen again",
					c.name, c.verify, id)}
			}
			c.verify = nil
			c.last, c.hasLast = k, true
			// The payload stays: the reader needs to know whether the
			// start splits an upsert's Insert from its Delete.
			m.Kind, m.AtEnd = StartMark, c.verifyIsLast
			return m, nil
		}
		if c.hasLast && !k.After(c.last) {
			// pulsar-client-go may deliver a message again after it
			// reconnected to the broker; handing it on twice would apply it
			// twice (a delete after the upsert that replaced its row).
			c.log.Debugf("Dropping message %s on channel %s: already read (redelivered after a reconnect to %s)", id, c.name, c.url)
			m.Kind, m.Payload = Repeat, nil
			return m, nil
		}
		if c.hasLast && k.ledger == c.last.ledger && k.entry > c.last.entry+1 {
			c.log.Errorf("Channel %s jumped from entry %d to %d of ledger %d", c.name, c.last.entry, k.entry, k.ledger)
		}
		c.last, c.hasLast = k, true
		return m, nil
	}
}
