package port

import (
	"encoding/json"
	"fmt"
)

const header = "-- Ported from %s by stackagent port: read it, then delete the TODOs.\n"

// Recipe converts a recipe (or an attributes file, or a hook: m says
// which) to Lua.
func convert(src, name string, m mode, schema Schema, defs map[string]string) (string, Stats) {
	e := newEmitter(src, m, schema, defs)
	e.stmts(Parse(src))
	return e.finish(fmt.Sprintf(header, name)), e.stats
}

// Recipe converts recipes/NAME.rb.
func Recipe(src, name string, schema Schema, defs map[string]string) (string, Stats) {
	return convert(src, name, modeRecipe, schema, defs)
}

// Attributes converts attributes/NAME.rb.
func Attributes(src, name string) (string, Stats) {
	return convert(src, name, modeAttributes, nil, nil)
}

// Hook converts a deploy hook (deploy/before_migrate.rb…): it runs with
// release_path, shared_path, deploy_to, app and environment as globals
// and declares no resources.
func Hook(src, name string) (string, Stats) {
	e := newEmitter(src, modeHook, noResources{}, nil)
	e.stmts(Parse(src))
	return e.finish(fmt.Sprintf(header, name)), e.stats
}

// noResources is the schema of deploy hooks: no kind exists.
type noResources struct{}

func (noResources) Has(string, string) bool { return false }

// Metadata is what metadata.rb says that metadata.json keeps.
type Metadata struct {
	Name        string   `json:"name"`
	Version     string   `json:"version,omitempty"`
	Description string   `json:"description,omitempty"`
	Depends     []string `json:"depends"`
}

// ParseMetadata reads metadata.rb: name, version, description, depends;
// other lines are ignored (listed in the returned notes).
func ParseMetadata(src string) (Metadata, []string) {
	md := Metadata{Depends: []string{}}
	var notes []string
	for _, n := range Parse(src) {
		c, ok := n.(*Call)
		if !ok || c.Recv != nil || len(c.Args) == 0 {
			notes = append(notes, fmt.Sprintf("line %d: not read", n.sp().line))
			continue
		}
		v, ok := literalKey(c.Args[0])
		if !ok {
			notes = append(notes, fmt.Sprintf("line %d: %s: not a plain string", n.sp().line, c.Name))
			continue
		}
		switch c.Name {
		case "name":
			md.Name = v
		case "version":
			md.Version = v
		case "description":
			md.Description = v
		case "depends":
			md.Depends = append(md.Depends, v)
		}
	}
	return md, notes
}

// JSON is metadata.json's text.
func (m Metadata) JSON() []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}

// Definition converts definitions/NAME.rb (define :name, defaults do … end)
// to Lua functions, one per define, called as NAME "name" { params }.
func Definition(src, file string, schema Schema, defs map[string]string) (string, []string, Stats) {
	e := newEmitter(src, modeDefinition, schema, defs)
	var names []string
	for _, n := range Parse(src) {
		c, ok := n.(*Call)
		if !ok || c.Recv != nil || c.Name != "define" || len(c.Args) == 0 || c.Block == nil {
			e.stmt(n)
			continue
		}
		name, ok := literalKey(c.Args[0])
		if !ok || !luaName(name) {
			e.todoAt(n, "definition name")
			continue
		}
		defaults := "{}"
		if len(c.Args) == 2 {
			if h, ok := c.Args[1].(*Hash); ok {
				if v, err := e.hash(h); err == nil {
					defaults = v
				}
			}
		}
		names = append(names, name)
		e.line("function M." + name + "(name)")
		e.line("  return function(args)")
		e.line("    local params = " + defaults)
		e.line("    for k, v in pairs(args or {}) do params[k] = v end")
		e.line("    params.name = name")
		e.depth++
		e.block(c.Block.Body, "params")
		e.depth--
		e.line("  end")
		e.line("end")
	}
	e.line("return M")
	head := fmt.Sprintf(header, file) + "-- Definitions: each is called from a recipe as NAME \"name\" { params }.\nlocal M = {}\n"
	return e.finish(head), names, e.stats
}

// DefinitionNames lists the names a definitions file defines.
func DefinitionNames(src string) []string {
	var out []string
	for _, n := range Parse(src) {
		if c, ok := n.(*Call); ok && c.Recv == nil && c.Name == "define" && len(c.Args) > 0 {
			if name, ok := literalKey(c.Args[0]); ok && luaName(name) {
				out = append(out, name)
			}
		}
	}
	return out
}
