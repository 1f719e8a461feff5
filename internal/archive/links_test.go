package archive

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, d := range []string{"a/b", "c"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "a/f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"dot": ".", "up": "dot/..", "in": "a/b/..", "ab": "a/b", "abup": "ab/../../c",
		"loop1": "loop2", "loop2": "loop1", "abs": "/etc", "gone": "missing/x",
		"gone2": "missing/../..", "a/b/rel": "../../c", "ff": "a/f/x",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		rel, want string
		dangling  bool
		unsafe    bool
	}{
		{rel: "a/b", want: "a/b"},
		{rel: "dot", want: "."},
		{rel: "in", want: "a"},
		{rel: "abup", want: "c"},
		{rel: "a/b/rel", want: "c"},
		{rel: "ab/rel/../a/b", want: "a/b"},
		{rel: "gone", want: "missing/x", dangling: true},
		{rel: "ff", want: "a/f/x", dangling: true},
		{rel: "up", unsafe: true},
		{rel: "up/victim", unsafe: true},
		{rel: "loop1", unsafe: true},
		{rel: "abs", unsafe: true},
		{rel: "gone2", unsafe: true},
		{rel: "..", unsafe: true},
	}
	for _, tt := range tests {
		got, dangling, err := Resolve(root, tt.rel)
		if tt.unsafe {
			if !errors.Is(err, ErrUnsafeArchive) {
				t.Errorf("Resolve(%q) = %q, %v, want ErrUnsafeArchive", tt.rel, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || dangling != tt.dangling {
			t.Errorf("Resolve(%q) = %q, %v, %v; want %q, %v", tt.rel, got, dangling, err, tt.want, tt.dangling)
		}
	}
}

func TestCheckLinks(t *testing.T) {
	t.Parallel()
	mk := func(t *testing.T, links map[string]string) string {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "d"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, target := range links {
			if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	if err := CheckLinks(mk(t, map[string]string{"x": "d", "d/y": "../x"}), false); err != nil {
		t.Fatalf("inside links: %v", err)
	}
	if err := CheckLinks(mk(t, map[string]string{"x": "nothing"}), false); !errors.Is(err, ErrUnsafeArchive) {
		t.Fatalf("dangling, not allowed: %v", err)
	}
	if err := CheckLinks(mk(t, map[string]string{"x": "nothing"}), true); err != nil {
		t.Fatalf("dangling, allowed: %v", err)
	}
	if err := CheckLinks(mk(t, map[string]string{"a": ".", "d/b": "../a/.."}), true); !errors.Is(err, ErrUnsafeArchive) {
		t.Fatalf("chain out: %v", err)
	}
}
