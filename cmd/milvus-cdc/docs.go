package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/all"
)

// runDocs is `milvus-cdc docs [dir]`: writes the reference page of each
// plugin, rendered from its config spec, into dir (default docs), and
// removes generated pages no plugin renders anymore.
func runDocs(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 || (len(args) == 1 && strings.HasPrefix(args[0], "-")) {
		fmt.Fprintln(stderr, "usage: milvus-cdc docs [dir]   (default dir: docs)")
		return 2
	}
	dir := "docs"
	if len(args) == 1 {
		dir = args[0]
	}
	pages, err := all.RenderDocs()
	if err != nil {
		fmt.Fprintln(stderr, "milvus-cdc docs:", err)
		return 1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(stderr, "milvus-cdc docs:", err)
		return 1
	}
	for _, name := range all.DocFiles() {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pages[name], 0o644); err != nil {
			fmt.Fprintln(stderr, "milvus-cdc docs:", err)
			return 1
		}
		fmt.Fprintln(stdout, "wrote", path)
	}
	stale, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		fmt.Fprintln(stderr, "milvus-cdc docs:", err)
		return 1
	}
	for _, path := range stale {
		if _, ok := pages[filepath.Base(path)]; ok {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(b, []byte(all.GeneratedMarker)) {
			continue
		}
		if err := os.Remove(path); err != nil {
			fmt.Fprintln(stderr, "milvus-cdc docs:", err)
			return 1
		}
		fmt.Fprintln(stdout, "removed", path)
	}
	return 0
}
