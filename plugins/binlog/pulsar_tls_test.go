package binlog

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/binlog/logreader"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/testcert"
)

// TestPulsarTLSHandshake: with pulsar_tls and the broker's CA the client
// completes a TLS handshake with the broker; without the CA it refuses the
// broker's certificate. (The fake broker speaks no Pulsar after the
// handshake: only the TLS part is under test.)
func TestPulsarTLSHandshake(t *testing.T) {
	cert, caPEM := testcert.SelfSigned(t)
	indent := strings.ReplaceAll(strings.TrimSpace(caPEM), "\n", "\n    ")
	for _, tc := range []struct {
		name, tls string
		ok        bool
	}{
		{"with the broker's CA", "pulsar_tls:\n  enabled: true\n  root_cas: |\n    " + indent + "\n", true},
		{"without the CA", "pulsar_tls:\n  enabled: true\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A listener of its own: a retry of the other case's client
			// must not answer for this one.
			lis, handshakes := tlsBroker(t, cert)
			yaml := fmt.Sprintf("pulsar_url: pulsar+ssl://%s\n%s", lis.Addr(), tc.tls)
			parsed, err := milvusBinlogInputSpec().ParseYAML(yaml, nil)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			in, err := milvusBinlogInputFromParsed(parsed, service.MockResources())
			if err != nil {
				t.Fatal(err)
			}
			opts := logreader.ClientOptions(in.conf.pulsar, service.MockResources().Logger(), &atomic.Bool{})
			opts.ConnectionTimeout, opts.OperationTimeout = 2*time.Second, 2*time.Second
			client, err := pulsar.NewClient(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			go func() {
				r, err := client.CreateReader(pulsar.ReaderOptions{Topic: "persistent://public/default/x", StartMessageID: pulsar.EarliestMessageID()})
				if err == nil {
					r.Close()
				}
			}()
			select {
			case err := <-handshakes:
				if tc.ok != (err == nil) {
					t.Fatalf("handshake: %v, want success %v", err, tc.ok)
				}
			case <-ctx.Done():
				t.Fatal("the client never connected")
			}
		})
	}
}

// tlsBroker is a fake broker that reports each TLS handshake's result.
func tlsBroker(t *testing.T, cert tls.Certificate) (net.Listener, chan error) {
	t.Helper()
	lis, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	handshakes := make(chan error, 16)
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			handshakes <- c.(*tls.Conn).Handshake()
			_ = c.Close()
		}
	}()
	return lis, handshakes
}
