package port

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/yuin/gopher-lua/parse"

	"github.com/stackagent/stackagent/internal/names"
)

// Options configure Port.
type Options struct {
	// Out is the directory the Lua cookbooks are written to (one folder
	// per cookbook); nothing is written outside it.
	Out string
	// Schema is the engine's resource kinds; nil accepts every kind.
	Schema Schema
}

// Summary is what Port did.
type Summary struct {
	Cookbooks []string
	Files     int      // files written
	Skipped   []string // Ruby files not converted (libraries, LWRPs…), with why
	Errors    []error  // refused input, output that failed a check
	Stats
}

// Port converts each Chef cookbook in dirs (a cookbook: a folder with
// metadata.rb or recipes/; otherwise a folder of cookbooks) into
// opts.Out/NAME. It reads the Ruby, never runs it.
func Port(dirs []string, opts Options) (*Summary, error) {
	sum := &Summary{Stats: Stats{Todos: map[string]int{}}}
	var books []string
	for _, d := range dirs {
		found, err := findCookbooks(d)
		if err != nil {
			return nil, err
		}
		books = append(books, found...)
	}
	if len(books) == 0 {
		return nil, fmt.Errorf("port: no cookbook (metadata.rb or recipes/) in %s", strings.Join(dirs, ", "))
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("port: %w", err)
	}
	out, err := os.OpenRoot(opts.Out)
	if err != nil {
		return nil, fmt.Errorf("port: %w", err)
	}
	defer out.Close()
	cbs := make([]*cookbook, 0, len(books))
	defs := map[string]string{}
	for _, dir := range books {
		cb, err := openCookbook(dir)
		if err != nil {
			sum.Errors = append(sum.Errors, err)
			continue
		}
		defer cb.root.Close()
		for d, mod := range cb.definitionNames() {
			defs[d] = mod
		}
		cbs = append(cbs, cb)
	}
	for _, cb := range cbs {
		w := &writer{out: out, cb: cb, sum: sum, schema: opts.Schema, defs: defs}
		w.run()
		sum.Cookbooks = append(sum.Cookbooks, cb.name)
	}
	return sum, nil
}

// findCookbooks returns dir when it is a cookbook, else its sub-folders
// that are.
func findCookbooks(dir string) ([]string, error) {
	if isCookbook(dir) {
		return []string{dir}, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("port: %w", err)
	}
	var out []string
	for _, e := range ents {
		sub := filepath.Join(dir, e.Name())
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && isCookbook(sub) {
			out = append(out, sub)
		}
	}
	return out, nil
}

func isCookbook(dir string) bool {
	for _, f := range []string{"metadata.rb", "recipes"} {
		if _, err := os.Lstat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// cookbook is one input cookbook, read through an os.Root so that no
// link leads out of it.
type cookbook struct {
	dir  string
	name string
	root *os.Root
	meta Metadata
}

func openCookbook(dir string) (*cookbook, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("port: %w", err)
	}
	cb := &cookbook{dir: dir, root: root, name: filepath.Base(dir)}
	if src, err := cb.read("metadata.rb"); err == nil {
		cb.meta, _ = ParseMetadata(src)
		if cb.meta.Name != "" {
			cb.name = cb.meta.Name
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		root.Close()
		return nil, err
	}
	if err := names.Check(filepath.Join(dir, "metadata.rb")+": name", "cookbook name", cb.name); err != nil {
		root.Close()
		return nil, fmt.Errorf("port: %w", err)
	}
	cb.meta.Name = cb.name
	if cb.meta.Depends == nil {
		cb.meta.Depends = []string{}
	}
	return cb, nil
}

// read returns a file of the cookbook; a link leaving the cookbook is
// refused by the os.Root.
func (cb *cookbook) read(rel string) (string, error) {
	b, err := cb.root.ReadFile(rel)
	if err != nil {
		if fi, lerr := cb.root.Lstat(rel); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("port: %s: refused: a symbolic link leading out of the cookbook (%w)", filepath.Join(cb.dir, rel), err)
		}
		return "", fmt.Errorf("port: read %s: %w", filepath.Join(cb.dir, rel), err)
	}
	return string(b), nil
}

func (cb *cookbook) files(dir string) []string {
	var out []string
	fs.WalkDir(cb.root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// definitionNames maps each definition of the cookbook to the Lua module
// it is ported to (definitions/web_app.rb → COOKBOOK.web_app).
func (cb *cookbook) definitionNames() map[string]string {
	out := map[string]string{}
	for _, f := range cb.files("definitions") {
		base := strings.TrimSuffix(path.Base(f), ".rb")
		if !strings.HasSuffix(f, ".rb") || !luaName(base) {
			continue
		}
		if src, err := cb.read(f); err == nil {
			for _, d := range DefinitionNames(src) {
				out[d] = cb.name + "." + base
			}
		}
	}
	for _, f := range cb.files("resources") {
		if kind, mod, ok := resourceKind(cb.name, path.Base(f)); ok && strings.HasSuffix(f, ".rb") && path.Dir(f) == "resources" {
			out[kind] = cb.name + "." + mod
		}
	}
	return out
}

// writer converts the files of one cookbook.
type writer struct {
	out    *os.Root
	cb     *cookbook
	sum    *Summary
	schema Schema
	defs   map[string]string
}

func (w *writer) fail(err error) { w.sum.Errors = append(w.sum.Errors, err) }

// checkRel refuses an output path any of whose parts is not a name.
func checkRel(rel string) error {
	for _, part := range strings.Split(rel, "/") {
		if !names.Valid(part) || part == "." || part == ".." {
			return fmt.Errorf("port: output file %q: part %q: want %s", rel, part, names.Grammar)
		}
	}
	return nil
}

// write puts data at out/COOKBOOK/rel.
func (w *writer) write(rel string, data []byte) {
	rel = path.Join(w.cb.name, rel)
	if err := checkRel(rel); err != nil {
		w.fail(err)
		return
	}
	if strings.HasSuffix(rel, ".lua") {
		if _, err := parse.Parse(strings.NewReader(string(data)), rel); err != nil {
			w.fail(fmt.Errorf("port: %s: the Lua written does not parse (a bug of port; please report it): %v", rel, err))
		}
	}
	if err := w.out.MkdirAll(path.Dir(rel), 0o755); err != nil {
		w.fail(fmt.Errorf("port: %w", err))
		return
	}
	if err := w.out.WriteFile(rel, data, 0o644); err != nil {
		w.fail(fmt.Errorf("port: %w", err))
		return
	}
	w.sum.Files++
}

func (w *writer) run() {
	w.write("metadata.json", w.cb.meta.JSON())
	for _, f := range w.cb.files(".") {
		if f == "metadata.rb" || f == "metadata.json" {
			continue
		}
		if err := w.file(f); err != nil {
			w.fail(err)
		}
	}
}

// file converts or copies one input file by where it is.
func (w *writer) file(f string) error {
	dir, base := path.Split(f)
	dir = strings.TrimSuffix(dir, "/")
	top, _, _ := strings.Cut(f, "/")
	display := path.Join(w.cb.name, f)
	switch {
	case strings.HasPrefix(base, "."):
		return nil
	case top == "templates":
		return w.template(f, base)
	case top == "files":
		src, err := w.cb.read(f)
		if err != nil {
			return err
		}
		w.write(f, []byte(src))
	case !strings.HasSuffix(base, ".rb"):
		w.sum.Skipped = append(w.sum.Skipped, display+": not a cookbook file port knows; copy it by hand if needed")
	case dir == "recipes" || dir == "attributes" || dir == "deploy":
		return w.ruby(f, dir, base, display)
	case dir == "definitions":
		src, err := w.cb.read(f)
		if err != nil {
			return err
		}
		mod := strings.TrimSuffix(base, ".rb")
		if !luaName(mod) {
			return fmt.Errorf("port: %s: a definitions file name must be a Lua name ([A-Za-z_][A-Za-z0-9_]*) to become a module", display)
		}
		lua, _, st := Definition(src, display, w.schema, w.defs)
		w.sum.add(st)
		w.write(path.Join("libraries", mod+".lua"), []byte(lua))
	case dir == "resources":
		kind, mod, ok := resourceKind(w.cb.name, base)
		if !ok {
			return fmt.Errorf("port: %s: a custom resource file and its cookbook need Lua names ([A-Za-z_][A-Za-z0-9_]*)", display)
		}
		src, err := w.cb.read(f)
		if err != nil {
			return err
		}
		lua, st := Resource(src, display, kind, w.schema, w.defs)
		w.sum.add(st)
		w.write(path.Join("libraries", mod+".lua"), []byte(lua))
	default:
		w.sum.Skipped = append(w.sum.Skipped, display+": TODO(port): "+skipReason(dir))
		w.sum.Todos[skipReason(dir)]++
	}
	return nil
}

// template copies a template, converting an ERB one to a Lua template.
func (w *writer) template(f, base string) error {
	src, err := w.cb.read(f)
	if err != nil {
		return err
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(f, "templates/default/"), "templates/")
	if !strings.HasSuffix(base, ".erb") {
		w.write(path.Join("templates", rel), []byte(src))
		return nil
	}
	lua, st := Template(src)
	w.sum.add(st)
	w.write(path.Join("templates", rel), []byte(lua))
	return nil
}

// ruby converts a recipe, attributes file or deploy hook (dir) to Lua.
func (w *writer) ruby(f, dir, base, display string) error {
	src, err := w.cb.read(f)
	if err != nil {
		return err
	}
	var lua string
	var st Stats
	switch dir {
	case "recipes":
		lua, st = Recipe(src, display, w.schema, w.defs)
	case "attributes":
		lua, st = Attributes(src, display)
	default:
		lua, st = Hook(src, display)
	}
	w.sum.add(st)
	w.write(path.Join(dir, strings.TrimSuffix(base, ".rb")+".lua"), []byte(lua))
	return nil
}

func skipReason(dir string) string {
	switch dir {
	case "libraries":
		return "Ruby library (write it as a Lua module in libraries/)"
	case "providers":
		return "LWRP provider (write its actions in the resource's Lua function, or a plugin)"
	}
	return "Ruby file in " + dir + "/"
}

// Write prints the summary.
func (s *Summary) Write(w io.Writer) {
	for _, sk := range s.Skipped {
		fmt.Fprintf(w, "skipped %s\n", sk)
	}
	fmt.Fprintf(w, "%d cookbooks (%s), %d files written\n", len(s.Cookbooks), strings.Join(s.Cookbooks, ", "), s.Files)
	fmt.Fprintf(w, "resources: %d of %d converted with no TODO (%s)\n", s.ResourcesClean, s.Resources, percent(s.ResourcesClean, s.Resources))
	fmt.Fprintf(w, "template lines with Ruby: %d of %d converted (%s)\n", s.TemplateClean, s.TemplateLines, percent(s.TemplateClean, s.TemplateLines))
	var reasons []string
	total := 0
	for r, n := range s.Todos {
		reasons = append(reasons, fmt.Sprintf("  %4d  %s", n, r))
		total += n
	}
	sort.Strings(reasons)
	fmt.Fprintf(w, "TODOs: %d\n", total)
	for _, r := range reasons {
		fmt.Fprintln(w, r)
	}
	for _, err := range s.Errors {
		fmt.Fprintf(w, "error: %v\n", err)
	}
}

func percent(a, b int) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}
