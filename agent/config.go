package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

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
	overridden, err := overrideKeys(&cfg, lines, getenv, flags)
	if err != nil {
		return nil, nil, err
	}
	if err := cfg.validate(); err != nil {
		blame(err, path, overridden, lines)
		return nil, nil, err
	}
	return &cfg, lines, nil
}

// overrideKeys sets the keys the environment gives, then those the flags
// give, and returns the flag or variable that last set each key, so that
// a value it gives that fails validation is blamed on it, not the file.
func overrideKeys(cfg *Config, lines map[string]int, getenv func(string) string, flags map[string]string) (map[string]string, error) {
	overridden := map[string]string{}
	for _, f := range configKeys() {
		env := "STACKAGENT_" + strings.ToUpper(keyName(f))
		if err := override(cfg, f, getenv(env), "environment "+env, lines, overridden); err != nil {
			return nil, err
		}
	}
	for _, f := range configKeys() {
		k := keyName(f)
		if err := override(cfg, f, flags[k], "flag --"+strings.ReplaceAll(k, "_", "-"), lines, overridden); err != nil {
			return nil, err
		}
	}
	return overridden, nil
}

// override sets key f to v ("": not given) from source.
func override(cfg *Config, f reflect.StructField, v, source string, lines map[string]int, overridden map[string]string) error {
	if v == "" {
		return nil
	}
	k := keyName(f)
	if err := setField(cfg, f, v); err != nil {
		return &ConfigError{Source: source, Key: k, Msg: err.Error()}
	}
	lines[k] = 0
	overridden[k] = source
	return nil
}

// blame completes a validation error with where the key was set: the
// flag or variable that overrode it, else the file and the key's line
// (or its block's).
func blame(err error, path string, overridden map[string]string, lines map[string]int) {
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Source != "" {
		return
	}
	ce.Source = path
	if src, ok := overridden[ce.Key]; ok {
		ce.Source = src
	} else if l := lines[ce.Key]; l > 0 {
		ce.Line = l
	} else if top, _, nested := strings.Cut(ce.Key, "."); nested && lines[top] > 0 {
		ce.Line = lines[top]
	}
}
