package recipes

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stackagent/stackagent/internal/jsontree"
)

// Level is an attribute precedence level. Higher levels win; maps are
// deep-merged across levels, any other value (lists included) is replaced
// by the higher level's, as in Chef.
type Level int

// The precedence levels, lowest first, as Chef orders them
// (https://docs.chef.io/attribute_precedence/): a role's default beats the
// cookbooks' default, force_default beats a role's; normal (-j, the
// event's attributes, attribute files, recipes); a role's override beats
// the cookbooks' override, force_override beats a role's; automatic (ohai)
// beats everything. Recipes set default, force_default, normal, override
// and force_override; roles set RoleDefault and RoleOverride.
const (
	Default Level = iota
	RoleDefault
	ForceDefault
	Normal
	Override
	RoleOverride
	ForceOverride
	Automatic
	numLevels
)

var levelNames = [numLevels]string{"default", "role_default", "force_default", "normal",
	"override", "role_override", "force_override", "automatic"}

// recipeLevels are the levels a recipe or attributes file sets, by name.
var recipeLevels = []Level{Default, ForceDefault, Normal, Override, ForceOverride}

func (l Level) String() string { return levelNames[l] }

// Node holds the attributes of this host at each precedence level.
type Node struct {
	Name   string
	levels [numLevels]map[string]any
}

// NewNode returns a node with no attributes.
func NewNode(name string) *Node {
	n := &Node{Name: name}
	for i := range n.levels {
		n.levels[i] = map[string]any{}
	}
	return n
}

// Merge deep-merges m into the given level.
func (n *Node) Merge(l Level, m map[string]any) {
	jsontree.Merge(n.levels[l], jsontree.Normalize(m).(map[string]any))
}

// Set sets one value at a level, creating the maps on its path.
func (n *Node) Set(l Level, path []string, v any) {
	m := n.levels[l]
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = jsontree.Normalize(v)
}

// Level returns the raw map of one level (not a copy).
func (n *Node) Level(l Level) map[string]any { return n.levels[l] }

// lookupAt returns the value at path in one level.
func lookupAt(m map[string]any, path []string) (any, bool) {
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = mm[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// peek tells what the merged value at path is without building it: a map
// (isMap), a scalar or list (v), or nothing.
func (n *Node) peek(path []string) (v any, isMap, ok bool) {
	for l := numLevels - 1; l >= 0; l-- {
		x, found := lookupAt(n.levels[l], path)
		if !found {
			continue
		}
		if _, m := x.(map[string]any); m {
			return nil, true, true
		}
		return x, false, true
	}
	return nil, false, false
}

// Get returns the merged value at path (a fresh copy for maps and lists).
func (n *Node) Get(path ...string) (any, bool) {
	var out any
	found := false
	for l := Level(0); l < numLevels; l++ {
		x, ok := lookupAt(n.levels[l], path)
		if !ok {
			continue
		}
		found = true
		xm, xIsMap := x.(map[string]any)
		om, outIsMap := out.(map[string]any)
		switch {
		case xIsMap && outIsMap:
			jsontree.Merge(om, xm)
		default:
			out = jsontree.Copy(x)
		}
	}
	return out, found
}

// Merged returns all attributes merged (a copy).
func (n *Node) Merged() map[string]any {
	v, _ := n.Get()
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// GetString returns the merged value at a dotted path as a string, "" when
// missing or not a string.
func (n *Node) GetString(dotted string) string {
	v, _ := n.Get(strings.Split(dotted, ".")...)
	s, _ := v.(string)
	return s
}

// DeepMerge merges a copy of src into dst: maps recursively, anything else
// (lists included) replaced, as attribute precedence does.
func DeepMerge(dst, src map[string]any) { jsontree.Merge(dst, src) }

// sortedKeys returns a map's keys in order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParseLevel parses a level name.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), nil
		}
	}
	return 0, fmt.Errorf("unknown attribute level %q", s)
}
