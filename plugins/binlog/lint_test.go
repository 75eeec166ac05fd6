package binlog

import (
	"strconv"
	"strings"
	"testing"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
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
		`collections: [ " " ]`:             "collections pattern",
		"stream_snapshot: true":            "stream_snapshot needs a checkpoint_cache or a task_store",
		"checkpoint_cache: store\n  task_store: { cache: store, task: t1 }": "drop checkpoint_cache",
		"checkpoint_key: k\n  task_store: { cache: store, task: t1 }":       "drop checkpoint_cache and checkpoint_key",
		"task_store: { cache: store, task: '' }":                            "task_store.task must name the task",
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
		parsed, err := milvusBinlogInputSpec().ParseYAML(strings.ReplaceAll(line, "\n  ", "\n")+"\n", nil)
		if err != nil {
			continue // refused by the parser already
		}
		if _, err := milvusBinlogInputFromParsed(parsed, service.MockResources()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: constructor error %v, want one containing %q", line, err, want)
		}
	}
	for _, valid := range []string{
		"collections: [ \"default.*\", \"products\", \" a*.c? \" ]\n  start_from: latest",
		"start_from: checkpoint\n  task_store: { cache: store, task: t1, run: r1 }",
		"stream_snapshot: true\n  checkpoint_cache: store",
	} {
		if err := service.NewStreamBuilder().AddInputYAML("milvus_binlog:\n  " + valid + "\n"); err != nil {
			t.Errorf("a valid config is refused: %v\n%s", err, valid)
		}
	}
}

// TestLintUsesThePatternShape: the collections check of the lint rule is
// contract.PatternShape, the shape contract.ParsePattern checks.
func TestLintUsesThePatternShape(t *testing.T) {
	if !strings.Contains(string(inputLint), `re_match("`+contract.PatternShape+`")`) {
		t.Fatalf("the lint rule does not match contract.PatternShape:\n%s", inputLint)
	}
	for _, p := range []string{"a.b", "b", " a.b ", "a.", ".b", "a.b.c", "", " "} {
		_, parseErr := contract.ParsePattern(p)
		lintErr := service.NewStreamBuilder().AddInputYAML("milvus_binlog:\n  collections: [ " + strconv.Quote(p) + " ]\n")
		if (parseErr == nil) != (lintErr == nil) {
			t.Errorf("%q: ParsePattern %v, lint %v", p, parseErr, lintErr)
		}
	}
}
