package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/testcert"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackRedisPasswordAndTLS: the task store, checkpoints, credentials and
// leases in a Redis that requires a password and speaks TLS only
// (`rediss://:password@host:port`, its CA trusted through SSL_CERT_FILE, as
// an operator adds a private CA): a task created through /cdc copies its
// rows, and its checkpoint and lease live in that Redis.
func TestStackRedisPasswordAndTLS(t *testing.T) {
	env := harness.RequireStack(t)
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server (installed by the stack): %v", err)
	}
	dir := t.TempDir()
	cert, key := testcert.SelfSignedFiles(t, dir)
	port := harness.FreePort(t)
	const password = "tls-redis-s3cret"
	srv := exec.Command(bin, "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", cert, "--tls-auth-clients", "no",
		"--requirepass", password, "--save", "", "--appendonly", "no", "--dir", dir)
	var out strings.Builder
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })

	caPEM, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Password: password,
		TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}})
	defer rdb.Close()
	harness.WaitFor(t, 20*time.Second, "the TLS Redis", func() bool { return rdb.Ping(context.Background()).Err() == nil })
	plain := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Password: password})
	if plain.Ping(context.Background()).Err() == nil {
		t.Fatal("the TLS Redis answers without TLS: the test would prove nothing")
	}
	plain.Close()

	url := fmt.Sprintf("rediss://:%s@127.0.0.1:%d/0", password, port)
	cp := harness.StartControlPlaneOn(t, env, 1, url, "SSL_CERT_FILE="+cert)
	coll := harness.UniqueName("tlsredis")
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"collection_infos":     []map[string]any{{"name": coll}},
	})
	src := harness.Connect(t, env.SourceAddr)
	t.Cleanup(func() {
		_ = src.DropCollection(context.Background(), coll)
		if c, err := workload.Connect(context.Background(), env.TargetAddr); err == nil {
			_ = c.DropCollection(context.Background(), coll)
			_ = c.Close()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 1); err != nil {
		t.Fatal(err)
	}
	if err := workload.InsertRows(ctx, src, coll, 0, 500, 100, 8, rand.New(rand.NewSource(9))); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, src, coll); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 2*time.Minute, "500 rows on the target", func() bool {
		rep, err := verify.Run(ctx, verify.Options{SourceAddr: env.SourceAddr, TargetAddr: env.TargetAddr, Collections: []string{"default." + coll}})
		return err == nil && rep.OK() && rep.RowsCompared == 500
	})
	for what, k := range map[string]string{"checkpoint": contract.CheckpointKey(id), "lease": contract.LeaseKey(id), "credentials": contract.SecretKey(id)} {
		if n, err := rdb.Exists(ctx, cp.Prefix+k).Result(); err != nil || n != 1 {
			t.Errorf("the task's %s is not in the TLS Redis (%d, %v)", what, n, err)
		}
	}
	if state, reason := cp.TaskState(t, id); state != "Running" {
		t.Fatalf("task %s (%s)", state, reason)
	}
}
