package controlplane

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/sealing"
)

// ServerConfig is config/server.yaml.
type ServerConfig struct {
	Listen string `yaml:"listen"`
	Auth   struct {
		BearerToken string `yaml:"bearer_token"`
		// BehindProxy: an authenticating proxy guards the API, so it may
		// listen beyond loopback without a bearer token.
		BehindProxy bool `yaml:"behind_proxy"`
	} `yaml:"auth"`
	// AllowedHosts: names (a port is ignored) that requests to the API may
	// carry as Host while no bearer token is set, besides localhost, loopback
	// addresses and the server's own IP address; e.g. the name an
	// authenticating proxy forwards. Env MILVUS_CDC_ALLOWED_HOSTS
	// (comma-separated).
	AllowedHosts []string     `yaml:"allowed_hosts"`
	Source       SourceConfig `yaml:"source"`
	// TargetTLS: how workers trust a target whose task turns TLS on
	// (enable_tls or an https uri); empty: the system's CAs.
	TargetTLS TLSFiles `yaml:"target_tls"`
	Redis     struct {
		URL    string `yaml:"url"`
		Prefix string `yaml:"prefix"`
	} `yaml:"redis"`
	Workers           []string      `yaml:"workers"`
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	// MaxTasks caps the tasks of this control plane (default DefaultMaxTasks).
	MaxTasks int `yaml:"max_tasks"`
	// WorkerPassword is the basic-auth password of the workers' streams APIs
	// (their WORKER_PASSWORD); needed when they listen beyond loopback.
	WorkerPassword string `yaml:"worker_password"`
	// StallAfter: a Running task whose lag is over this shows it in its
	// reason (get/list); 0 turns it off.
	StallAfter time.Duration `yaml:"stall_after"`
}

func defaultServerConfig() ServerConfig {
	var c ServerConfig
	c.Listen = "127.0.0.1:8444"
	c.Source = SourceConfig{Address: "127.0.0.1:19530", PulsarURL: "pulsar://127.0.0.1:6650", ClusterPrefix: "by-dev", DMLChannels: 16}
	c.Redis.URL, c.Redis.Prefix = "redis://127.0.0.1:6379", "milvus-cdc:"
	c.Workers = []string{"http://127.0.0.1:4195"}
	c.ReconcileInterval = 2 * time.Second
	c.MaxTasks = DefaultMaxTasks
	c.StallAfter = DefaultStallAfter
	return c
}

// LoadServerConfig reads the config file (if any), then environment
// variables, then flags; later ones win.
func LoadServerConfig(args []string, stderr io.Writer) (ServerConfig, error) {
	c := defaultServerConfig()
	f, err := parseServerFlags(args, stderr)
	if err != nil {
		return c, err
	}
	if f.path != "" {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return c, fmt.Errorf("server config: %w", err)
		}
		if err := yaml.Unmarshal(b, &c); err != nil {
			return c, fmt.Errorf("server config %s: %w", f.path, err)
		}
	}
	c.override(f)
	if err := c.check(); err != nil {
		return c, err
	}
	return c, nil
}

// serverFlags are the flags of `milvus-cdc server`.
type serverFlags struct {
	path, listen, redisURL, workers, token, prefix string
}

func parseServerFlags(args []string, stderr io.Writer) (serverFlags, error) {
	var f serverFlags
	fs := flag.NewFlagSet("milvus-cdc server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.path, "c", "", "config file (config/server.yaml)")
	fs.StringVar(&f.listen, "listen", "", "address of the /cdc API (env MILVUS_CDC_LISTEN)")
	fs.StringVar(&f.redisURL, "redis", "", "task store, redis://host:port (env REDIS_URL)")
	fs.StringVar(&f.workers, "workers", "", "comma-separated streams API URLs of the workers (env MILVUS_CDC_WORKERS)")
	fs.StringVar(&f.token, "bearer-token", "", "require this bearer token on /cdc (env MILVUS_CDC_BEARER_TOKEN)")
	fs.StringVar(&f.prefix, "redis-prefix", "", "key prefix in the task store; the workers' CDC_REDIS_PREFIX must match (env CDC_REDIS_PREFIX)")
	err := fs.Parse(args)
	return f, err
}

// override sets what the environment and the flags give, flags last.
func (c *ServerConfig) override(f serverFlags) {
	set := func(dst *string, env, flagVal string) {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
		if flagVal != "" {
			*dst = flagVal
		}
	}
	set(&c.Listen, "MILVUS_CDC_LISTEN", f.listen)
	set(&c.Redis.URL, "REDIS_URL", f.redisURL)
	set(&c.Redis.Prefix, "CDC_REDIS_PREFIX", f.prefix)
	set(&c.Auth.BearerToken, "MILVUS_CDC_BEARER_TOKEN", f.token)
	set(&c.Source.Address, "MILVUS_SOURCE_ADDR", "")
	set(&c.Source.Token, "MILVUS_SOURCE_TOKEN", "")
	set(&c.Source.PulsarURL, "PULSAR_URL", "")
	set(&c.WorkerPassword, "MILVUS_CDC_WORKER_PASSWORD", "")
	w := ""
	set(&w, "MILVUS_CDC_WORKERS", f.workers)
	if w != "" {
		c.Workers = strings.Split(w, ",")
	}
	if v := os.Getenv("MILVUS_CDC_BEHIND_PROXY"); v == "true" || v == "1" {
		c.Auth.BehindProxy = true
	}
	if v := os.Getenv("MILVUS_CDC_ALLOWED_HOSTS"); v != "" {
		c.AllowedHosts = strings.Split(v, ",")
	}
}

// check validates the config, normalizing allowed_hosts.
func (c *ServerConfig) check() error {
	hosts, err := parseAllowedHosts(c.AllowedHosts)
	if err != nil {
		return fmt.Errorf("server config: %w", err)
	}
	c.AllowedHosts = hosts
	if err := c.checkExposure(); err != nil {
		return fmt.Errorf("server config: %w", err)
	}
	if err := c.checkTLS(); err != nil {
		return fmt.Errorf("server config: %w", err)
	}
	if len(c.Workers) == 0 || c.ReconcileInterval <= 0 {
		return errors.New("server config: at least one worker and a positive reconcile_interval are needed")
	}
	return nil
}

// RunServer serves /cdc and reconciles until ctx ends.
func RunServer(ctx context.Context, c ServerConfig, log *slog.Logger) error {
	// Credentials are always sealed: with the configured keys, or with a key
	// file generated on the first start that the workers of this machine read.
	keyring, where, err := sealing.Load(os.Getenv(contract.SecretKeysEnv), "", true)
	if err != nil {
		return fmt.Errorf("the keys that seal task credentials: %w", err)
	}
	log.Info("task credentials are sealed at rest with the keys of " + where)
	store, err := NewStore(c.Redis.URL, c.Redis.Prefix, keyring)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Ping(ctx); err != nil {
		return err
	}
	// The workers' streams read the source credentials from the store.
	if err := store.PutSecret(ctx, contract.KeySourceCredentials, c.Source.Token, "", ""); err != nil {
		return err
	}
	if n, err := store.ResealSecrets(ctx); err != nil {
		log.Error("some task credentials cannot be opened with the configured keys", "error", err)
	} else if n > 0 {
		log.Info("task credentials sealed with the first configured key", "tasks", n)
	}
	storeID, err := store.Identity(ctx)
	if err != nil {
		return err
	}
	rec, err := NewReconciler(store, storeID, c.Source, c.TargetTLS, c.Workers, c.WorkerPassword, c.ReconcileInterval, log)
	if err != nil {
		return err
	}
	mgr := NewManager(store, rec, c.Source, c.MaxTasks)
	mgr.SetStallAfter(c.StallAfter)
	metrics := NewMetrics(mgr)
	rec.metrics = metrics
	srv := newAPIServer(c.Listen, NewHandler(mgr, HandlerOptions{BearerToken: c.Auth.BearerToken, AllowedHosts: c.AllowedHosts,
		Logger: log, Metrics: metrics}), defaultServerLimits)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	go rec.Run(ctx)
	log.Info("milvus-cdc server listening", "address", c.Listen, "workers", strings.Join(c.Workers, ","))
	select {
	case err := <-errc:
		return fmt.Errorf("listen on %s: %w", c.Listen, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// checkExposure refuses an API reachable beyond loopback that anyone could
// use: whoever reaches /cdc can copy the whole source anywhere.
func (c ServerConfig) checkExposure() error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("listen %q: %w", c.Listen, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	if c.Auth.BearerToken == "" && !c.Auth.BehindProxy {
		return fmt.Errorf("listen %s is reachable beyond this host, but no bearer token is set: set auth.bearer_token (MILVUS_CDC_BEARER_TOKEN, --bearer-token), "+
			"or, when an authenticating proxy guards the API, auth.behind_proxy (MILVUS_CDC_BEHIND_PROXY=true)", c.Listen)
	}
	return nil
}
