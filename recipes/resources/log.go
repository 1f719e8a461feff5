package resources

import (
	"context"
	"log/slog"

	"github.com/stackagent/stackagent/recipes"
)

// logKind is Chef's log resource: `log "message" { level = "warn" }`.
// Writing a message changes nothing on the host, so it never counts as an
// update (a second run still reports 0 resources updated).
func logKind() *recipes.Kind {
	return &recipes.Kind{
		Name: "log", Actions: []string{"write"}, DefaultAction: "write",
		Doc: "write a message to the run's log",
		Props: []recipes.Prop{
			{Name: "message", Type: recipes.String, NameProperty: true},
			{Name: "level", Type: recipes.String, Default: "info", OneOf: []string{"debug", "info", "warn", "error", "fatal"}},
		},
		Provider: recipes.ProviderFunc(planLog),
	}
}

func planLog(ctx context.Context, rc *recipes.RunContext, r *recipes.Resource, _ string) ([]recipes.Step, error) {
	lvl := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn,
		"error": slog.LevelError, "fatal": slog.LevelError}[r.Str("level")]
	msg := rc.Redact(r.Str("message"))
	if r.Sensitive {
		msg = "*sensitive value suppressed*"
	}
	rc.Log.Log(ctx, lvl, msg, "resource", rc.Redact(r.ID()))
	return nil, nil
}
