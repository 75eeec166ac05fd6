package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

const gatewayTestKey = "dGVzdC1rZXktMDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="

// innerCall is one request the stream engine got.
type innerCall struct {
	method, path, query, user, pw, grant, origin, body string
}

// gatewayUnderTest is a gateway (password: "" = loopback) in front of a
// fake stream engine that records what reaches it.
func gatewayUnderTest(t *testing.T, password string) (http.Handler, *[]innerCall, contract.Keyring) {
	t.Helper()
	var calls []innerCall
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pw, _ := r.BasicAuth()
		b, _ := io.ReadAll(r.Body)
		calls = append(calls, innerCall{r.Method, r.URL.Path, r.URL.RawQuery, user, pw, r.Header.Get(contract.GrantHeader), r.Header.Get("Origin"), string(b)})
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(inner.Close)
	ring, err := contract.ParseKeyring(gatewayTestKey)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(inner.URL)
	g := newGateway(u, "inner-pw", password, func() (contract.Keyring, error) { return ring, nil }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return g, &calls, ring
}

func serve(h http.Handler, method, target, ctype, body string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const hostileStream = "input: { milvus_binlog: {} }\noutput: { milvus_apply: { address: \"evil:19530\", credentials_key: \"secret:other-task\" } }\n"

// TestGatewayRefusesUnsignedStreams: a stream config without the control
// plane's grant, with a forged one, or with one for another id or body is
// refused with 403 and never reaches the stream engine.
func TestGatewayRefusesUnsignedStreams(t *testing.T) {
	g, calls, ring := gatewayUnderTest(t, "")
	other, _ := contract.ParseKeyring("b3RoZXIta2V5LTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
	forged, _ := other.GrantStream("evil", []byte(hostileStream))
	forOther, _ := ring.GrantStream("t1", []byte(hostileStream))
	forBody, _ := ring.GrantStream("evil", []byte("input: {}\n"))
	for name, grant := range map[string]string{"none": "", "other key": forged, "other id": forOther, "other body": forBody, "garbage": "g1:x:y"} {
		for _, method := range []string{http.MethodPost, http.MethodPut} {
			rec := serve(g, method, "/streams/evil", "application/yaml", hostileStream, map[string]string{contract.GrantHeader: grant})
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "refused") {
				t.Errorf("%s grant, %s: %d %s, want 403", name, method, rec.Code, rec.Body)
			}
		}
	}
	if len(*calls) != 0 {
		t.Fatalf("refused configs reached the stream engine: %+v", *calls)
	}
}

// TestGatewayForwardsSignedStreams: a signed config reaches the stream
// engine with the inner password (not the caller's credentials or grant),
// as application/yaml, body unchanged; reads and deletes pass through.
func TestGatewayForwardsSignedStreams(t *testing.T) {
	g, calls, ring := gatewayUnderTest(t, "")
	body := "input: { milvus_binlog: {} }\noutput: { milvus_apply: {} }\n"
	grant, _ := ring.GrantStream("t1", []byte(body))
	rec := serve(g, http.MethodPost, "/streams/t1?chilled=true", "application/yaml; charset=utf-8", body, map[string]string{contract.GrantHeader: grant, "Authorization": "Basic eDp5"})
	if rec.Code != http.StatusOK || len(*calls) != 1 {
		t.Fatalf("signed config: %d %s, %d calls", rec.Code, rec.Body, len(*calls))
	}
	c := (*calls)[0]
	if c.method != http.MethodPost || c.path != "/streams/t1" || c.query != "" || c.user != workerUser || c.pw != "inner-pw" || c.grant != "" || c.body != body {
		t.Fatalf("forwarded as %+v", c)
	}
	for _, r := range []struct{ method, target, path, query string }{
		{http.MethodGet, "/streams", "/streams", ""},
		{http.MethodGet, "/streams/t1", "/streams/t1", ""},
		{http.MethodGet, "/streams/t1/stats", "/streams/t1/stats", ""},
		{http.MethodDelete, "/streams/t1?timeout=10s&x=1", "/streams/t1", "timeout=10s"},
		{http.MethodGet, "/ready", "/ready", ""},
		{http.MethodGet, "/ping", "/ping", ""},
		{http.MethodGet, "/metrics", "/metrics", ""},
	} {
		*calls = nil
		rec := serve(g, r.method, r.target, "", "", nil)
		if rec.Code != http.StatusOK || len(*calls) != 1 || (*calls)[0].path != r.path || (*calls)[0].query != r.query || (*calls)[0].pw != "inner-pw" {
			t.Errorf("%s %s: %d, reached the engine as %+v", r.method, r.target, rec.Code, *calls)
		}
	}
}

// TestGatewayRefusesEnvironmentReferences: ${...} would be filled from the
// worker's environment (Redis password, sealing keys): 400, signed or not.
func TestGatewayRefusesEnvironmentReferences(t *testing.T) {
	g, calls, ring := gatewayUnderTest(t, "")
	body := "input: { label: \"${REDIS_URL}\", milvus_binlog: {} }\noutput: { milvus_apply: {} }\n"
	grant, _ := ring.GrantStream("t1", []byte(body))
	for _, h := range []map[string]string{nil, {contract.GrantHeader: grant}} {
		rec := serve(g, http.MethodPost, "/streams/t1", "application/yaml", body, h)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "never interpolates") {
			t.Errorf("${REDIS_URL}: %d %s, want 400", rec.Code, rec.Body)
		}
	}
	if len(*calls) != 0 {
		t.Fatalf("reached the stream engine: %+v", *calls)
	}
}

// TestGatewayRefusesOtherEndpoints: resources, bulk replacement of every
// stream, PATCH, debug, version, endpoints and odd paths are not offered.
func TestGatewayRefusesOtherEndpoints(t *testing.T) {
	g, calls, _ := gatewayUnderTest(t, "")
	for _, r := range []struct{ method, target string }{
		{http.MethodPost, "/resources/cache/evil"},
		{http.MethodGet, "/resources/cache/cdc_store"},
		{http.MethodPost, "/streams"},
		{http.MethodPatch, "/streams/t1"},
		{http.MethodPost, "/streams/t1/stats"},
		{http.MethodGet, "/debug/config/json"},
		{http.MethodGet, "/debug/pprof/heap"},
		{http.MethodGet, "/version"},
		{http.MethodGet, "/endpoints"},
		{http.MethodGet, "/benthos/streams"},
		{http.MethodPost, "/benthos/streams/t1"},
		{http.MethodGet, "/streams/../resources/cache/x"},
		{http.MethodGet, "/streams/%2e%2e/resources"},
		{http.MethodPost, "/streams/a%2Fb"},
		{http.MethodDelete, "/ready"},
	} {
		rec := serve(g, r.method, r.target, "application/yaml", "redis: { url: redis://evil }\n", nil)
		if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "does not offer") {
			t.Errorf("%s %s: %d %s, want 403", r.method, r.target, rec.Code, rec.Body)
		}
	}
	if len(*calls) != 0 {
		t.Fatalf("reached the stream engine: %+v", *calls)
	}
}

// TestGatewayRefusesBrowsers: a web page on this machine can send simple
// requests (text/plain, form types) to a loopback port without a CORS
// preflight: an Origin, a cross-site Sec-Fetch-Site and a simple content
// type are refused, even with a valid grant.
func TestGatewayRefusesBrowsers(t *testing.T) {
	g, calls, ring := gatewayUnderTest(t, "")
	body := "input: { milvus_binlog: {} }\noutput: { milvus_apply: {} }\n"
	grant, _ := ring.GrantStream("t1", []byte(body))
	signed := func(extra map[string]string) map[string]string {
		h := map[string]string{contract.GrantHeader: grant}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	for name, c := range map[string]struct {
		method, ctype string
		header        map[string]string
		want          int
	}{
		"origin on a read":      {http.MethodGet, "", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		"origin on a post":      {http.MethodPost, "application/yaml", signed(map[string]string{"Origin": "null"}), http.StatusForbidden},
		"cross-site fetch":      {http.MethodGet, "", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		"same-site fetch":       {http.MethodGet, "", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		"text/plain":            {http.MethodPost, "text/plain", signed(nil), http.StatusUnsupportedMediaType},
		"form":                  {http.MethodPost, "application/x-www-form-urlencoded", signed(nil), http.StatusUnsupportedMediaType},
		"multipart":             {http.MethodPost, "multipart/form-data; boundary=x", signed(nil), http.StatusUnsupportedMediaType},
		"no content type":       {http.MethodPost, "", signed(nil), http.StatusUnsupportedMediaType},
		"unparsable media type": {http.MethodPut, "text/plain;;", signed(nil), http.StatusUnsupportedMediaType},
	} {
		if rec := serve(g, c.method, "/streams/t1", c.ctype, body, c.header); rec.Code != c.want {
			t.Errorf("%s: %d %s, want %d", name, rec.Code, rec.Body, c.want)
		}
	}
	if len(*calls) != 0 {
		t.Fatalf("reached the stream engine: %+v", *calls)
	}
	if rec := serve(g, http.MethodGet, "/streams", "", "", map[string]string{"Sec-Fetch-Site": "none"}); rec.Code != http.StatusOK {
		t.Errorf("a typed-in address (Sec-Fetch-Site: none): %d", rec.Code)
	}
}

// TestGatewayPassword: with WORKER_PASSWORD every request wants it (user
// milvus-cdc); the stream engine gets its own password, not the caller's.
func TestGatewayPassword(t *testing.T) {
	g, calls, _ := gatewayUnderTest(t, "s3cret")
	for name, auth := range map[string][2]string{"none": {}, "wrong password": {workerUser, "nope"}, "wrong user": {"admin", "s3cret"}} {
		req := httptest.NewRequest(http.MethodGet, "/streams", nil)
		if auth[0] != "" {
			req.SetBasicAuth(auth[0], auth[1])
		}
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, rec.Code)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/streams", nil)
	req.SetBasicAuth(workerUser, "s3cret")
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || len(*calls) != 1 || (*calls)[0].pw != "inner-pw" {
		t.Fatalf("with the password: %d %+v", rec.Code, *calls)
	}
}

// TestGatewayWithoutKeys: before the control plane created the key file a
// posted config cannot be checked: 503, nothing forwarded.
func TestGatewayWithoutKeys(t *testing.T) {
	var reached bool
	inner := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	defer inner.Close()
	u, _ := url.Parse(inner.URL)
	g := newGateway(u, "pw", "", func() (contract.Keyring, error) { return contract.Keyring{}, errors.New("no key file") }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := serve(g, http.MethodPost, "/streams/t1", "application/yaml", "input: {}\n", map[string]string{contract.GrantHeader: "g1:a:b"})
	if rec.Code != http.StatusServiceUnavailable || reached {
		t.Fatalf("%d %s, reached: %v", rec.Code, rec.Body, reached)
	}
}
