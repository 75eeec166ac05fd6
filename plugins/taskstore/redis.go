package taskstore

import (
	"fmt"
	"os"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// redisFromParsed reads the redis block: the connection (url_env's
// variable when set, else url; tls) and the key prefix.
func redisFromParsed(ns *service.ParsedConfig) (*goredis.Options, string, error) {
	url, err := ns.FieldString(fieldURL)
	if err != nil {
		return nil, "", err
	}
	env, err := ns.FieldString(fieldURLEnv)
	if err != nil {
		return nil, "", err
	}
	from := fieldRedis + "." + fieldURL
	if v := os.Getenv(env); env != "" && v != "" {
		url, from = v, "the environment variable "+env
	}
	opts, err := goredis.ParseURL(url)
	if err != nil {
		// The URL itself may hold a password: name where it came from only.
		return nil, "", fmt.Errorf("the Redis URL of %s does not parse (want redis://[user:password@]host:port[/db], or rediss:// for TLS)", from)
	}
	tlsConf, tlsOn, err := ns.FieldTLSToggled(fieldTLS)
	if err != nil {
		return nil, "", err
	}
	if tlsOn {
		opts.TLSConfig = tlsConf
	}
	prefix, err := ns.FieldString(fieldPrefix)
	if err != nil {
		return nil, "", err
	}
	return opts, prefix, nil
}
