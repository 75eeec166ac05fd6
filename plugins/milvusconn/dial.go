package milvusconn

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/retry"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// Params is one dial of a Milvus: the one way the plugins (milvus_binlog's
// source, milvus_apply's target), `milvus-cdc verify` and the control plane
// connect.
type Params struct {
	// Address: host:port, or a URI (an https:// one turns TLS on in the SDK).
	Address string
	// Creds: a user and password, or an API key; empty: authentication off.
	Creds contract.Credentials
	// DBName binds the client to a database ("": the SDK's default).
	DBName string
	// TLS turns TLS on; TLSConfig (nil: the SDK's own, the system's CAs) is
	// then the transport's.
	TLS       bool
	TLSConfig *tls.Config
	// Timeout bounds the dial.
	Timeout time.Duration
	// Guard, when set, runs around every call as the outermost interceptor,
	// and the SDK's own retries are off (see Conn.DialGuarded).
	Guard grpc.UnaryClientInterceptor
}

// Dial connects once, within p.Timeout. Its error is the SDK's, unwrapped:
// callers say which Milvus it was (and some must not echo it).
func Dial(ctx context.Context, p Params) (*client.GrpcClient, error) {
	dctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	cl, err := client.NewClient(dctx, sdkConfig(p))
	if err != nil {
		return nil, err
	}
	gc, ok := cl.(*client.GrpcClient)
	if !ok {
		_ = cl.Close()
		return nil, fmt.Errorf("unexpected client type %T", cl)
	}
	return gc, nil
}

// sdkConfig is the SDK's config of p.
func sdkConfig(p Params) client.Config {
	cfg := client.Config{
		Address:  p.Address,
		Username: p.Creds.Username,
		Password: p.Creds.Password,
		APIKey:   p.Creds.APIKey,
		DBName:   p.DBName,
	}
	custom := p.TLS && p.TLSConfig != nil
	if custom || p.Guard != nil {
		cfg.DialOptions = append([]grpc.DialOption{}, client.DefaultGrpcOpts...)
	}
	if p.TLS {
		cfg.EnableTLSAuth = true
	}
	if custom {
		cfg.DialOptions = append(cfg.DialOptions, grpc.WithTransportCredentials(credentials.NewTLS(p.TLSConfig)))
	}
	if p.Guard != nil {
		// DialOptions' interceptors run before the SDK's retrying ones.
		cfg.DialOptions = append(cfg.DialOptions, grpc.WithChainUnaryInterceptor(p.Guard, noRetry))
		cfg.RetryRateLimit = &client.RetryRateLimitOption{MaxRetry: 0}
	}
	return cfg
}

// noRetry turns the SDK's retry of unavailable and overloaded calls off for
// one call (its rate-limit retry is off through RetryRateLimit).
func noRetry(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return invoker(ctx, method, req, reply, cc, append(opts, grpc_retry.Disable())...)
}
