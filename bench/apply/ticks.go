package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// tickInterval reads proxy.timeTickInterval (ms) from a Milvus config file
// (milvus.yaml as the stack renders it): the pace at which a proxy lets a
// write's channel tick past it, so the floor of any reader that waits for
// ticks, the target's own query path included.
func tickInterval(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "n/a (" + err.Error() + ")"
	}
	defer f.Close()
	inProxy := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if !strings.HasPrefix(line, " ") {
			inProxy = strings.HasPrefix(line, "proxy:")
			continue
		}
		if inProxy && strings.HasPrefix(line, "  timeTickInterval:") {
			v := strings.TrimSpace(strings.TrimPrefix(line, "  timeTickInterval:"))
			if i := strings.IndexByte(v, '#'); i >= 0 {
				v = strings.TrimSpace(v[:i])
			}
			return v + " ms"
		}
	}
	return fmt.Sprintf("n/a (no proxy.timeTickInterval in %s)", path)
}
