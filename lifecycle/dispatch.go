package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stackagent/stackagent/internal/jsontree"
	"github.com/stackagent/stackagent/internal/runlist"
)

// Identity is who this agent is: the filters of an event are matched
// against it.
type Identity struct {
	InstanceID string
	Stack      string
	Layers     []string
}

// Targets says whether e is meant for the agent id. An event's empty
// filter (no stack, no layers, no instances) matches every agent; a filter
// that is set must name the agent's stack, one of its layers, its instance.
// reason says which filter excluded it.
func (e *Event) Targets(id Identity) (ok bool, reason string) {
	if e.Stack != "" && e.Stack != id.Stack {
		return false, fmt.Sprintf("for stack %q, this instance is in stack %q", e.Stack, id.Stack)
	}
	if len(e.Layers) > 0 && !slices.ContainsFunc(e.Layers, func(l string) bool { return slices.Contains(id.Layers, l) }) {
		return false, fmt.Sprintf("for layers %s, none of this instance's layers %s",
			strings.Join(e.Layers, ","), listOrNone(id.Layers))
	}
	if len(e.Instances) > 0 && !slices.Contains(e.Instances, id.InstanceID) {
		return false, fmt.Sprintf("for instances %s, not this instance %q", strings.Join(e.Instances, ","), id.InstanceID)
	}
	return true, ""
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, ",")
}

// NodeAttributes is what the daemon merges at normal level for e's run:
// e.Attributes (deep-copied) plus stackagent.event and stackagent.instance,
// so recipes know what they are doing (OpsWorks' node[:opsworks][:activity]).
func (e *Event) NodeAttributes(id Identity) map[string]any {
	out, _ := jsontree.Copy(e.Attributes).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	sa, ok := out["stackagent"].(map[string]any)
	if !ok {
		sa = map[string]any{}
		out["stackagent"] = sa
	}
	sa["event"] = map[string]any{
		"id":        e.ID,
		"type":      e.Type,
		"app":       e.App,
		"command":   e.Command,
		"stack":     e.Stack,
		"layers":    anyList(e.Layers),
		"issued_at": e.IssuedAt.UTC().Format(time.RFC3339Nano),
		"envelope":  e.Envelope,
	}
	if e.RollbackTo != "" {
		sa["event"].(map[string]any)["rollback_to"] = e.RollbackTo
	}
	sa["instance"] = map[string]any{
		"id":     id.InstanceID,
		"stack":  id.Stack,
		"layers": anyList(id.Layers),
	}
	return out
}

func anyList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// ErrNoRunList is returned (wrapped) by RunList when the node attributes
// define no recipes for an event that needs them.
var ErrNoRunList = errors.New("no run list")

// RunList builds e's run list from the node's merged attributes, the
// OpsWorks way: for each of layers in order, the layer's built-in recipes
// for the event type (stackagent.layers.LAYER.recipes.TYPE), then its
// custom recipes (stackagent.layers.LAYER.custom_recipes.TYPE); each
// recipe once, first occurrence kept, names normalised ("cb" → "cb::default").
// A deploy event uses the deploy list whatever its command. execute_recipes
// runs e.Recipes; update_custom_cookbooks runs nothing (the daemon fetches
// the cookbooks). A layer without an entry is an error naming it, unless
// another layer gave recipes.
func RunList(e *Event, attrs map[string]any, layers []string) ([]string, error) {
	switch e.Type {
	case TypeExecuteRecipes:
		return normalise(nil, e.Recipes, "recipes")
	case TypeUpdateCustomCookbooks:
		return []string{}, nil
	case TypeSetup, TypeConfigure, TypeDeploy, TypeUndeploy, TypeShutdown:
	default:
		return nil, fmt.Errorf("run list: unknown event type %q", e.Type)
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("run list for %s: %w: this instance is in no layer", e.Type, ErrNoRunList)
	}
	defs, _ := lookup(attrs, "stackagent", "layers").(map[string]any)
	out := []string{}
	var missing []string
	for _, layer := range layers {
		def, ok := defs[layer].(map[string]any)
		if !ok {
			missing = append(missing, layer)
			continue
		}
		for _, kind := range []string{"recipes", "custom_recipes"} {
			path := fmt.Sprintf("stackagent.layers.%s.%s.%s", layer, kind, e.Type)
			list, err := recipeList(lookup(def, kind, e.Type), path)
			if err != nil {
				return nil, err
			}
			if out, err = normalise(out, list, path); err != nil {
				return nil, err
			}
		}
	}
	if len(out) == 0 && len(missing) > 0 {
		why := make([]string, len(missing))
		for i, l := range missing {
			why[i] = fmt.Sprintf("layer %q has no entry at stackagent.layers.%s", l, l)
		}
		return nil, fmt.Errorf("run list for %s: %w: %s", e.Type, ErrNoRunList, strings.Join(why, "; "))
	}
	return out, nil
}

// lookup walks nested maps; nil when a step is missing or not a map.
func lookup(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// recipeList reads a list of recipe names: []any of strings (JSON, Lua)
// or []string; nil is an empty list.
func recipeList(v any, path string) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []string:
		return x, nil
	case []any:
		out := make([]string, len(x))
		for i, r := range x {
			s, ok := r.(string)
			if !ok {
				return nil, fmt.Errorf("run list: %s[%d]: want a recipe name, got %s", path, i, jsonKind(r))
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("run list: %s: want a list of recipe names, got %s", path, jsonKind(v))
}

// normalise appends the run-list entries of list to out, each once.
func normalise(out, list []string, path string) ([]string, error) {
	if out == nil {
		out = []string{}
	}
	items, err := runlist.Parse(list...)
	if err != nil {
		return nil, fmt.Errorf("run list: %s: %w", path, err)
	}
	for _, it := range items {
		s := it.Recipe
		if it.Role != "" {
			s = it.String()
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// DefaultLayers returns the built-in layer definitions, to merge at default
// precedence: {"stackagent": {"layers": {"php-app": …, "wordpress": …}}}.
// Each call returns a fresh tree.
func DefaultLayers() map[string]any {
	list := func(names ...string) []any { return anyList(names) }
	return map[string]any{"stackagent": map[string]any{"layers": map[string]any{
		// base is the layer of an agent configured with none (the
		// embedded default, `make run`): it lays out the agent's own
		// directories at setup, and a configure writes state_dir/hello.txt
		// so a first event does something to see (stackagent::hello).
		BaseLayer: map[string]any{
			"name": "Agent only",
			"recipes": map[string]any{
				TypeSetup: list("stackagent"), TypeConfigure: list("stackagent::hello"), TypeDeploy: list(),
				TypeUndeploy: list(), TypeShutdown: list(),
			},
		},
		"php-app": map[string]any{
			"name": "PHP App Server",
			"recipes": map[string]any{
				TypeSetup:     list("stackagent", "apache2", "php"),
				TypeConfigure: list(),
				TypeDeploy:    list("deploy::php"),
				TypeUndeploy:  list("deploy::php_undeploy"),
				TypeShutdown:  list(),
			},
		},
		"wordpress": map[string]any{
			"name": "WordPress",
			"recipes": map[string]any{
				TypeSetup:     list("stackagent", "apache2", "php", "wordpress::setup"),
				TypeConfigure: list("wordpress::configure"),
				TypeDeploy:    list("wordpress::deploy"),
				TypeUndeploy:  list("wordpress::undeploy"),
				TypeShutdown:  list("wordpress::shutdown"),
			},
		},
	}}}
}

// BaseLayer is the layer of an instance configured with no layers.
const BaseLayer = "base"

// Supersede drops configure events made stale by a newer one among the
// events waiting to run: only the newest configure (by Newer: sequence
// when both carry one, else IssuedAt; then arrival order) is kept, since each carries the whole stack
// configuration. Other events are untouched; order is preserved. nil
// entries are dropped.
func Supersede(events []*Event) (keep []*Event, superseded []*Event) {
	newest := -1
	for i, e := range events {
		if e == nil || e.Type != TypeConfigure {
			continue
		}
		if newest < 0 || !Newer(events[newest], e) {
			newest = i
		}
	}
	for i, e := range events {
		switch {
		case e == nil:
		case e.Type == TypeConfigure && i != newest:
			superseded = append(superseded, e)
		default:
			keep = append(keep, e)
		}
	}
	return keep, superseded
}
