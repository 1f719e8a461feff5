package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/lifecycle"
)

// cfgFile writes content as agent.yaml in a fresh directory.
func cfgFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "agent.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// cfgEnv is a getenv over a map.
func cfgEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// sameConfig compares configs with nil and empty lists taken as equal.
func sameConfig(a, b Config) bool {
	for _, c := range []*Config{&a, &b} {
		if len(c.Layers) == 0 {
			c.Layers = nil
		}
		if len(c.CookbookDirs) == 0 {
			c.CookbookDirs = nil
		}
	}
	return reflect.DeepEqual(a, b)
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		content *string // nil: no file
	}{
		{"no default file", nil},
		{"empty file", ptr("")},
		{"comments only", ptr("# nothing set\n\n# here\n")},
		{"document marker only", ptr("---\n")},
		{"null document", ptr("~\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, "missing.yaml")
			if tc.content != nil {
				p = cfgFile(t, *tc.content)
			}
			cfg, _, err := loadConfig(p, false, cfgEnv(nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !sameConfig(*cfg, defaultConfig()) {
				t.Fatalf("got %+v\nwant the defaults %+v", *cfg, defaultConfig())
			}
		})
	}
	def := defaultConfig()
	if err := def.validate(); err != nil {
		t.Fatalf("the embedded default does not validate: %v", err)
	}
}

func ptr(s string) *string { return &s }

func TestConfigMissingExplicitFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "nope.yaml")
	_, _, err := loadConfig(p, true, cfgEnv(nil), nil)
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Source != p {
		t.Fatalf("want a ConfigError naming %s, got %v", p, err)
	}
	if want := p + ": no such file or directory"; err.Error() != want {
		t.Fatalf("got %q, want %q", err, want)
	}
}

func TestConfigFullFile(t *testing.T) {
	t.Parallel()
	p := cfgFile(t, `# every key
queue_url: https://sqs.eu-west-1.amazonaws.com/123456789012/stack-events
region: eu-west-1
endpoint: http://127.0.0.1:4566
instance_id: i-0123456789abcdef0
stack: shop
layers: [web, php-app]
reply_to: arn:aws:sns:eu-west-1:123456789012:stack-results
state_dir: /srv/stackagent
inbox_dir: /srv/inbox
cookbook_dirs:
  - /srv/cookbooks
  - /opt/cookbooks
attributes_dir: /srv/attributes.d
roles_dir: /srv/roles
data_bags_dir: /srv/data_bags
plugin_dir: /srv/plugins
metrics_address: 0.0.0.0:9200
log_level: debug
log_format: json
wait_seconds: 5
visibility_timeout: 5m
journal_max_age: 72h
keep_runs: 10
boot_setup: false
imds_endpoint: http://169.254.169.254
drift_interval: 30m
drift_splay: 2m
watch_interval: 2s
repair_max: 5
repair_window: 1h
escalate: false
custom_cookbooks:
  type: git
  url: https://github.com/example/cookbooks.git
  revision: v1.2.0
  ssh_key: /etc/stackagent/deploy_key
  subdir: cookbooks
`)
	cfg, lines, err := loadConfig(p, true, cfgEnv(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		QueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/stack-events", Region: "eu-west-1",
		Endpoint: "http://127.0.0.1:4566", InstanceID: "i-0123456789abcdef0", Stack: "shop", Layers: []string{"web", "php-app"},
		ReplyTo: "arn:aws:sns:eu-west-1:123456789012:stack-results", StateDir: "/srv/stackagent", InboxDir: "/srv/inbox",
		CookbookDirs: []string{"/srv/cookbooks", "/opt/cookbooks"}, AttributesDir: "/srv/attributes.d", RolesDir: "/srv/roles",
		DataBagsDir: "/srv/data_bags", PluginDir: "/srv/plugins", MetricsAddress: "0.0.0.0:9200", LogLevel: "debug",
		LogFormat: "json", WaitSeconds: 5, VisibilityTimeout: 5 * time.Minute, JournalMaxAge: 72 * time.Hour, KeepRuns: 10,
		BootSetup: false, IMDSEndpoint: "http://169.254.169.254",
		DriftInterval: 30 * time.Minute, DriftSplay: 2 * time.Minute, WatchInterval: 2 * time.Second, RepairMax: 5,
		RepairWindow: time.Hour, Escalate: false, StrictModes: "on", ConfigureSettle: 2 * time.Second,
		CustomCookbooks: &lifecycle.CookbookSource{Type: "git", URL: "https://github.com/example/cookbooks.git",
			Revision: "v1.2.0", SSHKey: "/etc/stackagent/deploy_key", Subdir: "cookbooks"},
	}
	if !reflect.DeepEqual(*cfg, want) {
		t.Fatalf("got  %+v\nwant %+v", *cfg, want)
	}
	for key, line := range map[string]int{"queue_url": 2, "layers": 7, "cookbook_dirs": 11, "keep_runs": 24,
		"custom_cookbooks": 33, "custom_cookbooks.url": 35, "custom_cookbooks.subdir": 38} {
		if lines[key] != line {
			t.Errorf("line of %s: got %d, want %d", key, lines[key], line)
		}
	}
	if n := len(configKeys()) + 1; n != reflect.TypeOf(Config{}).NumField() {
		t.Fatalf("configKeys has %d keys + custom_cookbooks, Config %d fields: a key of a new kind is neither a flag nor in this test", n-1, reflect.TypeOf(Config{}).NumField())
	}
}

// TestConfigPrecedence: flag > environment > file > default, for each kind
// of key.
func TestConfigPrecedence(t *testing.T) {
	t.Parallel()
	type layer struct{ file, env, flag string } // "" is unset
	for _, tc := range []struct {
		key  string
		def  any
		vals layer // a distinct value for each source
		get  func(*Config) any
		want [3]any // file, env, flag parsed
	}{
		{"region", "", layer{"eu-west-1", "us-east-1", "ap-southeast-2"},
			func(c *Config) any { return c.Region }, [3]any{"eu-west-1", "us-east-1", "ap-southeast-2"}},
		{"layers", []string(nil), layer{"[web, db]", "php-app, memcached", "lb,,web "},
			func(c *Config) any { return c.Layers },
			[3]any{[]string{"web", "db"}, []string{"php-app", "memcached"}, []string{"lb", "web"}}},
		{"wait_seconds", 20, layer{"10", "1", "3"},
			func(c *Config) any { return c.WaitSeconds }, [3]any{10, 1, 3}},
		{"boot_setup", true, layer{"false", "true", "0"},
			func(c *Config) any { return c.BootSetup }, [3]any{false, true, false}},
		{"visibility_timeout", 60 * time.Second, layer{"2m", "90s", "1h30m"},
			func(c *Config) any { return c.VisibilityTimeout }, [3]any{2 * time.Minute, 90 * time.Second, 90 * time.Minute}},
	} {
		env := "STACKAGENT_" + strings.ToUpper(tc.key)
		for _, set := range []struct {
			name             string
			file, envv, flag bool
			want             any
		}{
			{"default", false, false, false, tc.def},
			{"file", true, false, false, tc.want[0]},
			{"env", false, true, false, tc.want[1]},
			{"flag", false, false, true, tc.want[2]},
			{"file+env", true, true, false, tc.want[1]},
			{"file+flag", true, false, true, tc.want[2]},
			{"env+flag", false, true, true, tc.want[2]},
			{"file+env+flag", true, true, true, tc.want[2]},
		} {
			t.Run(tc.key+"/"+set.name, func(t *testing.T) {
				t.Parallel()
				content := "log_level: info\n"
				if set.file {
					content += tc.key + ": " + tc.vals.file + "\n"
				}
				envs, flags := map[string]string{}, map[string]string{"region": ""} // an unset flag is ""
				if set.envv {
					envs[env] = tc.vals.env
				}
				if set.flag {
					flags[tc.key] = tc.vals.flag
				}
				cfg, lines, err := loadConfig(cfgFile(t, content), true, cfgEnv(envs), flags)
				if err != nil {
					t.Fatal(err)
				}
				if got := tc.get(cfg); !reflect.DeepEqual(got, set.want) {
					t.Fatalf("got %#v, want %#v", got, set.want)
				}
				if wantLine := set.file && !set.envv && !set.flag; wantLine != (lines[tc.key] == 2) {
					t.Fatalf("line of %s: %d (an overridden key has none)", tc.key, lines[tc.key])
				}
			})
		}
	}
}

// TestConfigErrors: every error names where the bad value came from (the
// file and the key's line, the flag or the variable), the key and what is
// wrong.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	const file = "FILE" // replaced by the file's path
	for _, tc := range []struct {
		name    string
		content string
		env     map[string]string
		flags   map[string]string
		want    string // the whole message, FILE for the path
	}{
		// YAML itself.
		{"syntax", "region: eu-west-1\nstack: a: b\n", nil, nil, "FILE:2: mapping values are not allowed in this context"},
		{"syntax unclosed quote", "region: eu-west-1\nstack: shop\nlayers: \"web\n", nil, nil, "FILE:3: found unexpected end of stream"},
		{"not a mapping", "- queue_url\n- region\n", nil, nil, "FILE:1: want a mapping of keys to values"},
		{"unknown key", "region: eu-west-1\nqueue: x\n", nil, nil, "FILE:2: key queue: unknown key"},
		{"dashes for underscores", "region: eu-west-1\nqueue-url: https://sqs.eu-west-1.amazonaws.com/1/q\n", nil, nil,
			"FILE:2: key queue-url: unknown key (did you mean queue_url?)"},
		{"no underscore", "queueurl: https://sqs.eu-west-1.amazonaws.com/1/q\n", nil, nil,
			"FILE:1: key queueurl: unknown key (did you mean queue_url?)"},
		{"given twice", "stack: a\nregion: eu-west-1\nstack: b\n", nil, nil, "FILE:3: key stack: given twice (also on line 1)"},
		// Wrong types.
		{"layers: 3", "stack: shop\nlayers: 3\n", nil, nil, "FILE:2: key layers: cannot unmarshal !!int `3` into []string"},
		{"wait_seconds: x", "stack: shop\n\nwait_seconds: \"x\"\n", nil, nil, "FILE:3: key wait_seconds: cannot unmarshal !!str `x` into int"},
		{"boot_setup: list", "boot_setup: [yes]\n", nil, nil, "FILE:1: key boot_setup: cannot unmarshal !!seq into bool"},
		{"duration without unit", "stack: shop\nvisibility_timeout: 60\n", nil, nil,
			`FILE:2: key visibility_timeout: "60" is not a duration such as 90s or 10m`},
		{"cookbook_dirs: map", "cookbook_dirs:\n  a: b\n", nil, nil, "FILE:2: key cookbook_dirs: cannot unmarshal !!map into []string"},
		// Bad values, from the file: the key's line.
		{"queue_url", "stack: shop\nqueue_url: sqs/my-queue\n", nil, nil,
			`FILE:2: key queue_url: "sqs/my-queue" is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)`},
		{"endpoint", "endpoint: localhost:4566\n", nil, nil, `FILE:1: key endpoint: "localhost:4566" is not a URL`},
		{"reply_to", "stack: shop\nreply_to: results\n", nil, nil, "FILE:2: key reply_to: "},
		{"state_dir empty", "state_dir: \"\"\n", nil, nil, "FILE:1: key state_dir: must not be empty"},
		{"instance_id a path", "stack: shop\ninstance_id: ../../x\n", nil, nil, `FILE:2: key instance_id: "../../x": want an EC2 instance id`},
		{"layer a path", "layers: [web, ../x]\n", nil, nil, `FILE:1: key layers: item 2, "../x": want 1-64 characters`},
		{"wait_seconds 21", "wait_seconds: 21\n", nil, nil, "FILE:1: key wait_seconds: 21: SQS long polling waits 1 to 20 seconds"},
		{"wait_seconds -1", "wait_seconds: -1\n", nil, nil, "FILE:1: key wait_seconds: -1: SQS long polling waits 1 to 20 seconds"},
		{"wait_seconds 0", "wait_seconds: 0\n", nil, nil, "FILE:1: key wait_seconds: 0: SQS long polling waits 1 to 20 seconds"},
		{"visibility_timeout 1s", "stack: shop\nvisibility_timeout: 1s\n", nil, nil, "FILE:2: key visibility_timeout: 1s: want between "},
		{"visibility_timeout 13h", "visibility_timeout: 13h\n", nil, nil, "FILE:1: key visibility_timeout: 13h0m0s: want between "},
		{"journal_max_age 10m", "journal_max_age: 10m\n", nil, nil, "FILE:1: key journal_max_age: 10m0s: want at least 1h"},
		{"keep_runs 0", "stack: shop\nkeep_runs: 0\n", nil, nil, "FILE:2: key keep_runs: 0: keep at least 1"},
		{"metrics_address", "metrics_address: nope\n", nil, nil, `FILE:1: key metrics_address: "nope": want host:port (e.g. 127.0.0.1:9127) or off`},
		{"log_level", "log_level: verbose\n", nil, nil, `FILE:1: key log_level: "verbose": want debug, info, warn or error`},
		{"log_format", "log_format: xml\n", nil, nil, `FILE:1: key log_format: "xml": want text or json`},
		{"empty layer", "stack: shop\nlayers: [web, \"\"]\n", nil, nil, "FILE:2: key layers: item 2 is empty"},
		// Bad values from the environment and flags name them, not the file.
		{"env parse", "wait_seconds: 5\n", map[string]string{"STACKAGENT_WAIT_SECONDS": "x"}, nil,
			`environment STACKAGENT_WAIT_SECONDS: key wait_seconds: "x" is not a whole number`},
		{"env bool", "", map[string]string{"STACKAGENT_BOOT_SETUP": "maybe"}, nil,
			`environment STACKAGENT_BOOT_SETUP: key boot_setup: "maybe" is not true or false`},
		{"env duration", "", map[string]string{"STACKAGENT_JOURNAL_MAX_AGE": "week"}, nil,
			`environment STACKAGENT_JOURNAL_MAX_AGE: key journal_max_age: "week" is not a duration such as 90s or 10m`},
		{"env value", "stack: shop\nwait_seconds: 5\n", map[string]string{"STACKAGENT_WAIT_SECONDS": "21"}, nil,
			"environment STACKAGENT_WAIT_SECONDS: key wait_seconds: 21: SQS long polling waits 1 to 20 seconds"},
		{"env queue_url", "", map[string]string{"STACKAGENT_QUEUE_URL": "my-queue"}, nil,
			`environment STACKAGENT_QUEUE_URL: key queue_url: "my-queue" is not an SQS queue URL`},
		{"flag parse", "", nil, map[string]string{"keep_runs": "ten"}, `flag --keep-runs: key keep_runs: "ten" is not a whole number`},
		{"flag value", "stack: shop\nlog_format: text\n", map[string]string{"STACKAGENT_LOG_FORMAT": "json"}, map[string]string{"log_format": "yaml"},
			`flag --log-format: key log_format: "yaml": want text or json`},
		{"flag metrics_address", "", nil, map[string]string{"metrics_address": "nope"},
			`flag --metrics-address: key metrics_address: "nope": want host:port`},
		// custom_cookbooks: decoded strictly, validated like the fetch does.
		{"cookbooks unknown key", "custom_cookbooks:\n  type: git\n  url: https://example.com/c.git\n  branch: main\n", nil, nil,
			"FILE:4: key custom_cookbooks.branch: unknown key"},
		{"cookbooks near miss", "custom_cookbooks:\n  type: git\n  url: git@example.com:c.git\n  ssh-key: /k\n", nil, nil,
			"FILE:4: key custom_cookbooks.ssh-key: unknown key (did you mean ssh_key?)"},
		{"cookbooks given twice", "custom_cookbooks:\n  type: git\n  url: a\n  url: b\n", nil, nil,
			"FILE:4: key custom_cookbooks.url: given twice (also on line 3)"},
		{"cookbooks scalar", "stack: shop\ncustom_cookbooks: git\n", nil, nil,
			"FILE:2: key custom_cookbooks: cannot unmarshal !!str `git` into lifecycle.CookbookSource"},
		{"cookbooks url missing", "stack: shop\ncustom_cookbooks:\n  type: git\n", nil, nil,
			"FILE:2: key custom_cookbooks.url: missing"},
		{"cookbooks type missing", "custom_cookbooks:\n  url: https://example.com/c.tgz\n", nil, nil,
			"FILE:1: key custom_cookbooks.type: missing (want git|s3|http|archive)"},
		{"cookbooks type unknown", "custom_cookbooks:\n  url: ftp://example.com/c.tgz\n  type: ftp\n", nil, nil,
			`FILE:3: key custom_cookbooks.type: unknown type "ftp" (want git|s3|http|archive)`},
		{"cookbooks checksum on git", "custom_cookbooks:\n  type: git\n  url: https://example.com/c.git\n  checksum: abc\n", nil, nil,
			"FILE:4: key custom_cookbooks.checksum: only for s3, http and archive sources"},
		{"cookbooks bad checksum", "custom_cookbooks:\n  type: http\n  url: https://example.com/c.tgz\n  checksum: sha256:xyz\n", nil, nil,
			`FILE:4: key custom_cookbooks.checksum: want a sha256 in hex (64 characters), got "xyz"`},
		{"cookbooks revision on s3", "custom_cookbooks:\n  type: s3\n  url: s3://bucket/c.tgz\n  revision: main\n", nil, nil,
			"FILE:4: key custom_cookbooks.revision: only for git sources"},
		{"cookbooks http not http", "custom_cookbooks:\n  type: http\n  url: /tmp/c.tgz\n", nil, nil,
			`FILE:3: key custom_cookbooks.url: want an http(s) URL, got "/tmp/c.tgz"`},
		{"cookbooks archive relative", "custom_cookbooks:\n  type: archive\n  url: c.tgz\n", nil, nil,
			`FILE:3: key custom_cookbooks.url: want an absolute path or file:// URL, got "c.tgz"`},
		{"cookbooks subdir escapes", "custom_cookbooks:\n  type: git\n  url: https://example.com/c.git\n  subdir: ../etc\n", nil, nil,
			`FILE:4: key custom_cookbooks.subdir: want a relative path inside the repository or archive, got "../etc"`},
		{"cookbooks url option", "custom_cookbooks:\n  type: git\n  url: --upload-pack=evil\n", nil, nil,
			"FILE:3: key custom_cookbooks.url: must not start with '-'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := cfgFile(t, tc.content)
			cfg, _, err := loadConfig(p, true, cfgEnv(tc.env), tc.flags)
			if err == nil {
				t.Fatalf("no error; config %+v", cfg)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%T is not a *ConfigError: %v", err, err)
			}
			want := strings.ReplaceAll(tc.want, file, p)
			if !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("got  %q\nwant %q…", err, want)
			}
			if cfg != nil {
				t.Fatal("a config came back with the error")
			}
		})
	}
}

func TestConfigCustomCookbooksValid(t *testing.T) {
	t.Parallel()
	sum := strings.Repeat("ab", 32)
	for name, block := range map[string]string{
		"git":          "type: git\n  url: git@github.com:example/cookbooks.git\n  revision: main",
		"s3":           "type: s3\n  url: s3://bucket/cookbooks.tgz\n  checksum: sha256:" + sum,
		"http":         "type: http\n  url: https://example.com/cookbooks.zip",
		"archive http": "type: archive\n  url: https://example.com/cookbooks.tar.gz",
		"archive file": "type: archive\n  url: /srv/cookbooks.tgz\n  subdir: ./cookbooks",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, _, err := loadConfig(cfgFile(t, "custom_cookbooks:\n  "+block+"\n"), true, cfgEnv(nil), nil)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CustomCookbooks == nil || cfg.CustomCookbooks.URL == "" {
				t.Fatalf("custom_cookbooks not decoded: %+v", cfg.CustomCookbooks)
			}
		})
	}
	cfg, _, err := loadConfig(cfgFile(t, "custom_cookbooks:\n"), true, cfgEnv(nil), nil)
	if err != nil || cfg.CustomCookbooks != nil {
		t.Fatalf("an empty custom_cookbooks is none: %+v, %v", cfg, err)
	}
}

// TestDaemonBadConfigDoesNotStart: `stackagent daemon --config bad.yaml`
// exits 1 with file:line: key, before it creates or starts anything.
func TestDaemonBadConfigDoesNotStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	for _, tc := range []struct{ content, want string }{
		{"state_dir: " + state + "\nwait_seconds: 21\n", ":2: key wait_seconds: 21: SQS long polling waits 1 to 20 seconds"},
		{"state_dir: " + state + "\nqueue-url: https://sqs.eu-west-1.amazonaws.com/1/q\n", ":2: key queue-url: unknown key (did you mean queue_url?)"},
		{"state_dir: " + state + "\ncustom_cookbooks:\n  type: git\n", ":2: key custom_cookbooks.url: missing"},
	} {
		p := cfgFile(t, tc.content)
		r := runCLI(t, "daemon", "--config", p)
		if r.code != 1 || !strings.Contains(r.err, "stackagent: "+p+tc.want) {
			t.Fatalf("exit %d, stderr %q; want 1 and %q", r.code, r.err, p+tc.want)
		}
		if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the daemon started: state_dir %s exists (%v)", state, err)
		}
	}
	// A flag's bad value names the flag, a missing --config file the file.
	r := runCLI(t, "daemon", "--config", cfgFile(t, "state_dir: "+state+"\n"), "--log-level", "loud")
	if r.code != 1 || !strings.Contains(r.err, `flag --log-level: key log_level: "loud"`) {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	r = runCLI(t, "daemon", "--config", missing)
	if r.code != 1 || !strings.Contains(r.err, missing+": no such file or directory") {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the daemon started: state_dir %s exists (%v)", state, err)
	}
}

// sampleKeyLine is a commented-out setting of packaging/agent.yaml:
// "# key: value" or, inside a block, "#   key: value".
var sampleKeyLine = regexp.MustCompile(`^# ( *)([a-z_]+):(?: |$)`)

// TestConfigPackagedSample: packaging/agent.yaml, uncommented, is a valid
// config that sets every key once, to its default (custom_cookbooks, which
// has none, to a valid example), so the sample cannot drift from the code.
func TestConfigPackagedSample(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "packaging", "agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// As shipped, everything is commented out: the embedded defaults run.
	cfg, _, err := loadConfig(cfgFile(t, string(b)), true, cfgEnv(nil), nil)
	if err != nil {
		t.Fatalf("the sample as shipped: %v", err)
	}
	if !sameConfig(*cfg, defaultConfig()) {
		t.Fatalf("the sample as shipped sets something: %+v", *cfg)
	}
	var out []string
	seen := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "#") && strings.TrimSpace(line) != "" {
			t.Errorf("a line is not commented out: %q", line)
		}
		m := sampleKeyLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if m[1] == "" {
			seen[m[2]]++
		}
		out = append(out, strings.TrimPrefix(line, "# "))
	}
	all := map[string]bool{"custom_cookbooks": true}
	for _, f := range configKeys() {
		all[keyName(f)] = true
	}
	for k := range all {
		if seen[k] != 1 {
			t.Errorf("key %s is in the sample %d times, want once", k, seen[k])
		}
	}
	for k := range seen {
		if !all[k] {
			t.Errorf("the sample sets %s, which is not a key", k)
		}
	}
	uncommented := strings.Join(out, "\n") + "\n"
	cfg, lines, err := loadConfig(cfgFile(t, uncommented), true, cfgEnv(nil), nil)
	if err != nil {
		t.Fatalf("the sample, uncommented: %v\n%s", err, uncommented)
	}
	if len(lines) == 0 {
		t.Fatal("nothing uncommented")
	}
	if cfg.CustomCookbooks == nil {
		t.Fatal("the sample has no custom_cookbooks example")
	}
	cfg.CustomCookbooks = nil
	if !sameConfig(*cfg, defaultConfig()) {
		t.Fatalf("the sample's values are not the defaults:\ngot  %+v\nwant %+v", *cfg, defaultConfig())
	}
}

// TestConfigKeysDocumented: docs/operators.md has a row for every key with
// its variable and flag.
func TestConfigKeysDocumented(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "docs", "operators.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, f := range configKeys() {
		k := keyName(f)
		row := "| `" + k + "` | `STACKAGENT_" + strings.ToUpper(k) + "` | `--" + strings.ReplaceAll(k, "_", "-") + "` |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/operators.md lacks the row %q", row)
		}
	}
	if !strings.Contains(doc, "| `custom_cookbooks` |") {
		t.Error("docs/operators.md lacks custom_cookbooks")
	}
}

func TestConfigPluginChecksums(t *testing.T) {
	t.Parallel()
	sum := strings.Repeat("ab", 32)
	p := cfgFile(t, "plugin_checksums: [\"s3file="+sum+"\"]\n")
	cfg, _, err := loadConfig(p, true, cfgEnv(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := cfg.pluginChecksums(); m["s3file"] != sum {
		t.Fatalf("checksums %v", m)
	}
	bad := cfgFile(t, "\nplugin_checksums: [\"s3file=nothex\"]\n")
	_, _, err = loadConfig(bad, true, cfgEnv(nil), nil)
	if err == nil || !strings.Contains(err.Error(), bad+":2: key plugin_checksums: item 1 \"s3file=nothex\": want NAME=SHA256") {
		t.Fatalf("got %v", err)
	}
}
