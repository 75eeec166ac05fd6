package milvusconn

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/sealing"
)

// credsCache reads a connection's credentials from a cache resource at
// every connect (credentials_cache), opening them when they are sealed.
type credsCache struct {
	res     *service.Resources
	name    string           // the cache resource; "": none (inline credentials)
	key     string           // the credentials' key in it
	keyring contract.Keyring // opens sealed credentials
	keyFile bool             // no keys in the environment: sealed credentials open with the key file
}

// parseCredsCache reads credentials_cache, credentials_key and
// credentials_keys_env.
func parseCredsCache(conf *service.ParsedConfig, res *service.Resources) (credsCache, error) {
	cc := credsCache{res: res}
	var err error
	if cc.name, err = conf.FieldString(mcFieldCredsCache); err != nil {
		return cc, err
	}
	if cc.key, err = conf.FieldString(mcFieldCredsKey); err != nil {
		return cc, err
	}
	keysEnv, err := conf.FieldString(mcFieldCredsKeysEnv)
	if err != nil {
		return cc, err
	}
	if keysEnv != "" {
		if cc.keyring, err = contract.ParseKeyring(os.Getenv(keysEnv)); err != nil {
			return cc, err
		}
		cc.keyFile = cc.keyring.Empty() // no keys given: the key file opens sealed credentials
	}
	return cc, nil
}

// read returns the credentials stored in the cache; none stored means
// authentication is off.
func (cc credsCache) read(ctx context.Context) (contract.Credentials, error) {
	var raw []byte
	var getErr error
	if err := cc.res.AccessCache(ctx, cc.name, func(cache service.Cache) { raw, getErr = cache.Get(ctx, cc.key) }); err != nil {
		return contract.Credentials{}, fmt.Errorf("credentials cache %q: %w", cc.name, err)
	}
	if errors.Is(getErr, service.ErrKeyNotFound) {
		return contract.Credentials{}, nil // no credentials stored: authentication is off
	}
	if getErr != nil {
		return contract.Credentials{}, fmt.Errorf("read credentials %q from cache %q: %w", cc.key, cc.name, getErr)
	}
	ring := cc.keyring
	if contract.IsSealed(raw) && cc.keyFile {
		// Read at each connect, not at parse: the control plane may create
		// the file after this worker started.
		var err error
		if ring, _, err = sealing.Load("", "", false); err != nil {
			return contract.Credentials{}, fmt.Errorf("credentials %q in cache %q are sealed: %w", cc.key, cc.name, err)
		}
	}
	raw, err := ring.Open(raw, cc.key)
	if err != nil {
		return contract.Credentials{}, fmt.Errorf("credentials %q in cache %q: %w", cc.key, cc.name, err)
	}
	return contract.ParseCredentials(raw)
}
