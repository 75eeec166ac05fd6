package controlplane

import (
	"context"
	"fmt"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/milvusconn"
)

// maxDial bounds the dial of create's target check, whatever connect_timeout
// the request asks for.
const maxDial = 60 * time.Second

// milvusParams is the dial of the Milvus of p (milvusconn.Dial): its
// address, TLS as p turns it on (the system's CAs), credentials from the
// token (user:password or an API key) or else username and password, and
// connect_timeout (10 s when unset) at most maxDial.
func milvusParams(p ConnectParam) milvusconn.Params {
	addr, tls := p.Address()
	creds := contract.Credentials{Username: p.Username, Password: p.Password}
	if p.Token != "" {
		if c := contract.ParseToken(p.Token); c.APIKey != "" {
			creds.APIKey = c.APIKey
		} else {
			creds.Username, creds.Password = c.Username, c.Password
		}
	}
	return milvusconn.Params{Address: addr, Creds: creds, TLS: tls, Timeout: dialTimeout(p)}
}

// dialTimeout is how long a dial of the Milvus of p may take.
func dialTimeout(p ConnectParam) time.Duration {
	timeout := time.Duration(p.ConnectTimeout) * time.Second
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return min(timeout, maxDial)
}

// dialTarget connects to a target Milvus within its connect_timeout.
func dialTarget(ctx context.Context, p ConnectParam) error {
	c, err := milvusconn.Dial(ctx, milvusParams(p))
	if err != nil {
		return err
	}
	return c.Close()
}

// dialMilvus connects to the Milvus of p within its connect_timeout (at
// most maxDial); close ends the connection.
func dialMilvus(ctx context.Context, p ConnectParam) (api milvuspb.MilvusServiceClient, closeFn func() error, err error) {
	params := milvusParams(p)
	c, err := milvusconn.Dial(ctx, params)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to Milvus at %s: %w", params.Address, err)
	}
	return c.Service, c.Close, nil
}

// dialTargetCatalog connects to the target of a task within its
// connect_timeout (at most maxDial); close ends the connection.
func dialTargetCatalog(ctx context.Context, p ConnectParam) (cat TargetCatalog, closeFn func() error, err error) {
	api, closeFn, err := dialMilvus(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	return NewTargetCatalog(api), closeFn, nil
}
