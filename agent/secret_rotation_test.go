package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// fakeSSM answers SSM GetParameter over its wire protocol (AWS JSON 1.1,
// X-Amz-Target AmazonSSM.GetParameter), as in internal/secrets' tests; the
// agent's SDK reaches it through AWS_ENDPOINT_URL_SSM. No SSM server runs
// here, so this is the one stand-in.
type fakeSSM struct {
	mu    sync.Mutex
	value string
	rest  http.Handler // every other AWS call (SQS: fauxqs)
}

func (f *fakeSSM) set(v string) { f.mu.Lock(); f.value = v; f.mu.Unlock() }

func (f *fakeSSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.") {
		f.rest.ServeHTTP(w, r)
		return
	}
	var in struct{ Name string }
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &in)
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameter" || in.Name != "/prod/db_password" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"ParameterNotFound","message":""}`)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{"Name": in.Name, "Type": "SecureString",
		"Value": f.value, "Version": 1, "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter" + in.Name, "DataType": "text"}})
}

// rotationCookbook writes a wp-config.php (PHP-quoted password, not marked
// sensitive), a JSON file, runs a command and logs a line, each holding
// the password; node.out is where the files go (not searched: they are
// where the secret belongs).
const rotationRecipe = `
local function php(v) return "'" .. v:gsub("\\", "\\\\"):gsub("'", "\\'") .. "'" end
template (node.out .. "/wp-config.php") {
  source = "wp-config.php.erb",
  variables = lazy(function() return { password = php(node.db.password) } end),
}
file (node.out .. "/db.json") { content = lazy(function() return '{"password": "' .. node.db.password:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"}' end) }
log ("connecting with password " .. node.db.password)
execute "check the password" {
  command = lazy(function() return "test -n '" .. node.db.password:gsub("'", "'\\''") .. "'" end),
}
`

// secretForms are a value and its escaped forms.
func secretForms(v string) []string {
	php := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v)
	js, _ := json.Marshal(v)
	jphp, _ := json.Marshal(php)
	return []string{v, php, strings.Trim(string(js), `"`), strings.Trim(string(jphp), `"`),
		strings.ReplaceAll(v, `'`, `'\''`), strings.Trim(fmt.Sprintf("%q", v), `"`)}
}

// TestSecretRotationLeaksNothing rotates an SSM password between two runs
// of the daemon (inbox with text logs, then SQS with JSON logs) and of
// run-recipe (doc and json output, --report), then greps every byte the
// agent wrote: its stdout and stderr, the state dir (runs/, processed/,
// journal, in-progress), the reports, status and status --json, /metrics
// and /healthz, and the reply messages, for both passwords in every
// escaped form: none may appear. The files the recipe writes hold the new
// password (that is their job).
func TestSecretRotationLeaksNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two daemons")
	}
	awsTestEnv(t)
	t.Setenv("AWS_REGION", "us-east-1")
	srv := sqstest.Start(t)
	sqsURL, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	// One endpoint for the agent (--endpoint sets every client's): SSM
	// here, the rest passed on to fauxqs.
	ssm := &fakeSSM{rest: httputil.NewSingleHostReverseProxy(sqsURL)}
	ssmSrv := httptest.NewServer(ssm)
	t.Cleanup(ssmSrv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SSM", ssmSrv.URL) // run-recipe has no --endpoint
	passwords := []string{`0ld'Pa\ss"w<rd>&1`, `n3w'Pa\ss"w<rd>&2`}

	var written []string // every text the agent wrote outside its state dirs
	var stateDirs []string
	for _, mode := range []string{"inbox-text", "sqs-json"} {
		root := t.TempDir()
		out := filepath.Join(root, "out")
		writeTree(t, root, map[string]string{
			"cb/site/recipes/default.lua":         rotationRecipe,
			"cb/site/templates/wp-config.php.erb": "<?php\ndefine( 'DB_PASSWORD', <%= password %> );\n",
			"attrs/10-stack.json":                 fmt.Sprintf(`{"out": %q, "db": {"password": {"secret": "ssm:/prod/db_password"}}, "stackagent": {"layers": {"web": {"recipes": {"configure": ["site"]}}}}}`, out),
			"agent.yaml":                          "# rotation test\n",
			"out/.keep":                           "",
		})
		state := filepath.Join(root, "state")
		stateDirs = append(stateDirs, state)
		reply := srv.CreateQueue(t, "replies-"+mode, nil)
		addr := freeAddr(t)
		args := []string{"daemon", "--config", filepath.Join(root, "agent.yaml"), "--state-dir", state,
			"--layers", "web", "--stack", "prod", "--instance-id", "i-test", "--cookbook-dirs", filepath.Join(root, "cb"),
			"--attributes-dir", filepath.Join(root, "attrs"), "--roles-dir", filepath.Join(root, "roles"),
			"--boot-setup", "false", "--metrics-address", addr, "--endpoint", ssmSrv.URL, "--region", srv.Region,
			"--reply-to", reply, "--plugin-dir", filepath.Join(root, "plugins")}
		var queue string
		if mode == "sqs-json" {
			queue = srv.CreateQueue(t, "lifecycle-"+mode, nil)
			args = append(args, "--queue-url", queue, "--wait-seconds", "1", "--log-format", "json")
		}
		log := startDaemon(t, args)
		inbox := filepath.Join(state, "inbox")
		for i, pw := range passwords {
			ssm.set(pw)
			id := fmt.Sprintf("cfg-%s-%d", mode, i)
			if queue != "" {
				srv.Send(t, queue, fmt.Sprintf(`{"version":1,"id":%q,"type":"configure","stack":"prod"}`, id))
			} else {
				waitFor(t, "the inbox", 30*time.Second, func() bool { _, err := os.Stat(filepath.Join(inbox, "processed")); return err == nil })
				dropEvent(t, inbox, id, map[string]any{"id": id, "type": "configure", "stack": "prod"})
			}
			got := replies(t, srv, reply, 1, 60*time.Second)
			if len(got) != 1 || got[0].EventID != id || got[0].Status != "success" {
				t.Fatalf("%s event %d: replies %+v\n%s", mode, i, got, log.String())
			}
			b, _ := json.Marshal(got[0])
			written = append(written, string(b))
			cfg, _ := os.ReadFile(filepath.Join(out, "wp-config.php"))
			if !strings.Contains(string(cfg), secretForms(pw)[1]) {
				t.Fatalf("wp-config.php does not hold the password: %q", cfg)
			}
		}
		_, metrics := httpGet(t, "http://"+addr+"/metrics")
		_, health := httpGet(t, "http://"+addr+"/healthz")
		statusArgs := []string{"--config", filepath.Join(root, "agent.yaml"), "--state-dir", state, "--metrics-address", addr,
			"--cookbook-dirs", filepath.Join(root, "cb"), "--attributes-dir", filepath.Join(root, "attrs")}
		st := runCLI(t, append([]string{"status"}, statusArgs...)...)
		stj := runCLI(t, append([]string{"status", "--json"}, statusArgs...)...)
		if !strings.Contains(st.out, "configure cfg-"+mode+"-1") || !strings.Contains(stj.out, `"cfg-`+mode+`-1"`) {
			t.Errorf("status does not show the runs:\n%s\n%s", st.out, stj.out)
		}
		if !strings.Contains(log.String(), "suppressed sensitive resource output") {
			t.Errorf("%s: the wp-config.php template was not made sensitive:\n%s", mode, log.String())
		}
		written = append(written, log.String(), metrics, health, st.out, st.err, stj.out, stj.err)
	}

	// run-recipe, doc then json output, with --report.
	root := t.TempDir()
	out := filepath.Join(root, "out")
	writeTree(t, root, map[string]string{
		"cb/site/recipes/default.lua":         rotationRecipe,
		"cb/site/templates/wp-config.php.erb": "<?php\ndefine( 'DB_PASSWORD', <%= password %> );\n",
		"node.json":                           fmt.Sprintf(`{"out": %q, "db": {"password": {"secret": "ssm:/prod/db_password"}}}`, out),
		"out/.keep":                           "",
	})
	for i, format := range []string{"doc", "json"} {
		ssm.set(passwords[i])
		report := filepath.Join(root, fmt.Sprintf("report-%s.json", format))
		r := runCLI(t, "run-recipe", "--cookbooks", filepath.Join(root, "cb"), "--no-embedded-cookbooks", "--state-dir",
			filepath.Join(root, "state"), "--attributes-dir", filepath.Join(root, "attrs"), "--plugin-dir", filepath.Join(root, "plugins"),
			"-j", filepath.Join(root, "node.json"), "--log-format", format, "--report", report, "site")
		if r.code != 0 {
			t.Fatalf("run-recipe %s: exit %d\n%s\n%s", format, r.code, r.out, r.err)
		}
		fi, err := os.Stat(report)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("--report file: %v mode %v, want 0600", err, fi.Mode().Perm())
		}
		b, _ := os.ReadFile(report)
		written = append(written, r.out, r.err, string(b))
	}
	stateDirs = append(stateDirs, filepath.Join(root, "state"))
	for _, dir := range stateDirs {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				b, _ := os.ReadFile(p)
				written = append(written, p+"\n"+string(b))
			}
			return nil
		})
	}
	all := strings.Join(written, "\n")
	for _, pw := range passwords {
		for _, f := range secretForms(pw) {
			if i := strings.Index(all, f); i >= 0 {
				t.Errorf("%q (a form of %q) leaked: …%s…", f, pw, all[max(0, i-300):min(len(all), i+len(f)+100)])
			}
		}
	}
	if !strings.Contains(all, "*sensitive value suppressed*") {
		t.Error("the log line should show the password as suppressed")
	}
}
