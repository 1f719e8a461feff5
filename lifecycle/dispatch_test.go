package lifecycle

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/recipes"
)

func TestTargets(t *testing.T) {
	t.Parallel()
	me := Identity{InstanceID: "i-0abc", Stack: "prod", Layers: []string{"php-app", "wordpress"}}
	tests := []struct {
		name   string
		event  Event
		id     Identity
		ok     bool
		reason string
	}{
		{"no filters", Event{}, me, true, ""},
		{"no filters, agent without identity", Event{}, Identity{}, true, ""},
		{"our stack, layer and instance", Event{Stack: "prod", Layers: []string{"db", "wordpress"}, Instances: []string{"i-0def", "i-0abc"}}, me, true, ""},
		{"other stack", Event{Stack: "staging"}, me, false, `for stack "staging", this instance is in stack "prod"`},
		{"stack named, ours unset", Event{Stack: "prod"}, Identity{InstanceID: "i-0abc"}, false, `this instance is in stack ""`},
		{"none of our layers", Event{Layers: []string{"db", "memcached"}}, me, false, "for layers db,memcached, none of this instance's layers php-app,wordpress"},
		{"layers named, we have none", Event{Layers: []string{"db"}}, Identity{InstanceID: "i-0abc"}, false, "layers (none)"},
		{"other instances", Event{Instances: []string{"i-0def"}}, me, false, `for instances i-0def, not this instance "i-0abc"`},
		{"our layer, other instance", Event{Layers: []string{"wordpress"}, Instances: []string{"i-0def"}}, me, false, "for instances i-0def"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, reason := tt.event.Targets(tt.id)
			if ok != tt.ok || !strings.Contains(reason, tt.reason) || (ok && reason != "") {
				t.Errorf("Targets = %v, %q; want %v, %q", ok, reason, tt.ok, tt.reason)
			}
		})
	}
}

// stackAttrs is node attributes as the daemon merges them: the built-in
// layers at default, the stack's custom recipes at normal.
func stackAttrs(t *testing.T) map[string]any {
	t.Helper()
	normal, err := recipes.ParseJSONObject("stack.json", []byte(`{"stackagent": {"layers": {
	  "wordpress": {"custom_recipes": {"setup": ["site::monitoring", "recipe[apache2]"],
	                                   "deploy": ["site::warm_cache"]}},
	  "php-app": {"recipes": {"configure": ["php::configure"]}},
	  "db": {"recipes": {"setup": ["mariadb"]}, "custom_recipes": {"shutdown": []}}
	}}}`))
	if err != nil {
		t.Fatal(err)
	}
	n := recipes.NewNode("web1")
	n.Merge(recipes.Default, DefaultLayers())
	n.Merge(recipes.Normal, normal)
	return n.Merged()
}

func TestRunList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		event  Event
		layers []string
		want   []string
	}{
		{"setup: built-in then custom, de-duplicated", Event{Type: TypeSetup}, []string{"wordpress"},
			[]string{"stackagent::default", "apache2::default", "php::default", "wordpress::setup", "site::monitoring"}},
		{"setup of two layers in order", Event{Type: TypeSetup}, []string{"db", "wordpress"},
			[]string{"mariadb::default", "stackagent::default", "apache2::default", "php::default", "wordpress::setup", "site::monitoring"}},
		{"configure: normal overrides default list", Event{Type: TypeConfigure}, []string{"php-app", "wordpress"},
			[]string{"php::configure", "wordpress::configure"}},
		{"deploy", Event{Type: TypeDeploy, Command: CommandDeploy}, []string{"wordpress"},
			[]string{"wordpress::deploy", "site::warm_cache"}},
		{"deploy command rollback uses the deploy list", Event{Type: TypeDeploy, Command: CommandRollback}, []string{"wordpress"},
			[]string{"wordpress::deploy", "site::warm_cache"}},
		{"deploy command restart uses the deploy list", Event{Type: TypeDeploy, Command: CommandRestart}, []string{"php-app"},
			[]string{"deploy::php"}},
		{"undeploy", Event{Type: TypeUndeploy, Command: CommandUndeploy}, []string{"wordpress"}, []string{"wordpress::undeploy"}},
		{"shutdown", Event{Type: TypeShutdown}, []string{"wordpress"}, []string{"wordpress::shutdown"}},
		{"layer without recipes for the type runs nothing", Event{Type: TypeShutdown}, []string{"db"}, []string{}},
		{"missing layer skipped when another has recipes", Event{Type: TypeSetup}, []string{"cache", "db"}, []string{"mariadb::default"}},
		{"execute_recipes runs its recipes", Event{Type: TypeExecuteRecipes, Recipes: []string{"recipe[apache2::restart]", "php", "php::default", "role[web]"}},
			[]string{"nope"}, []string{"apache2::restart", "php::default", "role[web]"}},
		{"update_custom_cookbooks runs nothing", Event{Type: TypeUpdateCustomCookbooks}, []string{"wordpress"}, []string{}},
	}
	attrs := stackAttrs(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := RunList(&tt.event, attrs, tt.layers)
			if err != nil {
				t.Fatalf("RunList: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RunList = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunListErrors(t *testing.T) {
	t.Parallel()
	bad := map[string]any{"stackagent": map[string]any{"layers": map[string]any{
		"web":    map[string]any{"recipes": map[string]any{"setup": "apache2"}},
		"worker": map[string]any{"custom_recipes": map[string]any{"setup": []any{"ok", 3}}},
		"evil":   map[string]any{"recipes": map[string]any{"setup": []any{"rm -rf /"}}},
		"empty":  map[string]any{},
	}}}
	tests := []struct {
		name   string
		event  Event
		attrs  map[string]any
		layers []string
		noList bool
		want   string
	}{
		{"no layer entry", Event{Type: TypeSetup}, stackAttrs(t), []string{"cache"}, true,
			`layer "cache" has no entry at stackagent.layers.cache`},
		{"missing layer while the other has no recipes", Event{Type: TypeDeploy}, bad, []string{"cache", "empty"}, true,
			`layer "cache" has no entry`},
		{"no layers attribute at all", Event{Type: TypeConfigure}, nil, []string{"web", "db"}, true,
			`layer "web" has no entry at stackagent.layers.web; layer "db" has no entry at stackagent.layers.db`},
		{"no layers", Event{Type: TypeSetup}, stackAttrs(t), nil, true, "this instance is in no layer"},
		{"recipes not a list", Event{Type: TypeSetup}, bad, []string{"web"}, false,
			"stackagent.layers.web.recipes.setup: want a list of recipe names, got string"},
		{"recipe not a string", Event{Type: TypeSetup}, bad, []string{"worker"}, false,
			"stackagent.layers.worker.custom_recipes.setup[1]: want a recipe name, got number"},
		{"recipe not a run-list item", Event{Type: TypeSetup}, bad, []string{"evil"}, false,
			`stackagent.layers.evil.recipes.setup: run list entry "rm -rf /"`},
		{"unknown type", Event{Type: "reboot"}, bad, []string{"web"}, false, `unknown event type "reboot"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := RunList(&tt.event, tt.attrs, tt.layers)
			if err == nil {
				t.Fatalf("RunList = %q, want an error", got)
			}
			if errors.Is(err, ErrNoRunList) != tt.noList || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q: want %q (ErrNoRunList %v)", err, tt.want, tt.noList)
			}
		})
	}
}

func TestDefaultLayers(t *testing.T) {
	t.Parallel()
	a, b := DefaultLayers(), DefaultLayers()
	lookup(a, "stackagent", "layers").(map[string]any)["wordpress"] = nil
	if lookup(b, "stackagent", "layers", "wordpress") == nil {
		t.Fatal("DefaultLayers shares its tree between calls")
	}
	for _, layer := range []string{"php-app", "wordpress"} {
		for _, typ := range []string{TypeSetup, TypeConfigure, TypeDeploy, TypeUndeploy, TypeShutdown} {
			if _, err := RunList(&Event{Type: typ}, b, []string{layer}); err != nil {
				t.Errorf("%s %s: %v", layer, typ, err)
			}
		}
	}
	got, _ := RunList(&Event{Type: TypeSetup}, b, []string{"wordpress"})
	want := []string{"stackagent::default", "apache2::default", "php::default", "wordpress::setup"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("wordpress setup = %q, want %q", got, want)
	}
}

func TestNodeAttributes(t *testing.T) {
	t.Parallel()
	e, err := Parse([]byte(`{"version":1,"id":"d-42","type":"deploy","stack":"prod","layers":["wordpress"],
	  "app":"wordpress","command":"rollback","issued_at":"2026-11-25T10:11:12Z",
	  "attributes":{"deploy":{"wordpress":{"keep_releases":5}},
	                "stackagent":{"layers":{"wordpress":{"custom_recipes":{"deploy":["site"]}}},"event":"forged"}}}`), testNow)
	if err != nil {
		t.Fatal(err)
	}
	id := Identity{InstanceID: "i-0abc", Stack: "prod", Layers: []string{"wordpress", "php-app"}}
	got := e.NodeAttributes(id)
	want := map[string]any{
		"deploy": map[string]any{"wordpress": map[string]any{"keep_releases": int64(5)}},
		"stackagent": map[string]any{
			"layers": map[string]any{"wordpress": map[string]any{"custom_recipes": map[string]any{"deploy": []any{"site"}}}},
			"event": map[string]any{"id": "d-42", "type": "deploy", "app": "wordpress", "command": "rollback",
				"stack": "prod", "layers": []any{"wordpress"}, "issued_at": "2026-11-25T10:11:12Z", "envelope": "event"},
			"instance": map[string]any{"id": "i-0abc", "stack": "prod", "layers": []any{"wordpress", "php-app"}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("NodeAttributes =\n%v\nwant\n%v", got, want)
	}
	// A deep copy: the run may change its attributes, never the event's.
	got["deploy"].(map[string]any)["wordpress"].(map[string]any)["keep_releases"] = int64(1)
	if lookup(e.Attributes, "deploy", "wordpress", "keep_releases") != int64(5) {
		t.Error("NodeAttributes shares the event's attributes")
	}
	if _, ok := e.Attributes["stackagent"].(map[string]any)["instance"]; ok {
		t.Error("NodeAttributes changed the event's attributes")
	}
	// The tree is what a Node takes at normal level.
	n := recipes.NewNode("web1")
	n.Merge(recipes.Normal, got)
	if s := n.GetString("stackagent.event.command"); s != "rollback" {
		t.Errorf("node stackagent.event.command = %q", s)
	}
}

func TestNodeAttributesWithoutAttributes(t *testing.T) {
	t.Parallel()
	e := &Event{ID: "s-1", Type: TypeSetup, IssuedAt: testNow, Envelope: "asg",
		Attributes: map[string]any{"stackagent": "not a map"}}
	got := e.NodeAttributes(Identity{})
	if lookup(got, "stackagent", "event", "type") != "setup" || lookup(got, "stackagent", "instance", "id") != "" {
		t.Errorf("NodeAttributes = %v", got)
	}
	if lookup(got, "stackagent", "event", "layers") == nil {
		t.Error("event.layers is nil, want an empty list")
	}
}

func TestSupersede(t *testing.T) {
	t.Parallel()
	at := func(min int) time.Time { return testNow.Add(time.Duration(min) * time.Minute) }
	ev := func(id, typ string, min int) *Event { return &Event{ID: id, Type: typ, IssuedAt: at(min)} }
	tests := []struct {
		name       string
		events     []*Event
		keep, gone []string
	}{
		{"empty", nil, nil, nil},
		{"one configure kept", []*Event{ev("c1", TypeConfigure, 0)}, []string{"c1"}, nil},
		{"newest configure kept in place", []*Event{
			ev("c1", TypeConfigure, 1), ev("d1", TypeDeploy, 2), ev("c2", TypeConfigure, 3), ev("s1", TypeSetup, 0)},
			[]string{"d1", "c2", "s1"}, []string{"c1"}},
		{"newest by issued_at, not arrival", []*Event{
			ev("c1", TypeConfigure, 5), ev("d1", TypeDeploy, 2), ev("c2", TypeConfigure, 3), ev("c3", TypeConfigure, 4)},
			[]string{"c1", "d1"}, []string{"c2", "c3"}},
		{"same issued_at: the later arrival wins", []*Event{
			ev("c1", TypeConfigure, 1), ev("c2", TypeConfigure, 1), ev("u1", TypeUndeploy, 0)},
			[]string{"c2", "u1"}, []string{"c1"}},
		{"other types untouched", []*Event{
			ev("d1", TypeDeploy, 1), ev("d2", TypeDeploy, 2), ev("x1", TypeExecuteRecipes, 0), nil},
			[]string{"d1", "d2", "x1"}, nil},
	}
	ids := func(l []*Event) []string {
		var out []string
		for _, e := range l {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			keep, gone := Supersede(tt.events)
			if !reflect.DeepEqual(ids(keep), tt.keep) || !reflect.DeepEqual(ids(gone), tt.gone) {
				t.Errorf("Supersede = %v, %v; want %v, %v", ids(keep), ids(gone), tt.keep, tt.gone)
			}
		})
	}
}

// TestRunListDocExample checks the example of docs/events.md.
func TestRunListDocExample(t *testing.T) {
	t.Parallel()
	stack, err := recipes.ParseJSONObject("stack.json", []byte(`{
	  "stackagent": {"layers": {
	    "wordpress": {"custom_recipes": {"setup": ["site::monitoring"], "deploy": ["site::warm_cache"]}},
	    "db": {"name": "Database", "recipes": {"setup": ["mariadb"], "configure": ["mariadb::configure"]}}}},
	  "deploy": {"wordpress": {"keep_releases": 5}}}`))
	if err != nil {
		t.Fatal(err)
	}
	n := recipes.NewNode("web1")
	n.Merge(recipes.Default, DefaultLayers())
	n.Merge(recipes.Normal, (&Event{Attributes: stack}).NodeAttributes(Identity{}))
	layers := []string{"db", "wordpress"}
	for typ, want := range map[string][]string{
		TypeSetup:     {"mariadb::default", "stackagent::default", "apache2::default", "php::default", "wordpress::setup", "site::monitoring"},
		TypeConfigure: {"mariadb::configure", "wordpress::configure"},
		TypeDeploy:    {"wordpress::deploy", "site::warm_cache"},
		TypeShutdown:  {"wordpress::shutdown"},
	} {
		got, err := RunList(&Event{Type: typ}, n.Merged(), layers)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: RunList = %q, %v; want %q", typ, got, err, want)
		}
	}
}
