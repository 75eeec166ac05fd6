//go:build linux

package main

import (
	"os"
	"syscall"

	"github.com/milvus-cdc-benthos/milvus-cdc-benthos/bench/proc"
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

// memNow reads a running process's memory (KiB; -1 = unknown): VmHWM = its
// peak RSS so far, VmRSS = its RSS now, RssAnon and RssFile now.
func memNow(pid int) memSnapshot {
	m := proc.Status(pid)
	return memSnapshot{hwm: m.HWM, rss: m.RSS, anon: m.Anon, file: m.File}
}
