package jsontree

import (
	"reflect"
	"strings"
	"testing"
)

func TestMergeCopiesAndReplaces(t *testing.T) {
	t.Parallel()
	dst := map[string]any{"a": map[string]any{"x": int64(1), "l": []any{"old"}}, "k": "keep"}
	src := map[string]any{"a": map[string]any{"y": "new", "l": []any{"n1", "n2"}}, "m": map[string]any{"z": true}}
	Merge(dst, src)
	want := map[string]any{"a": map[string]any{"x": int64(1), "y": "new", "l": []any{"n1", "n2"}}, "k": "keep", "m": map[string]any{"z": true}}
	if !reflect.DeepEqual(dst, want) {
		t.Fatalf("merged %v, want %v", dst, want)
	}
	src["m"].(map[string]any)["z"] = false // dst holds a copy
	src["a"].(map[string]any)["l"].([]any)[0] = "changed"
	if !reflect.DeepEqual(dst, want) {
		t.Fatalf("merge shares src: %v", dst)
	}
}

func TestCopyIsDeep(t *testing.T) {
	t.Parallel()
	in := map[string]any{"m": map[string]any{"l": []any{"a"}}, "s": []string{"x"}}
	out := Copy(in).(map[string]any)
	in["m"].(map[string]any)["l"].([]any)[0] = "b"
	if got := out["m"].(map[string]any)["l"].([]any)[0]; got != "a" {
		t.Fatalf("copy shares a list: %v", got)
	}
	if !reflect.DeepEqual(out["s"], []any{"x"}) {
		t.Fatalf("[]string copied as %#v, want []any", out["s"])
	}
}

func TestParseObject(t *testing.T) {
	t.Parallel()
	m, err := ParseObject("a.json", []byte(`{"n": 9007199254740993, "f": 1.5}`))
	if err != nil || m["n"] != int64(9007199254740993) || m["f"] != 1.5 {
		t.Fatalf("got %#v, %v", m, err)
	}
	for in, want := range map[string]string{
		"{\n\"a\": 1,\n}": "a.json: line 3, column 1",
		"[1]":             "a.json: line 1, column 2",
		"{} {}":           "more than one JSON value",
		"null":            "want a JSON object",
	} {
		if _, err := ParseObject("a.json", []byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseObject(%q) = %v, want %q", in, err, want)
		}
	}
}
