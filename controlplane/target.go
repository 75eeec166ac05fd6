package controlplane

import (
	"net"
	"strconv"
	"strings"
)

// defaultMilvusPort is the port of a target named without one.
const defaultMilvusPort = 19530

// targetIdentity names the Milvus a connect param reaches, for comparing
// and indexing targets (the overlap check, the tasks-per-target index, a
// repeated create): `t:19530`, `http://T:19530/` and host "t" port 19530
// are one target. The scheme only says whether TLS is on (one server behind
// one port either way), the host is lowercased without a trailing dot, an
// absent port is 19530, a path is dropped and IPv6 addresses are written in
// one form. Host names are not resolved: `localhost` and `127.0.0.1` stay
// two targets. The uri as given is still what is dialed and shown.
func targetIdentity(p ConnectParam) string {
	host, port := p.Host, p.Port
	if p.URI != "" {
		host, port = splitTargetURI(p.URI)
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	}
	if port <= 0 {
		port = defaultMilvusPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// splitTargetURI takes the host and port (0: none) out of a target uri of
// any spelling checkTargetURI lets through, and of older stored ones.
func splitTargetURI(uri string) (host string, port int) {
	rest := uri
	if _, after, ok := strings.Cut(uri, "://"); ok {
		rest = after
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	h, ps, err := net.SplitHostPort(rest)
	if err != nil {
		return rest, 0 // no port (or not host:port at all): the whole rest is the host
	}
	n, _ := strconv.Atoi(ps)
	return h, n
}
