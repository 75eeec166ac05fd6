package main

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
)

// plane is a worker (`milvus-cdc streams`) and a control plane
// (`milvus-cdc server`) started from the bench's binary, as an operator runs
// them: the task phase creates its task through POST /cdc on it.
type plane struct {
	worker, server *exec.Cmd
	base           string // the control plane's URL
	prefix         string // its Redis prefix: this run's tasks only
}

// startPlane starts the worker and the control plane on free loopback ports
// with config/worker.yaml and config/server.yaml and waits until both answer.
func startPlane(ctx context.Context, o *options, bin, prefix string) (*plane, error) {
	wp, err := freePort()
	if err != nil {
		return nil, err
	}
	sp, err := freePort()
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "CDC_REDIS_PREFIX="+prefix, "REDIS_URL=redis://"+o.redisAddr,
		"MILVUS_SOURCE_ADDR="+o.source, "PULSAR_URL="+o.pulsarURL, "LOG_LEVEL=WARN")
	workerURL := fmt.Sprintf("http://127.0.0.1:%d", wp)
	p := &plane{base: fmt.Sprintf("http://127.0.0.1:%d", sp), prefix: prefix}
	p.worker = exec.Command(bin, "streams", "-o", "config/worker.yaml", "-r", "config/worker-resources.yaml")
	p.worker.Env = append(env, fmt.Sprintf("WORKER_ADDRESS=127.0.0.1:%d", wp))
	p.server = exec.Command(bin, "server", "-c", "config/server.yaml", "--listen", fmt.Sprintf("127.0.0.1:%d", sp), "--workers", workerURL)
	p.server.Env = env
	for _, c := range []*exec.Cmd{p.worker, p.server} {
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
		if err := c.Start(); err != nil {
			p.stop()
			return nil, fmt.Errorf("start %s: %w", c.Args[1], err)
		}
	}
	for _, url := range []string{workerURL + "/ready", p.base + "/healthz"} {
		if err := waitHTTP(ctx, url, time.Minute); err != nil {
			p.stop()
			return nil, err
		}
	}
	return p, nil
}

// workerPID is the worker's process id (for its memory).
func (p *plane) workerPID() int { return p.worker.Process.Pid }

// stop ends both processes (SIGINT, then wait) and returns the worker's
// peak RSS (VmHWM, KiB; -1 if unknown) read just before it.
func (p *plane) stop() int64 {
	peak := int64(-1)
	if p.worker != nil && p.worker.Process != nil {
		peak = memNow(p.worker.Process.Pid).hwm
	}
	for _, c := range []*exec.Cmd{p.server, p.worker} {
		if c != nil && c.Process != nil {
			_ = c.Process.Signal(os.Interrupt)
			_ = c.Wait()
		}
	}
	return peak
}

// cdc posts one request of the documented API and returns its data.
func (p *plane) cdc(ctx context.Context, requestType string, data any) (map[string]any, error) {
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

// createTask posts the documentation's create: every collection of every
// database into the target.
func (p *plane) createTask(ctx context.Context, target string) (string, error) {
	data, err := p.cdc(ctx, "create", map[string]any{
		"milvus_connect_param": map[string]any{"uri": "http://" + target, "token": "root:Milvus", "connect_timeout": 10},
		"collection_infos":     []map[string]any{{"name": "*"}},
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
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}
