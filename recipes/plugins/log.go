package plugins

import (
	"context"
	"io"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger returns the hclog logger go-plugin writes to, forwarding
// every line to log: the plugin's own logs (read from its stderr, at the
// level it logged them) and go-plugin's messages about the process.
func newHCLogger(log *slog.Logger) hclog.Logger {
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Output: io.Discard, Level: hclog.Trace})
	l.RegisterSink(sink{log: log})
	return l
}

type sink struct{ log *slog.Logger }

func (s sink) Accept(_ string, level hclog.Level, msg string, args ...any) {
	lvl := slog.LevelDebug
	switch level {
	case hclog.Info:
		lvl = slog.LevelInfo
	case hclog.Warn:
		lvl = slog.LevelWarn
	case hclog.Error:
		lvl = slog.LevelError
	}
	ctx := context.Background() // hclog has no context; the record carries none
	if s.log.Enabled(ctx, lvl) {
		s.log.Log(ctx, lvl, msg, args...)
	}
}
