package main

import (
	"reflect"
	"strings"
	"testing"
)

// TestStreamsIndex: the streams sub command is found after root flags (and
// their values), and only as the sub command.
func TestStreamsIndex(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"b", "streams", "-o", "x"}, 1},
		{[]string{"b", "--log.level", "debug", "streams"}, 3},
		{[]string{"b", "-c", "streams", "run"}, -1},
		{[]string{"b", "-s", "http.address=0.0.0.0:1", "streams"}, 3},
		{[]string{"b", "--set=a=b", "--chilled", "streams"}, 3},
		{[]string{"b", "run", "streams"}, -1},
		{[]string{"b", "--", "streams"}, -1},
		{[]string{"b"}, -1},
	} {
		if got := streamsIndex(c.args); got != c.want {
			t.Errorf("streamsIndex(%v) = %d, want %d", c.args, got, c.want)
		}
	}
}

// TestWorkerArgs: the gateway's settings follow `streams`, root --set flags
// move there before them, and a --set of http.* anywhere is refused.
func TestWorkerArgs(t *testing.T) {
	ours := []string{"http.address=127.0.0.1:9", "http.basic_auth.enabled=true"}
	got, err := workerArgs([]string{"b", "-s", "logger.level=debug", "--log.level", "info", "streams", "-o", "w.yaml", "s1.yaml"}, ours)
	want := []string{"b", "--log.level", "info", "streams", "-s", "logger.level=debug", "--set", ours[0], "--set", ours[1], "-o", "w.yaml", "s1.yaml"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("workerArgs = %v %v\nwant %v", got, err, want)
	}
	got, err = workerArgs([]string{"b", "streams"}, ours)
	if err != nil || !reflect.DeepEqual(got, []string{"b", "streams", "--set", ours[0], "--set", ours[1]}) {
		t.Fatalf("no flags: %v %v", got, err)
	}
	for _, args := range [][]string{
		{"b", "--set", "http.address=0.0.0.0:4195", "streams"},
		{"b", "streams", "-s", "http.basic_auth.enabled=false"},
		{"b", "streams", "--set=http.debug_endpoints=true"},
		{"b", "streams", "-o", "w.yaml", "--set", "http={}"},
	} {
		if _, err := workerArgs(args, ours); err == nil || !strings.Contains(err.Error(), workerAddressEnv) {
			t.Errorf("%v: %v, want a refusal", args, err)
		}
	}
	if _, err := workerArgs([]string{"b", "run"}, ours); err == nil {
		t.Error("a run command line rewritten as a worker's")
	}
}

// TestInnerSettingsParse: every inner setting is a valid --set expression
// for the root config (Benthos refuses an empty value).
func TestInnerSettingsParse(t *testing.T) {
	for _, s := range innerSettings("127.0.0.1:1", "aGFzaA==") {
		path, val, ok := strings.Cut(s, "=")
		if !ok || path == "" || val == "" || !strings.HasPrefix(path, "http.") {
			t.Errorf("bad setting %q", s)
		}
	}
}
