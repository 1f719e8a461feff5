// Package sqstest runs fauxqs, a real SQS/SNS-compatible server (npm
// package fauxqs, pinned in testenv/fauxqs), for integration tests. The
// server listens on 127.0.0.1 only, on a port the kernel picks, and keeps
// everything in memory.
//
// Start gives a test its own server, stopped in t.Cleanup; Shared gives
// every test of a package one server, started on first use and stopped by
// StopShared (from TestMain) or, at the latest, when the test binary exits:
// the node process ends as soon as its stdin pipe closes, so no server
// outlives the tests even after a crash.
//
// node is needed (Node.js >= 20); without it, and with -short, the tests
// skip. node_modules
// is installed once per process by testenv/fauxqs/install.sh when missing
// (scripts/test-deps.sh does it beforehand in CI). STACKAGENT_FAUXQS_DIR
// overrides where testenv/fauxqs is.
package sqstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stackagent/stackagent/testenv"
)

// Region is the region the clients sign for; fauxqs builds ARNs with it.
const Region = "us-east-1"

// AccountID is the account fauxqs puts in queue URLs and ARNs.
const AccountID = "000000000000"

const (
	startTimeout = 20 * time.Second
	stopTimeout  = 5 * time.Second
)

// Server is one running fauxqs process.
type Server struct {
	// Endpoint is the base URL, http://127.0.0.1:PORT.
	Endpoint string
	Port     int
	Region   string
	// SQS and SNS are clients for Endpoint with static dummy credentials
	// and no SDK retries, so a failure shows at once.
	SQS *sqs.Client
	SNS *sns.Client

	dir    string
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.Closer
	done   chan struct{}
	stderr *tailBuffer
}

// Start starts a server of the test's own and stops it in t.Cleanup. It
// skips the test when node is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	requireNode(t)
	s, err := start()
	if err != nil {
		t.Fatalf("sqstest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the package's shared server, starting it on first use.
// Tests sharing it must use queue and topic names of their own.
func Shared(t testing.TB) *Server {
	t.Helper()
	requireNode(t)
	shared.once.Do(func() { shared.srv, shared.err = start() })
	if shared.err != nil {
		t.Fatalf("sqstest: %v", shared.err)
	}
	return shared.srv
}

// StopShared stops the shared server if one was started; call it from
// TestMain after m.Run.
func StopShared() {
	if shared.srv != nil {
		shared.srv.Stop()
	}
}

func requireNode(t testing.TB) {
	t.Helper()
	testenv.Short(t, "sqstest: integration test against fauxqs")
	testenv.Command(t, "node", "sqstest: install Node.js >= 20 to run the SQS/SNS integration tests against fauxqs")
}

func start() (*Server, error) {
	dir, err := fauxqsDir()
	if err != nil {
		return nil, err
	}
	if err := install(dir); err != nil {
		return nil, err
	}
	s := &Server{Region: Region, dir: dir}
	if err := s.launch(0); err != nil {
		return nil, err
	}
	s.Endpoint = "http://127.0.0.1:" + strconv.Itoa(s.Port)
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	s.SQS = sqs.New(sqs.Options{
		Region: Region, Credentials: creds, BaseEndpoint: aws.String(s.Endpoint), RetryMaxAttempts: 1,
	})
	s.SNS = sns.New(sns.Options{
		Region: Region, Credentials: creds, BaseEndpoint: aws.String(s.Endpoint), RetryMaxAttempts: 1,
	})
	return s, nil
}

// launch starts node launch.mjs on port (0: any) and waits for the port
// line.
func (s *Server) launch(port int) error {
	cmd := exec.Command("node", "launch.mjs", strconv.Itoa(port))
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "FAUXQS_LOGGER=false")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr := &tailBuffer{max: 8 << 10}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start fauxqs: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	ports := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "FAUXQS_PORT="); ok {
				if p, err := strconv.Atoi(v); err == nil {
					ports <- p
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p := <-ports:
		s.mu.Lock()
		s.cmd, s.stdin, s.done, s.stderr, s.Port = cmd, stdin, done, stderr, p
		s.mu.Unlock()
		return nil
	case <-done:
		return fmt.Errorf("fauxqs exited before listening: %s", stderr.String())
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("fauxqs did not print its port within %s: %s", startTimeout, stderr.String())
	}
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
// It is safe to call more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, stdin, done := s.cmd, s.stdin, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = stdin.Close()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart starts the server again on the same port after Stop. Its state
// (queues, topics, messages) is gone: fauxqs keeps it in memory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	var err error
	// The port was just freed; retry briefly in case another socket races.
	for i := 0; i < 10; i++ {
		if err = s.launch(s.Port); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("sqstest: restart on port %d: %v", s.Port, err)
}

// Stderr is the tail of the server's standard error, for failure messages.
func (s *Server) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stderr == nil {
		return ""
	}
	return s.stderr.String()
}

func fauxqsDir() (string, error) {
	if d := os.Getenv("STACKAGENT_FAUXQS_DIR"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "testenv", "fauxqs")
		if _, err := os.Stat(filepath.Join(cand, "launch.mjs")); err == nil {
			return cand, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("testenv/fauxqs/launch.mjs not found above %s (set STACKAGENT_FAUXQS_DIR)", wd)
		}
	}
}

var installed struct {
	once sync.Once
	err  error
}

// install runs install.sh once per process when fauxqs is not in
// node_modules. install.sh locks, so test binaries of several packages
// running at once do not install over each other.
func install(dir string) error {
	installed.once.Do(func() {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "fauxqs", "package.json")); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, "install.sh"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			installed.err = fmt.Errorf("install fauxqs (%s/install.sh): %w\n%s", dir, err, out)
			return
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "fauxqs", "package.json")); err != nil {
			installed.err = errors.New("install fauxqs: node_modules/fauxqs still missing after install.sh (is npm installed?)")
		}
	})
	return installed.err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = w.b[len(w.b)-w.max:]
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
