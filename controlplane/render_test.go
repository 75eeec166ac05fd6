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
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/pure"

	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/all"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
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
	for _, want := range []string{`"*.products"`, `"db1.*"`, strconv.Quote(contract.CheckpointKey("abc123")),
		strconv.Quote(contract.FailureKey("abc123")), strconv.Quote(contract.SecretKey("abc123")),
		strconv.Quote(contract.KeySourceCredentials), `"http://127.0.0.1:19540"`,
		strconv.Quote(contract.RunLabel("abc123", "f00d")), `run: "f00d"`} {
		if !strings.Contains(string(y), want) {
			t.Errorf("stream config lacks %s:\n%s", want, y)
		}
	}
	mustBuild(t, y)
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
// values: the lease keys and store prefix are the control plane's prefix
// written out, and a "$" of a value is escaped (and reads back as itself).
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
				Lease       struct {
					Key         string `yaml:"key"`
					StorePrefix string `yaml:"store_prefix"`
				} `yaml:"lease"`
			} `yaml:"milvus_binlog"`
		} `yaml:"input"`
		Output struct {
			Apply struct {
				Lease struct {
					Key         string `yaml:"key"`
					StorePrefix string `yaml:"store_prefix"`
				} `yaml:"lease"`
			} `yaml:"milvus_apply"`
		} `yaml:"output"`
	}
	if err := yaml.Unmarshal(y, &doc); err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	in, out := doc.Input.Binlog.Lease, doc.Output.Apply.Lease
	want := "tenant-a:" + contract.LeaseKey("t1")
	if in.Key != want || out.Key != want || in.StorePrefix != "tenant-a:" || out.StorePrefix != "tenant-a:" {
		t.Errorf("leases %+v %+v, want key %s and prefix tenant-a:", in, out, want)
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
