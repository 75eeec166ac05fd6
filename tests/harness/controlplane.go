package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// TestSecretKey seals the task credentials of the control planes tests start.
const TestSecretKey = "dGVzdC1rZXktMDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="

// ControlPlane is a `milvus-cdc server` and its workers started by a test,
// with a task store prefix of its own.
type ControlPlane struct {
	Base    string // http://host:port of the server
	Prefix  string // key prefix of the task store in Redis
	Workers []*Proc
	URLs    []string // the workers' streams API, in Workers order
	Server  *Proc
	// Proxies, for a control plane started by StartControlPlaneProxied: the
	// servers reach worker i only through Proxies[i] (cut it to partition
	// them); URLs stay the workers' own addresses. Nil otherwise.
	Proxies []*Proxy
	workers []string // the servers' --workers: URLs, or the proxies' URLs
	redis   string   // the store's Redis address
	env     []string
	args    []string
}

// StartControlPlane starts n workers and a server that places tasks on them.
func StartControlPlane(t testing.TB, env Env, n int) *ControlPlane {
	t.Helper()
	return StartControlPlaneOn(t, env, n, "redis://"+env.RedisAddr)
}

// StartControlPlaneOn is StartControlPlane with the task store in the Redis
// at redisURL (extraEnv goes to the server and the workers). A store other
// than the stack's is not cleaned up: the test owns that Redis.
func StartControlPlaneOn(t testing.TB, env Env, n int, redisURL string, extraEnv ...string) *ControlPlane {
	t.Helper()
	return startControlPlane(t, env, n, redisURL, false, extraEnv...)
}

// StartControlPlaneProxied is StartControlPlane with a TCP proxy between the
// servers and each worker (cp.Proxies): cutting one partitions that worker
// from the control plane while it still reaches Redis, Pulsar and the
// Milvus instances. Tests' own checks (HasStream, RunningOn) use cp.URLs,
// which bypass the proxies.
func StartControlPlaneProxied(t testing.TB, env Env, n int) *ControlPlane {
	t.Helper()
	return startControlPlane(t, env, n, "redis://"+env.RedisAddr, true)
}

func startControlPlane(t testing.TB, env Env, n int, redisURL string, proxied bool, extraEnv ...string) *ControlPlane {
	t.Helper()
	cp := &ControlPlane{Prefix: "test-" + RandSuffix() + ":"}
	if redisURL == "redis://"+env.RedisAddr {
		cp.redis = env.RedisAddr
		t.Cleanup(func() { dropPrefix(env.RedisAddr, cp.Prefix) })
	}
	// Credentials are sealed at rest with this key (server and workers).
	cp.env = append([]string{"CDC_REDIS_PREFIX=" + cp.Prefix, "REDIS_URL=" + redisURL,
		"MILVUS_SOURCE_ADDR=" + env.SourceAddr, "PULSAR_URL=" + env.PulsarURL, contract.SecretKeysEnv + "=" + TestSecretKey}, extraEnv...)
	t.Cleanup(func() {
		if t.Failed() {
			cp.dumpLogs(t)
		}
	})
	for i := 0; i < n; i++ {
		port := FreePort(t)
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		cp.URLs = append(cp.URLs, url)
		cp.Workers = append(cp.Workers, cp.startWorker(t, i))
		WaitHTTP(t, url+"/ready")
		if proxied {
			px := StartProxy(t, strings.TrimPrefix(url, "http://"))
			cp.Proxies = append(cp.Proxies, px)
			cp.workers = append(cp.workers, px.URL())
		} else {
			cp.workers = append(cp.workers, url)
		}
	}
	port := FreePort(t)
	cp.Base = fmt.Sprintf("http://127.0.0.1:%d", port)
	cp.args = []string{"server", "-c", "config/server.yaml", "--listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--workers", strings.Join(cp.workers, ",")}
	cp.RestartServer(t)
	return cp
}

func (cp *ControlPlane) startWorker(t testing.TB, i int) *Proc {
	addr := strings.TrimPrefix(cp.URLs[i], "http://")
	return StartProc(t, append(cp.env, "WORKER_ADDRESS="+addr, "LOG_LEVEL=WARN"),
		"streams", "-o", "config/worker.yaml", "-r", "config/worker-resources.yaml")
}

// ProxyWorkers puts a TCP proxy (cp.Proxies) in front of each worker of a
// control plane started without them and restarts the server on them: the
// task streams keep running (a server restart leaves them alone), and from
// then on cutting Proxies[i] partitions worker i from the control plane.
func (cp *ControlPlane) ProxyWorkers(t testing.TB) {
	t.Helper()
	if cp.Proxies != nil {
		return
	}
	cp.workers = nil
	for _, u := range cp.URLs {
		px := StartProxy(t, strings.TrimPrefix(u, "http://"))
		cp.Proxies = append(cp.Proxies, px)
		cp.workers = append(cp.workers, px.URL())
	}
	for i, a := range cp.args {
		if a == "--workers" && i+1 < len(cp.args) {
			cp.args[i+1] = strings.Join(cp.workers, ",")
		}
	}
	cp.Server.Stop()
	cp.RestartServer(t)
}

// RestartWorker starts worker i again on its address (after a crash).
func (cp *ControlPlane) RestartWorker(t testing.TB, i int) {
	t.Helper()
	cp.Workers[i] = cp.startWorker(t, i)
	WaitHTTP(t, cp.URLs[i]+"/ready")
}

// AddServer starts a second server on the same store and workers, on a
// port of its own, and makes it the one Base and Server name (the first
// keeps running until the caller stops it, returned here).
func (cp *ControlPlane) AddServer(t testing.TB) (first *Proc) {
	t.Helper()
	port := FreePort(t)
	first, cp.Base = cp.Server, fmt.Sprintf("http://127.0.0.1:%d", port)
	cp.args = []string{"server", "-c", "config/server.yaml", "--listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--workers", strings.Join(cp.workers, ",")}
	cp.RestartServer(t)
	return first
}

// StartForeign starts a control plane with a store of its own (another
// prefix of the same Redis) on the same workers, as a second deployment
// pointed at them by mistake would be; its store is dropped at cleanup.
func (cp *ControlPlane) StartForeign(t testing.TB) *Proc {
	t.Helper()
	prefix := "test-other-" + RandSuffix() + ":"
	if cp.redis != "" {
		t.Cleanup(func() { dropPrefix(cp.redis, prefix) })
	}
	port := FreePort(t)
	// The last of duplicate variables wins (os/exec).
	p := StartProc(t, append(append([]string{}, cp.env...), "CDC_REDIS_PREFIX="+prefix),
		"server", "-c", "config/server.yaml", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--workers", strings.Join(cp.workers, ","))
	WaitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	return p
}

// RestartServer starts the server (again) and waits until it answers.
func (cp *ControlPlane) RestartServer(t testing.TB) {
	t.Helper()
	cp.Server = StartProc(t, cp.env, cp.args...)
	WaitHTTP(t, cp.Base+"/healthz")
}

// HasStream reports whether the worker at url runs a stream named id.
func HasStream(url, id string) bool {
	// A frozen worker accepts the connection but never answers.
	r, err := (&http.Client{Timeout: 3 * time.Second}).Get(url + "/streams")
	if err != nil {
		return false
	}
	defer r.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		return false
	}
	_, ok := m[id]
	return ok
}

// RunningOn is the index of the worker running stream id, or -1.
func (cp *ControlPlane) RunningOn(id string) int {
	for i, u := range cp.URLs {
		if HasStream(u, id) {
			return i
		}
	}
	return -1
}

// CDC posts one /cdc request and returns HTTP status and decoded body.
func CDC(t testing.TB, base, requestType string, data any) (int, map[string]any) {
	t.Helper()
	return CDCRaw(t, base, cdcBody(requestType, data))
}

// CDCRaw posts body to /cdc and returns HTTP status and decoded body.
func CDCRaw(t testing.TB, base string, body []byte) (int, map[string]any) {
	t.Helper()
	resp, err := postCDC(base, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// TaskState is the state and reason of a task as `get` shows them ("" if
// the call failed).
func (cp *ControlPlane) TaskState(t testing.TB, id string) (state, reason string) {
	t.Helper()
	code, resp := CDC(t, cp.Base, "get", map[string]any{"task_id": id})
	if code != http.StatusOK {
		return "", fmt.Sprint(resp)
	}
	data, _ := resp["data"].(map[string]any)
	task, _ := data["task"].(map[string]any)
	state, _ = task["state"].(string)
	reason, _ = task["reason"].(string)
	return state, reason
}

// dropPrefix deletes the task store a test left in Redis (best effort).
// DropPrefix deletes every key under prefix (a store that lost its data).
func DropPrefix(addr, prefix string) { dropPrefix(addr, prefix) }

func dropPrefix(addr, prefix string) {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

// TryCDC is CDC for cleanups: errors are returned, not fatal.
func TryCDC(base, requestType string, data any) (int, error) {
	resp, err := postCDC(base, cdcBody(requestType, data))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func cdcBody(requestType string, data any) []byte {
	body := map[string]any{"request_type": requestType}
	if data != nil {
		body["request_data"] = data
	}
	b, _ := json.Marshal(body)
	return b
}

func postCDC(base string, body []byte) (*http.Response, error) {
	return http.Post(base+"/cdc", "application/json", bytes.NewReader(body))
}

// dumpLogs shows the end of every process's log (after a failure).
func (cp *ControlPlane) dumpLogs(t testing.TB) {
	tail := func(s string) string {
		const max = 6000
		if len(s) > max {
			return "..." + s[len(s)-max:]
		}
		return s
	}
	for i, w := range cp.Workers {
		t.Logf("---- worker %d (%s) log ----\n%s", i, cp.URLs[i], tail(w.Logs.String()))
	}
	if cp.Server != nil {
		t.Logf("---- server log ----\n%s", tail(cp.Server.Logs.String()))
	}
}

// CreateTask creates a task with request data (failing the test on any
// answer but 200), deletes it at cleanup, and returns its ID.
func (cp *ControlPlane) CreateTask(t testing.TB, data map[string]any) string {
	t.Helper()
	code, resp := CDC(t, cp.Base, "create", data)
	if code != http.StatusOK {
		t.Fatalf("create: %d %v", code, resp)
	}
	d, _ := resp["data"].(map[string]any)
	id, _ := d["task_id"].(string)
	if id == "" {
		t.Fatalf("create gave no task_id: %v", resp)
	}
	t.Cleanup(func() { _, _ = TryCDC(cp.Base, "delete", map[string]any{"task_id": id}) })
	return id
}
