package all

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// docsDir holds the checked-in pages, written by `make docs`.
const docsDir = "../../docs"

// TestDocsUpToDate fails when a page in docs/ differs from what the config
// specs render, is missing, or is a generated page no plugin renders anymore.
func TestDocsUpToDate(t *testing.T) {
	pages, err := RenderDocs()
	if err != nil {
		t.Fatal(err)
	}
	want := DocFiles()
	got := slices.Sorted(maps.Keys(pages))
	if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("RenderDocs returned %v, want %v", got, want)
	}

	for _, name := range want {
		onDisk, err := os.ReadFile(filepath.Join(docsDir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			t.Errorf("docs/%s is missing: run make docs", name)
		case err != nil:
			t.Error(err)
		case !bytes.Equal(onDisk, pages[name]):
			t.Errorf("docs/%s is out of date: run make docs", name)
		}
	}

	// A generated page whose plugin is gone (or renamed) must go too.
	entries, err := os.ReadDir(docsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".md" || pages[e.Name()] != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(docsDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(b, []byte(GeneratedMarker)) {
			t.Errorf("docs/%s is generated but no plugin renders it anymore: delete it and run make docs", e.Name())
		}
	}
}

// TestRenderDocsDeterministic renders twice: map iteration or anything else
// unordered must not reach the pages.
func TestRenderDocsDeterministic(t *testing.T) {
	a, err := RenderDocs()
	if err != nil {
		t.Fatal(err)
	}
	b, err := RenderDocs()
	if err != nil {
		t.Fatal(err)
	}
	for name, page := range a {
		if !bytes.Equal(page, b[name]) {
			t.Errorf("%s differs between two renders", name)
		}
		if !bytes.HasPrefix(page, []byte(GeneratedMarker)) {
			t.Errorf("%s does not start with the generated marker", name)
		}
	}
}
