package resources

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/internal/atomicfile"
	"github.com/stackagent/stackagent/recipes"
)

// swapFileKind is Chef's swap_file: a file of size MB, made with
// fallocate (mode 0600), mkswap and swapon, and with persist a line in
// /etc/fstab; remove undoes all three. A file that is active at its size
// is up to date; another size is turned off, remade and turned on.
func swapFileKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "swap_file", Actions: []string{"create", "remove"}, DefaultAction: "create",
		Doc: "manage a swap file",
		Props: []recipes.Prop{
			{Name: "path", Type: recipes.String, NameProperty: true, Public: true},
			{Name: "size", Type: recipes.Int, Note: "megabytes; required to create"},
			{Name: "persist", Type: recipes.Bool, Default: false},
			{Name: "timeout", Type: recipes.Number, Default: 600.0},
		},
		Provider: recipes.ProviderFunc(planSwapFile),
		Validate: func(_ *recipes.RunContext, r *recipes.Resource) error { return checkSwapFile(r) },
	}
}

func checkSwapFile(r *recipes.Resource) error {
	if err := recipes.CheckPath("property path", r.Str("path")); err != nil {
		return err
	}
	if len(r.Actions) == 1 && r.Actions[0] == "remove" {
		return nil
	}
	if _, err := recipes.CheckInt("property size", r.Int("size"), 1, 1<<24); err != nil {
		return err
	}
	return nil
}

// swapActive reports whether file is in /proc/swaps.
func swapActive(file string) bool {
	b, _ := os.ReadFile("/proc/swaps")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.ReplaceAll(f[0], `\040`, " ") == file {
			return true
		}
	}
	return false
}

func planSwapFile(_ context.Context, rc *recipes.RunContext, r *recipes.Resource, action string) ([]recipes.Step, error) {
	if err := checkSwapFile(r); err != nil {
		return nil, err
	}
	display := r.Str("path")
	file := rc.Path(display)
	active := swapActive(file)
	fi, err := os.Lstat(file)
	exists := err == nil
	if exists && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", display)
	}
	tmo := secondsProp(r, "timeout")
	run := func(path string, args ...string) func(context.Context) error {
		return func(ctx context.Context) error {
			c := newCmd(path, args...)
			c.Timeout = tmo
			_, err := runOK(ctx, rc, c)
			return err
		}
	}
	var steps []recipes.Step
	if action == "remove" {
		if active {
			steps = append(steps, recipes.Step{Desc: "turn off swap " + display, Apply: run("swapoff", file)})
		}
		if exists {
			steps = append(steps, recipes.Step{Desc: "delete " + display, Apply: func(context.Context) error { return os.Remove(file) }})
		}
		return append(steps, fstabSwap(rc, display, false)...), nil
	}
	size := r.Int("size")
	if !active || !exists || fi.Size() != size<<20 {
		if active {
			steps = append(steps, recipes.Step{Desc: "turn off swap " + display, Apply: run("swapoff", file)})
		}
		steps = append(steps,
			recipes.Step{Desc: fmt.Sprintf("create a %d MB swap file %s", size, display), Apply: func(ctx context.Context) error {
				os.Remove(file)
				if err := run("fallocate", "-l", strconv.FormatInt(size, 10)+"M", file)(ctx); err != nil {
					return err
				}
				if err := os.Chmod(file, 0o600); err != nil {
					return err
				}
				return run("mkswap", file)(ctx)
			}},
			recipes.Step{Desc: "turn on swap " + display, Apply: run("swapon", file)})
	}
	return append(steps, fstabSwap(rc, display, r.Bool("persist"))...), nil
}

// fstabSwap plans the swap line of display in /etc/fstab: present when
// want, else absent.
func fstabSwap(rc *recipes.RunContext, display string, want bool) []recipes.Step {
	file := rc.Path("/etc/fstab")
	cur, err := os.ReadFile(file)
	if err != nil && !(os.IsNotExist(err) && want) {
		return nil
	}
	line := display + " none swap defaults 0 0"
	var keep []string
	found := false
	for _, l := range strings.Split(strings.TrimSuffix(string(cur), "\n"), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == display && f[2] == "swap" {
			found = found || l == line
			if !want || l != line {
				continue
			}
		}
		if l != "" || len(keep) > 0 {
			keep = append(keep, l)
		}
	}
	if want && !found {
		keep = append(keep, line)
	}
	next := strings.Join(keep, "\n") + "\n"
	if next == string(cur) || (len(keep) == 0 && len(cur) == 0) {
		return nil
	}
	verb := map[bool]string{true: "add", false: "remove"}[want]
	return []recipes.Step{{Desc: fmt.Sprintf("%s the /etc/fstab line of %s", verb, display), Apply: func(context.Context) error {
		return atomicfile.WriteFile(file, []byte(next), 0o644)
	}}}
}
