package milvusconn

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"google.golang.org/grpc"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// TestSDKConfig: what each dial asks of the SDK. Without a TLS config the
// SDK's own TLS (the system's CAs) is used, as the control plane dials; with
// one, it is the transport's; a guard runs around every call with the
// SDK's retries off.
func TestSDKConfig(t *testing.T) {
	creds := contract.Credentials{Username: "u", Password: "p", APIKey: "k"}
	plain := sdkConfig(Params{Address: "m:19530", Creds: creds, DBName: "db1"})
	if plain.Address != "m:19530" || plain.Username != "u" || plain.Password != "p" || plain.APIKey != "k" || plain.DBName != "db1" ||
		plain.EnableTLSAuth || plain.DialOptions != nil || plain.RetryRateLimit != nil {
		t.Fatalf("plain dial: %+v", plain)
	}
	if sys := sdkConfig(Params{Address: "m:443", TLS: true}); !sys.EnableTLSAuth || sys.DialOptions != nil {
		t.Fatalf("TLS with the system's CAs: EnableTLSAuth %v, %d dial options", sys.EnableTLSAuth, len(sys.DialOptions))
	}
	custom := sdkConfig(Params{Address: "m:443", TLS: true, TLSConfig: &tls.Config{ServerName: "m"}})
	if !custom.EnableTLSAuth || len(custom.DialOptions) != len(client.DefaultGrpcOpts)+1 {
		t.Fatalf("TLS with a config: EnableTLSAuth %v, %d dial options", custom.EnableTLSAuth, len(custom.DialOptions))
	}
	guard := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	guarded := sdkConfig(Params{Address: "m:19530", Guard: guard})
	if len(guarded.DialOptions) != len(client.DefaultGrpcOpts)+1 || guarded.RetryRateLimit == nil || guarded.RetryRateLimit.MaxRetry != 0 {
		t.Fatalf("guarded dial: %d dial options, retry %+v", len(guarded.DialOptions), guarded.RetryRateLimit)
	}
}

// TestDial: Dial connects to a Milvus within its timeout, with the guard
// around its calls (the SDK's Connect too); a Milvus that is not there
// fails within the timeout with the SDK's error.
func TestDial(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	milvuspb.RegisterMilvusServiceServer(srv, &tlsMilvus{})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	var calls atomic.Int64
	guard := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		calls.Add(1)
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	c, err := Dial(context.Background(), Params{Address: lis.Addr().String(), Timeout: 5 * time.Second, Guard: guard})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if calls.Load() == 0 {
		t.Fatal("the guard saw no call of the dial")
	}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := closed.Addr().String()
	_ = closed.Close()
	start := time.Now()
	if _, err := Dial(context.Background(), Params{Address: addr, Timeout: 300 * time.Millisecond}); err == nil {
		t.Fatal("dialed a Milvus that is not there")
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("a dial with a 300 ms timeout took %s", took)
	}
}
