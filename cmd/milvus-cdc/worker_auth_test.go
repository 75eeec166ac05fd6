package main

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

// TestLoadWorkerExposure: beyond loopback only with a password; loopback
// (the default) without.
func TestLoadWorkerExposure(t *testing.T) {
	load := func(env map[string]string) (workerExposure, error) {
		return loadWorkerExposure(func(k string) string { return env[k] })
	}
	for _, addr := range []string{"0.0.0.0:4195", ":4195", "10.1.2.3:1", "[::]:2"} {
		if _, err := load(map[string]string{workerAddressEnv: addr}); err == nil || !strings.Contains(err.Error(), workerPasswordEnv) {
			t.Errorf("%q without a password: %v", addr, err)
		}
	}
	for _, addr := range []string{"", "127.0.0.1:4195", "localhost:1", "[::1]:2"} {
		if e, err := load(map[string]string{workerAddressEnv: addr}); err != nil || e.Address == "" || e.Password != "" {
			t.Errorf("%q: %+v %v", addr, e, err)
		}
	}
	if e, _ := load(nil); e.Address != defaultWorkerAddress {
		t.Errorf("default address %q", e.Address)
	}
	if e, err := load(map[string]string{workerAddressEnv: "0.0.0.0:4195", workerPasswordEnv: "pw"}); err != nil || e.Password != "pw" {
		t.Fatalf("with a password: %+v %v", e, err)
	}
	if _, err := load(map[string]string{workerAddressEnv: "nonsense"}); err == nil {
		t.Error("an address without a port accepted")
	}
}

// TestInnerCredentials: a new random password per call, with the hash
// Benthos's sha256 basic auth compares.
func TestInnerCredentials(t *testing.T) {
	pw, hash, err := innerCredentials()
	pw2, _, _ := innerCredentials()
	sum := sha256.Sum256([]byte(pw))
	if err != nil || len(pw) < 32 || pw == pw2 || hash != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("%q %q %q %v", pw, pw2, hash, err)
	}
}
