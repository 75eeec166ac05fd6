package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/verify"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/workload"
)

// TestStackWorkerGateway: a worker runs only the streams its control plane
// rendered and signed. A task created through /cdc still replicates; a
// stream posted to the worker directly (into a target of the poster's
// choice, with the real task's credentials key, or reading the worker's
// environment through ${...}), a posted resource and a browser's simple
// request are refused, and none of them runs.
func TestStackWorkerGateway(t *testing.T) {
	env := harness.RequireStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cp := harness.StartControlPlane(t, env, 1)
	worker := cp.URLs[0]
	coll := harness.UniqueName("gateway")
	src := harness.Connect(t, env.SourceAddr)
	t.Cleanup(func() {
		harness.DropDatabase(env.SourceAddr, "default", coll)
		harness.DropDatabase(env.TargetAddr, "default", coll)
	})
	id := cp.CreateTask(t, map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr, "token": "root:Milvus"},
		"collection_infos":     []map[string]any{{"name": coll}},
	})
	harness.WaitFor(t, 30*time.Second, "the task's stream on the worker", func() bool { return harness.HasStream(worker, id) })

	binlog := fmt.Sprintf(`input:
  milvus_binlog:
    pulsar_url: %q
    source: { address: %q, credentials_cache: cdc_store, credentials_key: %q }
    collections: [ "*.*" ]
`, env.PulsarURL, env.SourceAddr, contract.KeySourceCredentials)
	hostile := map[string]string{
		// Every change of the source, into a Milvus of the poster's choice.
		"evil-target": binlog + "output:\n  milvus_apply: { address: \"127.0.0.1:1\" }\n",
		// The real task's target credentials, sent to the poster's address.
		"evil-creds": binlog + fmt.Sprintf("output:\n  milvus_apply: { address: \"127.0.0.1:1\", credentials_cache: cdc_store, credentials_key: %q }\n", contract.SecretKey(id)),
		// The worker's sealing keys, read back in GET /streams/<id>.
		"evil-env": strings.Replace(binlog, "input:\n", "input:\n  label: \"${"+contract.SecretKeysEnv+"}\"\n", 1) + "output:\n  milvus_apply: { address: \"127.0.0.1:1\" }\n",
	}
	for name, body := range hostile {
		for _, grant := range []string{"", "g1:00000000:" + strings.Repeat("A", 43) + "="} {
			code, answer := send(t, http.MethodPost, worker+"/streams/"+name, "application/yaml", body, map[string]string{contract.GrantHeader: grant})
			if code/100 == 2 || strings.Contains(answer, harness.TestSecretKey) {
				t.Errorf("hostile stream %s (grant %q) accepted: %d %s", name, grant, code, answer)
			}
		}
		if harness.HasStream(worker, name) {
			t.Errorf("hostile stream %s runs on the worker", name)
		}
	}
	// Resources and bulk replacement of every stream are not the worker's API.
	for path, body := range map[string]string{
		"/resources/cache/evil": "redis: { url: \"${REDIS_URL}\" }\n",
		"/streams":              "{}",
	} {
		if code, answer := send(t, http.MethodPost, worker+path, "application/yaml", body, nil); code/100 == 2 {
			t.Errorf("POST %s accepted: %d %s", path, code, answer)
		}
	}
	if !harness.HasStream(worker, id) {
		t.Fatal("the task's stream is gone (POST /streams replaced every stream)")
	}
	// A browser page on this machine: a simple request, no preflight.
	code, answer := send(t, http.MethodPost, worker+"/streams/evil-browser", "text/plain", hostile["evil-target"], map[string]string{"Origin": "http://evil.example"})
	if code/100 == 2 || harness.HasStream(worker, "evil-browser") {
		t.Errorf("a browser's simple request created a stream: %d %s", code, answer)
	}

	// The task replicates all the same.
	if err := src.CreateCollection(ctx, workload.VectorSchema(coll, 8), 1); err != nil {
		t.Fatal(err)
	}
	if err := workload.InsertRows(ctx, src, coll, 0, 200, 100, 8, rand.New(rand.NewSource(25))); err != nil {
		t.Fatal(err)
	}
	if err := workload.IndexAndLoad(ctx, src, coll); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 2*time.Minute, "the rows on the target", func() bool {
		rep, err := verify.Run(ctx, verify.Options{SourceAddr: env.SourceAddr, TargetAddr: env.TargetAddr, Collections: []string{"default." + coll}})
		return err == nil && rep.OK() && rep.RowsCompared > 0
	})
}

// TestStackWorkerWithoutRootConfig: a worker started with no root config
// (no -o) still listens only where WORKER_ADDRESS says, through the
// gateway: the stream engine's own HTTP server is on loopback and wants the
// gateway's password, and an unsigned stream is refused. Beyond loopback
// without WORKER_PASSWORD it does not start.
func TestStackWorkerWithoutRootConfig(t *testing.T) {
	env := harness.RequireStack(t)
	prefix := "test-noroot-" + harness.RandSuffix() + ":"
	t.Cleanup(func() { harness.DropPrefix(env.RedisAddr, prefix) })
	base := []string{"CDC_REDIS_PREFIX=" + prefix, "REDIS_URL=redis://" + env.RedisAddr, contract.SecretKeysEnv + "=" + harness.TestSecretKey}

	open := harness.StartProc(t, append(base, fmt.Sprintf("WORKER_ADDRESS=0.0.0.0:%d", harness.FreePort(t))), "streams", "-r", "config/worker-resources.yaml")
	harness.WaitFor(t, 30*time.Second, "the open worker refusing to start", func() bool {
		return strings.Contains(open.Logs.String(), "WORKER_PASSWORD")
	})

	port := harness.FreePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := harness.StartProc(t, append(base, fmt.Sprintf("WORKER_ADDRESS=127.0.0.1:%d", port)), "streams", "-r", "config/worker-resources.yaml")
	harness.WaitHTTP(t, url+"/ready")
	listening := regexp.MustCompile(`Listening for HTTP requests at: http://([^\s\\"]+)`)
	var inner string
	harness.WaitFor(t, 30*time.Second, "the stream engine's HTTP address in the log", func() bool {
		m := listening.FindStringSubmatch(p.Logs.String())
		if m != nil {
			inner = m[1]
		}
		return m != nil
	})
	host, innerPort, err := net.SplitHostPort(inner)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("the stream engine listens on %q, want 127.0.0.1:<port>", inner)
	}
	if code, _ := send(t, http.MethodGet, "http://"+inner+"/streams", "", "", nil); code != http.StatusUnauthorized {
		t.Errorf("the stream engine's own API answers without the gateway's password: %d", code)
	}
	for _, ip := range nonLoopbackIPs(t) {
		for _, p := range []string{innerPort, fmt.Sprint(port)} {
			if c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, p), time.Second); err == nil {
				c.Close()
				t.Errorf("the worker answers on %s:%s, beyond loopback", ip, p)
			}
		}
	}
	if code, answer := send(t, http.MethodPost, url+"/streams/evil", "application/yaml", "input: { milvus_binlog: {} }\noutput: { milvus_apply: { address: \"127.0.0.1:1\" } }\n", nil); code != http.StatusForbidden {
		t.Errorf("an unsigned stream: %d %s, want 403", code, answer)
	}
	if harness.HasStream(url, "evil") {
		t.Error("the unsigned stream runs")
	}
}

// send makes one request and returns the status and the body ("" and 0 on
// a transport error).
func send(t *testing.T, method, url, ctype, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b)
}

// nonLoopbackIPs are this machine's addresses beyond loopback.
func nonLoopbackIPs(t *testing.T) []string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			out = append(out, n.IP.String())
		}
	}
	return out
}
