package main

import (
	"strings"
	"testing"
)

// TestWorkerEnvironmentRefusesCommandsAndFiles: a stream posted to a task
// worker cannot run a command, start a process, or read or write a file;
// the components of a task stream are there.
func TestWorkerEnvironmentRefusesCommandsAndFiles(t *testing.T) {
	env := workerEnvironment()
	for name, yaml := range map[string]string{
		"command processor": "input: { milvus_binlog: {} }\npipeline: { processors: [ { command: { name: sh, args_mapping: '[\"-c\", \"id\"]' } } ] }\noutput: { milvus_apply: {} }\n",
		"subprocess input":  "input: { subprocess: { name: sh } }\noutput: { milvus_apply: {} }\n",
		"file output":       "input: { milvus_binlog: {} }\noutput: { file: { path: /tmp/x } }\n",
		"file function":     "input: { milvus_binlog: {} }\npipeline: { processors: [ { mapping: 'root = file(\"/etc/passwd\")' } ] }\noutput: { milvus_apply: {} }\n",
		"stdout output":     "input: { milvus_binlog: {} }\noutput: { stdout: {} }\n",
		"http_server input": "input: { http_server: {} }\noutput: { milvus_apply: {} }\n",
	} {
		if err := env.NewStreamBuilder().SetYAML(yaml); err == nil {
			t.Errorf("%s: accepted by the worker environment", name)
		}
	}
	sb := env.NewStreamBuilder()
	if err := sb.SetYAML("input: { milvus_binlog: {} }\noutput: { milvus_apply: {} }\ncache_resources: [ { label: c, redis: { url: redis://127.0.0.1:6379 } } ]\n"); err != nil {
		t.Fatalf("a task stream's components are refused: %v", err)
	}
	if _, err := sb.Build(); err != nil && !strings.Contains(err.Error(), "connect") {
		t.Fatalf("a task stream does not build: %v", err)
	}
}
