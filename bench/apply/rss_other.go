//go:build !linux

package main

import "os"

// maxRSSKiB is not reported off Linux: the unit of ru_maxrss differs by system.
func maxRSSKiB(*os.ProcessState) int64 { return -1 }

// memNow is not available off Linux.
func memNow(int) memSnapshot { return memSnapshot{hwm: -1, rss: -1, anon: -1, file: -1} }
