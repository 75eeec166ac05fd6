package harness

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a local TCP proxy a test puts between two processes (the control
// plane and a worker) to cut the path between them, as a network partition
// would, while both keep every other path (Redis, the target).
type Proxy struct {
	Addr   string // host:port it listens on
	target string
	ln     net.Listener

	mu    sync.Mutex
	mode  proxyMode
	live  map[net.Conn]bool // forwarded connections (both ends)
	held  map[net.Conn]bool // connections accepted while cut, never forwarded
	close bool
}

type proxyMode int

const (
	forward   proxyMode = iota
	blackhole           // accept and hold: the caller's requests time out
	refuse              // accept and reset at once: the caller fails fast
)

// StartProxy listens on a free local port and forwards every connection to
// target (host:port) until the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, live: map[net.Conn]bool{}, held: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// URL is http://Addr.
func (p *Proxy) URL() string { return "http://" + p.Addr }

// Cut partitions the path: live connections are closed, and new ones are
// accepted but never forwarded nor answered (a request through the proxy
// then runs into its caller's timeout, as in a partition where packets are
// dropped, rather than failing fast).
func (p *Proxy) Cut() { p.cut(blackhole) }

// CutRefuse is Cut, except that new connections are reset at once (a
// partition where the peer's host answers with a reset).
func (p *Proxy) CutRefuse() { p.cut(refuse) }

func (p *Proxy) cut(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.live {
		_ = c.Close()
		delete(p.live, c)
	}
}

// Heal forwards again; connections held while cut are closed (their callers
// gave up on them).
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = forward
	for c := range p.held {
		_ = c.Close()
		delete(p.held, c)
	}
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.close = true
	for c := range p.live {
		_ = c.Close()
	}
	for c := range p.held {
		_ = c.Close()
	}
	p.live, p.held = map[net.Conn]bool{}, map[net.Conn]bool{}
	p.mu.Unlock()
	_ = p.ln.Close()
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode, closed := p.mode, p.close
		switch {
		case closed:
			_ = c.Close()
		case mode == blackhole:
			p.held[c] = true
		case mode == refuse:
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			_ = c.Close()
		}
		p.mu.Unlock()
		if closed || mode != forward {
			continue
		}
		go p.pipe(c)
	}
}

// pipe forwards c to the target until either side closes or a cut.
func (p *Proxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.mode != forward || p.close {
		// Cut while dialling.
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.live[c], p.live[up] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	_ = c.Close()
	_ = up.Close()
	<-done
	p.mu.Lock()
	delete(p.live, c)
	delete(p.live, up)
	p.mu.Unlock()
}
