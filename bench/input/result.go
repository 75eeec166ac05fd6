package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

const (
	roleBare  = "bare"
	roleInput = "input"
)

// result is what a child reports: one JSON line on stdout, marked so it can
// be told apart from log lines (Benthos logs to stdout too).
type result struct {
	Marker   string  `json:"bench_result"` // always the role
	Rows     int64   `json:"rows"`
	Messages int64   `json:"messages"`
	Bytes    int64   `json:"payload_bytes"`
	Seconds  float64 `json:"seconds"`
	// FirstSeconds: input only, when the first message came out of the
	// stream (its merge holds messages back until every DML channel has
	// ticked past them or counts as idle).
	FirstSeconds float64 `json:"first_seconds,omitempty"`
}

func writeResult(w io.Writer, r result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// parseResult finds the result line in a child's stdout; every other line
// is passed on to our stderr.
func parseResult(out []byte, role string) (result, error) {
	var found *result
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var r result
		if json.Unmarshal(line, &r) == nil && r.Marker == role {
			found = &r
			continue
		}
		fmt.Fprintf(os.Stderr, "[%s] %s\n", role, line)
	}
	if err := sc.Err(); err != nil {
		return result{}, fmt.Errorf("read output of the %s child: %w", role, err)
	}
	if found == nil {
		return result{}, fmt.Errorf("the %s child printed no result", role)
	}
	return *found, nil
}
