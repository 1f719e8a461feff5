package recipes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestProtoCacheCompilesOnce: the second load of the same chunk reuses
// the bytecode; another source under the same name compiles anew; a
// syntax error is L.Load's error and is not kept.
func TestProtoCacheCompilesOnce(t *testing.T) {
	t.Parallel()
	c := newProtoCache(8)
	L := lua.NewState()
	defer L.Close()
	f1, err := c.load(L, "return 1", "cb/recipes/default.lua")
	if err != nil {
		t.Fatal(err)
	}
	f2, _ := c.load(L, "return 1", "cb/recipes/default.lua")
	f3, _ := c.load(L, "return 2", "cb/recipes/default.lua")
	if f1.Proto != f2.Proto || f1.Proto == f3.Proto || f1 == f2 {
		t.Errorf("protos: same source shared %v, changed source shared %v, functions distinct %v",
			f1.Proto == f2.Proto, f1.Proto == f3.Proto, f1 != f2)
	}
	L.Push(f3)
	L.Call(0, 1)
	if got := L.Get(-1); got != lua.LNumber(2) {
		t.Errorf("changed chunk returned %v, want 2", got)
	}
	bad := "probe \"a\" {"
	_, want := L.Load(strings.NewReader(bad), "cb/recipes/bad.lua")
	for range 2 {
		if _, err := c.load(L, bad, "cb/recipes/bad.lua"); err == nil || err.Error() != want.Error() {
			t.Errorf("syntax error: %v, want %v", err, want)
		}
	}
	if hits, misses := c.stats(); hits != 1 || misses != 4 {
		t.Errorf("hits %d, misses %d; want 1, 4", hits, misses)
	}
	for i := range 20 { // bounded: never more than max entries
		c.load(L, "return "+string(rune('a'+i)), "x.lua")
	}
	if len(c.m) > c.max {
		t.Errorf("cache holds %d chunks, max %d", len(c.m), c.max)
	}
}

// TestProtoCacheHotReload: a cookbook file changed on disk between two
// runs of one process (the daemon, a site cookbook edited in place) is
// what the second run executes — recipe, attributes and library alike,
// even when the new file has the same size.
func TestProtoCacheHotReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	version := func(v string) {
		write("app/recipes/default.lua", `probe "r" { value = "`+v+`" }
probe "a" { value = node.app.v }
probe "l" { value = require("app.vals").v }
`)
		write("app/attributes/default.lua", `default.app.v = "`+v+`"`)
		write("app/libraries/vals.lua", `return { v = "`+v+`" }`)
	}
	p := newProbe()
	for _, v := range []string{"1", "2", "1"} {
		version(v)
		set, errs := LoadCookbooks(CookbookSource{FS: os.DirFS(dir), Origin: dir})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		r := runWith(t, p, set, nil, false, "app")
		if r.err != nil {
			t.Fatalf("run %s: %v\n%s", v, r.err, r.out)
		}
		for _, name := range []string{"r", "a", "l"} {
			if p.state[name] != v {
				t.Errorf("after version %s: probe[%s] = %q, want %q", v, name, p.state[name], v)
			}
		}
	}
}
