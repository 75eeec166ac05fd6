// Package milvusconn is the Milvus connection of the plugins (the source of
// milvus_binlog, the target of milvus_apply): its config fields, credentials
// (inline or from a cache) and dialing.
package milvusconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/redpanda-data/benthos/v4/public/service"
	"google.golang.org/grpc"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
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
	mcFieldCredsCache     = "credentials_cache"
	mcFieldCredsKey       = "credentials_key"
	mcFieldCredsKeysEnv   = "credentials_keys_env"
)

// Fields are the connection fields shared by source and target.
func Fields(defaultAddress string) []*service.ConfigField {
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
		service.NewStringField(mcFieldCredsCache).
			Description("A cache resource holding the credentials under `" + mcFieldCredsKey + "`, read at every connect: a token string, or JSON `{\"token\": ...}` / `{\"username\": ..., \"password\": ...}`. Keeps secrets out of the config (the control plane uses it so a worker's stream config never shows them).").
			Default("").Advanced(),
		service.NewStringField(mcFieldCredsKey).
			Description("The key of the credentials in `" + mcFieldCredsCache + "`.").
			Default("").Advanced(),
		service.NewStringField(mcFieldCredsKeysEnv).
			Description("The environment variable holding the keys that open credentials sealed at rest in `" + mcFieldCredsCache + "` (comma-separated base64 32-byte keys; the control plane seals with the same variable). Named, not given, so no key shows in a stream's config. When it is unset or empty, sealed credentials open with the key file the control plane generated on its first start (`MILVUS_CDC_SECRET_KEY_FILE`, default `~/.config/milvus-cdc/secret-keys`, mode 0600). A sealed value opens only under the key it was stored under.").
			Default(contract.SecretKeysEnv).Advanced(),
	}
}

// Conn is a parsed connection config.
type Conn struct {
	address        string
	creds          contract.Credentials // inline (token or username/password)
	cache          credsCache           // or read from a cache at each connect
	tlsConf        *tls.Config
	tlsEnabled     bool
	connectTimeout time.Duration

	secretsMu sync.Mutex
	secrets   []string // credentials used by the last dial, to keep out of reported errors
}

// Scrub replaces in s every credential the connection dialed with (a
// password, an API key or token) by "***": error texts reported beyond the
// logs (status, failure reason) must never carry one.
func (c *Conn) Scrub(s string) string {
	c.secretsMu.Lock()
	defer c.secretsMu.Unlock()
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
}

func FromParsed(conf *service.ParsedConfig, res *service.Resources) (*Conn, error) {
	c := &Conn{}
	var err error
	if c.address, err = parseAddress(conf); err != nil {
		return nil, err
	}
	token, err := conf.FieldString(mcFieldToken)
	if err != nil {
		return nil, err
	}
	if c.creds, err = parseInlineCreds(conf, token); err != nil {
		return nil, err
	}
	if c.tlsConf, c.tlsEnabled, err = conf.FieldTLSToggled(mcFieldTLS); err != nil {
		return nil, err
	}
	if c.connectTimeout, err = conf.FieldDuration(mcFieldConnectTimeout); err != nil {
		return nil, err
	}
	if c.cache, err = parseCredsCache(conf, res); err != nil {
		return nil, err
	}
	if c.cache.name != "" && (c.cache.key == "" || token != "" || c.creds.Username != "") {
		return nil, errors.New("credentials_cache needs credentials_key, and no token or username/password beside it")
	}
	if c.cache.name != "" && res != nil && !res.HasCache(c.cache.name) {
		return nil, fmt.Errorf("credentials_cache %q is not a cache resource", c.cache.name)
	}
	return c, nil
}

// parseAddress is the address field, or the uri one when it is set.
func parseAddress(conf *service.ParsedConfig) (string, error) {
	addr, err := conf.FieldString(mcFieldAddress)
	if err != nil {
		return "", err
	}
	if conf.Contains(mcFieldURI) {
		if addr, err = conf.FieldString(mcFieldURI); err != nil {
			return "", err
		}
	}
	if strings.TrimSpace(addr) == "" {
		return "", errors.New("milvus address is empty")
	}
	return addr, nil
}

// parseInlineCreds are the credentials of the config itself: token, or
// username and password.
func parseInlineCreds(conf *service.ParsedConfig, token string) (contract.Credentials, error) {
	var cr contract.Credentials
	var err error
	if cr.Username, err = conf.FieldString(mcFieldUsername); err != nil {
		return cr, err
	}
	if cr.Password, err = conf.FieldString(mcFieldPassword); err != nil {
		return cr, err
	}
	if (cr.Username == "") != (cr.Password == "") {
		return cr, errors.New("username and password must be given together")
	}
	if token != "" {
		if cr.Username != "" {
			return cr, errors.New("give either token or username/password, not both")
		}
		cr = contract.ParseToken(token)
	}
	return cr, nil
}

// credentials returns the credentials, read from the credentials cache
// when one is configured.
func (c *Conn) credentials(ctx context.Context) (contract.Credentials, error) {
	if c.cache.name == "" {
		return c.creds, nil
	}
	return c.cache.read(ctx)
}

// Address is the address dialed, for log lines.
func (c *Conn) Address() string { return c.address }

// Dial connects once, within connect_timeout.
func (c *Conn) Dial(ctx context.Context) (*client.GrpcClient, error) {
	return c.dial(ctx, nil)
}

// DialGuarded connects once, within connect_timeout, with guard around
// every call: it is the outermost interceptor, and the SDK's own retries
// (of unavailable and rate-limited calls) are off, so a call is sent once
// and every retry goes through the caller, which checks its lease first.
func (c *Conn) DialGuarded(ctx context.Context, guard grpc.UnaryClientInterceptor) (*client.GrpcClient, error) {
	return c.dial(ctx, guard)
}

func (c *Conn) dial(ctx context.Context, guard grpc.UnaryClientInterceptor) (*client.GrpcClient, error) {
	cr, err := c.credentials(ctx)
	if err != nil {
		return nil, err
	}
	var secrets []string
	for _, sec := range []string{cr.Password, cr.APIKey} {
		if len(sec) >= 3 { // a shorter one would scrub ordinary text
			secrets = append(secrets, sec)
		}
	}
	c.secretsMu.Lock()
	c.secrets = secrets
	c.secretsMu.Unlock()
	gc, err := Dial(ctx, Params{Address: c.address, Creds: cr, TLS: c.tlsEnabled, TLSConfig: c.tlsConf,
		Timeout: c.connectTimeout, Guard: guard})
	if err != nil {
		return nil, fmt.Errorf("connect to milvus at %s: %w", c.address, err)
	}
	return gc, nil
}
