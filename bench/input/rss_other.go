//go:build !linux

package main

import "os"

// maxRSSKiB is unknown off Linux (units of ru_maxrss differ per system).
func maxRSSKiB(*os.ProcessState) int64 { return -1 }
