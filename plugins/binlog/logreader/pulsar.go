package logreader

import (
	"context"
	"crypto/tls"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// receiverQueueSize is how many messages pulsar-client-go prefetches per
// channel. Insert messages reach 5 MiB, so this bounds memory more than speed.
const receiverQueueSize = 8

// PulsarConfig is where the source's WAL lives in Pulsar.
type PulsarConfig struct {
	URL    string
	Token  string      // JWT; empty when authentication is off
	TLS    *tls.Config // nil: no TLS (needs a pulsar+ssl:// URL otherwise)
	Topics contract.Topics
}

// Pulsar is the Log of a Milvus whose message queue is Pulsar.
type Pulsar struct {
	conf    PulsarConfig
	client  pulsar.Client
	closing *atomic.Bool
	log     *service.Logger
}

// NewPulsar creates the Pulsar client (it connects lazily).
func NewPulsar(conf PulsarConfig, log *service.Logger) (*Pulsar, error) {
	closing := &atomic.Bool{}
	client, err := pulsar.NewClient(ClientOptions(conf, log, closing))
	if err != nil {
		return nil, fmt.Errorf("pulsar client for %s: %w", conf.URL, err)
	}
	return &Pulsar{conf: conf, client: client, closing: closing, log: log}, nil
}

// ClientOptions is how the Pulsar client connects; its log lines go quiet
// once closing is set.
func ClientOptions(conf PulsarConfig, log *service.Logger, closing *atomic.Bool) pulsar.ClientOptions {
	opts := pulsar.ClientOptions{
		URL:               conf.URL,
		ConnectionTimeout: 10 * time.Second,
		OperationTimeout:  30 * time.Second,
		Logger:            newPulsarLogger(log, closing),
	}
	if conf.Token != "" {
		opts.Authentication = pulsar.NewAuthenticationToken(conf.Token)
	}
	if conf.TLS != nil {
		opts.TLSConfig = conf.TLS
	}
	return opts
}

// Positions implements Log.
func (p *Pulsar) Positions() Positions { return PulsarPositions{} }

// Closing turns the client's warnings and errors down to debug.
func (p *Pulsar) Closing() { p.closing.Store(true) }

// Close closes the client and with it every reader.
func (p *Pulsar) Close() {
	p.closing.Store(true)
	p.client.Close()
}

// Open opens the reader of one channel at its stored position (or where this
// run starts).
func (p *Pulsar) Open(ctx context.Context, o OpenOptions) (Channel, error) {
	topic := p.conf.Topics.Topic(o.Name)
	last, err := p.lastMessage(topic)
	if err != nil {
		return nil, err
	}
	stored := o.From
	if stored == nil {
		// Pin where this run starts, so the first checkpoint names every
		// channel, including the ones nothing was read from yet: resuming
		// such a channel "at latest" after a crash would skip what arrived
		// in between.
		stored = []byte(contract.EarliestPosition)
		if o.Latest && last != nil {
			stored = last.Serialize()
		}
	}
	ro := pulsar.ReaderOptions{Topic: topic, ReceiverQueueSize: receiverQueueSize, StartMessageID: pulsar.EarliestMessageID()}
	var verify pulsar.MessageID
	if string(stored) != contract.EarliestPosition {
		id, err := pulsar.DeserializeMessageID(stored)
		if err != nil {
			return nil, fmt.Errorf("stored position of channel %s is not a Pulsar message id: %w", o.Name, err)
		}
		if last != nil && keyOf(id).After(keyOf(last)) {
			// Pulsar would silently drop every message before this position.
			return nil, &FatalError{fmt.Errorf(
				"the checkpoint of channel %s points at message %s, after the newest message Pulsar has (%s): it does not belong to this Pulsar "+
					"(copied from another cluster, or the topic was recreated). Nothing was read. Delete the checkpoint to start afresh", o.Name, id, last)}
		}
		// Start AT the stored message so we can check it still exists (and
		// learn from its publish time whether the channel is idle); it is
		// reported as a StartMark, not as data.
		ro.StartMessageID, ro.StartMessageIDInclusive, verify = id, true, id
	}
	reader, err := p.client.CreateReader(ro)
	if err != nil {
		return nil, fmt.Errorf("open pulsar reader on %s at %s: %w", topic, p.conf.URL, err)
	}
	ch := &pulsarChannel{name: o.Name, url: p.conf.URL, reader: reader, start: stored, empty: last == nil, verify: verify, log: p.log,
		end: &endCheck{reader: reader}}
	if verify != nil && last != nil {
		ch.verifyIsLast = keyOf(verify) == keyOf(last)
	}
	return ch, nil
}

// lastMessage returns the ID of the newest message of a topic; nil when the
// topic is empty. (A reader positioned at the latest message inclusively
// would do the same, but pulsar-client-go keeps retrying its internal lookup
// after such a reader is closed.)
func (p *Pulsar) lastMessage(topic string) (pulsar.MessageID, error) {
	probe, err := p.client.CreateReader(pulsar.ReaderOptions{Topic: topic, StartMessageID: pulsar.LatestMessageID(), ReceiverQueueSize: 1})
	if err != nil {
		return nil, fmt.Errorf("open pulsar reader on %s at %s: %w", topic, p.conf.URL, err)
	}
	defer probe.Close()
	last, err := probe.GetLastMessageID()
	if err != nil {
		return nil, fmt.Errorf("last message of %s at %s: %w", topic, p.conf.URL, err)
	}
	if last.EntryID() < 0 || last.LedgerID() < 0 {
		return nil, nil
	}
	return last, nil
}

// Newest returns the position of a channel's newest message, as a
// checkpoint stores it (contract.EarliestPosition for an empty channel):
// reading from there misses nothing published after this call.
func (p *Pulsar) Newest(name string) ([]byte, error) {
	last, err := p.lastMessage(p.conf.Topics.Topic(name))
	if err != nil {
		return nil, err
	}
	if last == nil {
		return []byte(contract.EarliestPosition), nil
	}
	return last.Serialize(), nil
}
