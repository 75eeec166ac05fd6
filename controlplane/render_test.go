package controlplane

import (
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/pure"

	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/milvus"
	_ "github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/redis"
)

// TestRenderedStreamBuilds: a task's stream config is valid for Benthos (it
// builds with the worker's cdc_store resource), names the task's collections
// and checkpoint, and holds no secret.
func TestRenderedStreamBuilds(t *testing.T) {
	r, err := newRenderer(SourceConfig{Address: "127.0.0.1:19530", Token: "root:SourceSecret", PulsarURL: "pulsar://127.0.0.1:6650", ClusterPrefix: "by-dev", DMLChannels: 16})
	if err != nil {
		t.Fatal(err)
	}
	task := Task{
		ID:            "abc123",
		Target:        ConnectParam{URI: "http://127.0.0.1:19540", Token: "root:TargetSecret", Password: "pw-secret"},
		DBCollections: map[string][]CollectionInfo{"db1": {{Name: "*"}}, "*": {{Name: "products"}}},
	}
	y, err := r.render(task)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"SourceSecret", "TargetSecret", "pw-secret"} {
		if strings.Contains(string(y), secret) {
			t.Fatalf("secret %q in the stream config:\n%s", secret, y)
		}
	}
	for _, want := range []string{`"*.products"`, `"db1.*"`, `"ckpt:abc123"`, `"secret:abc123"`, `"http://127.0.0.1:19540"`} {
		if !strings.Contains(string(y), want) {
			t.Errorf("stream config lacks %s:\n%s", want, y)
		}
	}
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

func TestCollectionPatterns(t *testing.T) {
	got := collectionPatterns(Task{CollectionInfos: []CollectionInfo{{Name: "*"}, {Name: "b"}}})
	if strings.Join(got, ",") != "default.*,default.b" {
		t.Fatalf("%v", got)
	}
}
