package controlplane

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The checks below keep web pages away from the API. A browser lets any
// page POST to any address (localhost included) as long as the request is
// "simple": a text/plain, form or multipart body, no custom header. Such a
// POST carries the page's Origin; a page whose own DNS name was rebound to
// this machine's address even passes as same-origin, but sends its name as
// Host. curl and other programs send neither a foreign Origin nor a foreign
// Host, and set Content-Type: application/json as the documentation shows.

// browserGuard refuses requests that a web page of another origin made.
type browserGuard struct {
	// checkHost: no bearer token is configured, so a page that rebinds its
	// DNS name to this machine could reach the API; with a token it could
	// not (a page cannot know it), and any Host is served.
	checkHost bool
	allowed   map[string]bool // allowed_hosts, normalized by allowedHost
}

func newBrowserGuard(auth bool, allowedHosts []string) *browserGuard {
	g := &browserGuard{checkHost: !auth, allowed: map[string]bool{}}
	for _, h := range allowedHosts {
		// LoadServerConfig refuses a bad entry; one given to NewHandler
		// directly is ignored (it could never match a Host).
		if name, err := allowedHost(h); err == nil && name != "" {
			g.allowed[name] = true
		}
	}
	return g
}

// wrap answers 403 to a request check refuses, else passes it on.
func (g *browserGuard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := g.check(r); err != nil {
			refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// check returns a 403 APIError for a request a page of another origin made,
// or one addressed to a name this server does not answer to.
func (g *browserGuard) check(r *http.Request) *APIError {
	origin, hasOrigin := r.Header["Origin"]
	same := false
	if hasOrigin {
		o := strings.Join(origin, ",")
		if same = sameOrigin(o, r.Host); !same {
			return Errorf(http.StatusForbidden, "cross-origin request refused: Origin %s is not this server (Host %s); "+
				"the API does not answer web pages of other origins", quoteShort(o), quoteShort(r.Host))
		}
	}
	// Sec-Fetch-Site is set by browsers only: same-site means a page of
	// another origin on the same site (e.g. another port of localhost).
	switch site := strings.ToLower(r.Header.Get("Sec-Fetch-Site")); {
	case site == "cross-site", site == "same-site" && !same:
		return Errorf(http.StatusForbidden, "cross-origin request refused (Sec-Fetch-Site: %s): "+
			"the API does not answer web pages of other origins", quoteShort(site))
	}
	if g.checkHost && !g.hostAllowed(r) {
		return Errorf(http.StatusForbidden, "Host %s is not allowed: without a bearer token the API answers only requests addressed "+
			"to localhost, a loopback address or this server's own IP address (a web page could otherwise reach it through a DNS "+
			"name rebound to this machine); add the name to allowed_hosts (server config, env MILVUS_CDC_ALLOWED_HOSTS) or set a "+
			"bearer token", quoteShort(r.Host))
	}
	return nil
}

// hostAllowed: the Host names localhost, a loopback address, the address
// the request arrived on (an IP literal cannot be rebound), or allowed_hosts.
func (g *browserGuard) hostAllowed(r *http.Request) bool {
	name := hostName(r.Host)
	if name == "" {
		return false
	}
	if name == "localhost" || g.allowed[name] {
		return true
	}
	ip := net.ParseIP(name)
	if ip == nil {
		return false
	}
	if ip.IsLoopback() {
		return true
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	return ok && ip.Equal(local.IP)
}

// hostName is the lowercased host of a Host header, without port or brackets.
func hostName(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	return strings.ToLower(h)
}

// sameOrigin: origin (as a browser serializes it: scheme://host[:port]) is
// http or https and names the host and port of the request's Host; a Host
// without a port has the default port of the origin's scheme.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Opaque != "" ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return false
	}
	port := map[string]string{"http": "80", "https": "443"}[u.Scheme]
	a, okA := hostAndPort(u.Host, port)
	b, okB := hostAndPort(host, port)
	return okA && okB && a == b
}

// hostAndPort normalizes host[:port] to lowercase host:port.
func hostAndPort(hostport, defaultPort string) (string, bool) {
	u, err := url.Parse("//" + hostport)
	if err != nil || u.Host != hostport || u.Hostname() == "" || u.User != nil {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port), true
}

// allowedHost normalizes an allowed_hosts entry: a DNS name or IP address,
// an optional port dropped (any port of the name is allowed), lowercased.
func allowedHost(entry string) (string, error) {
	e := strings.TrimSpace(entry)
	if e == "" {
		return "", nil
	}
	bad := fmt.Errorf("allowed_hosts: %s is not a host name or IP address (give names like cdc.example.com, "+
		"without scheme, path or wildcard)", quoteShort(entry))
	host := e
	if h, port, err := net.SplitHostPort(e); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return "", bad
		}
		host = h
	} else if strings.HasPrefix(e, "[") && strings.HasSuffix(e, "]") {
		host = e[1 : len(e)-1]
	}
	host = strings.ToLower(host)
	if net.ParseIP(host) != nil {
		return host, nil
	}
	for _, label := range strings.Split(host, ".") {
		if !validLabel(label) {
			return "", bad
		}
	}
	return host, nil
}

// validLabel: one label of a DNS name (underscores allowed, as resolvers do).
func validLabel(label string) bool {
	if label == "" || len(label) > 63 {
		return false
	}
	for _, c := range label {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parseAllowedHosts normalizes the allowed_hosts of the server config.
func parseAllowedHosts(entries []string) ([]string, error) {
	var out []string
	for _, e := range entries {
		name, err := allowedHost(e)
		if err != nil {
			return nil, err
		}
		if name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// requireJSON answers 415 unless the body is declared application/json:
// the types a web page may send without a CORS preflight (text/plain,
// forms, multipart) never reach the API.
func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		mediaType, _, err := mime.ParseMediaType(ct)
		if err != nil || mediaType != "application/json" {
			what := "Content-Type is missing"
			if ct != "" {
				what = "Content-Type " + quoteShort(ct) + " is not supported"
			}
			refuse(w, r, Errorf(http.StatusUnsupportedMediaType, "%s: send Content-Type: application/json with a JSON body", what))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// refuse answers err in the API's error shape and notes it for the log line.
func refuse(w http.ResponseWriter, r *http.Request, err *APIError) {
	requestInfoFrom(r.Context()).errMsg = err.Message
	writeAPIJSON(w, err.Code, apiErrorBody{Code: err.Code, Message: err.Message})
}

// serverLimits bound what one client may hold of the server: a client
// that never finishes its headers or body, or never reads its answer, is
// cut off; a connection idle between requests is closed.
type serverLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

// createBudget is the longest a create may take: the target check and the
// catalog read each dial for at most maxDial, and the pin of the start
// positions takes at most 30 s (create.go).
const createBudget = 2*maxDial + 30*time.Second

// defaultServerLimits: the write timeout covers a whole request, handler
// included, so it leaves a create its full budget and some.
var defaultServerLimits = serverLimits{
	readHeader:     10 * time.Second,
	read:           time.Minute, // headers and a body of at most 1 MiB
	write:          createBudget + 2*time.Minute,
	idle:           2 * time.Minute,
	maxHeaderBytes: 64 << 10, // a bearer token and the usual headers fit many times
}

// newAPIServer is the HTTP server of the API on addr, with limits.
func newAPIServer(addr string, h http.Handler, l serverLimits) *http.Server {
	return &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: l.readHeader, ReadTimeout: l.read,
		WriteTimeout: l.write, IdleTimeout: l.idle, MaxHeaderBytes: l.maxHeaderBytes}
}
