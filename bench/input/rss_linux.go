//go:build linux

package main

import (
	"os"
	"syscall"
)

// maxRSSKiB is the peak resident set size of an exited child; Linux reports
// ru_maxrss in KiB.
func maxRSSKiB(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return -1
}
