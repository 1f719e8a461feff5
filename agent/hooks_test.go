package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stackagent/stackagent/internal/sdnotify"
	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/lifecycle/sqstest"
)

// hookLog records, per event, which hook was told what, in order.
type hookLog struct {
	mu    sync.Mutex
	calls map[string][]string
}

func (l *hookLog) add(ev *lifecycle.Event, call string) {
	if ev == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls[ev.ID] = append(l.calls[ev.ID], call)
}

func (l *hookLog) of(id string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.calls[id], " ")
}

// recordedHook passes every call on to the registered hook, recording
// those it implements.
type recordedHook struct {
	lifecycle.Hook
	log *hookLog
}

func (h recordedHook) OnState(s lifecycle.State, ev *lifecycle.Event) {
	if sh, ok := h.Hook.(lifecycle.StateHook); ok {
		if s == lifecycle.StateConverging {
			h.log.add(ev, h.Name()+":state")
		}
		sh.OnState(s, ev)
	}
}

func (h recordedHook) Settle(ctx context.Context, ev *lifecycle.Event, r *lifecycle.Result) error {
	sh, ok := h.Hook.(lifecycle.SettleHook)
	if !ok {
		return nil
	}
	h.log.add(ev, h.Name()+":settle")
	return sh.Settle(ctx, ev, r)
}

func (h recordedHook) OnResult(ctx context.Context, ev *lifecycle.Event, r *lifecycle.Result) {
	if rh, ok := h.Hook.(lifecycle.ResultHook); ok {
		h.log.add(ev, h.Name()+":result")
		rh.OnResult(ctx, ev, r)
	}
}

func hookNames(hooks []lifecycle.Hook) string {
	var names []string
	for _, h := range hooks {
		names = append(names, h.Name())
	}
	return strings.Join(names, " ")
}

// TestDaemonHookOrder builds the daemon as runDaemon does (inbox source,
// reply queue on fauxqs, metrics, auto heal, systemd notify), adds the
// Auto Scaling completer as an instance of a group has it, and runs a
// success, a failure (an Auto Scaling termination whose shutdown fails)
// and a skip: every hook runs for each, in the registered order, and the
// reply and lifecycle-hook hooks reach their services.
func TestDaemonHookOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon against fauxqs")
	}
	awsTestEnv(t)
	srv := sqstest.Start(t)
	reply := srv.CreateQueue(t, "hook-replies", nil)
	asg, asgCalls := asgStandIn(t)
	e := newDaemonEnv(t, "--endpoint", srv.Endpoint, "--region", srv.Region, "--reply-to", reply)
	writeTree(t, e.root, map[string]string{
		"cb/rec/recipes/boom.lua": `execute "exit 7"` + "\n",
		"attrs/20-shutdown.json":  `{"stackagent": {"layers": {"web": {"recipes": {"shutdown": ["rec::boom"]}}}}}`,
	})
	d := startHookedDaemon(t, e)
	if got := hookNames(d.Hooks); got != "reply metrics heal notify" {
		t.Fatalf("inbox daemon hooks %q", got)
	}
	awsCfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), BaseEndpoint: aws.String(asg.URL)}
	d.completer = lifecycle.NewLifecycleCompleter(autoscaling.NewFromConfig(awsCfg))
	d.setHooks(d.Hooks[1:]...)
	if got := hookNames(d.Hooks); got != "reply lifecycle-hook metrics heal notify" {
		t.Fatalf("hooks %q", got)
	}
	rec := &hookLog{calls: map[string][]string{}}
	for i, h := range d.Hooks {
		d.Hooks[i] = recordedHook{h, rec}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	inbox := filepath.Join(e.state, "inbox")
	converged := "metrics:state heal:state notify:state "
	settled := "reply:settle lifecycle-hook:settle metrics:result heal:result"
	for _, c := range []struct {
		name, id string
		status   lifecycle.Status
		drop     func()
	}{
		{"ok", "ok-1", lifecycle.StatusSuccess, func() {
			dropEvent(t, inbox, "ok", map[string]any{"id": "ok-1", "type": "configure"})
		}},
		{"fail", "asg-tok-term", lifecycle.StatusFailed, func() { dropASGTermination(t, inbox, "fail", "tok-term") }},
		{"skip", "skip-1", lifecycle.StatusSkipped, func() {
			dropEvent(t, inbox, "skip", map[string]any{"id": "skip-1", "type": "configure", "stack": "staging", "instances": []string{"i-test"}})
		}},
	} {
		c.drop()
		waitFor(t, c.name+"'s result", 30*time.Second, func() bool { return readResult(t, inbox, c.name) != nil })
		if r := readResult(t, inbox, c.name); r.Status != c.status {
			t.Errorf("%s: status %s (%s), want %s", c.name, r.Status, r.Reason, c.status)
		}
		want := converged + settled
		if c.status == lifecycle.StatusSkipped {
			want = settled // a skip converges nothing
		}
		waitFor(t, c.name+"'s result hooks", 10*time.Second, func() bool { return strings.HasSuffix(rec.of(c.id), "heal:result") })
		if got := rec.of(c.id); got != want {
			t.Errorf("%s: hooks ran\n  %s\nwant\n  %s", c.name, got, want)
		}
	}
	got := replies(t, srv, reply, 3, 20*time.Second)
	var ids []string
	for _, r := range got {
		ids = append(ids, r.EventID+"="+string(r.Status))
	}
	if strings.Join(ids, " ") != "ok-1=success asg-tok-term=failed skip-1=skipped" {
		t.Errorf("replies %q", ids)
	}
	if calls := asgCalls(); len(calls) != 1 || calls[0].Get("LifecycleActionResult") != "ABANDON" {
		t.Errorf("Auto Scaling calls %v, want one ABANDON", calls)
	}
}

// startHookedDaemon builds e's daemon as runDaemon does, not yet running.
func startHookedDaemon(t *testing.T, e *daemonEnv) *wiredDaemon {
	t.Helper()
	flags := map[string]string{}
	for i := 3; i+1 < len(e.args); i += 2 {
		flags[strings.ReplaceAll(strings.TrimPrefix(e.args[i], "--"), "-", "_")] = e.args[i+1]
	}
	cfgPath := filepath.Join(e.root, "agent.yaml")
	cfg, _, err := loadConfig(cfgPath, true, func(string) string { return "" }, flags)
	if err != nil {
		t.Fatal(err)
	}
	tel, err := newDaemonTelemetry(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tel.shutdown)
	r := &daemonRun{cfgPath: cfgPath, explicit: true, flags: flags, stdout: &lockedBuilder{}, stderr: &lockedBuilder{},
		tel: tel, notify: sdnotify.New(func(string) string { return "" })}
	d, cleanup, err := r.start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	if err := os.MkdirAll(filepath.Join(e.state, "inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// dropASGTermination drops an Auto Scaling termination notification.
func dropASGTermination(t *testing.T, inbox, name, token string) {
	t.Helper()
	body := fmt.Sprintf(`{"Origin":"AutoScalingGroup","LifecycleHookName":"wp-hook","Destination":"EC2",
"AccountId":"123456789012","RequestId":"4a4b5e2c","LifecycleTransition":"autoscaling:EC2_INSTANCE_TERMINATING","AutoScalingGroupName":"wp-asg",
"Service":"AWS Auto Scaling","Time":"2026-11-25T10:00:00.000Z","EC2InstanceId":"i-test","LifecycleActionToken":"%s"}`, token)
	writeTree(t, inbox, map[string]string{"." + name: body})
	if err := os.Rename(filepath.Join(inbox, "."+name), filepath.Join(inbox, name+".json")); err != nil {
		t.Fatal(err)
	}
}
