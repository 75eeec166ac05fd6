// Package plane runs a worker (`milvus-cdc streams`) and a control plane
// (`milvus-cdc server`) from a milvus-cdc binary on the running stack, as an
// operator runs them, for the benches that measure through a task created
// with POST /cdc.
package plane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/proc"
)

// Stack is where the stack's parts listen.
type Stack struct {
	Source, PulsarURL, RedisAddr string // host:port, pulsar://host:port, host:port
}

// Plane is a worker and a control plane, each a child process.
type Plane struct {
	worker, server *exec.Cmd
	base           string // the control plane's URL
	WorkerURL      string // the worker's streams API (its /metrics too)
}

// Start starts the worker and the control plane from bin on free loopback
// ports with config/worker.yaml and config/server.yaml (run from the repo's
// root), their tasks under the Redis prefix, and waits until both answer.
func Start(ctx context.Context, st Stack, bin, prefix string) (*Plane, error) {
	wp, err := freePort()
	if err != nil {
		return nil, err
	}
	sp, err := freePort()
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "CDC_REDIS_PREFIX="+prefix, "REDIS_URL=redis://"+st.RedisAddr,
		"MILVUS_SOURCE_ADDR="+st.Source, "PULSAR_URL="+st.PulsarURL, "LOG_LEVEL=WARN")
	workerURL := fmt.Sprintf("http://127.0.0.1:%d", wp)
	p := &Plane{base: fmt.Sprintf("http://127.0.0.1:%d", sp), WorkerURL: workerURL}
	p.worker = exec.Command(bin, "streams", "-o", "config/worker.yaml", "-r", "config/worker-resources.yaml")
	p.worker.Env = append(env, fmt.Sprintf("WORKER_ADDRESS=127.0.0.1:%d", wp))
	p.server = exec.Command(bin, "server", "-c", "config/server.yaml", "--listen", fmt.Sprintf("127.0.0.1:%d", sp), "--workers", workerURL)
	p.server.Env = env
	for _, c := range []*exec.Cmd{p.worker, p.server} {
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Start(); err != nil {
			p.Stop()
			return nil, fmt.Errorf("start %s: %w", c.Args[1], err)
		}
	}
	for _, url := range []string{workerURL + "/ready", p.base + "/healthz"} {
		if err := waitHTTP(ctx, url, time.Minute); err != nil {
			p.Stop()
			return nil, err
		}
	}
	return p, nil
}

// WorkerPID is the worker's process id (for its memory).
func (p *Plane) WorkerPID() int { return p.worker.Process.Pid }

// Stop ends both processes (SIGINT, then wait) and returns the worker's
// peak RSS (VmHWM, KiB; -1 if unknown) read just before it.
func (p *Plane) Stop() int64 {
	peak := int64(-1)
	if p.worker != nil && p.worker.Process != nil {
		peak = proc.Status(p.worker.Process.Pid).HWM
	}
	for _, c := range []*exec.Cmd{p.server, p.worker} {
		if c != nil && c.Process != nil {
			_ = c.Process.Signal(os.Interrupt)
			_ = c.Wait()
		}
	}
	return peak
}

// CDC posts one request of the documented API and returns its data.
func (p *Plane) CDC(ctx context.Context, requestType string, data any) (map[string]any, error) {
	b, err := json.Marshal(map[string]any{"request_type": requestType, "request_data": data})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/cdc", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("POST /cdc %s: %w", requestType, err)
	}
	defer resp.Body.Close()
	var out struct {
		Code    int            `json:"code"`
		Message string         `json:"message"`
		Data    map[string]any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("POST /cdc %s: HTTP %d, %w", requestType, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || out.Code != http.StatusOK {
		return nil, fmt.Errorf("POST /cdc %s: HTTP %d: %s", requestType, resp.StatusCode, out.Message)
	}
	return out.Data, nil
}

// CreateTask posts the documentation's create into the target (host:port):
// every collection of every database, or, with collections, those of the
// default database. It returns the task's id.
func (p *Plane) CreateTask(ctx context.Context, target string, collections ...string) (string, error) {
	infos := []map[string]any{{"name": "*"}}
	if len(collections) > 0 {
		infos = infos[:0]
		for _, c := range collections {
			infos = append(infos, map[string]any{"name": c})
		}
	}
	data, err := p.CDC(ctx, "create", map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + target, "token": "root:Milvus", "connect_timeout": 10},
		"collection_infos":     infos,
	})
	if err != nil {
		return "", err
	}
	id, _ := data["task_id"].(string)
	if id == "" {
		return "", errors.New("POST /cdc create: no task_id in the answer")
	}
	return id, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil // it answers: the API is up (a worker's /ready may say 503 without streams)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not answer after %s", url, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
