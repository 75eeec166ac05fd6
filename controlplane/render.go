package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/pipelines"
	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// SourceConfig is the source Milvus every task reads.
type SourceConfig struct {
	Address       string `yaml:"address"`
	Token         string `yaml:"token"`
	PulsarURL     string `yaml:"pulsar_url"`
	ClusterPrefix string `yaml:"cluster_prefix"`
	DMLChannels   int    `yaml:"dml_channels"`
	// TLS to the source Milvus and to Pulsar (files on every worker).
	TLS       TLSFiles `yaml:"tls"`
	PulsarTLS TLSFiles `yaml:"pulsar_tls"`
}

// leaseTTL is how long a task's writer lease lives without renewal: a
// crashed worker's task is applied again at most this long after the crash.
const leaseTTL = 10 * time.Second

// streamParams fill pipelines/task-stream.yaml.tmpl.
type streamParams struct {
	TaskID, PulsarURL, ClusterPrefix, SourceAddress string
	DMLChannels                                     int
	Collections                                     []string
	TargetAddress, ConnectTimeout                   string
	SourceTLS, PulsarTLS, TargetTLS                 string // rendered tls blocks
	// The credentials' keys in the task store (package contract); the
	// plugins derive the task's other keys from TaskID (task_store).
	SecretKey, SourceCredentialsKey string
	Run, LeaseTTL                   string
	StorePrefix                     string // the task store's key prefix
	SourceCluster                   string
	Adopt                           []string
	StoreLabel                      string
}

// renderer renders task streams.
type renderer struct {
	tmpl *template.Template
	src  SourceConfig
	// targetTLS: how to trust targets whose task turns TLS on.
	targetTLS TLSFiles
	storeID   string // the task store's identity, in every stream's label
	prefix    string // the task store's key prefix (the workers' CDC_REDIS_PREFIX)
}

func newRenderer(src SourceConfig, targetTLS TLSFiles, storeID, prefix string) (*renderer, error) {
	t, err := template.New("task-stream").Funcs(template.FuncMap{
		// q quotes a value as a YAML (JSON) string, so no value can break
		// out of its field; "$" is escaped, so no value puts an environment
		// reference in the config (a worker refuses any).
		"q": func(s string) string { b, _ := json.Marshal(s); return strings.ReplaceAll(string(b), "$", `\u0024`) },
	}).Option("missingkey=error").Parse(pipelines.TaskStream)
	if err != nil {
		return nil, fmt.Errorf("stream template: %w", err)
	}
	return &renderer{tmpl: t, src: src, targetTLS: targetTLS, storeID: storeID, prefix: prefix}, nil
}

// render returns the stream config of run `run` of a task.
func (r *renderer) render(t Task, run string) ([]byte, error) {
	addr, tls := t.Target.Address()
	targetTLS := r.targetTLS
	targetTLS.Enabled = tls
	if !tls {
		targetTLS = TLSFiles{}
	}
	timeout := t.Target.ConnectTimeout
	if timeout <= 0 {
		timeout = 10
	}
	p := streamParams{
		TaskID: t.ID, PulsarURL: r.src.PulsarURL, ClusterPrefix: r.src.ClusterPrefix, DMLChannels: r.src.DMLChannels,
		SourceAddress: r.src.Address, Collections: collectionPatterns(t),
		TargetAddress: addr, ConnectTimeout: fmt.Sprintf("%ds", timeout),
		SourceTLS: r.src.TLS.yaml(), PulsarTLS: r.src.PulsarTLS.yaml(), TargetTLS: targetTLS.yaml(),
		SecretKey: contract.SecretKey(t.ID), SourceCredentialsKey: contract.KeySourceCredentials,
		Run: run, LeaseTTL: leaseTTL.String(), StorePrefix: r.prefix,
		SourceCluster: contract.CopyOrigin(contract.SourceCluster(r.src.Address, r.src.ClusterPrefix), r.storeID), Adopt: t.Adopted,
		StoreLabel: contract.RunLabel(r.storeID, run),
	}
	var buf bytes.Buffer
	if err := r.tmpl.Execute(&buf, p); err != nil {
		return nil, fmt.Errorf("render stream of task %s: %w", t.ID, err)
	}
	return buf.Bytes(), nil
}

// collectionPatterns turns a task's collection_infos and db_collections
// into milvus_binlog `db.collection` patterns. In collection_infos, "*" is
// the whole cluster (every collection of every database, present and future,
// as the Milvus CDC documentation defines it); a name is that collection of
// database "default". db_collections names collections per database.
func collectionPatterns(t Task) []string {
	var out []string
	for _, c := range t.CollectionInfos {
		if c.Name == contract.AnyName {
			out = append(out, contract.AllCollections().String())
			continue
		}
		out = append(out, contract.Pattern{DB: contract.DefaultDatabase, Collection: c.Name}.String())
	}
	for db, cs := range t.DBCollections {
		for _, c := range cs {
			out = append(out, contract.Pattern{DB: db, Collection: c.Name}.String())
		}
	}
	sort.Strings(out)
	return out
}
