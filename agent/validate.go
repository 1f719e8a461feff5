package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/recipes"
)

func newValidateCmd() *cobra.Command {
	f := &runFlags{layout: processLayout()}
	cmd := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Compile cookbooks and report every error; converge nothing",
		Long: `Compile every recipe of every cookbook in DIR (default: the site cookbooks,
/etc/stackagent/cookbooks, and the embedded ones) and every template, and
report each error with its file and line. Exit 0 when all compile, 1 otherwise.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return validate(cmd.Context(), f, args, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringArrayVarP(&f.jsonAttrs, "json-attributes", "j", nil, "JSON attributes to compile with (repeatable)")
	cmd.Flags().StringVar(&f.root, "root", "", "prefix the default config paths with this directory")
	cmd.Flags().StringVar(&f.rolesDir, "roles", "", "directory of role JSON files")
	cmd.Flags().StringVar(&f.dataBagsDir, "data-bags", "", "directory of data bags")
	cmd.Flags().StringVar(&f.pluginDir, "plugin-dir", "", "directory of resource-provider plugins (default /usr/lib/stackagent/plugins)")
	return cmd
}

func validate(ctx context.Context, f *runFlags, args []string, out io.Writer) error {
	var names []string
	if len(args) == 1 {
		abs, err := filepath.Abs(args[0])
		if err != nil {
			return &exitError{1, err}
		}
		f.cookbookDirs = []string{abs}
		ents, err := os.ReadDir(abs)
		if err != nil {
			return &exitError{1, fmt.Errorf("validate: %w", err)}
		}
		for _, e := range ents {
			if e.IsDir() && e.Name()[0] != '.' {
				names = append(names, e.Name())
			}
		}
	}
	e := f.engine(ctx, nil)
	books, err := e.cookbooks()
	if err != nil {
		fmt.Fprintf(out, "%v\n", err)
		return &exitError{1, fmt.Errorf("%w: cookbooks did not load", errShown)}
	}
	if names == nil {
		for _, cb := range books.All() {
			names = append(names, cb.Name)
		}
	}
	warnRuby(books.All(), out)
	node, _, err := e.baseNode(f.jsonAttrs...)
	if err != nil {
		return &exitError{1, err}
	}
	reg, closePlugins := e.registry()
	defer closePlugins()
	sum, errs := recipes.Validate(ctx, recipes.Options{Registry: reg, Cookbooks: books, Node: node, WhyRun: true,
		RolesDir: e.rolesDir, DataBagsDir: e.dataBagsDir}, names)
	for _, e := range errs {
		fmt.Fprintf(out, "%v\n", e)
	}
	fmt.Fprintf(out, "%d cookbooks, %d recipes, %d resources, %d templates checked: %d errors\n",
		sum.Cookbooks, sum.Recipes, sum.Resources, sum.Templates, len(errs))
	if len(errs) > 0 {
		return &exitError{1, fmt.Errorf("%w: %d errors", errShown, len(errs))}
	}
	return nil
}
