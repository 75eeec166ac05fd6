package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// measured is a child's result plus its peak resident set size.
type measured struct {
	result
	peakRSSKiB int64 // -1 when the platform does not tell
}

// spawn runs this binary again with -role role and waits for it. Running each
// reader in its own process is what makes the peak RSS (from the kernel's
// rusage of the exited child) belong to that reader only.
func spawn(o *options, role, planPath string) (measured, error) {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	args := []string{
		"-role", role, "-plan", planPath,
		"-rows", strconv.Itoa(o.rows),
		"-source", o.source, "-pulsar", o.pulsarURL,
		"-timeout", o.timeout.String(),
	}
	if role == roleInput && o.cpuProfile != "" {
		args = append(args, "-cpuprofile", o.cpuProfile)
	}
	cmd := exec.Command(self, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		_, _ = parseResult(stdout.Bytes(), role) // show what it logged
		return measured{}, fmt.Errorf("%s child: %w", role, err)
	}
	res, err := parseResult(stdout.Bytes(), role)
	if err != nil {
		return measured{}, err
	}
	return measured{result: res, peakRSSKiB: maxRSSKiB(cmd.ProcessState)}, nil
}
