package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
)

// Worker exposure: the gateway of a task worker listens on WORKER_ADDRESS
// (default loopback); beyond loopback it needs WORKER_PASSWORD (basic auth,
// user milvus-cdc, which the control plane sends from
// MILVUS_CDC_WORKER_PASSWORD). The gateway enforces this itself, so it holds
// whatever root config the worker is started with, or none.
const (
	workerAddressEnv     = "WORKER_ADDRESS"
	workerPasswordEnv    = "WORKER_PASSWORD"
	defaultWorkerAddress = "127.0.0.1:4195"
	workerUser           = "milvus-cdc" // controlplane.WorkerUser
)

// workerExposure is where the gateway listens and the password it wants.
type workerExposure struct {
	Address  string
	Password string // "" = none (loopback only)
}

// loadWorkerExposure reads WORKER_ADDRESS and WORKER_PASSWORD and refuses an
// address beyond loopback without a password.
func loadWorkerExposure(getenv func(string) string) (workerExposure, error) {
	e := workerExposure{Address: getenv(workerAddressEnv), Password: getenv(workerPasswordEnv)}
	if e.Address == "" {
		e.Address = defaultWorkerAddress
	}
	host, _, err := net.SplitHostPort(e.Address)
	if err != nil {
		return e, fmt.Errorf("%s %q: %w", workerAddressEnv, e.Address, err)
	}
	if e.Password != "" || isLoopbackHost(host) {
		return e, nil
	}
	return e, fmt.Errorf("%s %s is reachable beyond this host, but %s is not set: the streams API would be open to anyone who reaches it; set %s (and the control plane's MILVUS_CDC_WORKER_PASSWORD)",
		workerAddressEnv, e.Address, workerPasswordEnv, workerPasswordEnv)
}

// isLoopbackHost: localhost or a loopback IP ("" and 0.0.0.0 are every
// interface).
func isLoopbackHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// innerCredentials is the per-process password between the gateway and the
// stream engine's HTTP server, and its hash as Benthos's basic auth wants it
// (sha256, base64).
func innerCredentials() (password, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate the stream engine's password: %w", err)
	}
	password = hex.EncodeToString(b)
	sum := sha256.Sum256([]byte(password))
	return password, base64.StdEncoding.EncodeToString(sum[:]), nil
}
