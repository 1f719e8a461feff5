package e2e

// The agent as an operator runs it: `stackagent daemon` on a config of
// its own with the local inbox (events dropped in atomically, results
// read from processed/NAME.result.json), and the CLI on the same config.
// SSM is stood in by an httptest server speaking its wire protocol.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// result is the part of an event's result the test reads.
type result struct {
	EventID string    `json:"event_id"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason"`
	Updated int       `json:"resources_updated"`
	Total   int       `json:"resources_total"`
	RunList []string  `json:"run_list"`
	Output  string    `json:"output"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
}

// agent is a running daemon and the files around it.
type agent struct {
	bin, config, stateDir, inbox, logPath string
	env                                   []string
	cmd                                   *exec.Cmd
	done                                  chan error
	seq                                   int
	outputs                               bytes.Buffer // every CLI output, for the secret check
}

// agentConfig writes agent.yaml for a daemon of the given stack, layers
// and instance id whose state, inbox, attributes and cookbooks are all
// under dir.
func agentConfig(t *testing.T, dir, stack, layers, instance string) string {
	t.Helper()
	for _, d := range []string{"state", "attributes.d", "cookbooks", "roles", "data_bags", "plugins"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`# stackagent e2e
stack: %[2]s
layers: [%[3]s]
instance_id: %[4]s
region: us-east-1
state_dir: %[1]s/state
attributes_dir: %[1]s/attributes.d
cookbook_dirs: [%[1]s/cookbooks]
roles_dir: %[1]s/roles
data_bags_dir: %[1]s/data_bags
plugin_dir: %[1]s/plugins
metrics_address: "off"
boot_setup: false
log_level: info
`, dir, stack, layers, instance)
	path := filepath.Join(dir, "agent.yaml")
	writeFile(t, path, cfg)
	return path
}

// startAgent starts the daemon; it is stopped (SIGTERM) when t ends.
func startAgent(t *testing.T, bin, config string, env []string) *agent {
	t.Helper()
	dir := filepath.Dir(config)
	a := &agent{bin: bin, config: config, stateDir: filepath.Join(dir, "state"),
		inbox: filepath.Join(dir, "state", "inbox"), logPath: filepath.Join(dir, "daemon.log"), env: env,
		done: make(chan error, 1)}
	logf, err := os.Create(a.logPath)
	if err != nil {
		t.Fatal(err)
	}
	a.cmd = exec.Command(bin, "daemon", "--config", config)
	a.cmd.Env = append(os.Environ(), env...)
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	go func() { a.done <- a.cmd.Wait(); logf.Close() }()
	t.Cleanup(func() { a.stop(t) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(a.inbox, "processed")); err == nil {
			return a
		}
		select {
		case err := <-a.done:
			a.done <- err
			t.Fatalf("daemon exited: %v\n%s", err, a.log(t))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not make its inbox in 30s\n%s", a.log(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (a *agent) log(t *testing.T) string {
	b, _ := os.ReadFile(a.logPath)
	return string(b)
}

// stop stops the daemon gracefully (SIGTERM), once.
func (a *agent) stop(t *testing.T) {
	if a.cmd == nil || a.cmd.Process == nil {
		return
	}
	select {
	case err := <-a.done:
		a.done <- err
		return
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-a.done:
		a.done <- err
	case <-time.After(60 * time.Second):
		_ = a.cmd.Process.Kill()
		t.Errorf("daemon did not stop 60s after SIGTERM")
	}
}

// send drops an event into the inbox (written as a dot-file, renamed in)
// and waits for its result.
func (a *agent) send(t *testing.T, ev map[string]any) result {
	t.Helper()
	a.seq++
	name := fmt.Sprintf("%02d-%v", a.seq, ev["type"])
	if c, ok := ev["command"]; ok {
		name += "-" + fmt.Sprint(c)
	}
	ev["version"] = 1
	ev["id"] = "e2e-" + name + fmt.Sprintf("-%d", time.Now().UnixNano())
	b, _ := json.Marshal(ev)
	tmp := filepath.Join(a.inbox, "."+name+".json.tmp")
	writeFile(t, tmp, string(b))
	if err := os.Rename(tmp, filepath.Join(a.inbox, name+".json")); err != nil {
		t.Fatal(err)
	}
	resPath := filepath.Join(a.inbox, "processed", name+".result.json")
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if b, err := os.ReadFile(resPath); err == nil && json.Valid(b) {
			var r result
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("%s: %v", resPath, err)
			}
			t.Logf("event %s: %s, %d/%d resources updated, converge %.1fs", name, r.Status, r.Updated, r.Total, r.End.Sub(r.Start).Seconds())
			return r
		}
		select {
		case err := <-a.done:
			a.done <- err
			t.Fatalf("daemon exited while %s ran: %v\n%s", name, err, a.log(t))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no result for %s after 5m\n%s", name, a.log(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustSucceed fails t unless r is a success.
func mustSucceed(t *testing.T, what string, r result) {
	t.Helper()
	if r.Status != "success" {
		t.Fatalf("%s: status %s (%s)\n%s", what, r.Status, r.Reason, r.Output)
	}
}

// cli runs the agent's CLI with the daemon's config and environment.
func (a *agent) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Env = append(os.Environ(), a.env...)
	out, err := cmd.CombinedOutput()
	a.outputs.Write(out)
	return string(out), err
}

// fakeSSM is SSM's GetParameter over its real wire protocol (AWS JSON
// 1.1, X-Amz-Target AmazonSSM.GetParameter), as in internal/secrets'
// tests; the agent's SDK client reaches it through AWS_ENDPOINT_URL_SSM.
type fakeSSM struct {
	params map[string]string
	mu     sync.Mutex
	gets   int
	bad    []string
}

func (f *fakeSSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct {
		Name           string
		WithDecryption bool
	}
	_ = json.Unmarshal(body, &in)
	f.mu.Lock()
	defer f.mu.Unlock()
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || target != "AmazonSSM.GetParameter" || !in.WithDecryption ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.bad = append(f.bad, fmt.Sprintf("%s %s %s decrypt=%v", r.Method, r.URL.Path, target, in.WithDecryption))
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	v, ok := f.params[in.Name]
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"ParameterNotFound","message":""}`)
		return
	}
	f.gets++
	json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{
		"ARN": "arn:aws:ssm:us-east-1:123456789012:parameter" + in.Name, "DataType": "text",
		"Name": in.Name, "Type": "SecureString", "Value": v, "Version": 1,
	}})
}

// startSSM serves params on 127.0.0.1 and returns the environment that
// points the agent's AWS SDK at it (test credentials, no IMDS).
func startSSM(t *testing.T, params map[string]string) (*fakeSSM, []string) {
	f := &fakeSSM{params: params}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, []string{
		"AWS_ENDPOINT_URL_SSM=" + srv.URL,
		"AWS_ACCESS_KEY_ID=AKIDE2ETEST", "AWS_SECRET_ACCESS_KEY=e2e-not-a-secret",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
}
