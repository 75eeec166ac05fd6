package main

import (
	"strings"
	"testing"
)

func TestPrepareWorkerAuth(t *testing.T) {
	run := func(env map[string]string) (map[string]string, error) {
		set := map[string]string{}
		err := prepareWorkerAuth(func(k string) string { return env[k] }, func(k, v string) error { set[k] = v; return nil })
		return set, err
	}
	if _, err := run(map[string]string{workerAddressEnv: "0.0.0.0:4195"}); err == nil || !strings.Contains(err.Error(), workerPasswordEnv) {
		t.Fatalf("open beyond loopback: %v", err)
	}
	for _, addr := range []string{"", "127.0.0.1:4195", "localhost:1", "[::1]:2"} {
		if set, err := run(map[string]string{workerAddressEnv: addr}); err != nil || len(set) != 0 {
			t.Errorf("%q: %v %v", addr, set, err)
		}
	}
	set, err := run(map[string]string{workerAddressEnv: "0.0.0.0:4195", workerPasswordEnv: "pw"})
	// sha256("pw") in base64
	if err != nil || set["WORKER_AUTH_ENABLED"] != "true" || set["WORKER_AUTH_HASH"] != "MMlS+rEiw/l1nwKm2Vw3WLJGtP7iOZV7LU/uRuJhcMQ=" {
		t.Fatalf("with a password: %v %v", set, err)
	}
}
