// Package proc reads a running process's memory from /proc/<pid>/status,
// for the benches that hold a child process to a memory goal.
package proc

import (
	"fmt"
	"os"
	"strings"
)

// Mem is a process's memory now, in KiB; a field that cannot be read is -1.
// HWM is its peak RSS so far, RSS its RSS now, Anon the anonymous part (heap,
// stacks, C allocations), File the file-backed part (the mapped executable
// and libraries).
type Mem struct{ HWM, RSS, Anon, File int64 }

// Status reads pid's memory; every field is -1 when /proc cannot be read
// (another OS, or the process is gone).
func Status(pid int) Mem {
	m := Mem{HWM: -1, RSS: -1, Anon: -1, File: -1}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var kib int64
		if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err != nil {
			continue
		}
		switch key {
		case "VmHWM":
			m.HWM = kib
		case "VmRSS":
			m.RSS = kib
		case "RssAnon":
			m.Anon = kib
		case "RssFile":
			m.File = kib
		}
	}
	return m
}
