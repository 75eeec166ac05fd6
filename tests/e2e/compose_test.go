package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// TestDockerComposeValid checks docker-compose.yml with Debian's
// docker-compose (`config -q` parses and validates it; no Docker engine is
// needed). The stack installs docker-compose, so under `make test` a
// missing one is a failure.
func TestDockerComposeValid(t *testing.T) {
	harness.RequireStack(t)
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Fatal("docker-compose is not installed (tests/stack/stack.sh install installs it)")
	}
	cmd := exec.Command(bin, "-f", "../../docker-compose.yml", "config", "-q")
	cmd.Env = append(os.Environ(), "REDIS_PASSWORD=test-redis-password", "MILVUS_CDC_BEARER_TOKEN=test-token", "WORKER_PASSWORD=test-worker", "MILVUS_CDC_SECRET_KEYS=MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config -q: %v\n%s", err, out)
	}
	// The monitoring profile adds Prometheus and Grafana.
	cmd = exec.Command(bin, "-f", "../../docker-compose.yml", "--profile", "monitoring", "config", "--services")
	cmd.Env = append(os.Environ(), "REDIS_PASSWORD=test-redis-password", "MILVUS_CDC_BEARER_TOKEN=test-token", "WORKER_PASSWORD=test-worker", "MILVUS_CDC_SECRET_KEYS=MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "prometheus") || !strings.Contains(string(out), "grafana") {
		t.Fatalf("docker-compose --profile monitoring: %v\n%s", err, out)
	}
	// Without a Redis password or a bearer token it refuses to start.
	cmd = exec.Command(bin, "-f", "../../docker-compose.yml", "config", "-q")
	cmd.Env = append(os.Environ(), "MILVUS_CDC_BEARER_TOKEN=test-token", "WORKER_PASSWORD=test-worker", "MILVUS_CDC_SECRET_KEYS=MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "REDIS_PASSWORD") {
		t.Fatalf("docker-compose accepted the file without REDIS_PASSWORD: %v\n%s", err, out)
	}
	// A broken file must fail the same check (the check can fail).
	path := filepath.Join(t.TempDir(), "docker-compose.yml")
	if err := os.WriteFile(path, []byte("version: \"3.5\"\nservices:\n  x:\n    image: [not, a, string]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-f", path, "config", "-q").CombinedOutput(); err == nil {
		t.Fatalf("docker-compose accepted an invalid file: %s", out)
	}
}
