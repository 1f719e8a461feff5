package sdk

import (
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// ProtocolVersion is the version of the plugin protocol this SDK speaks
// (provider/v1). History, kept in step with provider.proto:
//
//	1  first version: Schema, Load, Test, Apply.
const ProtocolVersion = 1

// PluginName is the name of the one plugin a stackagent plugin binary
// serves (go-plugin can serve several per binary).
const PluginName = "provider"

// Handshake is the go-plugin handshake of stackagent plugins: the magic
// cookie tells a plugin it was started by the agent (run by hand, it
// says so and exits); the protocol version must match the agent's.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "STACKAGENT_PLUGIN",
	MagicCookieValue: "provider",
}

// Serve serves p to the agent that started this process and returns when
// the agent stops it. Call it from main.
func Serve(p Provider) {
	ServeVersion(p, ProtocolVersion)
}

// ServeVersion is Serve speaking another protocol version; it exists to
// test the agent's refusal of a plugin built for another version.
func ServeVersion(p Provider, version uint) {
	hs := Handshake
	hs.ProtocolVersion = version
	log := NewLogger(os.Stderr)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         plugin.PluginSet{PluginName: &GRPCPlugin{Impl: p, Log: log}},
		GRPCServer:      plugin.DefaultGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Output: os.Stderr, JSONFormat: true, Level: hclog.Warn,
		}),
	})
}

// NewLogger returns a logger writing JSON lines that go-plugin, on the
// agent's side, reads from the plugin's stderr and re-logs through the
// agent's logger at the same level.
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.Attr{} // the agent's logger stamps the time
			case slog.LevelKey:
				return slog.String("@level", strings.ToLower(a.Value.String()))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	}))
}
