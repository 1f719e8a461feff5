package recipes

import (
	"crypto/sha256"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// protoCache holds compiled Lua chunks (recipes, attributes files,
// libraries, templates) by chunk name and the sha256 of their source, so
// a file is parsed and compiled once per process however many runs load
// it: a no-op converge spent half its time compiling. A changed file
// (a hot-reloaded cookbook) has another sum and compiles anew; a chunk
// that does not compile is never cached. gopher-lua's FunctionProto is
// read-only once compiled and shared by any number of LStates.
type protoCache struct {
	mu  sync.Mutex
	m   map[protoKey]*lua.FunctionProto
	max int // entries kept; when full, one is dropped per new one
	// hits and misses count lookups (for tests and benchmarks).
	hits, misses int
}

type protoKey struct {
	name string
	sum  [sha256.Size]byte
}

// compiledChunks is the process's cache. It is memoisation of a pure
// function (source and name to bytecode), not state a run can observe:
// a bounded package-level cache, like a compiled regexp.
var compiledChunks = newProtoCache(256)

func newProtoCache(max int) *protoCache {
	return &protoCache{m: map[protoKey]*lua.FunctionProto{}, max: max}
}

// load returns src compiled as a function of L (its globals as the
// environment), as L.Load does, from the cache when it holds it. Errors
// are L.Load's: a *lua.ApiError of type ApiErrorSyntax.
func (c *protoCache) load(L *lua.LState, src, name string) (*lua.LFunction, error) {
	key := protoKey{name: name, sum: sha256.Sum256([]byte(src))}
	c.mu.Lock()
	p := c.m[key]
	if p != nil {
		c.hits++
	} else {
		c.misses++
	}
	c.mu.Unlock()
	if p == nil {
		var err error
		if p, err = compileChunk(src, name); err != nil {
			return nil, err
		}
		c.put(key, p)
	}
	return L.NewFunctionFromProto(p), nil
}

func (c *protoCache) put(key protoKey, p *lua.FunctionProto) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = p
}

// stats returns the lookups that found a chunk and those that compiled.
func (c *protoCache) stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

// compileChunk parses and compiles a chunk as LState.Load does.
func compileChunk(src, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, syntaxError(err)
	}
	p, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, syntaxError(err)
	}
	return p, nil
}

func syntaxError(err error) *lua.ApiError {
	return &lua.ApiError{Type: lua.ApiErrorSyntax, Object: lua.LString(err.Error()), Cause: err}
}
