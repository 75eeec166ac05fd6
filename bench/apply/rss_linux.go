//go:build linux

package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// maxRSSKiB is the peak resident set size of an exited child (Linux reports
// ru_maxrss in KiB); -1 when the rusage is not available.
func maxRSSKiB(ps *os.ProcessState) int64 {
	if ps == nil {
		return -1
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return -1
}

// memNow reads a running process's memory from /proc/<pid>/status (KiB):
// VmHWM = its peak RSS so far, VmRSS = its RSS now, RssAnon (heap, stacks, C allocations) and
// RssFile (mapped pages of the executable and libraries) now. Fields that
// cannot be read are -1.
func memNow(pid int) memSnapshot {
	m := memSnapshot{hwm: -1, rss: -1, anon: -1, file: -1}
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
			m.hwm = kib
		case "VmRSS":
			m.rss = kib
		case "RssAnon":
			m.anon = kib
		case "RssFile":
			m.file = kib
		}
	}
	return m
}
