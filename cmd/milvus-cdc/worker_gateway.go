package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/plugins/contract"
)

// The worker gateway stands in front of the stream engine's HTTP server
// (Benthos's streams API, on a loopback port behind a per-process password)
// and forwards only what the control plane, monitoring and an operator
// need: health, metrics, reading and deleting streams, and creating or
// replacing a stream with a config the control plane signed. Benthos fills
// ${...} in a posted config from the process environment and accepts posted
// resources; neither is offered.

// maxStreamConfig bounds a posted stream config (a task of 1000 collections
// renders to ~300 KiB).
const maxStreamConfig = 4 << 20

// streamID is what a stream id may be: task ids and operator-chosen names,
// nothing that changes the path the stream engine sees.
var streamID = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// gateway is the worker's HTTP handler.
type gateway struct {
	inner    *url.URL // the stream engine's HTTP server
	innerPw  string   // its basic-auth password (user workerUser)
	password string   // WORKER_PASSWORD; "" = none (loopback only)
	// keys loads the keyring grants are checked with, on every POST/PUT:
	// the control plane creates the key file on its first start, maybe
	// after this worker's.
	keys  func() (contract.Keyring, error)
	proxy *httputil.ReverseProxy
	log   *slog.Logger
}

func newGateway(inner *url.URL, innerPw, password string, keys func() (contract.Keyring, error), log *slog.Logger) *gateway {
	g := &gateway{inner: inner, innerPw: innerPw, password: password, keys: keys, log: log}
	g.proxy = &httputil.ReverseProxy{
		Rewrite: g.rewrite,
		Transport: &http.Transport{
			Proxy:                 nil, // the stream engine is on loopback: never through HTTP_PROXY
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: time.Minute, // a DELETE waits for the stream to stop
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			g.log.Warn("the stream engine does not answer", "method", r.Method, "path", r.URL.Path, "error", err)
			refuse(w, http.StatusBadGateway, "the worker's stream engine does not answer")
		},
	}
	return g
}

// rewrite sends a checked request to the stream engine with its password
// (never the caller's credentials or grant).
func (g *gateway) rewrite(pr *httputil.ProxyRequest) {
	pr.Out.URL.Scheme, pr.Out.URL.Host = g.inner.Scheme, g.inner.Host
	pr.Out.Host = ""
	for _, h := range []string{"Authorization", "Cookie", "Origin", "Referer", contract.GrantHeader} {
		pr.Out.Header.Del(h)
	}
	pr.Out.SetBasicAuth(workerUser, g.innerPw)
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if msg := browserRequest(r); msg != "" {
		refuse(w, http.StatusForbidden, msg)
		return
	}
	if !g.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="milvus-cdc worker", charset="UTF-8"`)
		refuse(w, http.StatusUnauthorized, "the worker wants basic auth (user "+workerUser+", WORKER_PASSWORD)")
		return
	}
	path, query, write, ok := route(r)
	if !ok {
		refuse(w, http.StatusForbidden, fmt.Sprintf("the worker does not offer %s %s: it serves GET /ready, /ping, /metrics, /stats, /streams, /streams/{id}, /streams/{id}/stats, DELETE /streams/{id}, and POST/PUT /streams/{id} of configs its control plane signed",
			r.Method, r.URL.Path))
		return
	}
	out := r.Clone(r.Context())
	out.URL = &url.URL{Path: path, RawQuery: query}
	if write {
		id := strings.TrimPrefix(path, "/streams/")
		body, status, msg := g.checkConfig(r, id)
		if status != 0 {
			g.log.Warn("stream config refused", "stream", id, "status", status, "reason", msg, "remote", r.RemoteAddr)
			refuse(w, status, msg)
			return
		}
		out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		out.Header.Set("Content-Type", "application/yaml")
	} else {
		out.Body, out.ContentLength = http.NoBody, 0
	}
	g.proxy.ServeHTTP(w, out)
}

// authorized: no password configured (loopback), or the right one.
func (g *gateway) authorized(r *http.Request) bool {
	if g.password == "" {
		return true
	}
	user, pw, ok := r.BasicAuth()
	a, b := sha256.Sum256([]byte(pw)), sha256.Sum256([]byte(g.password))
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(workerUser)) == 1 && subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// browserRequest says why r looks sent by a web page ("" if not): a page
// on this machine may send simple requests to a loopback port without a
// CORS preflight. The control plane sends no Origin and no Sec-Fetch-Site.
func browserRequest(r *http.Request) string {
	if r.Header.Get("Origin") != "" {
		return "requests from web pages (with an Origin header) are refused"
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return ""
	}
	return "cross-site requests (Sec-Fetch-Site) are refused"
}

// route maps an allowed request to the stream engine's path and query;
// write: a stream config to check.
func route(r *http.Request) (path, query string, write, ok bool) {
	p := r.URL.EscapedPath()
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch p {
	case "/ready", "/ping", "/metrics", "/stats", "/streams":
		return p, "", false, get
	}
	rest, found := strings.CutPrefix(p, "/streams/")
	if !found {
		return "", "", false, false
	}
	id, sub, hasSub := strings.Cut(rest, "/")
	if !streamID.MatchString(id) || id == "." || id == ".." {
		return "", "", false, false
	}
	if hasSub {
		return "/streams/" + id + "/stats", "", false, sub == "stats" && get
	}
	path = "/streams/" + id
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return path, "", false, true
	case http.MethodDelete:
		if t := r.URL.Query().Get("timeout"); t != "" {
			query = url.Values{"timeout": {t}}.Encode()
		}
		return path, query, false, true
	case http.MethodPost, http.MethodPut:
		return path, "", true, true
	}
	return "", "", false, false
}

// checkConfig reads and checks a posted stream config: a non-simple
// content type, no ${...}, and the control plane's grant over id and body.
// status 0: accepted.
func (g *gateway) checkConfig(r *http.Request, id string) (body []byte, status int, msg string) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err != nil:
		return nil, http.StatusUnsupportedMediaType, "a stream config needs Content-Type application/yaml or application/json"
	case ct != "application/yaml" && ct != "application/x-yaml" && ct != "text/yaml" && ct != "application/json":
		return nil, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %s is refused: a stream config needs application/yaml or application/json", ct)
	}
	body, err = io.ReadAll(http.MaxBytesReader(nil, r.Body, maxStreamConfig))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, http.StatusRequestEntityTooLarge, fmt.Sprintf("a stream config is at most %d bytes", maxStreamConfig)
	}
	if err != nil {
		return nil, http.StatusBadRequest, "cannot read the stream config"
	}
	if bytes.Contains(body, []byte("${")) {
		return nil, http.StatusBadRequest, "the stream config contains ${: the worker never interpolates its environment into a posted config"
	}
	ring, err := g.keys()
	if err != nil {
		g.log.Warn("cannot load the keys that check stream grants", "error", err)
		return nil, http.StatusServiceUnavailable, "the worker cannot check stream grants: it has no sealing keys yet (MILVUS_CDC_SECRET_KEYS, or the key file the control plane creates on its first start)"
	}
	if err := ring.VerifyStreamGrant(id, body, r.Header.Get(contract.GrantHeader)); err != nil {
		return nil, http.StatusForbidden, "stream config refused: " + err.Error()
	}
	return body, 0, ""
}

// refuse answers a JSON error.
func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
