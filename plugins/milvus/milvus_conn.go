package milvus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/redpanda-data/benthos/v4/public/service"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Field names of a Milvus connection (the source of the input, the target of
// the output).
const (
	mcFieldAddress        = "address"
	mcFieldURI            = "uri"
	mcFieldToken          = "token"
	mcFieldUsername       = "username"
	mcFieldPassword       = "password"
	mcFieldTLS            = "tls"
	mcFieldConnectTimeout = "connect_timeout"
)

// milvusConnFields are the connection fields shared by source and target.
func milvusConnFields(defaultAddress string) []*service.ConfigField {
	return []*service.ConfigField{
		service.NewStringField(mcFieldAddress).
			Description("gRPC address of the Milvus proxy, `host:port`. A scheme (`http://`, `https://`) is accepted; `https` turns TLS on.").
			Example("127.0.0.1:19530").Example("https://milvus.example.com:443").
			Default(defaultAddress),
		service.NewStringField(mcFieldURI).
			Description("Alias of `" + mcFieldAddress + "` in the form Milvus clients use (`http://host:port`); wins when both are set.").
			Optional().Example("http://localhost:19530"),
		service.NewStringField(mcFieldToken).
			Description("Authentication token: `user:password`, or an API key. Leave empty when authentication is off.").
			Default("").Secret().Example("root:Milvus"),
		service.NewStringField(mcFieldUsername).
			Description("User name, as an alternative to `" + mcFieldToken + "`; needs `" + mcFieldPassword + "`.").
			Default(""),
		service.NewStringField(mcFieldPassword).
			Description("Password for `" + mcFieldUsername + "`.").
			Default("").Secret(),
		service.NewTLSToggledField(mcFieldTLS),
		service.NewDurationField(mcFieldConnectTimeout).
			Description("How long one connection attempt may take before it is retried with backoff.").
			Default("10s").Advanced(),
	}
}

// milvusConn is a parsed connection config.
type milvusConn struct {
	address        string
	username       string
	password       string
	apiKey         string
	tlsConf        *tls.Config
	tlsEnabled     bool
	connectTimeout time.Duration
}

func milvusConnFromParsed(conf *service.ParsedConfig) (*milvusConn, error) {
	c := &milvusConn{}
	var err error
	if c.address, err = conf.FieldString(mcFieldAddress); err != nil {
		return nil, err
	}
	if conf.Contains(mcFieldURI) {
		if c.address, err = conf.FieldString(mcFieldURI); err != nil {
			return nil, err
		}
	}
	if strings.TrimSpace(c.address) == "" {
		return nil, errors.New("milvus address is empty")
	}
	token, err := conf.FieldString(mcFieldToken)
	if err != nil {
		return nil, err
	}
	if c.username, err = conf.FieldString(mcFieldUsername); err != nil {
		return nil, err
	}
	if c.password, err = conf.FieldString(mcFieldPassword); err != nil {
		return nil, err
	}
	if (c.username == "") != (c.password == "") {
		return nil, errors.New("username and password must be given together")
	}
	if token != "" {
		if c.username != "" {
			return nil, errors.New("give either token or username/password, not both")
		}
		if user, pass, ok := strings.Cut(token, ":"); ok {
			c.username, c.password = user, pass
		} else {
			c.apiKey = token
		}
	}
	if c.tlsConf, c.tlsEnabled, err = conf.FieldTLSToggled(mcFieldTLS); err != nil {
		return nil, err
	}
	if c.connectTimeout, err = conf.FieldDuration(mcFieldConnectTimeout); err != nil {
		return nil, err
	}
	return c, nil
}

// dial connects once, within connectTimeout.
func (c *milvusConn) dial(ctx context.Context) (*client.GrpcClient, error) {
	cfg := client.Config{
		Address:  c.address,
		Username: c.username,
		Password: c.password,
		APIKey:   c.apiKey,
	}
	if c.tlsEnabled {
		cfg.EnableTLSAuth = true
		cfg.DialOptions = append(append([]grpc.DialOption{}, client.DefaultGrpcOpts...),
			grpc.WithTransportCredentials(credentials.NewTLS(c.tlsConf)))
	}
	dctx, cancel := context.WithTimeout(ctx, c.connectTimeout)
	defer cancel()
	cl, err := client.NewClient(dctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to milvus at %s: %w", c.address, err)
	}
	gc, ok := cl.(*client.GrpcClient)
	if !ok {
		_ = cl.Close()
		return nil, fmt.Errorf("connect to milvus at %s: unexpected client type %T", c.address, cl)
	}
	return gc, nil
}
