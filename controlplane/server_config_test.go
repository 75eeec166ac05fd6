package controlplane

import (
	"io"
	"strings"
	"testing"
)

// TestExposureNeedsAuth: /cdc listens on loopback by default; beyond it,
// only with a bearer token or behind an authenticating proxy.
func TestExposureNeedsAuth(t *testing.T) {
	t.Setenv("MILVUS_CDC_BEARER_TOKEN", "")
	t.Setenv("MILVUS_CDC_BEHIND_PROXY", "")
	t.Setenv("MILVUS_CDC_LISTEN", "")
	c, err := LoadServerConfig(nil, io.Discard)
	if err != nil || c.Listen != "127.0.0.1:8444" {
		t.Fatalf("default: %q %v", c.Listen, err)
	}
	if _, err := LoadServerConfig([]string{"--listen", "0.0.0.0:8444"}, io.Discard); err == nil || !strings.Contains(err.Error(), "bearer token") {
		t.Fatalf("0.0.0.0 without a token: %v", err)
	}
	for _, ok := range [][]string{
		{"--listen", "0.0.0.0:8444", "--bearer-token", "t"},
		{"--listen", "[::1]:8444"},
		{"--listen", "localhost:8444"},
	} {
		if _, err := LoadServerConfig(ok, io.Discard); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	t.Setenv("MILVUS_CDC_BEHIND_PROXY", "true")
	if _, err := LoadServerConfig([]string{"--listen", ":8444"}, io.Discard); err != nil {
		t.Errorf("behind a proxy: %v", err)
	}
}
