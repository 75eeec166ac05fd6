// Package pipelines holds the stream template of a control-plane task; the
// YAML files beside it are example pipelines for `milvus-cdc run -c`.
package pipelines

import _ "embed"

// TaskStream is the text/template of one task's Benthos stream.
//
//go:embed task-stream.yaml.tmpl
var TaskStream string
