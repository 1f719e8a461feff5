package recipes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// probe is a test kind: it holds state in a map (name -> value) and
// updates when the declared value differs. It records every applied action
// in order, so tests can check what converged and when.
type probe struct {
	state   map[string]string
	applied []string
	failN   map[string]int // name -> failures left before success
}

func newProbe() *probe { return &probe{state: map[string]string{}, failN: map[string]int{}} }

func (p *probe) kind() *Kind {
	return &Kind{
		Name: "probe", Actions: []string{"set", "touch", "fail"}, DefaultAction: "set",
		Props: []Prop{
			{Name: "value", Type: String, Default: "on"},
			{Name: "secret", Type: String, Sensitive: true},
			{Name: "count", Type: Int},
			{Name: "mode", Type: Mode},
			{Name: "tags", Type: StringList},
			{Name: "vars", Type: Map},
			{Name: "color", Type: String, OneOf: []string{"red", "blue"}},
		},
		Provider: ProviderFunc(func(ctx context.Context, rc *RunContext, r *Resource, action string) ([]Step, error) {
			name := r.Name
			switch action {
			case "fail":
				if p.failN[name] > 0 {
					p.failN[name]--
					return nil, fmt.Errorf("probe %s failed on purpose (secret %s)", name, r.Str("secret"))
				}
				return nil, nil
			case "touch":
				return []Step{{Desc: "touch " + name, Apply: func(context.Context) error {
					p.applied = append(p.applied, "touch "+name)
					return nil
				}}}, nil
			}
			want := r.Str("value")
			if p.state[name] == want {
				return nil, nil
			}
			return []Step{{Desc: fmt.Sprintf("set %s from %q to %q", name, p.state[name], want),
				Diff: "-" + p.state[name] + "\n+" + want, Apply: func(context.Context) error {
					p.state[name] = want
					p.applied = append(p.applied, "set "+name+"="+want)
					return nil
				}}}, nil
		}),
	}
}

type runResult struct {
	rep *Report
	err error
	out string
}

func books(t *testing.T, files map[string]string) *CookbookSet {
	t.Helper()
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	set, errs := LoadCookbooks(CookbookSource{FS: m, Origin: "/cb"})
	if len(errs) > 0 {
		t.Fatalf("load cookbooks: %v", errs)
	}
	return set
}

func runWith(t *testing.T, p *probe, set *CookbookSet, node *Node, whyRun bool, runList ...string) runResult {
	t.Helper()
	reg := NewRegistry()
	reg.Register(p.kind())
	items, err := ParseRunList(runList...)
	if err != nil {
		t.Fatal(err)
	}
	if node == nil {
		node = NewNode("test")
	}
	var out bytes.Buffer
	rep, err := Run(context.Background(), Options{Registry: reg, Cookbooks: set, Node: node, RunList: items,
		WhyRun: whyRun, Events: NewDocFormatter(&out), Runner: ExecRunner{}})
	return runResult{rep, err, out.String()}
}

func TestConvergeAndIdempotence(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"app/recipes/default.lua": `
probe "a" { value = "1" }
probe "b"
`})
	p := newProbe()
	r := runWith(t, p, set, nil, false, "app")
	if r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.out)
	}
	if r.rep.UpdatedResources != 2 || r.rep.TotalResources != 2 {
		t.Fatalf("updated %d/%d, want 2/2\n%s", r.rep.UpdatedResources, r.rep.TotalResources, r.out)
	}
	for _, want := range []string{"Recipe: app::default", "  * probe[a] action set\n    - set a from \"\" to \"1\"", "stackagent finished, 2/2 resources updated in"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	r = runWith(t, p, set, nil, false, "recipe[app::default]")
	if r.err != nil || r.rep.UpdatedResources != 0 {
		t.Fatalf("second run: %v, %d updated\n%s", r.err, r.rep.UpdatedResources, r.out)
	}
	if !strings.Contains(r.out, "* probe[a] action set (up to date)") {
		t.Errorf("second run output:\n%s", r.out)
	}
}

func TestWhyRunChangesNothing(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
probe "a" { value = "1", notifies = {"touch", "probe[b]", "immediately"} }
probe "b" { action = "nothing" }
`})
	p := newProbe()
	r := runWith(t, p, set, nil, true, "app")
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(p.applied) != 0 || len(p.state) != 0 {
		t.Fatalf("why-run applied %v", p.applied)
	}
	for _, want := range []string{"- Would set a from", "- Would touch b", "2/2 resources would have been updated"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
probe "svc" { action = "nothing" }
probe "early" { action = "nothing" }
probe "one" { value = "x", notifies = { {"touch", "probe[svc]"}, {"touch", "probe[early]", "immediately"} } }
probe "two" { value = "y", notifies = {"touch", "probe[svc]", "delayed"} }
probe "three" { value = "z" }
probe "watcher" { action = "nothing", subscribes = {"touch", "probe[three]", "before"} }
probe "uptodate" { value = "", notifies = {"touch", "probe[never]"} }
probe "never" { action = "nothing" }
`})
	p := newProbe()
	r := runWith(t, p, set, nil, false, "app")
	if r.err != nil {
		t.Fatal(r.err, r.out)
	}
	got := strings.Join(p.applied, ",")
	want := "set one=x,touch early,set two=y,touch watcher,set three=z,touch svc"
	if got != want {
		t.Fatalf("order:\n got %s\nwant %s\n%s", got, want, r.out)
	}
}

func TestDelayedRunAfterFailure(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
probe "svc" { action = "nothing" }
probe "one" { value = "x", notifies = {"touch", "probe[svc]"} }
probe "boom" { action = "fail", secret = "hunter22" }
probe "after" { value = "never" }
`})
	p := newProbe()
	p.failN["boom"] = 100
	r := runWith(t, p, set, nil, false, "app")
	var re *ResourceError
	if !errors.As(r.err, &re) || re.Resource.Name != "boom" {
		t.Fatalf("want boom's ResourceError, got %v", r.err)
	}
	if got := strings.Join(p.applied, ","); got != "set one=x,touch svc" {
		t.Fatalf("applied %s", got)
	}
	if r.rep.ExitCode != ExitFailure || r.rep.Status != "failure" {
		t.Fatalf("exit %d status %s", r.rep.ExitCode, r.rep.Status)
	}
	if strings.Contains(r.out, "hunter22") || strings.Contains(r.rep.Error, "hunter22") {
		t.Fatalf("sensitive property leaked:\n%s", r.out)
	}
	if !strings.Contains(r.out, "Error executing action `fail` on resource 'probe[boom]'") || !strings.Contains(r.out, "/cb/app/recipes/default.lua:4") {
		t.Fatalf("failure output:\n%s", r.out)
	}
}

func TestRetriesAndIgnoreFailure(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
probe "flaky" { action = "fail", retries = 2, retry_delay = 0.01 }
probe "broken" { action = "fail", ignore_failure = true }
probe "after" { value = "ran" }
`})
	p := newProbe()
	p.failN["flaky"] = 2
	p.failN["broken"] = 100
	r := runWith(t, p, set, nil, false, "app")
	if r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.out)
	}
	if p.state["after"] != "ran" {
		t.Fatal("run stopped at an ignored failure")
	}
	if r.rep.Resources[0].Attempts != 3 || r.rep.Resources[1].Status != StatusFailed || !r.rep.Resources[1].IgnoredFailure {
		t.Fatalf("report: %+v", r.rep.Resources[:2])
	}
}

func TestGuardsAndLazy(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
local computed = "before"
probe "shell_true" { only_if = "true" }
probe "shell_false" { only_if = "exit 3" }
probe "fn_not" { not_if = function() return true end }
probe "both" { only_if = {"true", function() return 1 end}, not_if = "false" }
lua_block "set" { block = function() computed = "after" end }
probe "lazy" { value = lazy(function() return computed end) }
`})
	p := newProbe()
	reg := NewRegistry()
	reg.Register(p.kind())
	reg.Register(&Kind{Name: "lua_block", Actions: []string{"run"}, DefaultAction: "run",
		Props: []Prop{{Name: "block", Type: Func}},
		Provider: ProviderFunc(func(ctx context.Context, rc *RunContext, r *Resource, _ string) ([]Step, error) {
			return []Step{{Desc: "run", Apply: func(ctx context.Context) error { _, err := rc.CallLua(ctx, r.Func("block")); return err }}}, nil
		})})
	var out bytes.Buffer
	items, _ := ParseRunList("app")
	rep, err := Run(context.Background(), Options{Registry: reg, Cookbooks: set, Node: NewNode("n"), RunList: items, Events: NewDocFormatter(&out)})
	if err != nil {
		t.Fatal(err, out.String())
	}
	got := map[string]string{}
	for _, rr := range rep.Resources {
		got[rr.Name] = rr.Status + "/" + rr.SkippedBy
	}
	want := map[string]string{"shell_true": "updated/", "shell_false": "skipped/only_if", "fn_not": "skipped/not_if", "both": "updated/", "set": "updated/", "lazy": "updated/"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %s want %s", k, got[k], v)
		}
	}
	if p.state["lazy"] != "after" {
		t.Errorf("lazy value %q, want computed at converge time", p.state["lazy"])
	}
	if !strings.Contains(out.String(), "* probe[shell_false] action set (skipped due to only_if)") {
		t.Errorf("output:\n%s", out.String())
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestInterruptStopsBeforeNextResource: closing Options.Interrupt lets the
// running resource finish and runs nothing after it (the daemon's SIGTERM);
// delayed notifications queued so far still run.
func TestInterruptStopsBeforeNextResource(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{"app/recipes/default.lua": `
probe "svc" { action = "nothing" }
probe "first" { value = "1", notifies = {"touch", "probe[svc]"} }
probe "second" { value = "2" }
`})
	p := newProbe()
	stop := make(chan struct{})
	reg := NewRegistry()
	k := p.kind()
	inner := k.Provider
	k.Provider = ProviderFunc(func(ctx context.Context, rc *RunContext, r *Resource, a string) ([]Step, error) {
		if r.Name == "first" {
			select {
			case <-stop:
			default:
				close(stop) // the signal arrives while "first" converges
			}
		}
		return inner.Plan(ctx, rc, r, a)
	})
	reg.Register(k)
	items, _ := ParseRunList("app")
	rep, err := Run(context.Background(), Options{Registry: reg, Cookbooks: set, Node: NewNode("n"), RunList: items, Interrupt: stop})
	if !errors.Is(err, ErrInterrupted) || rep.ExitCode != ExitSIGTERM || rep.Status != "interrupted" {
		t.Fatalf("err %v exit %d status %s", err, rep.ExitCode, rep.Status)
	}
	if got := strings.Join(p.applied, ","); got != "set first=1,touch svc" {
		t.Fatalf("applied %s", got)
	}
}
