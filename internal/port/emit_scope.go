package port

import (
	"sort"
	"strings"

	"github.com/yuin/gopher-lua/parse"
)

// hoist declares before an if/case the locals its branches assign first
// (Ruby's are visible after the if; Lua's would not be).
func (e *emitter) hoist(n Node) {
	var found []string
	seen := map[string]bool{}
	var walk func(ns []Node)
	walk = func(ns []Node) {
		for _, n := range ns {
			switch x := n.(type) {
			case *Assign:
				if v, ok := x.Target.(*Var); ok && !e.declared(v.Name) && !seen[v.Name] {
					seen[v.Name] = true
					found = append(found, v.Name)
				}
			case *If:
				walk(x.Then)
				walk(x.Else)
			case *Case:
				for _, w := range x.Whens {
					walk(w.Body)
				}
				walk(x.Else)
			}
		}
	}
	walk([]Node{n})
	if len(found) == 0 {
		return
	}
	lua := make([]string, len(found))
	for i, f := range found {
		e.scopes[len(e.scopes)-1][f] = true
		lua[i] = localName(f)
	}
	e.line("local " + strings.Join(lua, ", "))
}

// finish returns the Lua with the helpers it uses on top.
func (e *emitter) finish(header string) string {
	var top []string
	for _, h := range helperOrder {
		if e.helpers[h] {
			top = append(top, helpers[h])
		}
	}
	var uses []string
	for d := range e.uses {
		uses = append(uses, "local "+d+" = require("+quote(e.defs[d])+")."+d)
	}
	sort.Strings(uses)
	top = append(top, uses...)
	out := header
	if len(top) > 0 {
		out += strings.Join(top, "\n") + "\n"
	}
	out += e.b.String()
	if _, err := parse.Parse(strings.NewReader(out), "port"); err != nil {
		// A translation bug inside a function body: keep the file valid,
		// the whole Ruby as a TODO.
		e.b.Reset()
		e.depth = 0
		e.todoAt(&Todo{span: span{0, len(e.src), 1}}, "translation is not valid Lua")
		return header + e.b.String()
	}
	return out
}
