package ohai

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stackagent/stackagent/internal/testutil"
	"github.com/stackagent/stackagent/testenv"
)

// The real amazon-ec2-metadata-mock (AEMM) the IMDS tests run against. It is
// built from the Go module proxy into a temporary directory the first time
// a test needs it, started on 127.0.0.1 with --imdsv2 (IMDSv1 requests get
// 401), and killed by TestMain.
const (
	mockModule  = "github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock"
	mockVersion = "v1.13.0"
)

// metadataMock is the running mock, or why there is none.
type metadataMock struct {
	once    sync.Once
	dir     string
	cmd     *exec.Cmd
	out     testutil.SyncBuffer
	url     string // http://127.0.0.1:PORT
	skipMsg string // the build failed: tests skip with this
	err     error  // it built but did not answer: tests fail with this
}

var mock metadataMock

func TestMain(m *testing.M) {
	code := m.Run()
	mock.stop()
	os.Exit(code)
}

// mockURL returns the running mock's base URL, starting it on first use.
func mockURL(t testing.TB) string {
	t.Helper()
	mock.once.Do(mock.start)
	if mock.skipMsg != "" {
		testenv.Require(t, mock.skipMsg, false)
	}
	if mock.err != nil {
		t.Fatalf("%v\nmock output:\n%s", mock.err, mock.out.String())
	}
	return mock.url
}

func (mm *metadataMock) start() {
	dir, err := os.MkdirTemp("", "ohai-aemm-")
	if err != nil {
		mm.err = err
		return
	}
	mm.dir = dir
	// `go install pkg@version` builds the mock from its own go.mod, so this
	// module's go.mod needs no requirement on it; GOBIN puts the binary in
	// the temp dir. GOFLAGS is dropped so a -mod setting cannot break it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "install", mockModule+"@"+mockVersion)
	build.Env = append(envWithout("GOFLAGS", "GOBIN", "GOWORK"), "GOBIN="+dir, "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		mm.skipMsg = fmt.Sprintf("skipping: cannot build %s@%s (needs the Go module proxy): %v\n%s",
			mockModule, mockVersion, err, out)
		return
	}
	port, err := freePort()
	if err != nil {
		mm.err = err
		return
	}
	mm.url = "http://127.0.0.1:" + port
	mm.cmd = exec.Command(filepath.Join(dir, "ec2-metadata-mock"), "--hostname", "127.0.0.1", "--port", port, "--imdsv2")
	// HOME and the working dir are the empty temp dir, so no stray
	// aemm-config.json overrides the defaults the tests expect; AEMM_*
	// variables would override them too.
	mm.cmd.Dir = dir
	mm.cmd.Env = append(envWithout("HOME", "AEMM_"), "HOME="+dir)
	mm.cmd.Stdout, mm.cmd.Stderr = &mm.out, &mm.out
	if err := mm.cmd.Start(); err != nil {
		mm.err = fmt.Errorf("start mock: %w", err)
		return
	}
	mm.err = waitForMock(mm.url, 20*time.Second)
}

// waitForMock polls the token endpoint until the mock answers 200.
func waitForMock(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequest(http.MethodPut, url+"/latest/api/token", nil)
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "10")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("token: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mock at %s did not answer within %v: %w", url, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (mm *metadataMock) stop() {
	if mm.cmd != nil && mm.cmd.Process != nil {
		_ = mm.cmd.Process.Kill()
		_ = mm.cmd.Wait()
	}
	if mm.dir != "" {
		os.RemoveAll(mm.dir)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// envWithout returns the environment less the variables with these names
// or, for names ending in "_", these prefixes.
func envWithout(names ...string) []string {
	var env []string
outer:
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		for _, n := range names {
			if k == n || (strings.HasSuffix(n, "_") && strings.HasPrefix(k, n)) {
				continue outer
			}
		}
		env = append(env, kv)
	}
	return env
}
