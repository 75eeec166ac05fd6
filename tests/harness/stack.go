package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/milvus-io/milvus-sdk-go/v2/client"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// Env holds the stack's addresses (from `tests/stack/stack.sh env`).
type Env struct {
	SourceAddr, TargetAddr, PulsarURL, RedisAddr string
}

// RequireStack returns the stack's addresses. With MILVUS_CDC_STACK=1 (set by
// `make test`) a missing stack fails the test; without it the test is
// skipped, so `go test ./...` stays usable without the stack.
func RequireStack(t testing.TB) Env {
	t.Helper()
	if os.Getenv("MILVUS_CDC_STACK") != "1" {
		t.Skip("stack tests need the local stack: run `make test` (or set MILVUS_CDC_STACK=1 after `tests/stack/stack.sh up`)")
	}
	get := func(k, def string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return def
	}
	return Env{
		SourceAddr: get("MILVUS_SOURCE_ADDR", "127.0.0.1:19530"),
		TargetAddr: get("MILVUS_TARGET_ADDR", "127.0.0.1:19540"),
		PulsarURL:  get("PULSAR_URL", "pulsar://127.0.0.1:6650"),
		RedisAddr:  get("REDIS_ADDR", "127.0.0.1:6379"),
	}
}

// Connect dials a Milvus and closes the client when the test ends.
func Connect(t testing.TB, addr string) client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := workload.Connect(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// RepoRoot is the directory holding go.mod, found upwards from the test's
// working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = up
	}
}

// StackCtl runs `tests/stack/stack.sh <cmd> <parts...>` (stop or start),
// so a test takes a part away and brings it back the way an operator would;
// parts are stopped by their pid files, never by name.
func StackCtl(t testing.TB, cmd string, parts ...string) {
	t.Helper()
	root := RepoRoot(t)
	c := exec.Command(filepath.Join(root, "tests", "stack", "stack.sh"), append([]string{cmd}, parts...)...)
	c.Dir = root
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("stack.sh %s %v: %v\n%s", cmd, parts, err, out)
	}
	t.Logf("stack.sh %s %v:\n%s", cmd, parts, out)
}

// UniqueName gives each test run its own collection names.
func UniqueName(prefix string) string {
	return prefix + "_" + time.Now().Format("150405") + "_" + RandSuffix()
}

// RandSuffix is four letters from the clock.
func RandSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	n := time.Now().UnixNano()
	b := make([]byte, 4)
	for i := range b {
		b[i] = letters[n%26]
		n /= 26
	}
	return string(b)
}

// WaitFor polls until cond holds or the timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// PortOf is the port of a host:port address (0 if there is none).
func PortOf(addr string) int {
	var p int
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			_, _ = fmt.Sscanf(addr[i+1:], "%d", &p)
			break
		}
	}
	return p
}

// DropDatabase drops collections colls and database db at addr (best
// effort, for cleanups).
func DropDatabase(addr, db string, colls ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.NewClient(ctx, client.Config{Address: addr, DBName: db})
	if err != nil {
		return
	}
	defer c.Close()
	for _, coll := range colls {
		_ = c.DropCollection(ctx, coll)
	}
	_ = c.DropDatabase(ctx, db)
}
