package recipes

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/stackagent/stackagent/internal/lazyre"
)

// runtime is one run's Lua state and what the DSL needs of the run. It is
// used from one goroutine only.
type runtime struct {
	L      *lua.LState
	reg    *Registry
	books  *CookbookSet
	node   *Node
	opts   *Options
	runner Runner

	collection []*Resource
	allowed    map[string]bool // cookbooks of the run's dependency closure
	included   map[string]bool
	stack      []string // recipes being compiled, outermost first
	curCB      *Cookbook
	curRecipe  string
	compiling  bool
	ctx        context.Context

	customs  customKinds    // kinds declared in cookbooks' resources/
	runState *lua.LTable    // node.run_state
	frames   []*customFrame // custom resource actions running, innermost last

	secrets     map[string]string // reference → value, resolved this run
	secretReads int               // how many times a recipe read a secret
	credentials []string          // plaintext credential attributes (credentialValues)
	redacted    redactor          // secretRedactor's, for redactedFor values
	redactedFor int
}

// secretValues lists the run's resolved secrets (to hide them).
func (rt *runtime) secretValues() []string {
	out := make([]string, 0, len(rt.secrets))
	for _, v := range rt.secrets {
		out = append(out, v)
	}
	return out
}

// secretRef tells whether an attribute value is a secret reference:
// {"secret": "REF"} and nothing else.
func secretRef(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	ref, ok := m["secret"].(string)
	return ref, ok
}

// resolveSecret resolves a reference once per run.
func (rt *runtime) resolveSecret(ref string) (string, error) {
	rt.secretReads++
	if v, ok := rt.secrets[ref]; ok {
		return v, nil
	}
	if rt.opts.Secrets == nil {
		return "", fmt.Errorf("secret %q: no secret resolver (AWS is not configured for this run)", ref)
	}
	ctx := rt.L.Context()
	if ctx == nil {
		ctx = rt.ctx
	}
	v, err := rt.opts.Secrets.Resolve(ctx, ref)
	if err != nil {
		return "", fmt.Errorf("secret %q: %w", ref, err)
	}
	if rt.secrets == nil {
		rt.secrets = map[string]string{}
	}
	rt.secrets[ref] = v
	return v, nil
}

// resolveSecrets replaces every secret reference inside v (a copy).
func (rt *runtime) resolveSecrets(v any) (any, error) {
	if ref, ok := secretRef(v); ok {
		return rt.resolveSecret(ref)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			r, err := rt.resolveSecrets(e)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	case []any:
		for i, e := range x {
			r, err := rt.resolveSecrets(e)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	}
	return v, nil
}

// newRuntime opens a sandboxed Lua state: base (without dofile/loadfile),
// table, string, math, a reduced os, and package (so require works, through
// cookbook libraries/). No io, no debug.
func newRuntime(ctx context.Context, opts *Options) *runtime {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 256})
	rt := &runtime{L: L, reg: opts.Registry, books: opts.Cookbooks, node: opts.Node, opts: opts,
		runner: opts.Runner, included: map[string]bool{}, ctx: ctx}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.LoadLibName, lua.OpenPackage},
		{lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.OsLibName, lua.OpenOs},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	for _, name := range []string{"dofile", "loadfile"} {
		g.RawSetString(name, lua.LNil)
	}
	osT := L.CreateTable(0, 4)
	if full, ok := g.RawGetString("os").(*lua.LTable); ok {
		for _, name := range []string{"time", "date", "clock", "getenv", "difftime"} {
			osT.RawSetString(name, full.RawGetString(name))
		}
	}
	g.RawSetString("os", osT)
	if p, ok := g.RawGetString("pairs").(*lua.LFunction); ok {
		g.RawSetString("pairs", L.NewFunction(pairsWithMeta(p)))
	}
	rt.registerAttrViews(L)
	rt.registerDSL(L)
	rt.registerHelpers(L)
	return rt
}

func (rt *runtime) close() { rt.L.Close() }

// where returns the source position of the Lua function at the given call
// level (1 is the Lua code that called the running Go function).
func (rt *runtime) where(level int) Pos {
	dbg, ok := rt.L.GetStack(level)
	if !ok {
		return Pos{}
	}
	if _, err := rt.L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.CurrentLine < 0 {
		return Pos{File: dbg.Source}
	}
	return Pos{File: dbg.Source, Line: dbg.CurrentLine}
}

// LuaError is an error raised by Lua code, with where it was raised.
type LuaError struct {
	Source Pos
	Msg    string
	// Trace is Lua's stack traceback, for the run report and debug logs.
	Trace string
}

func (e *LuaError) Error() string {
	if e.Source.File == "" {
		return e.Msg
	}
	return e.Source.String() + ": " + e.Msg
}

var (
	reRaised = lazyre.New(`^(?s)([^\s:][^:]*):(\d+):\s*(.*)$`)
	reEOF    = lazyre.New(`^(?s)(.*?) at EOF:\s*(.*)$`)
	reSyntax = lazyre.New(`^(?s)(.*?) line:(\d+)\(column:(\d+)\) near '(.*?)':\s*(.*)$`)
)

// luaError turns what PCall returned into a LuaError naming file and line.
func luaError(err error) error {
	var api *lua.ApiError
	if !errors.As(err, &api) {
		return err
	}
	var msg string
	if api.Object != nil {
		msg = api.Object.String()
	} else {
		msg = api.Error()
	}
	msg = strings.TrimSpace(msg)
	if m := reEOF().FindStringSubmatch(msg); m != nil {
		return &LuaError{Source: Pos{File: m[1]}, Msg: "syntax error: unexpected end of file (an unclosed {, ( or block?)"}
	}
	if m := reSyntax().FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[2])
		return &LuaError{Source: Pos{File: m[1], Line: n}, Msg: fmt.Sprintf("syntax error near '%s' (column %s): %s", m[4], m[3], strings.TrimSpace(m[5]))}
	}
	if m := reRaised().FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[2])
		return &LuaError{Source: Pos{File: m[1], Line: n}, Msg: m[3], Trace: api.StackTrace}
	}
	le := &LuaError{Msg: msg, Trace: api.StackTrace}
	if m := reTraceLine().FindStringSubmatch(api.StackTrace); m != nil {
		le.Source.File = m[1]
		le.Source.Line, _ = strconv.Atoi(m[2])
	}
	return le
}

var reTraceLine = lazyre.New(`(?m)^\s*([^\s\[][^:]*):(\d+):`)

// runFile loads and runs one cookbook file (a recipe or attributes file).
func (rt *runtime) runFile(cb *Cookbook, rel string) error {
	src, err := fs.ReadFile(cb.FS, rel)
	if err != nil {
		return fmt.Errorf("read %s: %w", cb.Display(rel), err)
	}
	fn, err := compiledChunks.load(rt.L, string(src), cb.Display(rel))
	if err != nil {
		return atEOF(luaError(err), string(src))
	}
	parent := rt.ctx
	if c := rt.L.Context(); c != nil {
		parent = c // an include_recipe inside a recipe
	}
	defer rt.withDeadline(parent)()
	rt.L.Push(fn)
	if err := rt.L.PCall(0, 0, nil); err != nil {
		return luaError(err)
	}
	return nil
}

// withDeadline sets the Lua state's context to parent with the Lua
// deadline, and returns the function that puts the previous one back
// (calls nest: include_recipe, a template rendered from a lua_block).
func (rt *runtime) withDeadline(parent context.Context) func() {
	prev := rt.L.Context()
	ctx, cancel := context.WithTimeout(parent, rt.opts.luaTimeout())
	rt.L.SetContext(ctx)
	return func() {
		cancel()
		if prev != nil {
			rt.L.SetContext(prev)
		} else {
			rt.L.RemoveContext()
		}
	}
}

// atEOF puts the last line of src on a syntax error found at end of file.
func atEOF(err error, src string) error {
	var le *LuaError
	if errors.As(err, &le) && le.Source.Line == 0 && le.Source.File != "" {
		le.Source.Line = strings.Count(strings.TrimRight(src, "\n"), "\n") + 1
	}
	return err
}

// call runs a Lua function held by a resource at converge time, with a
// deadline, and returns its first result converted to Go.
func (rt *runtime) call(ctx context.Context, f *LuaFunc, args ...any) (any, error) {
	restore := rt.withDeadline(ctx)
	defer restore()
	ctx = rt.L.Context()
	rt.L.Push(f.fn)
	for _, a := range args {
		rt.L.Push(toLua(rt.L, a))
	}
	if err := rt.L.PCall(len(args), 1, nil); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("lua function at %s: %w", f.src, ctx.Err())
		}
		return nil, luaError(err)
	}
	ret := rt.L.Get(-1)
	rt.L.Pop(1)
	return rt.toGo(ret)
}

// registerHelpers adds the non-resource functions recipes use.
func (rt *runtime) registerHelpers(L *lua.LState) {
	g := L.G.Global
	for _, h := range rt.helpers() {
		g.RawSetString(h.name, L.NewFunction(h.fn))
	}
	g.RawSetString("node", rt.pushView(L, &attrView{node: rt.node, merged: true}))
	g.RawSetString("validate", rt.validateTable(L))
	rt.registerCollectionHelpers(L)
	rt.addLibrarySearcher(L)
}

// luaHelper is one global function of a recipe.
type luaHelper struct {
	name string
	fn   lua.LGFunction
}

// helpers is the table of global functions registerHelpers sets, in
// order.
func (rt *runtime) helpers() []luaHelper {
	return []luaHelper{
		{"lazy", func(L *lua.LState) int {
			fn := L.CheckFunction(1)
			ud := L.NewUserData()
			ud.Value = &Lazy{fn: &LuaFunc{fn: fn, src: funcSource(fn, rt.where(1))}}
			L.Push(ud)
			return 1
		}},
		{"include_recipe", func(L *lua.LState) int {
			for i := 1; i <= L.GetTop(); i++ {
				if err := rt.includeRecipe(L.CheckString(i), rt.where(1)); err != nil {
					L.RaiseError("%s", err.Error())
				}
			}
			return 0
		}},
		{"data_bag", func(L *lua.LState) int {
			items, err := rt.dataBag(L.CheckString(1))
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			L.Push(toLua(L, items))
			return 1
		}},
		{"data_bag_item", func(L *lua.LState) int {
			item, err := rt.dataBagItem(L.CheckString(1), L.CheckString(2))
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			L.Push(toLua(L, item))
			return 1
		}},
		{"platform_is", rt.platformIs("platform")},
		{"platform_family_is", rt.platformIs("platform_family")},
		{"shell_out", rt.luaShellOut},
		{"file_exists", func(L *lua.LState) int {
			_, err := os.Stat(rt.opts.path(L.CheckString(1)))
			L.Push(lua.LBool(err == nil))
			return 1
		}},
		{"read_file", func(L *lua.LState) int {
			b, err := os.ReadFile(rt.opts.path(L.CheckString(1)))
			if err != nil {
				L.Push(lua.LNil)
				L.Push(lua.LString(err.Error()))
				return 2
			}
			L.Push(lua.LString(b))
			return 1
		}},
	}
}

// platformIs is platform_is / platform_family_is: true when the node's
// key is one of the arguments.
func (rt *runtime) platformIs(key string) lua.LGFunction {
	return func(L *lua.LState) int {
		have := rt.node.GetString(key)
		for i := 1; i <= L.GetTop(); i++ {
			if L.CheckString(i) == have {
				L.Push(lua.LTrue)
				return 1
			}
		}
		L.Push(lua.LFalse)
		return 1
	}
}

// addLibrarySearcher lets require "cb.mod" load libraries/mod.lua from a
// cookbook of the run.
func (rt *runtime) addLibrarySearcher(L *lua.LState) {
	pkg, _ := L.G.Global.RawGetString("package").(*lua.LTable)
	if pkg == nil {
		return
	}
	pkg.RawSetString("path", lua.LString(""))
	pkg.RawSetString("cpath", lua.LString(""))
	loaders, _ := pkg.RawGetString("loaders").(*lua.LTable)
	if loaders == nil {
		return
	}
	loaders.Append(L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		cbName, mod, ok := strings.Cut(name, ".")
		cb, found := rt.books.Get(cbName)
		if !ok || !found {
			L.Push(lua.LString(fmt.Sprintf("\n\tno cookbook library %q (want require \"cookbook.module\")", name)))
			return 1
		}
		rel := "libraries/" + strings.ReplaceAll(mod, ".", "/") + ".lua"
		src, err := fs.ReadFile(cb.FS, rel)
		if err != nil {
			L.Push(lua.LString("\n\tno file " + cb.Display(rel)))
			return 1
		}
		fn, err := compiledChunks.load(L, string(src), cb.Display(rel))
		if err != nil {
			L.RaiseError("%s", luaError(err).Error())
		}
		L.Push(fn)
		return 1
	}))
}

// strictGlobals makes reading an undefined global an error naming it, so a
// misspelt resource kind is caught at compile time with its line.
func (rt *runtime) strictGlobals(L *lua.LState) {
	mt := L.NewTable()
	L.SetField(mt, "__index", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(2)
		if rt.compiling {
			L.RaiseError("unknown resource kind or undefined name %q%s", name, suggest(name, rt.reg.Names()))
		}
		L.RaiseError("undefined name %q", name)
		return 0
	}))
	L.SetMetatable(L.G.Global, mt)
}
