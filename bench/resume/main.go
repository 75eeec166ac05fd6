// Command resume measures how long a paused task's backlog takes to reach the
// target after `resume` (issue 6: goal < 0.5 s for 500 rows; the established
// CDC server: 6.5 s). It starts a worker and the control plane from the
// milvus-cdc binary on the running stack, creates a task over HTTP, and for
// each round: pause, insert rows into the source, resume, and time until the
// target's count(*) shows them (Eventually queries polled every 5 ms).
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"
)

type options struct {
	bin, source, target, pulsar, redis string
	rows, rounds                       int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/milvus-cdc", "milvus-cdc binary")
	flag.StringVar(&o.source, "source", env("MILVUS_SOURCE_ADDR", "127.0.0.1:19530"), "source Milvus")
	flag.StringVar(&o.target, "target", env("MILVUS_TARGET_ADDR", "127.0.0.1:19540"), "target Milvus")
	flag.StringVar(&o.pulsar, "pulsar", env("PULSAR_URL", "pulsar://127.0.0.1:6650"), "Pulsar of the source")
	flag.StringVar(&o.redis, "redis", env("REDIS_ADDR", "127.0.0.1:6379"), "Redis (task store)")
	flag.IntVar(&o.rows, "rows", 500, "rows written while the task is paused")
	flag.IntVar(&o.rounds, "rounds", 5, "pause/resume rounds")
	flag.Parse()
	if o.rows <= 0 || o.rounds <= 0 {
		fmt.Fprintln(os.Stderr, "bench/resume: -rows and -rounds must be positive")
		os.Exit(2)
	}
	took, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/resume:", err)
		os.Exit(1)
	}
	s := summarize(took)
	s.print(o)
	s.appendRows(o)
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the binary; the returned func stops it (SIGINT, wait).
func start(o options, extraEnv []string, args ...string) (func(), error) {
	cmd := exec.Command(o.bin, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w", o.bin, args[0], err)
	}
	return func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }, nil
}

func waitHTTP(url string) error {
	for i := 0; i < 240; i++ {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s does not answer", url)
}

// cdc sends one request of the control plane's POST /cdc API.
func cdc(base, rt string, data any) (map[string]any, error) {
	b, err := json.Marshal(map[string]any{"request_type": rt, "request_data": data})
	if err != nil {
		return nil, fmt.Errorf("%s: encode request: %w", rt, err)
	}
	r, err := http.Post(base+"/cdc", "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rt, err)
	}
	defer r.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(r.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: decode answer (%d): %w", rt, r.StatusCode, err)
	}
	if r.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %d %v", rt, r.StatusCode, out)
	}
	return out, nil
}

// taskID is data.task_id of a create answer.
func taskID(resp map[string]any) (string, error) {
	data, _ := resp["data"].(map[string]any)
	id, _ := data["task_id"].(string)
	if id == "" {
		return "", fmt.Errorf("create: no data.task_id in %v", resp)
	}
	return id, nil
}
