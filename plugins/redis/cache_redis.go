// Package redis provides a Benthos cache backed by Redis (go-redis), which
// benthos core does not ship. The milvus_binlog input keeps its checkpoints
// in it in production.
package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redpanda-data/benthos/v4/public/service"
)

const (
	rcFieldURL        = "url"
	rcFieldPrefix     = "prefix"
	rcFieldDefaultTTL = "default_ttl"
	rcFieldTLS        = "tls"
)

func redisCacheSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Stable().
		Categories("Services").
		Summary("Stores key/value pairs in Redis.").
		Description("Use it as `checkpoint_cache` of `milvus_binlog` so that read positions survive restarts. Run Redis with persistence (AOF) for that.").
		Fields(
			service.NewURLField(rcFieldURL).
				Description("Redis URL: `redis://[user:password@]host:port[/db]` (`rediss://` for TLS).").
				Example("redis://127.0.0.1:6379").Example("redis://:secret@redis.example.com:6379/2"),
			service.NewStringField(rcFieldPrefix).
				Description("Prefix added to every key.").
				Default("").Example("milvus-cdc:"),
			service.NewDurationField(rcFieldDefaultTTL).
				Description("Expiry of keys set without an explicit TTL. Empty: keys never expire.").
				Optional().Advanced(),
			service.NewTLSToggledField(rcFieldTLS),
		).
		Example("Checkpoints in Redis", "", `
cache_resources:
  - label: positions
    redis:
      url: redis://127.0.0.1:6379
      prefix: "milvus-cdc:"
`)
}

func init() {
	err := service.RegisterCache("redis", redisCacheSpec(),
		func(conf *service.ParsedConfig, mgr *service.Resources) (service.Cache, error) {
			return redisCacheFromParsed(conf)
		})
	if err != nil {
		panic(err)
	}
}

type redisCache struct {
	client *goredis.Client
	prefix string
	ttl    time.Duration
}

func redisCacheFromParsed(conf *service.ParsedConfig) (*redisCache, error) {
	u, err := conf.FieldURL(rcFieldURL)
	if err != nil {
		return nil, err
	}
	opts, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	tlsConf, tlsOn, err := conf.FieldTLSToggled(rcFieldTLS)
	if err != nil {
		return nil, err
	}
	if tlsOn {
		opts.TLSConfig = tlsConf
	}
	c := &redisCache{client: goredis.NewClient(opts)}
	if c.prefix, err = conf.FieldString(rcFieldPrefix); err != nil {
		return nil, err
	}
	if conf.Contains(rcFieldDefaultTTL) {
		if c.ttl, err = conf.FieldDuration(rcFieldDefaultTTL); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *redisCache) ttlOf(ttl *time.Duration) time.Duration {
	if ttl != nil {
		return *ttl
	}
	return c.ttl
}

func (c *redisCache) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := c.client.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, service.ErrKeyNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis get %q: %w", c.prefix+key, err)
	}
	return b, nil
}

func (c *redisCache) Set(ctx context.Context, key string, value []byte, ttl *time.Duration) error {
	if err := c.client.Set(ctx, c.prefix+key, value, c.ttlOf(ttl)).Err(); err != nil {
		return fmt.Errorf("redis set %q: %w", c.prefix+key, err)
	}
	return nil
}

func (c *redisCache) Add(ctx context.Context, key string, value []byte, ttl *time.Duration) error {
	ok, err := c.client.SetNX(ctx, c.prefix+key, value, c.ttlOf(ttl)).Result()
	if err != nil {
		return fmt.Errorf("redis setnx %q: %w", c.prefix+key, err)
	}
	if !ok {
		return service.ErrKeyAlreadyExists
	}
	return nil
}

func (c *redisCache) Delete(ctx context.Context, key string) error {
	if err := c.client.Del(ctx, c.prefix+key).Err(); err != nil {
		return fmt.Errorf("redis del %q: %w", c.prefix+key, err)
	}
	return nil
}

func (c *redisCache) Close(ctx context.Context) error {
	return c.client.Close()
}
