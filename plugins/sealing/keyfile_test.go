package sealing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyFileGeneratedOnce: without keys in the environment the control
// plane generates a key file (0600) on its first start; later loads (the
// workers, a restart) read the same key; a worker finds no file rather than
// making its own; a file others may read is refused.
func TestKeyFileGeneratedOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cfg", "secret-keys")
	if _, _, err := Load("", file, false); err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("a worker without the key file: %v, want an error naming it", err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a load without create wrote a key file")
	}
	a, where, err := Load("", file, true)
	if err != nil || a.Empty() || !strings.Contains(where, file) {
		t.Fatalf("first start: %v %q", err, where)
	}
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st.Mode(), err)
	}
	b, _, err := Load("", file, false)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := a.Seal([]byte("root:Milvus"), "secret:t1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Open(sealed, "secret:t1"); err != nil || string(got) != "root:Milvus" {
		t.Fatalf("the worker's load does not open the control plane's seal: %q %v", got, err)
	}
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load("", file, true); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key file: %v", err)
	}
	env, where, err := Load("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", file, true)
	if err != nil || env.Empty() || !strings.Contains(where, "environment") {
		t.Fatalf("keys from the environment: %v %q", err, where)
	}
}
