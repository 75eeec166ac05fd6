package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestServePprofLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:6060", "localhost:0", ":6060", "nonsense"} {
		if ln, err := servePprof(addr); err == nil {
			ln.Close()
			t.Errorf("servePprof(%q) served; want refused (loopback IPs only)", addr)
		}
	}
	ln, err := servePprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "heap profile") {
		t.Fatalf("heap profile: HTTP %d, %.80q", resp.StatusCode, b)
	}
}
