package main

import (
	"fmt"
	"strings"
)

// rootValueFlags are Benthos's root flags that take a value (the sub command
// is the first argument that is neither a flag nor such a value).
var rootValueFlags = map[string]bool{
	"c": true, "config": true, "log.level": true, "s": true, "set": true,
	"r": true, "resources": true, "e": true, "env-file": true, "t": true, "templates": true,
}

// streamsIndex is the index of the `streams` sub command in args (args[0]
// is the binary), -1 when the command line does not start a worker.
func streamsIndex(args []string) int {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return -1
		}
		if !strings.HasPrefix(a, "-") {
			if a == "streams" {
				return i
			}
			return -1
		}
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && rootValueFlags[name] {
			i++ // its value
		}
	}
	return -1
}

// wantsHelp reports whether args ask for help only (nothing is started).
func wantsHelp(args []string) bool {
	for _, a := range args[1:] {
		if a == "-h" || a == "--help" || a == "-help" || a == "help" {
			return true
		}
	}
	return false
}

// setFlag returns the value of a --set/-s flag at args[i] and how many
// arguments it spans (0: not a --set flag).
func setFlag(args []string, i int) (value string, span int) {
	name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
	if !strings.HasPrefix(args[i], "-") || (name != "s" && name != "set") {
		return "", 0
	}
	if hasVal {
		return val, 1
	}
	if i+1 < len(args) {
		return args[i+1], 2
	}
	return "", 1
}

// innerSettings are the --set overrides that put the stream engine's HTTP
// server on the gateway's inner address, behind the inner password, with
// nothing a browser or the network could use (no TLS, CORS or debug).
func innerSettings(addr, hash string) []string {
	return []string{
		"http.enabled=true",
		"http.address=" + addr,
		"http.debug_endpoints=false",
		`http.cert_file=""`,
		`http.key_file=""`,
		"http.cors.enabled=false",
		"http.basic_auth.enabled=true",
		"http.basic_auth.username=" + workerUser,
		"http.basic_auth.password_hash=" + hash,
		"http.basic_auth.algorithm=sha256",
	}
}

// workerArgs rewrites a worker's command line so that the stream engine's
// HTTP server is the gateway's inner one: innerSettings go right after
// `streams` (Benthos reads the sub command's --set flags and then ignores
// the root ones, so root --set flags move there too, before ours, which
// apply last among them). A --set of http.* is refused: the gateway owns
// it. The parsed config is checked again at start (checkInnerHTTP).
func workerArgs(args []string, settings []string) ([]string, error) {
	idx := streamsIndex(args)
	if idx < 0 {
		return nil, fmt.Errorf("not a streams command line")
	}
	var before, moved []string
	for i := 0; i < len(args); i++ {
		val, span := setFlag(args, i)
		if span > 0 {
			if path, _, _ := strings.Cut(val, "="); path == "http" || strings.HasPrefix(strings.TrimSpace(path), "http.") {
				return nil, fmt.Errorf("--set %s: the worker's HTTP server belongs to its gateway (set %s and %s instead)", val, workerAddressEnv, workerPasswordEnv)
			}
		}
		if i < idx && span > 0 {
			moved = append(moved, args[i:i+span]...)
			i += span - 1
			continue
		}
		if i < idx {
			before = append(before, args[i])
		}
	}
	out := append(append([]string{}, before...), "streams")
	out = append(out, moved...)
	for _, s := range settings {
		out = append(out, "--set", s)
	}
	return append(out, args[idx+1:]...), nil
}
