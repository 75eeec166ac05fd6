package controlplane

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// guardCall sends method path to h as a request addressed to host with the
// given headers (pairs) and returns the status and the decoded body.
func guardCall(t *testing.T, h http.Handler, method, path, host, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = host
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := map[string]any{}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("response is not JSON (%d): %q", rec.Code, rec.Body.String())
		}
	}
	return rec.Code, out
}

// wantAPIError checks an answer of the API's error shape with the status
// code and a message containing msg.
func wantErrorAnswer(t *testing.T, what string, code int, out map[string]any, wantCode int, msg string) {
	t.Helper()
	m, _ := out["message"].(string)
	if code != wantCode || out["code"] != float64(wantCode) || sortedKeys(out) != "code,message" || !strings.Contains(m, msg) {
		t.Errorf("%s: %d %v; want %d with a message containing %q", what, code, out, wantCode, msg)
	}
}

const listBody = `{"request_type":"list"}`

// TestCDCRequiresJSON: a POST /cdc whose Content-Type is not application/json
// (what a web page can send without asking: text/plain, a form, multipart,
// or none) is a 415 that says what to send; application/json with
// parameters, in any case, is accepted.
func TestCDCRequiresJSON(t *testing.T) {
	h := NewHandler(newHTTPFakeService(), HandlerOptions{})
	for _, ct := range []string{"", "text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=xyz", "application/jsonx", "application/json-patch+json", "json", "application/json; =bad"} {
		hdr := []string{}
		if ct != "" {
			hdr = []string{"Content-Type", ct}
		}
		code, out := guardCall(t, h, http.MethodPost, "/cdc", "localhost:8444", listBody, hdr...)
		wantErrorAnswer(t, "Content-Type "+ct, code, out, http.StatusUnsupportedMediaType, "send Content-Type: application/json")
	}
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON", "APPLICATION/JSON;charset=UTF-8"} {
		if code, out := guardCall(t, h, http.MethodPost, "/cdc", "localhost:8444", listBody, "Content-Type", ct); code != http.StatusOK {
			t.Errorf("Content-Type %q: %d %v", ct, code, out)
		}
	}
}

// TestCDCRefusesCrossOrigin: a request a browser marks as coming from a
// page of another origin (Origin, Sec-Fetch-Site) is a 403, with or
// without a bearer token; the same origin, and no browser at all, pass.
func TestCDCRefusesCrossOrigin(t *testing.T) {
	const host = "localhost:8444"
	for _, token := range []string{"", "tok"} {
		h := NewHandler(newHTTPFakeService(), HandlerOptions{BearerToken: token})
		base := []string{"Content-Type", "application/json", "Authorization", "Bearer " + token}
		for _, origin := range []string{"http://evil.example", "null", "http://localhost:8445", "https://localhost",
			"http://localhost.evil.example:8444", "file://", "ftp://localhost:8444", "http://localhost:8444/path", "garbage"} {
			code, out := guardCall(t, h, http.MethodPost, "/cdc", host, listBody, append(base, "Origin", origin)...)
			wantErrorAnswer(t, "token "+token+", Origin "+origin, code, out, http.StatusForbidden, "Origin")
		}
		for _, site := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"},
			{"Sec-Fetch-Site", "same-site", "Origin", "http://other.localhost:8444"}} {
			code, out := guardCall(t, h, http.MethodPost, "/cdc", host, listBody, append(base, site...)...)
			wantErrorAnswer(t, "token "+token+", "+strings.Join(site, " "), code, out, http.StatusForbidden, "cross-origin request refused")
		}
		for _, ok := range [][]string{{}, {"Origin", "http://localhost:8444"}, {"Origin", "http://LOCALHOST:8444"},
			{"Origin", "https://localhost:8444", "Sec-Fetch-Site", "same-origin"}, {"Sec-Fetch-Site", "none"},
			{"Origin", "http://localhost:8444", "Sec-Fetch-Site", "same-site"}} {
			if code, out := guardCall(t, h, http.MethodPost, "/cdc", host, listBody, append(base, ok...)...); code != http.StatusOK {
				t.Errorf("token %q, %v: %d %v", token, ok, code, out)
			}
		}
	}
	// The default port of the Origin's scheme stands for a Host without one.
	h := NewHandler(newHTTPFakeService(), HandlerOptions{})
	if code, out := guardCall(t, h, http.MethodPost, "/cdc", "127.0.0.1", listBody, "Content-Type", "application/json",
		"Origin", "http://127.0.0.1:80"); code != http.StatusOK {
		t.Errorf("default port: %d %v", code, out)
	}
}

// TestCDCRefusesForeignHost: without a bearer token, a request addressed to
// a name other than localhost or a loopback address is a 403 naming
// allowed_hosts: a web page whose own name was rebound to this machine's
// address sends its name as Host (and as a matching Origin). With a token a
// page cannot send, any Host is served.
func TestCDCRefusesForeignHost(t *testing.T) {
	h := NewHandler(newHTTPFakeService(), HandlerOptions{})
	for _, host := range []string{"evil.example:8444", "evil.example", "localhost.evil.example:8444", "10.0.0.5:8444", ""} {
		code, out := guardCall(t, h, http.MethodPost, "/cdc", host, listBody, "Content-Type", "application/json")
		wantErrorAnswer(t, "Host "+host, code, out, http.StatusForbidden, "allowed_hosts")
		if host != "" {
			code, out = guardCall(t, h, http.MethodPost, "/cdc", host, listBody, "Content-Type", "application/json", "Origin", "http://"+host)
			wantErrorAnswer(t, "Host "+host+" with its own Origin", code, out, http.StatusForbidden, "allowed_hosts")
		}
	}
	for _, host := range []string{"localhost:8444", "LocalHost", "127.0.0.1:8444", "127.1.2.3", "[::1]:8444", "[::1]"} {
		if code, out := guardCall(t, h, http.MethodPost, "/cdc", host, listBody, "Content-Type", "application/json"); code != http.StatusOK {
			t.Errorf("Host %q: %d %v", host, code, out)
		}
	}
	withToken := NewHandler(newHTTPFakeService(), HandlerOptions{BearerToken: "tok"})
	if code, out := guardCall(t, withToken, http.MethodPost, "/cdc", "cdc.example.com", listBody, "Content-Type", "application/json",
		"Authorization", "Bearer tok"); code != http.StatusOK {
		t.Errorf("any Host with a token: %d %v", code, out)
	}
}

// TestHostOfTheListenAddress: the IP address a request arrived on is this
// server's own, so it may be the Host (an IP literal cannot be rebound).
func TestHostOfTheListenAddress(t *testing.T) {
	h := NewHandler(newHTTPFakeService(), HandlerOptions{})
	call := func(host string) int {
		req := httptest.NewRequest(http.MethodPost, "/cdc", strings.NewReader(listBody))
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		local := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 8444}
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, local))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := call("10.1.2.3:8444"); code != http.StatusOK {
		t.Errorf("own address: %d", code)
	}
	if code := call("10.9.9.9:8444"); code != http.StatusForbidden {
		t.Errorf("another address: %d", code)
	}
}

// TestMetricsGuarded: GET /metrics follows /cdc's rules (bearer token when
// one is configured, Host and Origin checks); /healthz stays open.
func TestMetricsGuarded(t *testing.T) {
	svc := newHTTPFakeService()
	open := NewHandler(svc, HandlerOptions{Metrics: NewMetrics(svc)})
	code, out := guardCall(t, open, http.MethodGet, "/metrics", "evil.example:8444", "")
	wantErrorAnswer(t, "foreign Host", code, out, http.StatusForbidden, "allowed_hosts")
	code, out = guardCall(t, open, http.MethodGet, "/metrics", "localhost:8444", "", "Origin", "http://evil.example")
	wantErrorAnswer(t, "cross origin", code, out, http.StatusForbidden, "Origin")
	if code, _ := guardCall(t, open, http.MethodGet, "/metrics", "localhost:8444", ""); code != http.StatusOK {
		t.Errorf("local scrape: %d", code)
	}

	withToken := NewHandler(svc, HandlerOptions{BearerToken: "tok", Metrics: NewMetrics(svc)})
	code, out = guardCall(t, withToken, http.MethodGet, "/metrics", "server:8444", "")
	wantErrorAnswer(t, "no token", code, out, http.StatusUnauthorized, "bearer token")
	if code, _ := guardCall(t, withToken, http.MethodGet, "/metrics", "server:8444", "", "Authorization", "Bearer tok"); code != http.StatusOK {
		t.Errorf("scrape with the token: %d", code)
	}

	for _, h := range []http.Handler{open, withToken} {
		if code, _ := guardCall(t, h, http.MethodGet, "/healthz", "evil.example", "", "Origin", "http://evil.example",
			"Sec-Fetch-Site", "cross-site"); code != http.StatusOK {
			t.Errorf("healthz: %d", code)
		}
	}
}

// TestAllowedHosts: names in AllowedHosts are served without a token, in
// any case and on any port; others are still refused.
func TestAllowedHosts(t *testing.T) {
	h := NewHandler(newHTTPFakeService(), HandlerOptions{AllowedHosts: []string{"cdc.internal", "Proxy.Example:443", "10.0.0.7"}})
	for _, host := range []string{"cdc.internal:8444", "CDC.Internal", "proxy.example", "10.0.0.7:8444"} {
		if code, out := guardCall(t, h, http.MethodPost, "/cdc", host, listBody, "Content-Type", "application/json"); code != http.StatusOK {
			t.Errorf("Host %q: %d %v", host, code, out)
		}
	}
	code, out := guardCall(t, h, http.MethodPost, "/cdc", "other.internal:8444", listBody, "Content-Type", "application/json")
	wantErrorAnswer(t, "Host other.internal", code, out, http.StatusForbidden, "allowed_hosts")
}

// TestServerConfigAllowedHosts: allowed_hosts comes from the config file or
// MILVUS_CDC_ALLOWED_HOSTS (comma-separated), normalized; an entry that is
// no host name or IP address refuses the config.
func TestServerConfigAllowedHosts(t *testing.T) {
	t.Setenv("MILVUS_CDC_LISTEN", "")
	t.Setenv("MILVUS_CDC_BEARER_TOKEN", "")
	t.Setenv("MILVUS_CDC_ALLOWED_HOSTS", "")
	path := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(path, []byte("allowed_hosts: [cdc.example.com, \"[::2]:8444\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadServerConfig([]string{"-c", path}, io.Discard)
	if err != nil || strings.Join(c.AllowedHosts, ",") != "cdc.example.com,::2" {
		t.Fatalf("from the file: %q %v", c.AllowedHosts, err)
	}
	t.Setenv("MILVUS_CDC_ALLOWED_HOSTS", "A.example:8444, b.example")
	if c, err = LoadServerConfig([]string{"-c", path}, io.Discard); err != nil || strings.Join(c.AllowedHosts, ",") != "a.example,b.example" {
		t.Fatalf("from the environment: %q %v", c.AllowedHosts, err)
	}
	for _, bad := range []string{"http://cdc.example.com", "cdc.example.com/x", "*.example.com", "a..b", "host:port", "user@host"} {
		t.Setenv("MILVUS_CDC_ALLOWED_HOSTS", bad)
		if _, err := LoadServerConfig(nil, io.Discard); err == nil || !strings.Contains(err.Error(), "allowed_hosts") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestServerLimits: the API's server bounds headers, bodies, answers and
// idle connections, and its write timeout leaves a create its whole budget.
func TestServerLimits(t *testing.T) {
	srv := newAPIServer("127.0.0.1:0", http.NotFoundHandler(), defaultServerLimits)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("unbounded: %+v", srv)
	}
	if srv.WriteTimeout <= createBudget+time.Minute {
		t.Errorf("write timeout %v does not leave a create its %v", srv.WriteTimeout, createBudget)
	}
}

// TestSlowHeadersDisconnected: a client that never finishes its headers is
// disconnected after the header timeout; headers over the limit get a 431.
func TestSlowHeadersDisconnected(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	limits := defaultServerLimits
	limits.readHeader = 200 * time.Millisecond
	srv := newAPIServer(ln.Addr().String(), NewHandler(newHTTPFakeService(), HandlerOptions{}), limits)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	// Generous: only a server that never cuts the client off fails.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("still connected after 20 s (header timeout %v): %v", limits.readHeader, err)
	}
	if len(got) > 0 && !strings.Contains(string(got), " 408 ") {
		t.Errorf("answer to unfinished headers: %q", got)
	}

	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 2*limits.maxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("headers of %d bytes: %s", 2*limits.maxHeaderBytes, resp.Status)
	}
}
