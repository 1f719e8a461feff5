package e2e

// The chaos suite: the real daemon killed with SIGKILL at random points
// of setup, deploy and rollback events, then started again. Every time:
// current points at a complete release (every file of its source, with
// the right content), every release the agent counts as complete is
// whole, no config or state file is half-written, and the event settles
// exactly once: one result, once in the journal, and its run ran to its
// end once after the last kill (a run killed between its end and its
// journal entry runs again: at least once, the marker file counts it).
//
// The kill points are a random delay from the moment the event is
// dropped in the inbox, up to a little more than the event takes
// unkilled. STACKAGENT_CHAOS_SEED replays a run (the seed is printed);
// STACKAGENT_CHAOS_KILLS sets how many kills must land while an event
// runs (default 50; events go on until they have).

import (
	"github.com/stackagent/stackagent/lifecycle"

	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/recipes/resources"
)

// chaosSource is one version of the deployed tree: its archive and the
// content of each file by release-relative path.
type chaosSource struct {
	archive string
	files   map[string]string
}

// chaosSources makes n versions of a tree of files files each, as .tar.gz.
func chaosSources(t *testing.T, n, files int) []chaosSource {
	t.Helper()
	out := make([]chaosSource, n)
	for v := range out {
		dir := filepath.Join(t.TempDir(), "app")
		m := map[string]string{"VERSION": strconv.Itoa(v) + "\n"}
		for i := 0; i < files; i++ {
			rel := fmt.Sprintf("d%02d/f%03d.txt", i%17, i)
			m[rel] = strings.Repeat(fmt.Sprintf("v%d %s\n", v, rel), 5+i%60)
		}
		for rel, content := range m {
			writeFile(t, filepath.Join(dir, rel), content)
		}
		out[v] = chaosSource{archive: tarball(t, dir), files: m}
	}
	return out
}

// checkRelease checks that dir holds exactly one version's files and
// returns which.
func checkRelease(t *testing.T, dir string, sources []chaosSource) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "VERSION"))
	v, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil || v < 0 || v >= len(sources) {
		t.Errorf("release %s: no readable VERSION (%v %v)", dir, err, perr)
		return -1
	}
	for rel, want := range sources[v].files {
		got, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil || string(got) != want {
			t.Errorf("release %s (version %d): %s missing or wrong (%d bytes, want %d): %v", dir, v, rel, len(got), len(want), err)
			return v
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if err == nil && !d.IsDir() && rel != resources.ReleaseInfoFile && sources[v].files[rel] == "" {
			t.Errorf("release %s (version %d): stray file %s", dir, v, rel)
		}
		return nil
	})
	return v
}

// checkDeployTo checks every release the agent counts as complete and
// returns current's name and version ("" when nothing is deployed).
func checkDeployTo(t *testing.T, deployTo string, sources []chaosSource) (string, int) {
	t.Helper()
	set, err := resources.OpenReleaseSet(deployTo)
	if err != nil {
		return "", -1
	}
	cur, v := "", -1
	for _, r := range set.List() {
		rv := checkRelease(t, set.Path(r.Name), sources)
		if r.Current {
			cur, v = r.Name, rv
		}
	}
	if target, err := os.Readlink(set.CurrentLink()); err == nil && cur == "" {
		t.Errorf("current -> %s: not a complete release", target)
	}
	return cur, v
}

// checkConfigFiles checks that each config file setup writes is whole and
// of generation gen.
func checkConfigFiles(t *testing.T, dir string, files, gen int) {
	t.Helper()
	for i := 1; i <= files; i++ {
		head := fmt.Sprintf("gen %d file %d\n", gen, i)
		want := head + strings.Repeat("x", 4000+i) + "\nend " + head
		if b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("conf-%d.conf", i))); err != nil || string(b) != want {
			t.Errorf("conf-%d.conf: not whole or not generation %d (%d bytes): %.40q %v", i, gen, len(b), b, err)
		}
	}
}

func TestChaosKill(t *testing.T) {
	requireE2E(t, "tar")
	t.Parallel()
	seed := time.Now().UnixNano()
	if s := os.Getenv("STACKAGENT_CHAOS_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	kills := 50
	if s := os.Getenv("STACKAGENT_CHAOS_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	t.Logf("chaos seed %d (replay: STACKAGENT_CHAOS_SEED=%d go test ./e2e -run TestChaosKill)", seed, seed)
	rng := rand.New(rand.NewSource(seed))

	dir := t.TempDir()
	h := chaosHost{dir: dir, configDir: filepath.Join(dir, "etc"), deployTo: filepath.Join(dir, "srv", "chaos"),
		marker: filepath.Join(dir, "marker.log"), files: 40}
	config := writeChaosHost(t, h, "")
	sources := chaosSources(t, 3, 300)
	d := newChaosDaemon(t, buildAgent(t), config, filepath.Join(dir, "state"), filepath.Join(dir, "state", "inbox"))
	c := &chaosRun{t: t, d: d, h: h, sources: sources, rng: rng, window: map[string]time.Duration{}}

	// Unkilled, each kind of event once (twice for deploy): the state to
	// start from, and how long each takes (the kill window).
	d.start(t)
	d.ready(t)
	for _, kind := range []string{"setup", "deploy", "deploy", "rollback", "deploy"} {
		start := time.Now()
		c.event(kind, false)
		if w := time.Since(start) * 11 / 10; w > c.window[kind] {
			c.window[kind] = w
		}
	}
	t.Logf("kill windows: %v", c.window)
	// Until kills have landed while an event ran (not after it settled).
	for c.midEvent < kills && c.seq < 3*kills && !t.Failed() {
		kind := []string{"setup", "deploy", "rollback"}[rng.Intn(3)]
		c.event(kind, true)
	}
	t.Logf("%d events, %d kills (%d while the event ran, %d during a recovery), %d runs, %d runs again after a kill past their end",
		c.seq, c.kills, c.midEvent, c.recoveryKills, c.runs, c.reruns)
	// Temp files a kill left beside the config files (the file resource
	// stages content there): litter, never read; counted for the record.
	ents, _ := os.ReadDir(h.configDir)
	var stray []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "conf-") || !strings.HasSuffix(e.Name(), ".conf") {
			stray = append(stray, e.Name())
		}
	}
	t.Logf("temp files left beside the config files by kills: %d %v", len(stray), stray)
	if c.midEvent < kills && !t.Failed() {
		t.Errorf("only %d kills landed while an event ran, want %d", c.midEvent, kills)
	}
}

// chaosRun is the state of one chaos suite run: what the host must look
// like after each event.
type chaosRun struct {
	t       *testing.T
	d       *chaosDaemon
	h       chaosHost
	sources []chaosSource
	rng     *rand.Rand
	window  map[string]time.Duration

	seq, gen                                     int
	kills, midEvent, recoveryKills, runs, reruns int
}

// event drops one event of kind (setup, deploy, rollback), kills the
// daemon at a random point when kill is set (and, one time in four, once
// more during the run again), then checks what it left.
func (c *chaosRun) event(kind string, kill bool) {
	t, d := c.t, c.d
	c.seq++
	name := fmt.Sprintf("%03d-%s", c.seq, kind)
	ev := map[string]any{"id": "chaos-" + name}
	prevName, _ := checkDeployTo(t, c.h.deployTo, c.sources)
	wantRelease, wantVersion := "", -1
	switch kind {
	case "setup":
		c.gen++
		ev["type"], ev["attributes"] = "setup", map[string]any{"chaos": map[string]any{"gen": c.gen}}
	case "rollback":
		set, _ := resources.OpenReleaseSet(c.h.deployTo)
		if prev, ok := set.Previous(); ok {
			ev["type"], ev["app"], ev["command"] = "deploy", "chaos", "rollback"
			wantRelease = prev.Name
			break
		}
		kind = "deploy"
		fallthrough
	case "deploy":
		wantVersion = c.rng.Intn(len(c.sources))
		ev["type"], ev["app"], ev["command"] = "deploy", "chaos", "deploy"
		ev["attributes"] = map[string]any{"chaos": map[string]any{"repository": c.sources[wantVersion].archive}}
	}
	killed := map[int]bool{}
	step := fmt.Sprintf("event %s", name)
	d.drop(t, name, ev)
	if kill {
		for n := 0; n == 0 || (n == 1 && c.rng.Intn(4) == 0); n++ {
			delay := time.Duration(c.rng.Int63n(int64(c.window[kind]) + 1))
			time.Sleep(delay)
			_, settled := d.resultOf(name)
			pid := d.kill(t)
			c.kills++
			if !settled && pid != 0 {
				killed[pid] = true
				c.midEvent++
				if n == 1 {
					c.recoveryKills++
				}
			}
			step += fmt.Sprintf(", SIGKILL %d after %s (settled: %v)", pid, delay.Round(time.Millisecond), settled)
			d.start(t)
		}
	}
	r := d.wait(t, name)
	t.Logf("%s: %s", step, r.Status)
	if r.Status != "success" {
		t.Fatalf("%s: status %s (%s)\n%s\n%s", step, r.Status, r.Reason, r.Output, d.log())
	}
	lines := readMarker(t, c.h.marker)
	for _, l := range lines {
		if !d.pids[l.pid] && len(killed) > 0 {
			killed[l.pid] = true // a marker command orphaned by a kill
		}
	}
	runs, reruns := checkOnce(t, lines, "chaos-"+name, killed)
	c.runs += runs
	c.reruns += reruns
	if ids := checkStateFiles(t, d.stateDir, d.inbox); ids[lifecycle.IDDigest("chaos-"+name)] != 1 {
		t.Errorf("%s: in the journal %d times", step, ids[lifecycle.IDDigest("chaos-"+name)])
	}
	if c.gen > 0 {
		checkConfigFiles(t, c.h.configDir, c.h.files, c.gen)
	}
	cur, v := checkDeployTo(t, c.h.deployTo, c.sources)
	switch {
	case wantVersion >= 0 && (v != wantVersion || cur <= prevName):
		t.Errorf("%s: current is %s (version %d), want a new release of version %d (before: %s)", step, cur, v, wantVersion, prevName)
	case wantRelease != "" && cur != wantRelease:
		t.Errorf("%s: current is %s, want %s (rolled back from %s)", step, cur, wantRelease, prevName)
	}
	if t.Failed() {
		t.Errorf("%s failed; the daemon's log ends:\n%s", step, d.log())
	}
}
