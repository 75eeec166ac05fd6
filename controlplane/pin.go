package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"

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
	type result struct {
		pos map[string][]byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer p.Close()
		pos := map[string][]byte{}
		channels := append(conf.Topics.DMLNames(), conf.Topics.ReplicateName())
		for _, ch := range channels {
			b, err := p.Newest(ch)
			if err != nil {
				done <- result{err: err}
				return
			}
			pos[ch] = b
		}
		done <- result{pos: pos}
	}()
	select {
	case <-ctx.Done():
		log.Warn("pinning start positions did not finish in time", "pulsar", src.PulsarURL)
		return nil, fmt.Errorf("pin the start positions in Pulsar at %s: %w", src.PulsarURL, ctx.Err())
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("pin the start positions in Pulsar at %s: %w", src.PulsarURL, r.err)
		}
		return contract.EncodeCheckpoint(contract.CheckpointState{Positions: r.pos})
	}
}

// load builds a client TLS config from the files (on this host too).
func (t TLSFiles) load() (*tls.Config, error) {
	c := &tls.Config{InsecureSkipVerify: t.SkipCertVerify} //nolint:gosec // an explicit testing-only setting
	if t.RootCAsFile != "" {
		pem, err := os.ReadFile(t.RootCAsFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", t.RootCAsFile)
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}
