package main

import (
	"fmt"
	"syscall"
)

// bytesPerRowStored estimates what one written row costs the stack's disk
// in all: measured on the stack, 8.2 million 128-d rows took ~44 GB (Pulsar's
// journal and ledger, both Milvus's binlogs and the compactions' outputs,
// kept until their GC hours later, the target's rocksmq): about ten copies
// of the vector.
func bytesPerRowStored(dim int) int64 { return int64(dim)*4*10 + 512 }

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
	written := o.duration
	if o.floorMode != "none" {
		written += o.floorDuration
	}
	need := int64(topRate*written.Seconds()) * bytesPerRowStored(o.dim)
	if free < need {
		return fmt.Errorf("%s has %.1f GB free; %s of writes at up to %.0f rows/s of %d-d rows (task run and floor) may take %.1f GB of the stack's disk: free space (stack.sh down --wipe) or pass a shorter -duration / -floor-duration",
			dir, float64(free)/1e9, written, topRate, o.dim, float64(need)/1e9)
	}
	return nil
}
