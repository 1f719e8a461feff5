package recipes

import (
	"strings"
	"testing"
)

// siteResource is a custom resource built on probe: it sets probe[NAME]
// to its value and touches probe[NAME-extra] when extra is set.
const siteResource = `
property "site" { type = "string", name_property = true }
property "value" { type = "string", default = "on" }
property "port" { type = "number", default = 80, callbacks = { ["must be a port"] = function(p) return p > 0 and p < 65536 end } }
property "password" { type = "string", sensitive = true }
default_action "create"
action "create" (function(new_resource)
  probe(new_resource.site) { value = new_resource.value, notifies = {"touch", "probe[inner-handler]"} }
  probe "inner-handler" { action = "nothing" }
end)
action "remove" (function(new_resource)
  probe(new_resource.site) { value = "" }
end)
`

func TestCustomResourceUpdatePropagates(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"web/resources/site.lua": siteResource,
		"app/metadata.json":      `{"name": "app", "depends": ["web"]}`,
		"app/recipes/default.lua": `
probe "restart" { action = "nothing" }
site "blog" { value = "v1", notifies = {"touch", "probe[restart]", "immediately"} }
web_site "shop" { value = "v2" }
probe "watch" { action = "nothing", subscribes = {"touch", "site[shop]"} }
`})
	p := newProbe()
	r := runWith(t, p, set, nil, false, "app")
	if r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.out)
	}
	got := strings.Join(p.applied, ",")
	want := "set blog=v1,touch inner-handler,touch restart,set shop=v2,touch inner-handler,touch watch"
	if got != want {
		t.Fatalf("applied\n got %s\nwant %s\n%s", got, want, r.out)
	}
	for _, w := range []string{"  * web_site[blog] action create\n    * probe[blog] action set\n      - set blog from", "* probe[restart] action touch"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("output lacks %q:\n%s", w, r.out)
		}
	}
	p.applied = nil
	r = runWith(t, p, set, nil, false, "app")
	if r.err != nil || len(p.applied) != 0 {
		t.Fatalf("second run: %v applied %v\n%s", r.err, p.applied, r.out)
	}
	for _, rr := range r.rep.Resources {
		if rr.Status == StatusUpdated {
			t.Errorf("second run: %s updated", rr.ID)
		}
	}
}

func TestCustomResourceWhyRunShowsInnerPlan(t *testing.T) {
	t.Parallel()
	set := books(t, map[string]string{
		"web/resources/site.lua": siteResource,
		"web/recipes/default.lua": `site "blog" { value = "v1", password = "hunter2" }
site "leak" { value = "pw-hunter2", password = "hunter2" }`,
	})
	p := newProbe()
	r := runWith(t, p, set, nil, true, "web")
	if r.err != nil {
		t.Fatalf("run: %v\n%s", r.err, r.out)
	}
	if len(p.applied) != 0 || len(p.state) != 0 {
		t.Fatalf("why-run applied %v", p.applied)
	}
	if !strings.Contains(r.out, "  * web_site[blog] action create\n    * probe[blog] action set\n      - Would set blog") {
		t.Errorf("why-run output lacks the inner plan:\n%s", r.out)
	}
	if strings.Contains(r.out, "hunter2") || !strings.Contains(r.out, "pw-*sensitive value suppressed*") {
		t.Errorf("sensitive property shown:\n%s", r.out)
	}
	if r.rep.Resources[0].Depth != 1 || r.rep.Resources[0].ID != "probe[blog]" {
		t.Errorf("report: first entry %+v, want the inner probe at depth 1", r.rep.Resources[0])
	}
}

const confResource = `
property "path" { type = "string", name_property = true }
property "content" { type = "string" }
property "owner" { type = "string", default = "root" }
property "token" { type = "string", sensitive = true }
load_current_value(function(current, desired)
  local v = probe_state[desired.path]
  if v == nil then return current_value_does_not_exist() end
  if v == false then return false end
  current.content = v
  current.token = "s3cret"
end)
action "create" (function(new_resource, current_resource)
  converge_if_changed("content", "token", function()
    probe("wrote " .. new_resource.path) { action = "touch" }
  end)
end)
`

func TestCustomResourceConvergeIfChanged(t *testing.T) {
	t.Parallel()
	const recipe = `
probe "notified" { action = "nothing" }
conf "/a" { content = "x", token = "s3cret", notifies = {"touch", "probe[notified]"} }
conf "/b" { content = "new", token = "s3cret" }
`
	for _, tc := range []struct {
		name    string
		whyRun  bool
		state   string
		applied string
		want    []string
	}{
		{"one differs", false, `{ ["/a"] = "x", ["/b"] = "old" }`, "touch wrote /b",
			[]string{"* web_conf[/a] action create (up to date)", "    - update web_conf[/b]\n    - set content to \"new\" (was \"old\")\n"}},
		{"none differs", false, `{ ["/a"] = "x", ["/b"] = "new" }`, "", []string{"0/3 resources updated"}},
		{"absent", false, `{ ["/a"] = false }`, "touch wrote /a,touch wrote /b,touch notified",
			[]string{"- create web_conf[/a]", "- set content to \"x\"", "- set token to *sensitive value suppressed*"}},
		{"why-run", true, `{}`, "", []string{"- Would create web_conf[/a]", "- Would set content to \"x\"", "- Would touch notified"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := books(t, map[string]string{
				"web/resources/conf.lua":  confResource,
				"web/recipes/default.lua": "probe_state = " + tc.state + "\n" + recipe,
			})
			p := newProbe()
			r := runWith(t, p, set, nil, tc.whyRun, "web")
			if r.err != nil {
				t.Fatalf("run: %v\n%s", r.err, r.out)
			}
			if got := strings.Join(p.applied, ","); got != tc.applied {
				t.Errorf("applied %q, want %q\n%s", got, tc.applied, r.out)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.out, w) {
					t.Errorf("output lacks %q:\n%s", w, r.out)
				}
			}
			if strings.Contains(r.out, "s3cret") {
				t.Errorf("sensitive value shown:\n%s", r.out)
			}
		})
	}
}
