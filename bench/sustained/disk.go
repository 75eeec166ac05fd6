package main

import (
	"fmt"
	"syscall"
)

// bytesPerRowStored estimates what one written row costs the stack's disk
// per copy (source storage, source WAL, target storage): its vector, key and
// title, framing. The run writes three copies, twice with the floor.
func bytesPerRowStored(dim int) int64 { return int64(dim)*4 + 64 }

// checkDisk refuses to start when the disk under dir has less room than
// the run may write at topRate rows/s (a stack's Milvus keeps a dropped
// collection's files for hours, and its Pulsar keeps the WAL for days: a
// full disk stops the WAL's bookie and every write of the stack with it).
func checkDisk(o *options, dir string, topRate float64) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return nil // not knowable here: run
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	runs := int64(2)
	if o.floorMode == "none" {
		runs = 1
	}
	need := int64(topRate*o.duration.Seconds()) * bytesPerRowStored(o.dim) * 3 * runs
	if free < need {
		return fmt.Errorf("%s has %.1f GB free; a %s run at up to %.0f rows/s of %d-d rows may write %.1f GB to the stack's disk (source, WAL, target%s): free space or pass a shorter -duration",
			dir, float64(free)/1e9, o.duration, topRate, o.dim, float64(need)/1e9, map[bool]string{true: ", twice with the floor", false: ""}[runs == 2])
	}
	return nil
}
