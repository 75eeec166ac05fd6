package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// envPprof names a loopback address (host:port) on which any milvus-cdc
// process serves Go's profiles (/debug/pprof/), for finding where a worker's
// memory or CPU goes. Off unless set; refused beyond loopback (the profiles
// show the process's memory, secrets included).
const envPprof = "MILVUS_CDC_PPROF"

func startPprof() {
	addr := os.Getenv(envPprof)
	if addr == "" {
		return
	}
	if _, err := servePprof(addr); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v; profiles not served\n", envPprof, err)
	}
}

// servePprof serves the profiles on addr, a loopback host:port, until the
// process ends.
func servePprof(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%q is not a loopback host:port", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go func() { _ = http.Serve(ln, mux) }()
	return ln, nil
}
