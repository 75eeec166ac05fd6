package milvusconn

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/redpanda-data/benthos/v4/public/service"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/testcert"
)

// tlsMilvus answers Connect only, over TLS.
type tlsMilvus struct {
	milvuspb.UnimplementedMilvusServiceServer
}

func (*tlsMilvus) Connect(context.Context, *milvuspb.ConnectRequest) (*milvuspb.ConnectResponse, error) {
	return &milvuspb.ConnectResponse{Status: &commonpb.Status{}, ServerInfo: &commonpb.ServerInfo{BuildTags: "tls-test"}}, nil
}

// selfSigned returns a certificate for 127.0.0.1 and its PEM.
// TestMilvusConnTLS: with tls enabled and the server's CA the connection
// is made over TLS; without the CA, or without TLS, it is refused.
func TestMilvusConnTLS(t *testing.T) {
	cert, caPEM := testcert.SelfSigned(t)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	milvuspb.RegisterMilvusServiceServer(srv, &tlsMilvus{})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	indent := strings.ReplaceAll(strings.TrimSpace(caPEM), "\n", "\n    ")
	cases := []struct {
		name, tls string
		ok        bool
	}{
		{"tls with the server's CA", "tls:\n  enabled: true\n  root_cas: |\n    " + indent + "\n", true},
		{"tls without the CA", "tls:\n  enabled: true\n", false},
		{"no tls", "tls:\n  enabled: false\n", false},
	}
	spec := service.NewConfigSpec().Fields(Fields("")...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			yaml := fmt.Sprintf("address: %s\nconnect_timeout: 2s\n%s", lis.Addr(), tc.tls)
			parsed, err := spec.ParseYAML(yaml, nil)
			if err != nil {
				t.Fatalf("parse %q: %v", yaml, err)
			}
			conn, err := FromParsed(parsed, nil)
			if err != nil {
				t.Fatal(err)
			}
			cl, err := conn.Dial(context.Background())
			if tc.ok != (err == nil) {
				t.Fatalf("dial: %v, want success %v", err, tc.ok)
			}
			if cl != nil {
				_ = cl.Close()
			}
		})
	}
}
