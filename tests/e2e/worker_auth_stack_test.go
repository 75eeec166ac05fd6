package e2e

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// TestStackWorkerAuth: a worker refuses to open its streams API beyond
// loopback without WORKER_PASSWORD; with one, the API answers only the
// password, and a control plane that has it runs tasks there.
func TestStackWorkerAuth(t *testing.T) {
	env := harness.RequireStack(t)
	// Beyond loopback without a password: it does not start.
	open := exec.Command(harness.MilvusCDC(t), "streams", "-o", "config/worker.yaml", "-r", "config/worker-resources.yaml")
	open.Dir = harness.RepoRoot(t)
	open.Env = append(open.Environ(), fmt.Sprintf("WORKER_ADDRESS=0.0.0.0:%d", harness.FreePort(t)))
	out, err := open.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "WORKER_PASSWORD") {
		t.Fatalf("a worker beyond loopback without a password: %v\n%s", err, out)
	}

	prefix := "test-auth-" + harness.RandSuffix() + ":"
	t.Cleanup(func() { harness.DropPrefix(env.RedisAddr, prefix) })
	base := []string{"CDC_REDIS_PREFIX=" + prefix, "REDIS_URL=redis://" + env.RedisAddr, "LOG_LEVEL=WARN"}
	wport := harness.FreePort(t)
	worker := fmt.Sprintf("http://127.0.0.1:%d", wport)
	harness.StartProc(t, append(base, fmt.Sprintf("WORKER_ADDRESS=127.0.0.1:%d", wport), "WORKER_PASSWORD=s3cret"),
		"streams", "-o", "config/worker.yaml", "-r", "config/worker-resources.yaml")
	status := func(user, pw string) int {
		req, _ := http.NewRequest(http.MethodGet, worker+"/streams", nil)
		if user != "" {
			req.SetBasicAuth(user, pw)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		r.Body.Close()
		return r.StatusCode
	}
	harness.WaitFor(t, 30*time.Second, "the worker answers with the password", func() bool { return status("milvus-cdc", "s3cret") == 200 })
	if c := status("", ""); c != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d, want 401", c)
	}
	if c := status("milvus-cdc", "wrong"); c != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", c)
	}

	sport := harness.FreePort(t)
	srv := fmt.Sprintf("http://127.0.0.1:%d", sport)
	harness.StartProc(t, append(base, "MILVUS_SOURCE_ADDR="+env.SourceAddr, "PULSAR_URL="+env.PulsarURL, "MILVUS_CDC_WORKER_PASSWORD=s3cret"),
		"server", "-c", "config/server.yaml", "--listen", fmt.Sprintf("127.0.0.1:%d", sport), "--workers", worker)
	harness.WaitHTTP(t, srv+"/healthz")
	code, resp := harness.CDC(t, srv, "create", map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + env.TargetAddr},
		"collection_infos":     []map[string]any{{"name": harness.UniqueName("auth")}},
	})
	if code != 200 {
		t.Fatalf("create: %d %v", code, resp)
	}
	id := resp["data"].(map[string]any)["task_id"].(string)
	t.Cleanup(func() { _, _ = harness.TryCDC(srv, "delete", map[string]any{"task_id": id}) })
	harness.WaitFor(t, 30*time.Second, "the task running on the password-protected worker", func() bool {
		req, _ := http.NewRequest(http.MethodGet, worker+"/streams/"+id, nil)
		req.SetBasicAuth("milvus-cdc", "s3cret")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == 200
	})
}
