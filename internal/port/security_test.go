package port

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSymlinkLeavingCookbookRefused: a recipe that is a link to a file
// outside the cookbook is not read (nor copied into the output).
func TestSymlinkLeavingCookbookRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.rb")
	writeFiles(t, dir, map[string]string{
		"secret.rb":             "package 'TOP-SECRET'\n",
		"cb/metadata.rb":        "name 'cb'\n",
		"cb/recipes/default.rb": "package 'ok'\n",
	})
	if err := os.Symlink(secret, filepath.Join(dir, "cb/recipes/leak.rb")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(dir, filepath.Join(dir, "cb/files")); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	sum, err := Port([]string{filepath.Join(dir, "cb")}, Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range sum.Errors {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "recipes/leak.rb: refused: a symbolic link leading out of the cookbook") ||
		!strings.Contains(all, "cb/files: refused: a symbolic link leading out of the cookbook") {
		t.Fatalf("errors = %s", all)
	}
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), "TOP-SECRET") {
				t.Errorf("%s holds the linked file's text", p)
			}
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(out, "cb/recipes/default.lua")); err != nil {
		t.Errorf("the good recipe was not written: %v", err)
	}
}

// TestOutputNamesThroughGrammar: a cookbook name or file name that is not
// a name never becomes a path (no writing outside --out).
func TestOutputNamesThroughGrammar(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"evil/metadata.rb":        "name '../../escape'\n",
		"evil/recipes/default.rb": "package 'x'\n",
		"good/metadata.rb":        "name 'good'\n",
		"good/recipes/a b.rb":     "package 'x'\n",
		"good/recipes/default.rb": "package 'x'\n",
	})
	out := filepath.Join(t.TempDir(), "out")
	sum, err := Port([]string{dir}, Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range sum.Errors {
		msgs = append(msgs, e.Error())
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, `invalid cookbook name "../../escape"`) || !strings.Contains(all, `"a b.lua"`) {
		t.Fatalf("errors = %s", all)
	}
	if _, err := os.Stat(filepath.Join(out, "..", "..", "escape")); err == nil {
		t.Fatal("wrote outside --out")
	}
	if _, err := os.Stat(filepath.Join(out, "good/recipes/default.lua")); err != nil {
		t.Fatal(err)
	}
}
