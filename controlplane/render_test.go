package controlplane

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/pure"

	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/all"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/taskstore"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/tests/harness"
)

// TestRenderedStreamBuilds: a task's stream config is valid for Benthos (it
// builds with the worker's cdc_store resource), names the task's collections
// and checkpoint, and holds no secret.
func TestRenderedStreamBuilds(t *testing.T) {
	r, err := newRenderer(SourceConfig{Address: "127.0.0.1:19530", Token: "root:SourceSecret", PulsarURL: "pulsar://127.0.0.1:6650", ClusterPrefix: "by-dev", DMLChannels: 16},
		TLSFiles{}, "abc123", "milvus-cdc:")
	if err != nil {
		t.Fatal(err)
	}
	task := Task{
		ID:            "abc123",
		Target:        ConnectParam{URI: "http://127.0.0.1:19540", Token: "root:TargetSecret", Password: "pw-secret"},
		DBCollections: map[string][]CollectionInfo{"db1": {{Name: "*"}}, "*": {{Name: "products"}}},
	}
	y, err := r.render(task, "f00d")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"SourceSecret", "TargetSecret", "pw-secret"} {
		if strings.Contains(string(y), secret) {
			t.Fatalf("secret %q in the stream config:\n%s", secret, y)
		}
	}
	for _, want := range []string{`"*.products"`, `"db1.*"`, strconv.Quote(contract.SecretKey("abc123")),
		strconv.Quote(contract.KeySourceCredentials), `"http://127.0.0.1:19540"`,
		strconv.Quote(contract.RunLabel("abc123", "f00d")), `run: "f00d"`} {
		if !strings.Contains(string(y), want) {
			t.Errorf("stream config lacks %s:\n%s", want, y)
		}
	}
	mustBuild(t, y)
}

// renderedTaskStores decodes the task_store blocks of a rendered stream.
func renderedTaskStores(t *testing.T, y []byte) (in, out map[string]any) {
	t.Helper()
	var doc struct {
		Input struct {
			Binlog struct {
				TaskStore map[string]any `yaml:"task_store"`
			} `yaml:"milvus_binlog"`
		} `yaml:"input"`
		Output struct {
			Apply struct {
				TaskStore map[string]any `yaml:"task_store"`
			} `yaml:"milvus_apply"`
		} `yaml:"output"`
	}
	if err := yaml.Unmarshal(y, &doc); err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	return doc.Input.Binlog.TaskStore, doc.Output.Apply.TaskStore
}

// parseTaskStore reads a rendered task_store block as the plugins do, with
// the worker's cdc_store resource.
func parseTaskStore(t *testing.T, field *service.ConfigField, block map[string]any) *taskstore.Store {
	t.Helper()
	b, err := yaml.Marshal(map[string]any{taskstore.FieldTaskStore: block})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := service.NewConfigSpec().Field(field).ParseYAML(string(b), nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	s, err := taskstore.FromParsed(conf, service.MockResources(service.MockResourcesOptAddCache("cdc_store")))
	if err != nil || s == nil {
		t.Fatalf("task store %v: %v", s, err)
	}
	return s
}

// TestRenderedTaskStore: each plugin gets one task_store block naming the
// task, the run, the worker's cdc_store and the store's prefix and Redis
// (REDIS_URL, never a URL written out), and the keys the plugins derive from
// it are the ones the control plane reads (package contract).
func TestRenderedTaskStore(t *testing.T) {
	r, err := newRenderer(SourceConfig{Address: "127.0.0.1:19530", PulsarURL: "pulsar://127.0.0.1:6650", ClusterPrefix: "by-dev", DMLChannels: 16},
		TLSFiles{}, "store1", "milvus-cdc:")
	if err != nil {
		t.Fatal(err)
	}
	y, err := r.render(Task{ID: "abc123", Target: ConnectParam{URI: "http://127.0.0.1:19540"}, CollectionInfos: []CollectionInfo{{Name: "*"}}}, "f00d")
	if err != nil {
		t.Fatal(err)
	}
	in, out := renderedTaskStores(t, y)
	redis := map[string]any{"url_env": "REDIS_URL", "prefix": "milvus-cdc:"}
	for name, block := range map[string]map[string]any{"input": in, "output": out} {
		if block["cache"] != "cdc_store" || block["task"] != "abc123" || block["run"] != "f00d" || fmt.Sprint(block["redis"]) != fmt.Sprint(redis) {
			t.Errorf("%s task_store: %v", name, block)
		}
	}
	if out["lease_ttl"] != leaseTTL.String() {
		t.Errorf("output lease_ttl %v, want %s", out["lease_ttl"], leaseTTL)
	}
	if strings.Contains(string(y), "redis://") {
		t.Errorf("a Redis URL is written out:\n%s", y)
	}
	src, dst := parseTaskStore(t, taskstore.InputField(), in), parseTaskStore(t, taskstore.OutputField(), out)
	for _, k := range [][2]string{
		{src.CheckpointKey(), contract.CheckpointKey("abc123")},
		{src.Failure().Key(), contract.FailureKey("abc123")},
		{src.InputStatus().Key(), contract.InputStatusKey("abc123")},
		{dst.Failure().Key(), contract.FailureKey("abc123")},
		{dst.OutputStatus().Key(), contract.OutputStatusKey("abc123")},
	} {
		if k[0] != k[1] {
			t.Errorf("derived key %q, want %q", k[0], k[1])
		}
	}
	fence := src.Fence()
	if dst.Lease() == nil || fence == nil {
		t.Fatal("a run without a lease or a fence")
	}
	_ = fence.Close()
}

// TestRenderedStreamLints: `milvus-cdc lint` passes the rendered stream,
// and reports the task store's own rule when the stream breaks it.
func TestRenderedStreamLints(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bin/milvus-cdc")
	}
	r, err := newRenderer(SourceConfig{Address: "127.0.0.1:19530", PulsarURL: "pulsar://127.0.0.1:6650", ClusterPrefix: "by-dev", DMLChannels: 16},
		TLSFiles{}, "store1", "milvus-cdc:")
	if err != nil {
		t.Fatal(err)
	}
	y, err := r.render(Task{ID: "t1", Target: ConnectParam{URI: "http://127.0.0.1:19540"},
		DBCollections: map[string][]CollectionInfo{"db1": {{Name: "*"}}, "default": {{Name: "a"}}}}, "run1")
	if err != nil {
		t.Fatal(err)
	}
	bin := harness.MilvusCDC(t)
	lint := func(config []byte) (string, error) {
		path := filepath.Join(t.TempDir(), "stream.yaml")
		if err := os.WriteFile(path, config, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "lint", path).CombinedOutput()
		return string(out), err
	}
	if out, err := lint(y); err != nil {
		t.Fatalf("lint of the rendered stream: %v\n%s\n%s", err, out, y)
	}
	broken := strings.Replace(string(y), `task: "t1"`, `task: ""`, 1)
	if out, err := lint([]byte(broken)); err == nil || !strings.Contains(out, "task_store.task must name the task") {
		t.Fatalf("lint of a stream without a task: %v\n%s", err, out)
	}
}

// mustBuild fails the test unless the stream config y parses and builds
// with the worker's cdc_store resource.
func mustBuild(t *testing.T, y []byte) {
	t.Helper()
	sb := service.NewStreamBuilder()
	if err := sb.SetYAML(string(y)); err != nil {
		t.Fatalf("stream config does not parse: %v\n%s", err, y)
	}
	if err := sb.AddCacheYAML("label: cdc_store\nmemory: {}"); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Build(); err != nil {
		t.Fatalf("stream does not build: %v\n%s", err, y)
	}
}

// TestCollectionPatterns: "*" in collection_infos is the whole cluster, a
// name is that collection of "default", db_collections names per database.
func TestCollectionPatterns(t *testing.T) {
	for _, tc := range []struct {
		task Task
		want string
	}{
		{Task{CollectionInfos: []CollectionInfo{{Name: "*"}}}, "*.*"},
		{Task{CollectionInfos: []CollectionInfo{{Name: "c1"}, {Name: "c2"}}}, "default.c1,default.c2"},
		{Task{DBCollections: map[string][]CollectionInfo{"db1": {{Name: "*"}}, "default": {{Name: "a"}}}}, "db1.*,default.a"},
	} {
		if got := strings.Join(collectionPatterns(tc.task), ","); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.task, got, tc.want)
		}
	}
	// "*" overlaps every task on the same target, a second database too.
	star := collectionPatterns(Task{CollectionInfos: []CollectionInfo{{Name: "*"}}})
	if !overlaps(star, []string{"db2.c"}) || overlaps([]string{"default.a"}, []string{"db2.a"}) {
		t.Error("overlap of the whole cluster with db2.c not seen, or default.a taken to overlap db2.a")
	}
}

// TestRenderedStreamTLS: the server's TLS files reach the source, Pulsar
// and (for a task that turns TLS on) target blocks of the stream, which
// still builds; a target without TLS gets none.
func TestRenderedStreamTLS(t *testing.T) {
	dir := t.TempDir()
	ca := dir + "/ca.pem"
	_, caPEM := testCA(t)
	if err := os.WriteFile(ca, []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	src := SourceConfig{Address: "127.0.0.1:19530", PulsarURL: "pulsar+ssl://127.0.0.1:6651", ClusterPrefix: "by-dev", DMLChannels: 16,
		TLS: TLSFiles{Enabled: true, RootCAsFile: ca}, PulsarTLS: TLSFiles{Enabled: true, RootCAsFile: ca}}
	r, err := newRenderer(src, TLSFiles{RootCAsFile: ca}, "abc123", "milvus-cdc:")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		uri      string
		targetCA bool
	}{{"https://127.0.0.1:19540", true}, {"http://127.0.0.1:19540", false}} {
		y, err := r.render(Task{ID: "t1", Target: ConnectParam{URI: tc.uri, EnableTLS: tc.targetCA}, DBCollections: map[string][]CollectionInfo{"*": {{Name: "*"}}}}, "t1run")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Input struct {
				Binlog struct {
					PulsarTLS map[string]any `yaml:"pulsar_tls"`
					Source    struct {
						TLS map[string]any `yaml:"tls"`
					} `yaml:"source"`
				} `yaml:"milvus_binlog"`
			} `yaml:"input"`
			Output struct {
				Apply struct {
					TLS map[string]any `yaml:"tls"`
				} `yaml:"milvus_apply"`
			} `yaml:"output"`
		}
		if err := yaml.Unmarshal(y, &doc); err != nil {
			t.Fatalf("%v\n%s", err, y)
		}
		in := doc.Input.Binlog
		if in.PulsarTLS["root_cas_file"] != ca || in.Source.TLS["root_cas_file"] != ca || in.Source.TLS["enabled"] != true {
			t.Errorf("source/pulsar tls: %v %v", in.Source.TLS, in.PulsarTLS)
		}
		out := doc.Output.Apply.TLS
		if (out["enabled"] == true) != tc.targetCA || (out["root_cas_file"] == ca) != tc.targetCA {
			t.Errorf("%s: target tls %v", tc.uri, out)
		}
		mustBuild(t, y)
	}
}

// TestServerConfigTLSChecks: contradictory TLS settings are refused.
func TestServerConfigTLSChecks(t *testing.T) {
	bad := map[string]func(*ServerConfig){
		"does not start with pulsar+ssl://":  func(c *ServerConfig) { c.Source.PulsarTLS.Enabled = true },
		"cert_file and key_file go together": func(c *ServerConfig) { c.Source.TLS = TLSFiles{Enabled: true, CertFile: "c.pem"} },
		"enabled is false":                   func(c *ServerConfig) { c.Source.TLS.SkipCertVerify = true },
	}
	for want, mutate := range bad {
		c := defaultServerConfig()
		mutate(&c)
		if err := c.checkTLS(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want one containing %q", err, want)
		}
	}
	c := defaultServerConfig()
	c.TargetTLS = TLSFiles{RootCAsFile: "ca.pem"}
	if err := c.checkTLS(); err != nil {
		t.Errorf("target_tls with a CA file only (each task turns TLS on): %v", err)
	}
}

// testCA returns a self-signed CA certificate (DER and PEM).
func testCA(t *testing.T) ([]byte, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cdc-test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestShippedServerConfigLoads: config/server.yaml parses and passes the
// checks as shipped.
func TestShippedServerConfigLoads(t *testing.T) {
	c, err := LoadServerConfig([]string{"-c", "../config/server.yaml"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if c.Source.DMLChannels != 16 || c.Source.TLS.Enabled || c.Listen == "" {
		t.Errorf("unexpected values: %+v", c)
	}
}

// TestRenderedStreamInterpolatesNothing: a worker's gateway refuses a
// config holding "${" (the streams API fills it from the worker's
// environment), so the rendered stream holds none, whatever the task's
// values: the store prefix is the control plane's prefix written out (the
// Redis URL is named by REDIS_URL, not written), and a "$" of a value is
// escaped (and reads back as itself).
func TestRenderedStreamInterpolatesNothing(t *testing.T) {
	r, err := newRenderer(SourceConfig{Address: "127.0.0.1:19530", PulsarURL: "pulsar://127.0.0.1:6650", ClusterPrefix: "by-dev", DMLChannels: 16},
		TLSFiles{}, "store1", "tenant-a:")
	if err != nil {
		t.Fatal(err)
	}
	task := Task{ID: "t1", Target: ConnectParam{URI: "http://127.0.0.1:19540"},
		CollectionInfos: []CollectionInfo{{Name: "${" + contract.SecretKeysEnv + "}"}}}
	y, err := r.render(task, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(y), "${") {
		t.Fatalf("the stream config holds ${:\n%s", y)
	}
	var doc struct {
		Input struct {
			Binlog struct {
				Collections []string `yaml:"collections"`
			} `yaml:"milvus_binlog"`
		} `yaml:"input"`
	}
	if err := yaml.Unmarshal(y, &doc); err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	in, out := renderedTaskStores(t, y)
	for _, block := range []map[string]any{in, out} {
		if redis, _ := block["redis"].(map[string]any); redis["prefix"] != "tenant-a:" || block["task"] != "t1" {
			t.Errorf("task_store %v, want task t1 and prefix tenant-a:", block)
		}
	}
	if got := doc.Input.Binlog.Collections; len(got) != 1 || got[0] != "default.${"+contract.SecretKeysEnv+"}" {
		t.Errorf("collections read back as %q", got)
	}
	mustBuild(t, y)
}

// TestStreamsClientSignsConfigs: the control plane posts a stream config as
// application/yaml (not a type a browser sends without a preflight) with a
// grant the worker verifies for that id and body; without a key it posts
// nothing.
func TestStreamsClientSignsConfigs(t *testing.T) {
	ring, err := contract.ParseKeyring("dGVzdC1rZXktMDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=")
	if err != nil {
		t.Fatal(err)
	}
	var verified error
	posted := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posted++
		body, _ := io.ReadAll(r.Body)
		if ct := r.Header.Get("Content-Type"); ct != "application/yaml" {
			verified = fmt.Errorf("content type %q", ct)
			return
		}
		verified = ring.VerifyStreamGrant(strings.TrimPrefix(r.URL.Path, "/streams/"), body, r.Header.Get(contract.GrantHeader))
	}))
	defer srv.Close()
	if err := NewStreamsClient(srv.URL, "", ring).Create(context.Background(), "t1", []byte("input: {}\n")); err != nil || verified != nil {
		t.Fatalf("create: %v, worker's check: %v", err, verified)
	}
	if err := NewStreamsClient(srv.URL, "", contract.Keyring{}).Create(context.Background(), "t1", []byte("input: {}\n")); err == nil || posted != 1 {
		t.Fatalf("posted without a key: %v (%d posts)", err, posted)
	}
}
