package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"os"
)

// Worker authentication: the streams API of a task worker accepts any stream
// config, so beyond loopback it must not be open. WORKER_PASSWORD turns basic
// auth on (config/worker.yaml reads the derived WORKER_AUTH_* variables).
const (
	workerAddressEnv  = "WORKER_ADDRESS"
	workerPasswordEnv = "WORKER_PASSWORD"
)

// prepareWorkerAuth sets the basic-auth variables from WORKER_PASSWORD and
// refuses a streams API beyond loopback without one.
func prepareWorkerAuth(getenv func(string) string, setenv func(string, string) error) error {
	addr := getenv(workerAddressEnv)
	if pw := getenv(workerPasswordEnv); pw != "" {
		sum := sha256.Sum256([]byte(pw))
		if err := setenv("WORKER_AUTH_ENABLED", "true"); err != nil {
			return err
		}
		return setenv("WORKER_AUTH_HASH", base64.StdEncoding.EncodeToString(sum[:]))
	}
	if addr == "" {
		return nil // the default, 127.0.0.1:4195
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: %w", workerAddressEnv, addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("%s %s is reachable beyond this host, but %s is not set: the streams API would run any stream config anyone sends; set %s (and the control plane's MILVUS_CDC_WORKER_PASSWORD)",
		workerAddressEnv, addr, workerPasswordEnv, workerPasswordEnv)
}

// mustPrepareWorkerAuth exits when the worker would be open.
func mustPrepareWorkerAuth() {
	if err := prepareWorkerAuth(os.Getenv, os.Setenv); err != nil {
		fmt.Fprintln(os.Stderr, "milvus-cdc streams:", err)
		os.Exit(2)
	}
}
