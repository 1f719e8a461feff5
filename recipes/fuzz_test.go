package recipes

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/internal/jsontree"
)

// Fuzz targets: attribute merge, Lua conversion, ERB templates. Seeds are
// the audit's findings (deep nesting, huge numbers, secret references,
// keys with dots and path tricks) and the template edge cases. Run one
// with `go test ./recipes -run '^$' -fuzz FuzzERB -fuzztime 30s`.

const fuzzMaxInput = 64 << 10

func fuzzRuntime() *runtime {
	opts := &Options{Node: NewNode("fuzz"), Registry: NewRegistry()}
	opts.defaults()
	return newRuntime(context.Background(), opts)
}

func decodeObject(b []byte) (map[string]any, bool) {
	if len(b) > fuzzMaxInput {
		return nil, false
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	if d.Decode(&m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

// FuzzAttributeMerge: two JSON objects merged at default and normal
// level; the normal value of a scalar wins, Get returns copies, the
// credential scan never fails.
func FuzzAttributeMerge(f *testing.F) {
	f.Add([]byte(`{"a":{"x":1,"l":[1,2]}}`), []byte(`{"a":{"x":2,"l":[3]}}`))
	f.Add([]byte(`{"n":1e400}`), []byte(`{"n":-1e400}`))
	f.Add([]byte(`{"db":{"password":{"secret":"ssm:/p"}}}`), []byte(`{"db":{"password":"plain"}}`))
	f.Add([]byte(`{"../../x":{"role[../x]":null}}`), []byte(`{"":{"":[]}}`))
	f.Add([]byte(strings.Repeat(`{"a":`, 200)+"1"+strings.Repeat("}", 200)), []byte(`{"a":"s"}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		ma, ok1 := decodeObject(a)
		mb, ok2 := decodeObject(b)
		if !ok1 || !ok2 {
			return
		}
		n := NewNode("fuzz")
		n.Merge(Default, ma)
		n.Merge(Normal, mb)
		merged := n.Merged()
		for k, v := range jsontree.Normalize(mb).(map[string]any) {
			if _, isMap := v.(map[string]any); isMap {
				continue
			}
			if !reflect.DeepEqual(merged[k], v) {
				t.Fatalf("normal %q = %#v, merged has %#v", k, v, merged[k])
			}
		}
		merged["__mutated"] = true
		if _, ok := n.Get("__mutated"); ok {
			t.Fatal("Merged returned the node's own map")
		}
		credentialValues(merged)
	})
}

// FuzzLuaConversion: a JSON value through Lua and back is stable after
// the first trip, and coerce never panics on it.
func FuzzLuaConversion(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `[1,2.5,"x",true]`, `{"1":"a","2":"b"}`,
		`{"n":1e308,"m":-0.0,"big":9007199254740993}`, `{"s":"\u0000\uffff]]--"}`, `[]`, `{}`, `[[[[[]]]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > fuzzMaxInput {
			return
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		rt := fuzzRuntime()
		defer rt.L.Close()
		once, err := rt.toGo(toLua(rt.L, jsontree.Normalize(v)))
		if err != nil {
			t.Fatalf("toGo: %v", err)
		}
		twice, err := rt.toGo(toLua(rt.L, once))
		if err != nil {
			t.Fatalf("toGo again: %v", err)
		}
		if !reflect.DeepEqual(once, twice) {
			t.Fatalf("not stable: %#v then %#v", once, twice)
		}
		for _, typ := range []Type{String, Int, Number, Bool, StringList, Map, List, Mode} {
			coerce(typ, once)
		}
	})
}

// plainCode tells whether the template's Lua is only expressions without
// calls or loops: rendering anything else fuzzes Lua's standard library
// (string.rep of a billion, a pattern that backtracks), which no
// deadline interrupts, rather than the ERB compiler. Templates come from
// cookbooks, which are trusted as root (docs/security.md).
func plainCode(src string) bool {
	for {
		i := indexTag(src)
		if i < 0 {
			return true
		}
		end := strings.Index(src[i:], "%>")
		if end < 0 {
			return true
		}
		code := src[i+2 : i+end]
		src = src[i+end+2:]
		if strings.ContainsAny(code, "():[{") {
			return false
		}
		for _, w := range strings.FieldsFunc(code, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') }) {
			switch w {
			case "while", "repeat", "for", "goto", "function", "until":
				return false
			}
		}
	}
}

// FuzzERB: any template compiles to Lua or fails with an error; text
// without tags renders as itself; nothing panics or runs past its
// deadline.
func FuzzERB(f *testing.F) {
	for _, s := range []string{"plain text\n", "<%= 1 + 1 %>", "<%- x -%>\n", "<%% literal %%>", "<% for i=1,3 do %><%= i %><% end %>",
		"unclosed <%= x", "<%# comment %>", "]] os.exit(1) [[", "\"quote\" \\ back", "tab\t\x00nul \x7f del é \u200b zw",
		"<%= node.x %>", "<%= %>", "<% while true do end %>", "a -%>\r\n", "<%=\n1\n%>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > fuzzMaxInput {
			return
		}
		code, err := compileERB(src)
		if err != nil {
			return
		}
		rt := fuzzRuntime()
		defer rt.L.Close()
		tmpl, err := rt.compileTemplate(src, "fuzz.erb")
		if err != nil || !plainCode(src) {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		out, err := rt.render(ctx, tmpl, map[string]any{"x": "v"})
		if indexTag(src) < 0 {
			want := strings.ReplaceAll(strings.ReplaceAll(src, "<%%", "<%"), "%%>", "%>")
			if err != nil || out != want {
				t.Fatalf("text %q rendered %q (%v)\nLua: %s", src, out, err, code)
			}
		}
	})
}
