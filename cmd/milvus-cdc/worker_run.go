package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/sealing"
)

// runWorker is `milvus-cdc streams`: the stream engine (Benthos streams
// mode, with opts) on a loopback port behind a per-process password, and
// the gateway on WORKER_ADDRESS in front of it. It returns the exit code.
func runWorker(args []string, opts []service.CLIOptFunc) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "milvus-cdc streams:", err)
		return 2
	}
	exp, err := loadWorkerExposure(os.Getenv)
	if err != nil {
		return fail(err)
	}
	// Bound before the stream engine starts: a busy address fails at once.
	ln, err := net.Listen("tcp", exp.Address)
	if err != nil {
		return fail(fmt.Errorf("listen on %s (%s): %w", exp.Address, workerAddressEnv, err))
	}
	defer ln.Close()
	innerAddr, err := freeLoopbackAddr()
	if err != nil {
		return fail(err)
	}
	innerPw, innerHash, err := innerCredentials()
	if err != nil {
		return fail(err)
	}
	benthosArgs, err := workerArgs(args, innerSettings(innerAddr, innerHash))
	if err != nil {
		return fail(err)
	}
	inner := &url.URL{Scheme: "http", Host: innerAddr}
	keys := func() (contract.Keyring, error) {
		ring, _, err := sealing.Load(os.Getenv(contract.SecretKeysEnv), "", false)
		return ring, err
	}
	srv := &http.Server{
		Handler:           newGateway(inner, innerPw, exp.Password, keys, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan struct{})
	go func() {
		defer close(served)
		// Connections wait in the listen backlog until the stream engine
		// answers: a worker that answers at all answers for its engine.
		if err := waitInner(ctx, inner, innerPw, innerStartTimeout); err != nil {
			if ctx.Err() == nil {
				// Benthos logs a failed listen and runs on without its API.
				log.Error("the stream engine's HTTP server does not answer: stopping", "inner", innerAddr, "error", err)
				cancel()
			}
			return
		}
		log.Info("worker gateway listening", "address", exp.Address, "password", exp.Password != "")
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("worker gateway stopped", "address", exp.Address, "error", err)
			cancel() // no gateway, no worker
		}
	}()
	opts = append(opts,
		service.CLIOptSetArgs(benthosArgs...),
		service.CLIOptOnConfigParse(func(pConf *service.ParsedConfig) error { return checkInnerHTTP(pConf, innerAddr, innerHash) }))
	code, err := service.RunCLIToCode(ctx, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	_ = ln.Close() // Serve may not have started
	<-served
	return code
}

// freeLoopbackAddr picks a free port on 127.0.0.1 for the stream engine.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a loopback port for the stream engine: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// innerStartTimeout bounds the stream engine's start (its HTTP server
// listens before any stream starts).
const innerStartTimeout = time.Minute

// waitInner waits until the stream engine answers /ping with the inner
// password, for at most timeout.
func waitInner(ctx context.Context, inner *url.URL, pw string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer client.CloseIdleConnections()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, inner.String()+"/ping", nil)
		if err != nil {
			return err
		}
		req.SetBasicAuth(workerUser, pw)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// checkInnerHTTP refuses to run when the parsed root config's HTTP server
// is not the gateway's inner one (an override the arguments missed).
func checkInnerHTTP(pConf *service.ParsedConfig, addr, hash string) error {
	str := func(path ...string) string { s, _ := pConf.FieldString(path...); return s }
	boolean := func(path ...string) bool { b, _ := pConf.FieldBool(path...); return b }
	if !boolean("http", "enabled") || str("http", "address") != addr || !boolean("http", "basic_auth", "enabled") ||
		str("http", "basic_auth", "username") != workerUser || str("http", "basic_auth", "password_hash") != hash ||
		str("http", "basic_auth", "algorithm") != "sha256" || str("http", "cert_file") != "" || boolean("http", "debug_endpoints") ||
		boolean("http", "cors", "enabled") {
		return fmt.Errorf("the stream engine's HTTP server is not the worker gateway's inner one (something overrides http.*): refusing to start")
	}
	return nil
}
