package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=1.2.3".
var version = "0.0.0-dev"

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the agent's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
		},
	}
}

// versionLine is what `stackagent version` and `stackagent --version`
// print: the version, the Go toolchain, the platform, the Lua engine.
func versionLine() string {
	lua := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/yuin/gopher-lua" {
				lua = d.Version
			}
		}
	}
	return fmt.Sprintf("stackagent %s (%s %s/%s, gopher-lua %s)", version, runtime.Version(), runtime.GOOS, runtime.GOARCH, lua)
}
