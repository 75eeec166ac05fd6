package binlog

import (
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"
)

// TestInputLintRejectsWrongConfig: each mistake is named by a lint error
// before anything connects.
func TestInputLintRejectsWrongConfig(t *testing.T) {
	cases := map[string]string{
		"dml_channels: 0":                  "dml_channels must be positive",
		"checkpoint_limit: 0":              "checkpoint_limit must be positive",
		"channel_queue_size: -3":           "channel_queue_size must be positive",
		"idle_channel_timeout: 0s":         "idle_channel_timeout must be",
		"start_from: checkpoint":           "needs a checkpoint_cache",
		"pulsar_url: localhost:6650":       "pulsar_url must start with",
		"pulsar_tls: { enabled: true }":    "does not start with pulsar+ssl://",
		`collections: [ "a.b.c" ]`:         "collections pattern",
		"start_from: yesterday":            "yesterday",
		"format: xml":                      "xml",
		"no_such_field: 1":                 "no_such_field",
		`collections: [ "default.*", "" ]`: "collections pattern",
	}
	for line, want := range cases {
		sb := service.NewStreamBuilder()
		err := sb.AddInputYAML("milvus_binlog:\n  " + line + "\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", line, err, want)
		}
		// The constructor refuses what lint reports (a config that is not
		// linted, e.g. posted to the streams API with linting off).
		if strings.HasPrefix(line, "no_such_field") {
			continue // unknown fields are Benthos's own lint
		}
		parsed, err := milvusBinlogInputSpec().ParseYAML(line+"\n", nil)
		if err != nil {
			continue // refused by the parser already
		}
		if _, err := milvusBinlogInputFromParsed(parsed, service.MockResources()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: constructor error %v, want one containing %q", line, err, want)
		}
	}
	sb := service.NewStreamBuilder()
	if err := sb.AddInputYAML("milvus_binlog:\n  collections: [ \"default.*\", \"products\" ]\n  start_from: latest\n"); err != nil {
		t.Errorf("a valid config is refused: %v", err)
	}
}
