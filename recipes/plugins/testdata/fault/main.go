// Command fault is a plugin for the host's tests: kind "fault" misbehaves
// as its mode property says. Its protocol version is read from the file
// <binary>.protocol when there is one, to test a bad handshake.
package main

import (
	"context"
	"os"
	"strconv"
	"strings"

	"github.com/stackagent/stackagent/proto/sdk"
)

type fault struct{}

func (fault) Schema(context.Context) ([]sdk.Kind, error) {
	return []sdk.Kind{{Name: "fault", Actions: []string{"run"}, DefaultAction: "run", Doc: "misbehave",
		Props: []sdk.Prop{
			{Name: "mode", Type: sdk.String, Default: "ok", OneOf: []string{"ok", "noop", "hang_load", "die_in_apply", "block_apply"}},
			{Name: "marker", Type: sdk.String},
			{Name: "count", Type: sdk.Int, Default: int64(3)},
		}}}, nil
}

func (fault) Load(ctx context.Context, r *sdk.Resource) (sdk.State, error) {
	if r.Str("mode") == "hang_load" {
		select {} // ignores its context: only the host's timeout ends it
	}
	if r.Str("mode") != "noop" {
		r.Log.Warn("loading", "count", r.Int("count"))
	}
	return sdk.State{}, nil
}

func (fault) Test(_ context.Context, r *sdk.Resource, _ sdk.State) ([]sdk.Change, error) {
	if r.Str("mode") == "noop" { // up to date
		return nil, nil
	}
	return []sdk.Change{{Desc: "do the thing"}}, nil
}

func (fault) Apply(ctx context.Context, r *sdk.Resource, _ sdk.State) error {
	if m := r.Str("marker"); m != "" {
		if err := os.WriteFile(m, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			return err
		}
	}
	switch r.Str("mode") {
	case "die_in_apply":
		// A panic outside the SDK's handlers takes the process down.
		go func() { panic("fault: dying on purpose") }()
		<-ctx.Done()
		return ctx.Err()
	case "block_apply": // until the test kills the process, or the run is cancelled
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func main() {
	// argv[0] is the plugin's path (the agent execs a sealed copy, so
	// os.Executable is a memfd).
	exe := os.Args[0]
	if b, err := os.ReadFile(exe + ".protocol"); err == nil {
		v, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		sdk.ServeVersion(fault{}, uint(v))
		return
	}
	sdk.Serve(fault{})
}
