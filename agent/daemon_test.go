package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/lifecycle/sqstest"

	"github.com/stackagent/stackagent/testenv"
)

// recorderCookbook is a test cookbook whose recipes record what ran: each
// appends "<recipe> <event type> <command> <event id>" to node.out, and the
// slow recipe marks its start, sleeps, then marks its end.
func recorderCookbook(t *testing.T, dir string) {
	t.Helper()
	rec := func(name string) string {
		return fmt.Sprintf(`local e = node.stackagent.event
lua_block "record %s" {
  block = function()
    shell_out("echo '%s " .. e.type .. " " .. ((e.command ~= nil and e.command ~= "") and e.command or "-") .. " " .. e.id .. "' >> " .. node.out)
  end,
}
`, name, name)
	}
	writeTree(t, dir, map[string]string{
		"rec/recipes/setup.lua":     rec("setup"),
		"rec/recipes/configure.lua": rec("configure"),
		"rec/recipes/deploy.lua":    rec("deploy"),
		"rec/recipes/undeploy.lua":  rec("undeploy"),
		"rec/recipes/shutdown.lua":  rec("shutdown"),
		"rec/recipes/custom.lua":    rec("custom"),
		"rec/recipes/adhoc.lua":     rec("adhoc"),
		"rec/recipes/slow.lua": `local e = node.stackagent.event
lua_block "start" { block = function() shell_out("echo start " .. e.id .. " >> " .. node.out) end }
execute "sleep 3"
lua_block "end" { block = function() shell_out("echo end " .. e.id .. " >> " .. node.out) end }
`,
	})
}

// layerAttrs maps every event type of layer "web" to the recorder.
func layerAttrs(out string) string {
	b, _ := json.Marshal(map[string]any{"out": out, "stackagent": map[string]any{"layers": map[string]any{"web": map[string]any{
		"recipes": map[string]any{"setup": []string{"rec::setup"}, "configure": []string{"rec::configure"},
			"deploy": []string{"rec::deploy"}, "undeploy": []string{"rec::undeploy"}, "shutdown": []string{"rec::shutdown"}},
		"custom_recipes": map[string]any{"setup": []string{"rec::custom"}},
	}}}})
	return string(b)
}

type daemonEnv struct {
	root, state, out string
	args             []string
}

func newDaemonEnv(t *testing.T, extra ...string) *daemonEnv {
	t.Helper()
	root := t.TempDir()
	e := &daemonEnv{root: root, state: filepath.Join(root, "state"), out: filepath.Join(root, "ran.log")}
	recorderCookbook(t, filepath.Join(root, "cb"))
	writeTree(t, root, map[string]string{"attrs/10-layers.json": layerAttrs(e.out)})
	e.args = append([]string{"daemon", "--config", filepath.Join(root, "agent.yaml"),
		"--state-dir", e.state, "--layers", "web", "--stack", "prod", "--instance-id", "i-test",
		"--cookbook-dirs", filepath.Join(root, "cb"), "--attributes-dir", filepath.Join(root, "attrs"),
		"--boot-setup", "false", "--metrics-address", "off", "--roles-dir", filepath.Join(root, "roles")}, extra...)
	writeTree(t, root, map[string]string{"agent.yaml": "# test config: everything comes from flags\n"})
	return e
}

// ran returns the lines the recorder wrote.
func (e *daemonEnv) ran() []string {
	b, _ := os.ReadFile(e.out)
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startDaemon runs the daemon in-process until the test ends.
func startDaemon(t *testing.T, args []string) *lockedBuilder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuilder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		flagsCmd := newRootCmd(out, out)
		flagsCmd.SetArgs(args)
		flagsCmd.ExecuteContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("daemon did not stop")
		}
	})
	return out
}

type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

// String reads what was written so far (safe while the daemon writes).
func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func dropEvent(t *testing.T, inbox, name string, ev map[string]any) {
	t.Helper()
	ev["version"] = 1
	b, _ := json.Marshal(ev)
	tmp := filepath.Join(inbox, "."+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(inbox, name+".json")); err != nil {
		t.Fatal(err)
	}
}

func readResult(t *testing.T, inbox, name string) *lifecycle.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(inbox, "processed", name+".result.json"))
	if err != nil {
		return nil
	}
	var r lifecycle.Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestDaemonInbox drives the daemon with no AWS at all, through the local
// inbox: each event type runs its layer's run list (built-in recipes, then
// custom ones), a redelivered event runs once, an event for another layer
// is skipped, a file that is not an event is set aside, and a burst of
// configure events runs only the newest.
func TestDaemonInbox(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	inbox := filepath.Join(e.state, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	// The configure burst is waiting before the daemon starts.
	base := time.Now().UTC().Add(-time.Minute)
	for i, id := range []string{"c-old", "c-mid", "c-new"} {
		dropEvent(t, inbox, id, map[string]any{"id": id, "type": "configure", "issued_at": base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)})
	}
	log := startDaemon(t, e.args)
	waitFor(t, "the configure burst", 15*time.Second, func() bool { return readResult(t, inbox, "c-old") != nil && readResult(t, inbox, "c-new") != nil })
	if r := readResult(t, inbox, "c-old"); r.Status != lifecycle.StatusSuperseded {
		t.Errorf("c-old: %s", r.Status)
	}
	if r := readResult(t, inbox, "c-mid"); r.Status != lifecycle.StatusSuperseded {
		t.Errorf("c-mid: %s", r.Status)
	}
	if got := e.ran(); len(got) != 1 || got[0] != "configure configure - c-new" {
		t.Fatalf("configure burst ran %q", got)
	}

	steps := []struct {
		name string
		ev   map[string]any
		want []string
	}{
		{"setup", map[string]any{"id": "s-1", "type": "setup"}, []string{"setup setup - s-1", "custom setup - s-1"}},
		{"deploy", map[string]any{"id": "d-1", "type": "deploy", "app": "wordpress", "command": "rollback"}, []string{"deploy deploy rollback d-1"}},
		{"undeploy", map[string]any{"id": "u-1", "type": "undeploy", "app": "wordpress"}, []string{"undeploy undeploy undeploy u-1"}},
		{"execute", map[string]any{"id": "x-1", "type": "execute_recipes", "recipes": []string{"rec::adhoc"}}, []string{"adhoc execute_recipes - x-1"}},
		{"shutdown", map[string]any{"id": "h-1", "type": "shutdown"}, []string{"shutdown shutdown - h-1"}},
		{"duplicate", map[string]any{"id": "s-1", "type": "setup"}, nil},
		{"other layer", map[string]any{"id": "o-1", "type": "configure", "layers": []string{"db"}}, nil},
		{"other stack", map[string]any{"id": "o-2", "type": "configure", "stack": "staging"}, nil},
	}
	for _, s := range steps {
		before := len(e.ran())
		dropEvent(t, inbox, s.name, s.ev)
		waitFor(t, s.name+" to be processed", 15*time.Second, func() bool {
			_, err := os.Stat(filepath.Join(inbox, "processed", s.name+".json"))
			return err == nil
		})
		got := e.ran()[before:]
		if strings.Join(got, "|") != strings.Join(s.want, "|") {
			t.Errorf("%s ran %q, want %q", s.name, got, s.want)
		}
		r := readResult(t, inbox, s.name)
		switch {
		case s.name == "duplicate":
			// No second run: the file gets the first run's result.
			if first := readResult(t, inbox, "setup"); r == nil || first == nil || !r.Start.Equal(first.Start) {
				t.Errorf("a duplicate delivery must carry the first run's result: %+v", r)
			}
		case strings.HasPrefix(s.name, "other"):
			if r == nil || r.Status != lifecycle.StatusSkipped || r.Reason == "" {
				t.Errorf("%s: %+v", s.name, r)
			}
		default:
			if r == nil || r.Status != lifecycle.StatusSuccess || r.InstanceID != "i-test" || r.Total == 0 {
				t.Errorf("%s: %+v", s.name, r)
			}
		}
	}
	writeTree(t, inbox, map[string]string{"junk.json": "this is not json"})
	waitFor(t, "junk set aside", 10*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(inbox, "failed", "junk.json.reason"))
		return err == nil && strings.Contains(string(b), "malformed")
	})
	writeTree(t, inbox, map[string]string{"refused.json": `{"version": 2, "id": "r-1", "type": "configure"}`})
	waitFor(t, "refusal", 10*time.Second, func() bool { return readResult(t, inbox, "refused") != nil })
	if r := readResult(t, inbox, "refused"); r.Status != lifecycle.StatusRefused || !strings.Contains(r.Reason, "version") {
		t.Errorf("refused: %+v", r)
	}
	// Local results are kept in runs/ too.
	runs, _ := filepath.Glob(filepath.Join(e.state, "runs", "*.json"))
	if len(runs) < 8 {
		t.Errorf("runs/ has %d results\n%s", len(runs), log.String())
	}
}

// TestRunRecipeWaitsForTheDaemonsLock: an ad-hoc run-recipe while the
// daemon converges waits for the lock and says who holds it.
func TestRunRecipeWaitsForTheDaemonsLock(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	inbox := filepath.Join(e.state, "inbox")
	os.MkdirAll(inbox, 0o755)
	startDaemon(t, e.args)
	dropEvent(t, inbox, "slow", map[string]any{"id": "slow-1", "type": "execute_recipes", "recipes": []string{"rec::slow"}})
	waitFor(t, "the slow run to start", 15*time.Second, func() bool { return len(e.ran()) > 0 })
	r := runCLI(t, "run-recipe", "--state-dir", e.state, "--cookbooks", filepath.Join(e.root, "cb"),
		"--attributes-dir", filepath.Join(e.root, "attrs"), "-j", writeJSON(t, e.root, map[string]any{"stackagent": map[string]any{"event": map[string]any{"id": "adhoc", "type": "manual"}}}), "rec::adhoc")
	if r.code != 0 || !strings.Contains(r.err, "waiting for the converge lock held by pid") || !strings.Contains(r.err, "daemon execute_recipes slow-1") {
		t.Fatalf("run-recipe: %+v", r)
	}
	got := e.ran()
	if len(got) != 3 || got[0] != "start slow-1" || got[1] != "end slow-1" || !strings.HasPrefix(got[2], "adhoc manual") {
		t.Fatalf("runs interleaved: %q", got)
	}
}

// sqsDaemonArgs points the daemon at a fauxqs queue.
func sqsDaemonArgs(srv *sqstest.Server, queue, reply string) []string {
	return []string{"--queue-url", queue, "--endpoint", srv.Endpoint, "--region", srv.Region,
		"--reply-to", reply, "--wait-seconds", "1", "--visibility-timeout", "2s"}
}

func awsTestEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// replies collects results from the reply queue.
func replies(t *testing.T, srv *sqstest.Server, url string, want int, limit time.Duration) []*lifecycle.Result {
	t.Helper()
	var out []*lifecycle.Result
	deadline := time.Now().Add(limit)
	for len(out) < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := srv.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		cancel()
		if err != nil {
			t.Fatalf("receive replies: %v", err)
		}
		for _, m := range res.Messages {
			var r lifecycle.Result
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &r); err != nil {
				t.Fatalf("reply %q: %v", aws.ToString(m.Body), err)
			}
			out = append(out, &r)
			srv.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
		}
	}
	return out
}

// TestDaemonSQS drives the daemon through a real SQS server (fauxqs):
// events run and their results arrive on the reply queue; the same message
// delivered twice runs once; a malformed message lands in the dead-letter
// queue after maxReceiveCount=2 while the daemon keeps serving.
func TestDaemonSQS(t *testing.T) {
	awsTestEnv(t)
	srv := sqstest.Start(t)
	queue, dlq := srv.CreateQueueWithDLQ(t, "lifecycle", 2)
	reply := srv.CreateQueue(t, "replies", nil)
	e := newDaemonEnv(t, sqsDaemonArgs(srv, queue, reply)...)
	log := startDaemon(t, e.args)

	body := `{"version":1,"id":"cfg-1","type":"configure","stack":"prod","attributes":{"app":{"x":1}}}`
	srv.Send(t, queue, body)
	srv.Send(t, queue, body) // a duplicate delivery of the same event
	srv.Send(t, queue, "definitely not an event")
	srv.Send(t, queue, `{"version":1,"id":"dep-1","type":"deploy","app":"wordpress"}`)
	got := replies(t, srv, reply, 2, 30*time.Second)
	sort.Slice(got, func(i, j int) bool { return got[i].EventID < got[j].EventID })
	if len(got) != 2 || got[0].EventID != "cfg-1" || got[0].Status != "success" || got[1].EventID != "dep-1" || got[1].Status != "success" {
		for _, r := range got {
			t.Logf("reply: %+v", *r)
		}
		t.Fatalf("replies\n%s", log.String())
	}
	if got[1].App != "wordpress" || got[1].InstanceID != "i-test" || got[1].Total != 1 || !strings.Contains(got[1].Output, "lua_block[record deploy]") {
		t.Errorf("deploy result: %+v", got[1])
	}
	// The malformed message goes to the DLQ after two receives.
	var dead *string
	waitFor(t, "the malformed message in the DLQ", 30*time.Second, func() bool {
		res, err := srv.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), WaitTimeSeconds: 1})
		if err == nil && len(res.Messages) == 1 {
			dead = res.Messages[0].Body
			return true
		}
		return false
	})
	if aws.ToString(dead) != "definitely not an event" {
		t.Fatalf("DLQ got %q", aws.ToString(dead))
	}
	if n := strings.Count(log.String(), "message is not an event"); n < 2 {
		t.Errorf("the malformed message should be logged at each receive, saw %d\n%s", n, log.String())
	}
	if ran := e.ran(); strings.Join(ran, "|") != "configure configure - cfg-1|deploy deploy deploy dep-1" {
		t.Fatalf("ran %q", ran)
	}
	// Still serving after all that.
	srv.Send(t, queue, `{"version":1,"id":"cfg-2","type":"configure"}`)
	if got := replies(t, srv, reply, 1, 20*time.Second); len(got) != 1 || got[0].EventID != "cfg-2" {
		t.Fatalf("after the DLQ: %+v", got)
	}
}

// TestDaemonSurvivesSQSOutage stops the SQS server for 30 s: the daemon
// backs off, then takes the next event with no restart of its own.
func TestDaemonSurvivesSQSOutage(t *testing.T) {
	testenv.Short(t, "30 s outage")
	awsTestEnv(t)
	srv := sqstest.Start(t)
	queue := srv.CreateQueue(t, "lifecycle", nil)
	reply := srv.CreateQueue(t, "replies", nil)
	e := newDaemonEnv(t, sqsDaemonArgs(srv, queue, reply)...)
	log := startDaemon(t, e.args)
	srv.Send(t, queue, `{"version":1,"id":"before","type":"configure"}`)
	if got := replies(t, srv, reply, 1, 20*time.Second); len(got) != 1 {
		t.Fatalf("before the outage: %+v", got)
	}
	srv.Stop()
	time.Sleep(30 * time.Second)
	srv.Restart(t) // same port, empty state: the queues are made again
	queue = srv.CreateQueue(t, "lifecycle", nil)
	reply = srv.CreateQueue(t, "replies", nil)
	srv.Send(t, queue, `{"version":1,"id":"after","type":"configure"}`)
	got := replies(t, srv, reply, 1, 90*time.Second)
	if len(got) != 1 || got[0].EventID != "after" || got[0].Status != "success" {
		t.Fatalf("after the outage: %+v\n%s", got, log.String())
	}
	if !strings.Contains(log.String(), "backing off") || !strings.Contains(log.String(), "receiving again") {
		t.Fatalf("no back-off in the log:\n%s", log.String())
	}
}

// TestDaemonKill9MidConverge kills the daemon process with SIGKILL in the
// middle of a converge; the restarted daemon runs the event to its end
// exactly once, reports one result, and deletes the redelivered message
// without running it again.
func TestDaemonKill9MidConverge(t *testing.T) {
	awsTestEnv(t)
	srv := sqstest.Start(t)
	queue := srv.CreateQueue(t, "lifecycle", nil)
	reply := srv.CreateQueue(t, "replies", nil)
	e := newDaemonEnv(t, sqsDaemonArgs(srv, queue, reply)...)
	spawn := func() *exec.Cmd {
		args, _ := json.Marshal(e.args)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "STACKAGENT_CLI_ARGS="+string(args))
		logf, _ := os.OpenFile(filepath.Join(e.root, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	first := spawn()
	srv.Send(t, queue, `{"version":1,"id":"slow-9","type":"execute_recipes","recipes":["rec::slow"]}`)
	waitFor(t, "the converge to start", 20*time.Second, func() bool { return len(e.ran()) > 0 })
	first.Process.Kill() // SIGKILL: no clean-up of any kind
	first.Wait()
	if got := e.ran(); len(got) != 1 || got[0] != "start slow-9" {
		t.Fatalf("before the kill: %q", got)
	}
	spawn()
	got := replies(t, srv, reply, 1, 40*time.Second)
	if len(got) != 1 || got[0].EventID != "slow-9" || got[0].Status != "success" {
		b, _ := os.ReadFile(filepath.Join(e.root, "daemon.log"))
		t.Fatalf("result after restart: %+v\n%s", got, b)
	}
	// The message comes back after its visibility timeout (2 s) and is
	// deleted as a duplicate; nothing runs again and no second result.
	time.Sleep(5 * time.Second)
	if extra := replies(t, srv, reply, 1, 2*time.Second); len(extra) != 0 {
		t.Fatalf("a second result: %+v", extra)
	}
	ran := e.ran()
	if strings.Join(ran, "|") != "start slow-9|start slow-9|end slow-9" {
		t.Fatalf("runs: %q", ran)
	}
	if m := srv.ReceiveOne(t, queue, time.Second); m != nil {
		t.Fatalf("message still on the queue: %s", aws.ToString(m.Body))
	}
}

// TestDaemonLifecycleHooks: an Auto Scaling launch hook runs setup and
// completes the lifecycle action with CONTINUE; a terminate hook whose
// shutdown run fails completes it with ABANDON. The Auto Scaling API cannot
// run here, so the test serves the SDK's real Query-protocol requests from
// a local HTTP server and checks them on the wire.
func TestDaemonLifecycleHooks(t *testing.T) {
	t.Parallel()
	asg, calls := asgStandIn(t)

	e := newDaemonEnv(t)
	writeTree(t, e.root, map[string]string{
		"cb/rec/recipes/boom.lua": `execute "exit 7"` + "\n",
		"attrs/20-shutdown.json":  `{"stackagent": {"layers": {"web": {"recipes": {"shutdown": ["rec::boom"]}}}}}`,
	})
	flags := map[string]string{}
	for i := 1; i+1 < len(e.args); i += 2 {
		flags[strings.ReplaceAll(strings.TrimPrefix(e.args[i], "--"), "-", "_")] = e.args[i+1]
	}
	cfg, _, err := loadConfig(filepath.Join(e.root, "agent.yaml"), true, func(string) string { return "" }, flags)
	if err != nil {
		t.Fatal(err)
	}
	var logb lockedBuilder
	log := slog.New(slog.NewTextHandler(&logb, nil))
	d, cleanup, err := buildDaemon(context.Background(), cfg, log, &logb)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), BaseEndpoint: aws.String(asg.URL)}
	d.completer = lifecycle.NewLifecycleCompleter(autoscaling.NewFromConfig(awsCfg))
	d.setHooks()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	inbox := filepath.Join(e.state, "inbox")
	hook := func(name, transition, token string) {
		writeTree(t, inbox, map[string]string{"." + name: fmt.Sprintf(`{"Origin":"EC2","LifecycleHookName":"wp-hook","Destination":"AutoScalingGroup",
"AccountId":"123456789012","RequestId":"4a4b5e2c","LifecycleTransition":"%s","AutoScalingGroupName":"wp-asg",
"Service":"AWS Auto Scaling","Time":"2026-11-25T10:00:00.000Z","EC2InstanceId":"i-test","LifecycleActionToken":"%s"}`, transition, token)})
		os.Rename(filepath.Join(inbox, "."+name), filepath.Join(inbox, name+".json"))
	}
	hook("launch", "autoscaling:EC2_INSTANCE_LAUNCHING", "tok-launch-1")
	waitFor(t, "CompleteLifecycleAction for the launch", 20*time.Second, func() bool { return len(calls()) >= 1 })
	hook("terminate", "autoscaling:EC2_INSTANCE_TERMINATING", "tok-term-2")
	waitFor(t, "CompleteLifecycleAction for the termination", 20*time.Second, func() bool { return len(calls()) >= 2 })
	want := []map[string]string{
		{"Action": "CompleteLifecycleAction", "Version": "2011-01-01", "LifecycleHookName": "wp-hook", "AutoScalingGroupName": "wp-asg",
			"LifecycleActionToken": "tok-launch-1", "InstanceId": "i-test", "LifecycleActionResult": "CONTINUE"},
		{"Action": "CompleteLifecycleAction", "LifecycleActionToken": "tok-term-2", "LifecycleActionResult": "ABANDON"},
	}
	for i, w := range want {
		for k, v := range w {
			if got := calls()[i].Get(k); got != v {
				t.Errorf("call %d: %s = %q, want %q (%v)", i, k, got, v, calls()[i])
			}
		}
	}
	// Launch: setup (built-in then custom recipes), then the apps' deploy,
	// as OpsWorks did for an instance coming online; terminate: shutdown.
	if got := e.ran(); strings.Join(got, "|") != "setup setup - asg-tok-launch-1|custom setup - asg-tok-launch-1|deploy deploy deploy asg-tok-launch-1" {
		t.Errorf("ran %q", got)
	}
}

// TestDaemonBootSetupOnce: on the first start after boot, setup runs by
// itself (then the apps' deploy) when it never succeeded here; a restart in
// the same boot does not run it again.
func TestDaemonBootSetupOnce(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	args := append([]string{}, e.args...)
	for i := range args {
		if args[i] == "--boot-setup" {
			args[i+1] = "true"
		}
	}
	run := func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			cmd := newRootCmd(&lockedBuilder{}, &lockedBuilder{})
			cmd.SetArgs(args)
			cmd.ExecuteContext(ctx)
		}()
		waitFor(t, "the daemon to settle", 10*time.Second, func() bool {
			_, err := os.Stat(filepath.Join(e.state, "boot_id"))
			return err == nil && len(e.ran()) >= 0
		})
		time.Sleep(500 * time.Millisecond)
		cancel()
		<-done
	}
	run()
	got := e.ran()
	if len(got) != 3 || !strings.HasPrefix(got[0], "setup setup - boot-setup-") || !strings.HasPrefix(got[2], "deploy deploy deploy boot-setup-") {
		t.Fatalf("first start ran %q", got)
	}
	if _, err := os.Stat(filepath.Join(e.state, "setup.succeeded")); err != nil {
		t.Fatal("setup.succeeded not recorded")
	}
	run()
	if again := e.ran(); len(again) != 3 {
		t.Fatalf("setup ran again in the same boot: %q", again)
	}
}

// TestDaemonUpdateCustomCookbooks: update_custom_cookbooks fetches the
// stack's cookbooks (here a local archive) and the next event runs a
// recipe from them.
func TestDaemonUpdateCustomCookbooks(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	src := filepath.Join(e.root, "src")
	writeTree(t, src, map[string]string{"site/recipes/default.lua": `lua_block "from custom" { block = function() shell_out("echo custom-cookbook " .. node.stackagent.event.id .. " >> " .. node.out) end }` + "\n"})
	archive := filepath.Join(e.root, "cookbooks.tar.gz")
	if out, err := exec.Command("tar", "-C", src, "-czf", archive, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	inbox := filepath.Join(e.state, "inbox")
	os.MkdirAll(inbox, 0o755)
	startDaemon(t, e.args)
	dropEvent(t, inbox, "fetch", map[string]any{"id": "fetch-1", "type": "update_custom_cookbooks",
		"attributes": map[string]any{"stackagent": map[string]any{"custom_cookbooks": map[string]any{"type": "archive", "url": archive}}}})
	waitFor(t, "the fetch", 15*time.Second, func() bool { return readResult(t, inbox, "fetch") != nil })
	if r := readResult(t, inbox, "fetch"); r.Status != "success" || !strings.Contains(r.Output, "custom cookbooks updated") {
		t.Fatalf("fetch: %+v", r)
	}
	dropEvent(t, inbox, "use", map[string]any{"id": "use-1", "type": "execute_recipes", "recipes": []string{"site"}})
	waitFor(t, "the run", 15*time.Second, func() bool { return readResult(t, inbox, "use") != nil })
	if got := e.ran(); len(got) != 1 || got[0] != "custom-cookbook use-1" {
		t.Fatalf("ran %q (result %+v)", got, readResult(t, inbox, "use"))
	}
}

// TestDaemonBootSetupCompletesLaunchHook: with asg_name and launch_hook
// set, the first-boot setup (which never receives its own launch
// notification: it goes out before the instance's queue exists) completes
// the launch hook by instance id. The Auto Scaling API cannot run here:
// the SDK's request is checked on the wire.
func TestDaemonBootSetupCompletesLaunchHook(t *testing.T) {
	awsTestEnv(t)
	asg, calls := asgStandIn(t)
	srv := sqstest.Shared(t)
	queue := srv.CreateQueue(t, "boot-hook", nil)
	e := newDaemonEnv(t, "--queue-url", queue, "--endpoint", srv.Endpoint, "--region", srv.Region, "--wait-seconds", "1",
		"--asg-name", "wp-asg", "--launch-hook", "wp-launch")
	for i := range e.args {
		if e.args[i] == "--boot-setup" {
			e.args[i+1] = "true"
		}
	}
	flags := map[string]string{}
	for i := 1; i+1 < len(e.args); i += 2 {
		flags[strings.ReplaceAll(strings.TrimPrefix(e.args[i], "--"), "-", "_")] = e.args[i+1]
	}
	cfg, _, err := loadConfig(filepath.Join(e.root, "agent.yaml"), true, func(string) string { return "" }, flags)
	if err != nil {
		t.Fatal(err)
	}
	d, cleanup, err := buildDaemon(context.Background(), cfg, slog.New(slog.DiscardHandler), &lockedBuilder{})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	// The SDK takes the service endpoint from the environment only when no
	// base endpoint is set; the daemon sets one (fauxqs) for every client.
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), BaseEndpoint: aws.String(asg.URL)}
	d.completer = lifecycle.NewLifecycleCompleter(autoscaling.NewFromConfig(awsCfg))
	d.setHooks()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "CompleteLifecycleAction", 20*time.Second, func() bool { return len(calls()) > 0 })
	c := calls()[0]
	for k, v := range map[string]string{"Action": "CompleteLifecycleAction", "AutoScalingGroupName": "wp-asg", "LifecycleHookName": "wp-launch",
		"InstanceId": "i-test", "LifecycleActionResult": "CONTINUE", "LifecycleActionToken": ""} {
		if c.Get(k) != v {
			t.Errorf("%s = %q, want %q (%v)", k, c.Get(k), v, c)
		}
	}
	if got := e.ran(); len(got) != 3 || !strings.HasPrefix(got[0], "setup setup - boot-setup-") {
		t.Errorf("ran %q", got)
	}
}

// asgStandIn serves the Auto Scaling API's Query protocol on 127.0.0.1 as
// AWS answers it (an empty <ActionResult/>): no Auto Scaling server runs
// here, so the tests check the SDK's requests on the wire. calls returns
// the requests' forms so far.
func asgStandIn(t *testing.T) (*httptest.Server, func() []url.Values) {
	t.Helper()
	var mu sync.Mutex
	var calls []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		calls = append(calls, r.PostForm)
		mu.Unlock()
		a := r.PostForm.Get("Action")
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%sResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><%sResult/><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></%sResponse>`, a, a, a)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []url.Values {
		mu.Lock()
		defer mu.Unlock()
		return append([]url.Values(nil), calls...)
	}
}
