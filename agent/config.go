package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/stackagent/stackagent/internal/names"
	"github.com/stackagent/stackagent/lifecycle"
)

// Config is /etc/stackagent/agent.yaml. Every key can be overridden by a
// flag of the same name with dashes (--queue-url) and by an environment
// variable STACKAGENT_<KEY> (STACKAGENT_QUEUE_URL); flag beats
// environment beats file beats default. Lists are comma-separated in
// flags and the environment.
type Config struct {
	// QueueURL is the SQS lifecycle queue; empty means the local inbox.
	QueueURL string `yaml:"queue_url"`
	Region   string `yaml:"region"`
	// Endpoint overrides the AWS endpoint (tests, VPC endpoints).
	Endpoint string `yaml:"endpoint"`
	// Identity: otherwise instance id from IMDSv2 (or the host name off
	// EC2), layers from here.
	InstanceID string   `yaml:"instance_id"`
	Stack      string   `yaml:"stack"`
	Layers     []string `yaml:"layers"`
	// ReplyTo is an SQS queue URL or an SNS topic ARN for results.
	ReplyTo       string   `yaml:"reply_to"`
	StateDir      string   `yaml:"state_dir"`
	InboxDir      string   `yaml:"inbox_dir"`
	CookbookDirs  []string `yaml:"cookbook_dirs"`
	AttributesDir string   `yaml:"attributes_dir"`
	RolesDir      string   `yaml:"roles_dir"`
	DataBagsDir   string   `yaml:"data_bags_dir"`
	PluginDir     string   `yaml:"plugin_dir"`
	// PluginChecksums pins plugin binaries: "NAME=SHA256" items; when any
	// is set, a plugin without a matching entry fails its resources.
	PluginChecksums []string `yaml:"plugin_checksums"`
	// MetricsAddress serves /metrics and /healthz ("" or "off": none).
	MetricsAddress    string        `yaml:"metrics_address"`
	LogLevel          string        `yaml:"log_level"`
	LogFormat         string        `yaml:"log_format"`
	WaitSeconds       int           `yaml:"wait_seconds"`
	VisibilityTimeout time.Duration `yaml:"visibility_timeout"`
	JournalMaxAge     time.Duration `yaml:"journal_max_age"`
	KeepRuns          int           `yaml:"keep_runs"`
	BootSetup         bool          `yaml:"boot_setup"`
	// ASGName and LaunchHook: the instance's Auto Scaling group and its
	// launch lifecycle hook, completed (CONTINUE, or ABANDON when setup
	// failed) by the boot setup, by instance id.
	ASGName      string `yaml:"asg_name"`
	LaunchHook   string `yaml:"launch_hook"`
	IMDSEndpoint string `yaml:"imds_endpoint"`
	// Auto heal (docs/autoheal.md): drift correction every DriftInterval
	// plus up to DriftSplay (0: off); the watchdog checks every
	// WatchInterval (0: off); RepairMax failed repairs within RepairWindow
	// hand the instance back to its Auto Scaling group when Escalate.
	DriftInterval time.Duration `yaml:"drift_interval"`
	DriftSplay    time.Duration `yaml:"drift_splay"`
	WatchInterval time.Duration `yaml:"watch_interval"`
	RepairMax     int           `yaml:"repair_max"`
	RepairWindow  time.Duration `yaml:"repair_window"`
	Escalate      bool          `yaml:"escalate"`
	// ConfigureSettle: before a configure runs, wait until no event came
	// for this long (a storm ends), at most 60 times as long; 0: no wait
	// (docs/operators.md, "Ordering and storms").
	ConfigureSettle time.Duration `yaml:"configure_settle"`
	// StrictModes: on (default) refuses to start over a state, inbox,
	// config, cookbook, attributes or plugin path others can write
	// (agent/strictmodes.go); warn only logs it and shows it in /healthz.
	StrictModes string `yaml:"strict_modes"`
	// CustomCookbooks is where update_custom_cookbooks fetches from.
	CustomCookbooks *lifecycle.CookbookSource `yaml:"custom_cookbooks"`
}

// defaultConfig is the embedded default: no AWS, the local inbox, the
// host's paths (loadConfig moves them to the per-user layout for a normal
// user: see layout).
func defaultConfig() Config {
	return Config{
		StateDir: hostStateDir, CookbookDirs: []string{hostConfigDir + "/cookbooks"},
		AttributesDir: hostConfigDir + "/attributes.d", RolesDir: hostConfigDir + "/roles",
		DataBagsDir: hostConfigDir + "/data_bags", PluginDir: hostLibDir + "/plugins",
		MetricsAddress: "127.0.0.1:9127", LogLevel: "info", LogFormat: "text", WaitSeconds: 20,
		VisibilityTimeout: 60 * time.Second, JournalMaxAge: 7 * 24 * time.Hour, KeepRuns: 50, BootSetup: true,
		DriftSplay: 5 * time.Minute, WatchInterval: 5 * time.Second, RepairMax: 3, RepairWindow: 10 * time.Minute, Escalate: true,
		StrictModes: "on", ConfigureSettle: 2 * time.Second,
	}
}

const defaultConfigPath = hostConfigDir + "/agent.yaml"

// configPathDefault is the --config default: /etc/stackagent/agent.yaml,
// or the per-user one for a normal user.
func configPathDefault() string { return processLayout().path(defaultConfigPath) }

// ConfigError says what is wrong and where: file, line, key.
type ConfigError struct {
	Source string // file path, "flag --x" or "environment STACKAGENT_X"
	Line   int
	Key    string
	Msg    string
}

func (e *ConfigError) Error() string {
	where := e.Source
	if e.Line > 0 {
		where += ":" + strconv.Itoa(e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: key %s: %s", where, e.Key, e.Msg)
	}
	return where + ": " + e.Msg
}

// configKeys lists the keys settable by flag and environment (all but
// custom_cookbooks, which only the file sets).
func configKeys() []reflect.StructField {
	t := reflect.TypeOf(Config{})
	var out []reflect.StructField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch f.Type.Kind() {
		case reflect.String, reflect.Int, reflect.Int64, reflect.Bool, reflect.Slice:
			out = append(out, f)
		}
	}
	return out
}

func keyName(f reflect.StructField) string { return strings.Split(f.Tag.Get("yaml"), ",")[0] }

// addConfigFlags adds --KEY flags (strings, parsed later) for every key.
func addConfigFlags(fl *pflag.FlagSet, vals map[string]*string) {
	for _, f := range configKeys() {
		k := keyName(f)
		v := new(string)
		vals[k] = v
		fl.StringVar(v, strings.ReplaceAll(k, "_", "-"), "", "override config key "+k)
	}
}

// loadConfig reads the file (a missing default file is fine: the embedded
// default runs), then the environment, then the flags that were set, and
// validates the result.
func loadConfig(path string, explicit bool, getenv func(string) string, flags map[string]string) (*Config, map[string]int, error) {
	cfg := defaultLayout(os.Geteuid(), getenv).config(defaultConfig())
	lines := map[string]int{}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if lines, err = decodeConfig(path, b, &cfg); err != nil {
			return nil, nil, err
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
	default:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is the Source already
		}
		return nil, nil, &ConfigError{Source: path, Msg: err.Error()}
	}
	// overridden names the flag or variable that last set a key, so that
	// a value it gives that fails validation is blamed on it, not the file.
	overridden := map[string]string{}
	for _, f := range configKeys() {
		k := keyName(f)
		env := "STACKAGENT_" + strings.ToUpper(k)
		if v := getenv(env); v != "" {
			if err := setField(&cfg, f, v); err != nil {
				return nil, nil, &ConfigError{Source: "environment " + env, Key: k, Msg: err.Error()}
			}
			lines[k] = 0
			overridden[k] = "environment " + env
		}
	}
	for _, f := range configKeys() {
		k := keyName(f)
		if v, ok := flags[k]; ok && v != "" {
			flag := "flag --" + strings.ReplaceAll(k, "_", "-")
			if err := setField(&cfg, f, v); err != nil {
				return nil, nil, &ConfigError{Source: flag, Key: k, Msg: err.Error()}
			}
			lines[k] = 0
			overridden[k] = flag
		}
	}
	if err := cfg.validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) && ce.Source == "" {
			ce.Source = path
			if src, ok := overridden[ce.Key]; ok {
				ce.Source = src
			} else if l := lines[ce.Key]; l > 0 {
				ce.Line = l
			} else if top, _, nested := strings.Cut(ce.Key, "."); nested && lines[top] > 0 {
				ce.Line = lines[top]
			}
		}
		return nil, nil, err
	}
	return &cfg, lines, nil
}

// decodeConfig decodes YAML strictly (unknown keys are errors) and returns
// the line of each top-level key.
func decodeConfig(path string, b []byte, cfg *Config) (map[string]int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, yamlError(path, err)
	}
	lines := map[string]int{}
	if len(doc.Content) == 0 {
		return lines, nil // empty file: defaults
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return lines, nil // only "---" or "~": defaults
	}
	if root.Kind != yaml.MappingNode {
		return nil, &ConfigError{Source: path, Line: root.Line, Msg: "want a mapping of keys to values"}
	}
	known := map[string]bool{"custom_cookbooks": true}
	for _, f := range configKeys() {
		known[keyName(f)] = true
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if !known[k.Value] {
			return nil, &ConfigError{Source: path, Line: k.Line, Key: k.Value, Msg: "unknown key" + suggestKey(k.Value, known)}
		}
		if prev, dup := lines[k.Value]; dup {
			return nil, &ConfigError{Source: path, Line: k.Line, Key: k.Value, Msg: fmt.Sprintf("given twice (also on line %d)", prev)}
		}
		lines[k.Value] = k.Line
		v := root.Content[i+1]
		if k.Value == "custom_cookbooks" {
			if err := checkBlock(path, k.Value, v, reflect.TypeOf(lifecycle.CookbookSource{}), lines); err != nil {
				return nil, err
			}
		}
		if f, ok := reflect.TypeOf(Config{}).FieldByNameFunc(func(n string) bool {
			sf, _ := reflect.TypeOf(Config{}).FieldByName(n)
			return keyName(sf) == k.Value
		}); ok && f.Type == reflect.TypeOf(time.Duration(0)) {
			d, err := time.ParseDuration(v.Value)
			if err != nil {
				return nil, &ConfigError{Source: path, Line: v.Line, Key: k.Value, Msg: fmt.Sprintf("%q is not a duration such as 90s or 10m", v.Value)}
			}
			reflect.ValueOf(cfg).Elem().FieldByIndex(f.Index).SetInt(int64(d))
			continue
		}
		field := reflect.ValueOf(cfg).Elem().FieldByNameFunc(func(n string) bool {
			sf, _ := reflect.TypeOf(Config{}).FieldByName(n)
			return keyName(sf) == k.Value
		})
		if err := v.Decode(field.Addr().Interface()); err != nil {
			ce := yamlError(path, err)
			ce.Key = k.Value
			if ce.Line == 0 {
				ce.Line = v.Line
			}
			return nil, ce
		}
	}
	return lines, nil
}

// checkBlock rejects unknown and repeated keys in a mapping block (yaml.v3
// decodes a Node leniently) and records the line of each as
// lines["block.key"].
func checkBlock(path, block string, v *yaml.Node, t reflect.Type, lines map[string]int) error {
	if v.Kind != yaml.MappingNode {
		return nil // null, or a wrong type Decode reports
	}
	known := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		known[keyName(t.Field(i))] = true
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k := v.Content[i]
		key := block + "." + k.Value
		if !known[k.Value] {
			return &ConfigError{Source: path, Line: k.Line, Key: key, Msg: "unknown key" + suggestKey(k.Value, known)}
		}
		if prev, dup := lines[key]; dup {
			return &ConfigError{Source: path, Line: k.Line, Key: key, Msg: fmt.Sprintf("given twice (also on line %d)", prev)}
		}
		lines[key] = k.Line
	}
	return nil
}

func yamlError(path string, err error) *ConfigError {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if strings.HasPrefix(msg, "line ") {
		if n, rest, ok := strings.Cut(strings.TrimPrefix(msg, "line "), ":"); ok {
			line, _ = strconv.Atoi(n)
			msg = strings.TrimSpace(rest)
		}
	}
	if ue := (*yaml.TypeError)(nil); errors.As(err, &ue) && len(ue.Errors) > 0 {
		msgs := make([]string, len(ue.Errors))
		for i, e := range ue.Errors {
			if n, rest, ok := strings.Cut(strings.TrimPrefix(e, "line "), ": "); ok && strings.HasPrefix(e, "line ") {
				if line == 0 {
					line, _ = strconv.Atoi(n)
				}
				e = rest
			}
			msgs[i] = e
		}
		msg = strings.Join(msgs, "; ")
	}
	return &ConfigError{Source: path, Line: line, Msg: msg}
}

func suggestKey(k string, known map[string]bool) string {
	for name := range known {
		if strings.ReplaceAll(name, "_", "") == strings.ReplaceAll(strings.ReplaceAll(k, "-", ""), "_", "") {
			return fmt.Sprintf(" (did you mean %s?)", name)
		}
	}
	return ""
}

// setField sets a key from a flag or environment string.
func setField(cfg *Config, f reflect.StructField, s string) error {
	v := reflect.ValueOf(cfg).Elem().FieldByIndex(f.Index)
	switch {
	case f.Type == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 90s or 10m", s)
		}
		v.SetInt(int64(d))
	case f.Type.Kind() == reflect.String:
		v.SetString(s)
	case f.Type.Kind() == reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(int64(n))
	case f.Type.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case f.Type.Kind() == reflect.Slice:
		var list []string
		for _, x := range strings.Split(s, ",") {
			if x = strings.TrimSpace(x); x != "" {
				list = append(list, x)
			}
		}
		v.Set(reflect.ValueOf(list))
	}
	return nil
}

func (c *Config) validate() error {
	bad := func(key, format string, a ...any) error {
		return &ConfigError{Key: key, Msg: fmt.Sprintf(format, a...)}
	}
	if c.QueueURL != "" {
		u, err := url.Parse(c.QueueURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return bad("queue_url", "%q is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", c.QueueURL)
		}
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return bad("endpoint", "%q is not a URL", c.Endpoint)
		}
	}
	if c.ReplyTo != "" {
		if _, err := lifecycle.ParseReplyTarget(c.ReplyTo); err != nil {
			return bad("reply_to", "%v", err)
		}
	}
	if (c.ASGName == "") != (c.LaunchHook == "") {
		key := "asg_name"
		if c.LaunchHook == "" {
			key = "launch_hook"
		}
		return bad(key, "asg_name and launch_hook go together: the boot setup completes that group's launch hook")
	}
	if _, err := c.pluginChecksums(); err != nil {
		return bad("plugin_checksums", "%v", err)
	}
	for i, l := range c.Layers {
		if strings.TrimSpace(l) == "" {
			return bad("layers", "item %d is empty", i+1)
		}
		if !names.Valid(l) {
			return bad("layers", "item %d, %q: want %s", i+1, l, names.Grammar)
		}
	}
	if c.InstanceID != "" && !lifecycle.ValidInstanceID(c.InstanceID) {
		return bad("instance_id", "%q: want an EC2 instance id (i- and 8 or 17 hex digits) or, outside EC2, %s", c.InstanceID, names.Grammar)
	}
	if c.StateDir == "" {
		return bad("state_dir", "must not be empty")
	}
	if c.WaitSeconds < 1 || c.WaitSeconds > 20 {
		// 0 (short polling) is refused: the SQS source would take it as
		// its 20 s default, and short polls would spin on an empty queue.
		return bad("wait_seconds", "%d: SQS long polling waits 1 to 20 seconds", c.WaitSeconds)
	}
	if c.VisibilityTimeout < 2*time.Second || c.VisibilityTimeout > 12*time.Hour {
		return bad("visibility_timeout", "%s: want between 2s and 12h", c.VisibilityTimeout)
	}
	if c.ConfigureSettle < 0 || c.ConfigureSettle > 5*time.Minute {
		return bad("configure_settle", "%s: want between 0 (off) and 5m", c.ConfigureSettle)
	}
	if c.JournalMaxAge < time.Hour {
		return bad("journal_max_age", "%s: want at least 1h (a duplicate delivery after that would run again)", c.JournalMaxAge)
	}
	if c.KeepRuns < 1 {
		return bad("keep_runs", "%d: keep at least 1", c.KeepRuns)
	}
	if c.MetricsAddress != "" && c.MetricsAddress != "off" {
		if _, _, err := net.SplitHostPort(c.MetricsAddress); err != nil {
			return bad("metrics_address", "%q: want host:port (e.g. 127.0.0.1:9127) or off", c.MetricsAddress)
		}
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", "%q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return bad("log_format", "%q: want text or json", c.LogFormat)
	}
	if c.DriftInterval < 0 || (c.DriftInterval > 0 && c.DriftInterval < time.Second) {
		return bad("drift_interval", "%s: want 0 (off) or at least 1s", c.DriftInterval)
	}
	if c.DriftSplay < 0 {
		return bad("drift_splay", "%s: must not be negative", c.DriftSplay)
	}
	if c.WatchInterval < 0 || (c.WatchInterval > 0 && c.WatchInterval < 500*time.Millisecond) || c.WatchInterval > time.Hour {
		return bad("watch_interval", "%s: want 0 (off) or between 500ms and 1h", c.WatchInterval)
	}
	if c.RepairMax < 1 {
		return bad("repair_max", "%d: want at least 1", c.RepairMax)
	}
	if c.RepairWindow <= 0 {
		return bad("repair_window", "%s: want a positive duration", c.RepairWindow)
	}
	if err := c.validateStrictModes(); err != nil {
		return err
	}
	if c.CustomCookbooks != nil {
		if err := c.CustomCookbooks.Validate(); err != nil {
			var se *lifecycle.CookbookSourceError
			if errors.As(err, &se) {
				return bad(se.Field, "%s", se.Msg)
			}
			return bad("custom_cookbooks", "%v", err)
		}
	}
	return nil
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
