package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/stackagent/stackagent/internal/names"
	"github.com/stackagent/stackagent/lifecycle"
)

// validate checks the merged config, key by key in a fixed order, and
// returns the first fault as a ConfigError naming the key (loadConfig
// adds where it was set).
func (c *Config) validate() error {
	checks := []func() error{
		c.validateAWS, c.validateHost, c.validateQueue, c.validateOutput,
		c.validateHeal, c.validateStrictModes, c.validateCustomCookbooks,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// badKey is a fault in the value of key.
func badKey(key, format string, a ...any) error {
	return &ConfigError{Key: key, Msg: fmt.Sprintf(format, a...)}
}

// validateAWS checks the queue, endpoint, reply target and launch hook.
func (c *Config) validateAWS() error {
	if c.QueueURL != "" {
		u, err := url.Parse(c.QueueURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return badKey("queue_url", "%q is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", c.QueueURL)
		}
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return badKey("endpoint", "%q is not a URL", c.Endpoint)
		}
	}
	if c.ReplyTo != "" {
		if _, err := lifecycle.ParseReplyTarget(c.ReplyTo); err != nil {
			return badKey("reply_to", "%v", err)
		}
	}
	if (c.ASGName == "") != (c.LaunchHook == "") {
		key := "asg_name"
		if c.LaunchHook == "" {
			key = "launch_hook"
		}
		return badKey(key, "asg_name and launch_hook go together: the boot setup completes that group's launch hook")
	}
	return nil
}

// validateHost checks the plugin pins, the layers, the instance id and
// the state dir.
func (c *Config) validateHost() error {
	if _, err := c.pluginChecksums(); err != nil {
		return badKey("plugin_checksums", "%v", err)
	}
	for i, l := range c.Layers {
		if strings.TrimSpace(l) == "" {
			return badKey("layers", "item %d is empty", i+1)
		}
		if !names.Valid(l) {
			return badKey("layers", "item %d, %q: want %s", i+1, l, names.Grammar)
		}
	}
	if c.InstanceID != "" && !lifecycle.ValidInstanceID(c.InstanceID) {
		return badKey("instance_id", "%q: want an EC2 instance id (i- and 8 or 17 hex digits) or, outside EC2, %s", c.InstanceID, names.Grammar)
	}
	if c.StateDir == "" {
		return badKey("state_dir", "must not be empty")
	}
	return nil
}

// validateQueue checks polling, the settle time and what the journal keeps.
func (c *Config) validateQueue() error {
	if c.WaitSeconds < 1 || c.WaitSeconds > 20 {
		// 0 (short polling) is refused: the SQS source would take it as
		// its 20 s default, and short polls would spin on an empty queue.
		return badKey("wait_seconds", "%d: SQS long polling waits 1 to 20 seconds", c.WaitSeconds)
	}
	if c.VisibilityTimeout < 2*time.Second || c.VisibilityTimeout > 12*time.Hour {
		return badKey("visibility_timeout", "%s: want between 2s and 12h", c.VisibilityTimeout)
	}
	if c.ConfigureSettle < 0 || c.ConfigureSettle > 5*time.Minute {
		return badKey("configure_settle", "%s: want between 0 (off) and 5m", c.ConfigureSettle)
	}
	if c.JournalMaxAge < time.Hour {
		return badKey("journal_max_age", "%s: want at least 1h (a duplicate delivery after that would run again)", c.JournalMaxAge)
	}
	if c.KeepRuns < 1 {
		return badKey("keep_runs", "%d: keep at least 1", c.KeepRuns)
	}
	return nil
}

// validateOutput checks the metrics address and the log settings.
func (c *Config) validateOutput() error {
	if c.MetricsAddress != "" && c.MetricsAddress != "off" {
		if _, _, err := net.SplitHostPort(c.MetricsAddress); err != nil {
			return badKey("metrics_address", "%q: want host:port (e.g. 127.0.0.1:9127) or off", c.MetricsAddress)
		}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return badKey("log_level", "%q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return badKey("log_format", "%q: want text or json", c.LogFormat)
	}
	return nil
}

// validateHeal checks the drift correction and watchdog settings.
func (c *Config) validateHeal() error {
	if c.DriftInterval < 0 || (c.DriftInterval > 0 && c.DriftInterval < time.Second) {
		return badKey("drift_interval", "%s: want 0 (off) or at least 1s", c.DriftInterval)
	}
	if c.DriftSplay < 0 {
		return badKey("drift_splay", "%s: must not be negative", c.DriftSplay)
	}
	if c.WatchInterval < 0 || (c.WatchInterval > 0 && c.WatchInterval < 500*time.Millisecond) || c.WatchInterval > time.Hour {
		return badKey("watch_interval", "%s: want 0 (off) or between 500ms and 1h", c.WatchInterval)
	}
	if c.RepairMax < 1 {
		return badKey("repair_max", "%d: want at least 1", c.RepairMax)
	}
	if c.RepairWindow <= 0 {
		return badKey("repair_window", "%s: want a positive duration", c.RepairWindow)
	}
	return nil
}

// validateCustomCookbooks checks the custom_cookbooks block, naming the
// field at fault (custom_cookbooks.url).
func (c *Config) validateCustomCookbooks() error {
	if c.CustomCookbooks == nil {
		return nil
	}
	err := c.CustomCookbooks.Validate()
	if err == nil {
		return nil
	}
	var se *lifecycle.CookbookSourceError
	if errors.As(err, &se) {
		return badKey(se.Field, "%s", se.Msg)
	}
	return badKey("custom_cookbooks", "%v", err)
}

// pluginChecksums parses plugin_checksums into plugin name → sha256.
func (c *Config) pluginChecksums() (map[string]string, error) {
	if len(c.PluginChecksums) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for i, item := range c.PluginChecksums {
		name, sum, ok := strings.Cut(item, "=")
		sum = strings.ToLower(strings.TrimSpace(sum))
		if !ok || strings.TrimSpace(name) == "" || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("item %d %q: want NAME=SHA256 (64 hex digits)", i+1, item)
		}
		out[strings.TrimSpace(name)] = sum
	}
	return out, nil
}
