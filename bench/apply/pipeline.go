package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// cdcPackage is built when no -bin is given; a full import path works from
// any directory inside the module.
const cdcPackage = "github.com/milvus-cdc-benthos/milvus-cdc-benthos/cmd/milvus-cdc"

// pipeline runs the milvus-cdc binary as a child process, one at a time, and
// keeps the highest peak RSS of all children it ran.
type pipeline struct {
	bin, config string

	cmd      *exec.Cmd
	started  time.Time
	exited   chan struct{} // closed when the running child exited
	waitErr  error         // valid after exited is closed
	peakKiB  int64         // highest own peak RSS of the children that exited; -1 unknown
	perChild []childRSS    // each child that exited, in order
	children int
	mem      memSeries // RSS samples of all children
	peak     *childPeak
}

// buildBinary compiles milvus-cdc into dir, unless -bin names one.
func buildBinary(o *options, dir string) (string, error) {
	if o.bin != "" {
		if _, err := os.Stat(o.bin); err != nil {
			return "", fmt.Errorf("-bin: %w", err)
		}
		return o.bin, nil
	}
	out := filepath.Join(dir, "milvus-cdc")
	cmd := exec.Command("go", "build", "-o", out, cdcPackage)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	fmt.Fprintf(os.Stderr, "building %s ...\n", cdcPackage)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w", cdcPackage, err)
	}
	return out, nil
}

// writeConfig writes the pipeline: milvus_binlog (only this run's
// collections, checkpoints in Redis under a key of this run, start at the
// newest WAL message) → milvus_apply into the target.
func writeConfig(o *options, n names, dir string) (string, error) {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) } // JSON string = valid YAML scalar
	yaml := fmt.Sprintf(`# written by bench/apply
http:
  enabled: false
logger:
  level: WARN
input:
  milvus_binlog:
    pulsar_url: %s
    source:
      address: %s
    collections: [ %s ]
    start_from: latest
    checkpoint_cache: positions
    checkpoint_key: %s
output:
  milvus_apply:
    address: %s
cache_resources:
  - label: positions
    redis:
      url: %s
      prefix: %s
`, q(o.pulsarURL), q(o.source), q("default."+n.label+"_*"), q(n.checkpointKey),
		q(o.target), q("redis://"+o.redisAddr), q(checkpointPrefix))
	path := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		return "", fmt.Errorf("write pipeline config: %w", err)
	}
	return path, nil
}

func newPipeline(bin, config string) *pipeline {
	return &pipeline{bin: bin, config: config, peakKiB: -1}
}

// start runs `milvus-cdc run -c <config>`; its output goes to our stderr,
// prefixed, so WARN lines (retries, errors) show up in the bench log.
func (p *pipeline) start() error {
	if p.cmd != nil {
		return errors.New("pipeline already running")
	}
	cmd := exec.Command(p.bin, "run", "-c", p.config)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("pipeline stdout: %w", err)
	}
	cmd.Stderr = cmd.Stdout // one pipe for both, so lines keep their order
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.bin, err)
	}
	p.cmd, p.started, p.exited = cmd, time.Now(), make(chan struct{})
	p.children++
	var copied sync.WaitGroup
	copied.Add(1)
	go func() { defer copied.Done(); prefixLines(out, fmt.Sprintf("[pipeline %d] ", p.children)) }()
	p.peak = newChildPeak()
	go p.mem.sample(cmd.Process.Pid, p.exited, p.peak)
	go func() {
		copied.Wait() // Wait closes the pipe: read it to the end first
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return nil
}

func prefixLines(r io.Reader, prefix string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		fmt.Fprintf(os.Stderr, "%s%s\n", prefix, sc.Bytes())
	}
}

// failed returns an error when the running child has exited on its own.
func (p *pipeline) failed() error {
	if p.cmd == nil {
		return errors.New("pipeline not running")
	}
	select {
	case <-p.exited:
		return fmt.Errorf("pipeline exited unexpectedly: %v", p.waitErr)
	default:
		return nil
	}
}

// stop sends SIGTERM (Benthos drains and exits cleanly), waits, and records
// the child's peak RSS. After grace it kills the child.
func (p *pipeline) stop(grace time.Duration) error {
	if p.cmd == nil {
		return nil
	}
	defer func() { p.cmd = nil }()
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // fails only if it already exited
	tracked := make(chan struct{})
	go func() { defer close(tracked); p.peak.trackUntilExit(p.cmd.Process.Pid, p.exited) }()
	var err error
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
		err = fmt.Errorf("pipeline did not exit within %s of SIGTERM; killed", grace)
	}
	<-tracked
	c := childRSS{ownKiB: p.peak.get(), rusageKiB: maxRSSKiB(p.cmd.ProcessState)}
	p.perChild = append(p.perChild, c)
	p.peakKiB = max(p.peakKiB, c.ownKiB)
	if err == nil && p.waitErr != nil {
		// Exiting on SIGTERM is the normal end; anything else is worth a note.
		var ee *exec.ExitError
		if !errors.As(p.waitErr, &ee) || !ee.Exited() || ee.ExitCode() != 0 {
			fmt.Fprintf(os.Stderr, "pipeline exit: %v\n", p.waitErr)
		}
	}
	return err
}
