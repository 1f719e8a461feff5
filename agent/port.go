package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/internal/port"
	"github.com/stackagent/stackagent/recipes"
)

func newPortCmd() *cobra.Command {
	f := &runFlags{layout: processLayout()}
	var out string
	cmd := &cobra.Command{
		Use:   "port [--out DIR] COOKBOOK_DIR...",
		Short: "Convert Chef cookbooks (Ruby) to Lua cookbooks, then validate them",
		Long: `Convert each Chef cookbook (a folder with metadata.rb or recipes/, or a
folder of them) to a Lua cookbook in --out (default ./ported): metadata,
attributes, recipes, definitions, deploy hooks and ERB templates. What port
cannot translate becomes "-- TODO(port): <reason>" and the original Ruby,
commented. The Ruby is read, never run. Prints a summary and validates the
output as "stackagent validate" does: exit 0 when it validates, 1 otherwise.
See docs/porting.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPort(cmd.Context(), f, out, args, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&out, "out", "ported", "directory the Lua cookbooks are written to")
	cmd.Flags().StringArrayVarP(&f.jsonAttrs, "json-attributes", "j", nil, "JSON attributes to validate with (repeatable)")
	return cmd
}

func runPort(ctx context.Context, f *runFlags, out string, dirs []string, w io.Writer) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return &exitError{1, err}
	}
	sum, err := port.Port(dirs, port.Options{Out: abs, Schema: registrySchema{newRegistry()}})
	if err != nil {
		return &exitError{1, err}
	}
	sum.Write(w)
	fmt.Fprintf(w, "validating %s\n", abs)
	verr := validate(ctx, f, []string{abs}, w)
	if len(sum.Errors) > 0 {
		return &exitError{1, fmt.Errorf("%w: port: %d errors", errShown, len(sum.Errors))}
	}
	return verr
}

// registrySchema is the engine's kinds as the converter sees them.
type registrySchema struct{ reg *recipes.Registry }

func (s registrySchema) Has(kind, prop string) bool {
	k, ok := s.reg.Lookup(kind)
	if !ok || prop == "" {
		return ok
	}
	for _, p := range k.Props {
		if p.Name == prop {
			return true
		}
	}
	return false
}

// rubyFiles lists the .rb files of a cookbook folder (a half-finished
// port), relative to it.
func rubyFiles(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != dir {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".rb") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// warnRuby tells, for each site cookbook, which Ruby files validate (and
// the engine) ignore.
func warnRuby(books []*recipes.Cookbook, w io.Writer) {
	for _, cb := range books {
		if strings.HasPrefix(cb.Origin, "embedded:") {
			continue
		}
		if rb := rubyFiles(cb.Origin); len(rb) > 0 {
			fmt.Fprintf(w, "%s: Ruby files are ignored (only .lua recipes, attributes and libraries are read): %s; convert them with: stackagent port --out DIR %s\n",
				cb.Origin, strings.Join(rb, ", "), cb.Origin)
		}
	}
}
