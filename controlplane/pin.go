package controlplane

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// pinStart returns a new task's first checkpoint: every channel's newest
// message. Stored before create answers, it is where the task's stream
// starts however late a worker picks the task up, so every write the source
// acknowledged after the answer reaches the target.
func pinStart(ctx context.Context, src SourceConfig, log *slog.Logger) ([]byte, error) {
	conf := logreader.PulsarConfig{URL: src.PulsarURL, Topics: contract.DefaultTopics()}
	conf.Topics.Prefix, conf.Topics.DMLChannels = src.ClusterPrefix, src.DMLChannels
	if src.PulsarTLS.Enabled {
		t, err := src.PulsarTLS.load()
		if err != nil {
			return nil, fmt.Errorf("source.pulsar_tls: %w", err)
		}
		conf.TLS = t
	}
	lg := service.MockResources().Logger() // pulsar-client-go's chatter stays out of the server log
	p, err := logreader.NewPulsar(conf, lg)
	if err != nil {
		return nil, err
	}
	channels := append(conf.Topics.DMLNames(), conf.Topics.ReplicateName())
	pos, err := logreader.Pin(ctx, p, channels, p.Close)
	if err != nil {
		if ctx.Err() != nil {
			log.Warn("pinning start positions did not finish in time", "pulsar", src.PulsarURL)
		}
		return nil, fmt.Errorf("pin the start positions in Pulsar at %s: %w", src.PulsarURL, err)
	}
	return contract.EncodeCheckpoint(contract.CheckpointState{Positions: pos})
}

// load builds a client TLS config from the files, the way every stream's
// plugins do: Benthos parses the same tls block the stream gets.
func (t TLSFiles) load() (*tls.Config, error) {
	spec := service.NewConfigSpec().Field(service.NewTLSToggledField("tls"))
	parsed, err := spec.ParseYAML("tls: "+t.yaml(), nil)
	if err != nil {
		return nil, err
	}
	c, on, err := parsed.FieldTLSToggled("tls")
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, nil
	}
	return c, nil
}
