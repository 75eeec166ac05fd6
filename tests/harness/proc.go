package harness

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the milvus-cdc binary built once per test binary (a package
// variable because every test of a package shares the one build).
var binary struct {
	once sync.Once
	path string
	err  error
}

// MilvusCDC builds the milvus-cdc binary once per test run and returns its path.
func MilvusCDC(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "milvus-cdc-test")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "milvus-cdc")
		cmd := exec.Command("go", "build", "-o", binary.path, "./cmd/milvus-cdc")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// SyncBuffer collects log output from several goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Proc is a milvus-cdc process a test started; it is stopped by PID when
// the test ends.
type Proc struct {
	cmd  *exec.Cmd
	Logs *SyncBuffer
}

// StartProc runs `milvus-cdc args...` in the repository root with env added
// to the test's environment.
func StartProc(t testing.TB, env []string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(MilvusCDC(t), args...)
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	// A test binary killed (timeout, ^C) takes its processes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logs := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Proc{cmd: cmd, Logs: logs}
	t.Cleanup(p.Stop)
	return p
}

// Stop ends the process gracefully (SIGTERM, then SIGKILL after 20 s).
func (p *Proc) Stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// Kill9 kills the process at once, as a crash would.
func (p *Proc) Kill9() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// Signal sends sig to the process (SIGSTOP freezes it as a long GC pause or
// a partition would; SIGCONT wakes it).
func (p *Proc) Signal(sig syscall.Signal) {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// FreePort is a TCP port on 127.0.0.1 nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitHTTP waits up to a minute until url answers at all.
func WaitHTTP(t testing.TB, url string) {
	t.Helper()
	WaitFor(t, 60*time.Second, url+" answering", func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
}
