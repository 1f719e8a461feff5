package e2e

// The chaos and disk-full suites' harness: a daemon that can be killed
// (SIGKILL) and started again on the same config, a small cookbook of
// its own (setup writes config files, deploy deploys or rolls back a tar
// archive; each run appends "start"/"end" lines with the event id and the
// daemon's pid to a marker file), versions of a source tree of a few
// hundred files, and the checks of what a run must leave.

import (
	"github.com/stackagent/stackagent/lifecycle"

	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chaosDaemon is `stackagent daemon` on one config, started again after
// each kill; every start appends to the same log.
type chaosDaemon struct {
	bin, config, stateDir, inbox, logPath string
	cmd                                   *exec.Cmd
	done                                  chan struct{}
	pids                                  map[int]bool // every daemon started
}

func newChaosDaemon(t *testing.T, bin, config, stateDir, inbox string) *chaosDaemon {
	d := &chaosDaemon{bin: bin, config: config, stateDir: stateDir, inbox: inbox,
		logPath: filepath.Join(filepath.Dir(config), "daemon.log"), pids: map[int]bool{}}
	t.Cleanup(func() { d.stop(t) })
	return d
}

// start starts the daemon (it must not be running).
func (d *chaosDaemon) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(d.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(logf, "--- start %s\n", time.Now().Format(time.RFC3339Nano))
	d.cmd = exec.Command(d.bin, "daemon", "--config", d.config)
	d.cmd.Env = append(os.Environ(), "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start daemon: %v", err)
	}
	d.done = make(chan struct{})
	d.pids[d.cmd.Process.Pid] = true
	cmd, done := d.cmd, d.done
	go func() { cmd.Wait(); logf.Close(); close(done) }()
}

// ready waits for the daemon to make its inbox (the first start).
func (d *chaosDaemon) ready(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(d.inbox, "processed")); err == nil {
			return
		}
		if !d.running() || time.Now().After(deadline) {
			t.Fatalf("daemon did not make its inbox\n%s", d.log())
		}
	}
}

func (d *chaosDaemon) running() bool {
	if d.cmd == nil {
		return false
	}
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to be gone; it returns
// the pid, or 0 when the daemon was not running.
func (d *chaosDaemon) kill(t *testing.T) int {
	t.Helper()
	if !d.running() {
		return 0
	}
	pid := d.cmd.Process.Pid
	_ = d.cmd.Process.Kill()
	<-d.done
	fmt.Fprintf(appendOnly(t, d.logPath), "--- SIGKILL %d %s\n", pid, time.Now().Format(time.RFC3339Nano))
	return pid
}

func appendOnly(t *testing.T, path string) *os.File {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// stop stops a running daemon gracefully (SIGTERM, SIGKILL after 60s).
func (d *chaosDaemon) stop(t *testing.T) {
	if !d.running() {
		return
	}
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.done:
	case <-time.After(60 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Errorf("daemon did not stop 60s after SIGINT")
	}
}

func (d *chaosDaemon) fullLog() string {
	b, _ := os.ReadFile(d.logPath)
	return string(b)
}

func (d *chaosDaemon) log() string {
	b, _ := os.ReadFile(d.logPath)
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return string(b)
}

// drop writes an event into the inbox as name.json (a dot-file renamed in).
func (d *chaosDaemon) drop(t *testing.T, name string, ev map[string]any) {
	t.Helper()
	ev["version"] = 1
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(d.inbox, "."+name+".json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(d.inbox, name+".json")); err != nil {
		t.Fatal(err)
	}
}

// resultOf reads processed/name.result.json once the event has settled:
// the result is there and whole, the event file moved to processed/, no
// in-progress record. ok is false when it is not (yet).
func (d *chaosDaemon) resultOf(name string) (result, bool) {
	var r result
	b, err := os.ReadFile(filepath.Join(d.inbox, "processed", name+".result.json"))
	if err != nil || json.Unmarshal(b, &r) != nil {
		return r, false
	}
	if _, err := os.Stat(filepath.Join(d.inbox, "processed", name+".json")); err != nil {
		return r, false
	}
	if _, err := os.Stat(filepath.Join(d.stateDir, "in-progress.json")); err == nil {
		return r, false
	}
	return r, true
}

// wait waits up to a minute for the event's settled result.
func (d *chaosDaemon) wait(t *testing.T, name string) result {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		if r, ok := d.resultOf(name); ok {
			return r
		}
		if !d.running() {
			t.Fatalf("daemon exited while %s ran\n%s", name, d.log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no result for %s after 1m\n%s", name, d.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// chaosCookbook is the suites' cookbook. setup writes node.chaos.files
// config files whose content is whole only when written in one piece;
// deploy force-deploys node.chaos.repository or rolls back (the event's
// command); configure (fill) makes node.chaos.fill.ready and waits for
// node.chaos.fill.go (the test fills a disk meanwhile), 30 s at most.
// Each brackets its work with marker lines.
var chaosCookbook = map[string]string{
	"metadata.json": `{"name": "chaos", "version": "0.1.0", "description": "chaos and disk-full tests", "depends": []}`,
	"libraries/marker.lua": `local M = {}
function M.line(what)
  execute ("chaos marker " .. what) {
    command = 'echo "$CHAOS_WHAT $CHAOS_EVENT $PPID" >> "$CHAOS_MARKER"',
    environment = { CHAOS_WHAT = what, CHAOS_EVENT = node.stackagent.event.id, CHAOS_MARKER = node.chaos.marker },
  }
end
return M
`,
	"recipes/setup.lua": `local marker = require "chaos.marker"
marker.line("start")
directory (node.chaos.config_dir)
local gen = tostring(node.chaos.gen)
for i = 1, node.chaos.files do
  local head = "gen " .. gen .. " file " .. i .. "\n"
  file (node.chaos.config_dir .. "/conf-" .. i .. ".conf") {
    content = head .. string.rep("x", 4000 + i) .. "\nend " .. head,
  }
end
marker.line("end")
`,
	"recipes/deploy.lua": `local marker = require "chaos.marker"
marker.line("start")
local action = "force_deploy"
if node.stackagent.event.command == "rollback" then action = "rollback" end
deploy "chaos" {
  deploy_to = node.chaos.deploy_to,
  source_type = "archive",
  repository = node.chaos.repository,
  keep_releases = 4,
  action = action,
}
marker.line("end")
`,
	"recipes/fill.lua": `local marker = require "chaos.marker"
marker.line("start")
if node.chaos.fill ~= "" then
  execute "chaos fill" {
    command = 'touch "$CHAOS_FILL.ready"; i=0; while [ ! -e "$CHAOS_FILL.go" ] && [ $i -lt 1500 ]; do sleep 0.02; i=$((i+1)); done',
    environment = { CHAOS_FILL = node.chaos.fill },
  }
end
marker.line("end")
`,
}

// chaosHost is the layout of one suite: the agent's config dir, the
// config files setup writes, deploy_to and the marker file.
type chaosHost struct {
	dir, configDir, deployTo, marker string
	files                            int
}

// writeChaosHost writes agent.yaml (layer chaos; extra lines appended),
// the chaos cookbook and attributes.d/chaos.json.
func writeChaosHost(t *testing.T, h chaosHost, extra string) string {
	t.Helper()
	config := agentConfig(t, h.dir, "chaos", "chaos", "i-0chaos")
	if extra != "" {
		f := appendOnly(t, config)
		if _, err := f.WriteString(extra); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range chaosCookbook {
		writeFile(t, filepath.Join(h.dir, "cookbooks", "chaos", name), content)
	}
	list := func(r ...string) []string { return append([]string{}, r...) }
	attrs := map[string]any{
		"stackagent": map[string]any{"layers": map[string]any{"chaos": map[string]any{
			"name": "Chaos", "recipes": map[string]any{
				"setup": list("chaos::setup"), "deploy": list("chaos::deploy"), "configure": list("chaos::fill"),
				"undeploy": list(), "shutdown": list(),
			}}}},
		"chaos": map[string]any{"marker": h.marker, "config_dir": h.configDir, "deploy_to": h.deployTo,
			"files": h.files, "gen": 0, "repository": "", "fill": ""},
	}
	b, _ := json.MarshalIndent(attrs, "", "  ")
	writeFile(t, filepath.Join(h.dir, "attributes.d", "chaos.json"), string(b))
	return config
}

// markerLine is one line of the marker file.
type markerLine struct {
	what, event string
	pid         int
}

func readMarker(t *testing.T, path string) []markerLine {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []markerLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l markerLine
		if _, err := fmt.Sscanf(sc.Text(), "%s %s %d", &l.what, &l.event, &l.pid); err != nil {
			t.Fatalf("marker %s: torn line %q: %v", path, sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// checkOnce checks the marker lines of one event: every run but the
// last was cut by a kill (killed: the daemons killed before the event
// settled, and the pids of marker commands orphaned by a kill: their
// $PPID is 1 when the daemon died before the shell started), each daemon
// ran it at most once, and the last run ran to its end. A run killed after its end line, before its journal entry, is run
// again (at least once, as designed): reruns counts those.
func checkOnce(t *testing.T, lines []markerLine, event string, killed map[int]bool) (runs, reruns int) {
	t.Helper()
	var order []int // pids in the order their runs started
	ended := map[int]int{}
	var last markerLine
	for _, l := range lines {
		if l.event != event {
			continue
		}
		last = l
		switch l.what {
		case "start":
			order = append(order, l.pid)
		case "end":
			ended[l.pid]++
		}
	}
	seen := map[int]bool{}
	for i, pid := range order {
		switch {
		case seen[pid] || ended[pid] > 1:
			t.Errorf("event %s ran more than once in daemon %d (markers %v)", event, pid, order)
		case i < len(order)-1 && !killed[pid]:
			t.Errorf("event %s ran again after its run in daemon %d, which was not killed (runs in %v)", event, pid, order)
		case i < len(order)-1 && ended[pid] == 1:
			reruns++
		}
		seen[pid] = true
	}
	if len(order) == 0 || last.what != "end" || last.pid != order[len(order)-1] {
		t.Errorf("event %s: its last run did not end (runs in %v, last marker %v)", event, order, last)
	}
	return len(order), reruns
}

// checkStateFiles checks that every JSON state file the agent keeps
// parses: the journal (one entry a line, event ids once), the run
// results, the inbox results; there is no in-progress record.
func checkStateFiles(t *testing.T, stateDir, inbox string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	b, err := os.ReadFile(filepath.Join(stateDir, "journal.jsonl"))
	if err != nil {
		t.Fatalf("journal: %v", err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var e lifecycle.JournalEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil || (e.ID == "" && e.Digest == "") {
			t.Errorf("journal line %d does not parse: %q: %v", i+1, line, err)
			continue
		}
		key := e.Digest
		if key == "" {
			key = lifecycle.IDDigest(e.ID)
		}
		ids[key]++
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("journal: event %s recorded %d times", id, n)
		}
	}
	for _, pat := range []string{filepath.Join(stateDir, "runs", "*.json"), filepath.Join(inbox, "processed", "*.result.json")} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil || !json.Valid(b) {
				t.Errorf("state file %s is not whole JSON (%d bytes): %v", f, len(b), err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(stateDir, "in-progress.json")); err == nil {
		t.Errorf("in-progress record left after the event settled")
	}
	return ids
}
