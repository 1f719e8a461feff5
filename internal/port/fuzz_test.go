package port

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: no input makes the parser or the emitters panic or loop,
// and whatever they write parses as Lua (scripts/fuzz.sh runs it).
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/cookbooks/*/*/*.rb")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"x = <<~A\n#{<<-B}\nB\nA\n", "%w[", "a ? b : c", "p(*a, **b, &c)", "\"#{\"#{1}\"}\"", ":\"a#{1}\"",
		"foo do |a, (b, c)| end", "case\nwhen 1 then 2\nend", "<<A", "=begin\n", "x = y = z", "a.b.c = 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		lua, _ := Recipe(src, "f.rb", testKinds, map[string]string{"web_app": "x.web_app"})
		luaParses(t, lua)
		attrs, _ := Attributes(src, "f.rb")
		luaParses(t, attrs)
		res, _ := Resource(src, "f.rb", "cb_r", testKinds, nil)
		luaParses(t, res)
		def, _, _ := Definition(src, "f.rb", testKinds, nil)
		luaParses(t, def)
		hook, _ := Hook(src, "f.rb")
		luaParses(t, hook)
		if tpl, _ := Template(src); strings.Count(tpl, "\n") != strings.Count(src, "\n") {
			t.Fatalf("template line count changed")
		}
	})
}
