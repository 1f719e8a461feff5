package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/internal/awsconfig"
	"github.com/stackagent/stackagent/internal/sdnotify"
	"github.com/stackagent/stackagent/internal/secrets"
	"github.com/stackagent/stackagent/lifecycle"
	"github.com/stackagent/stackagent/recipes/ohai"
)

func newDaemonCmd() *cobra.Command {
	var cfgPath string
	overrides := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "daemon [--config FILE]",
		Short: "Serve the stack's lifecycle events (SQS, or the local inbox directory) as converges",
		Long: `Serve lifecycle events: long-poll the SQS queue (queue_url), or watch the
local inbox directory (state_dir/inbox) when no queue is configured, and
converge each event's run list, one at a time, once in effect.

Every config key can be overridden by --KEY (dashes) or STACKAGENT_KEY.
SIGTERM: stop taking messages, let the running resource finish, hand the
event back for redelivery, exit 0. SIGHUP: reload the config.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flags := map[string]string{}
			for k, v := range overrides {
				flags[k] = *v
			}
			explicit := cmd.Flags().Changed("config")
			setDaemonMemoryLimit(os.Getenv) // agent/memlimit.go
			return runDaemon(cmd.Context(), cfgPath, explicit, flags, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", configPathDefault(), "agent config file")
	addConfigFlags(cmd.Flags(), overrides)
	return cmd
}

// runDaemon serves until SIGTERM/SIGINT; SIGHUP reloads the config and
// starts the daemon again with it (an invalid new config is refused and
// the old one kept).
func runDaemon(parent context.Context, cfgPath string, explicit bool, flags map[string]string, stdout, stderr io.Writer) error {
	cfg, _, err := loadConfig(cfgPath, explicit, os.Getenv, flags)
	if err != nil {
		return &exitError{1, err}
	}
	if parent == nil {
		parent = context.Background()
	}
	r := &daemonRun{cfgPath: cfgPath, explicit: explicit, flags: flags, stdout: stdout, stderr: stderr,
		sigs: make(chan os.Signal, 4), notify: sdnotify.New(os.Getenv)}
	signal.Notify(r.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(r.sigs)
	watchLog, err := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return &exitError{1, err}
	}
	var stopWatch func()
	r.changed, stopWatch = newFileWatch(watchLog).file(cfgPath)
	defer stopWatch()
	if r.tel, err = newDaemonTelemetry(prometheus.NewRegistry()); err != nil {
		return &exitError{1, err}
	}
	defer r.tel.shutdown()
	wdCtx, stopWatchdog := context.WithCancel(parent)
	defer stopWatchdog()
	go r.notify.KeepAlive(wdCtx, nil) // WATCHDOG=1 every WATCHDOG_USEC/2 while the daemon lives
	for {
		next, err := r.runOnce(parent, cfg)
		if next == nil {
			return err
		}
		cfg = next
	}
}

// logStart is the daemon's first log line: which config, which layout
// (host, or per-user for a normal user), where state and events are.
func logStart(log *slog.Logger, cfgPath string, cfg *Config) {
	conf := cfgPath
	if _, err := os.Stat(cfgPath); err != nil {
		conf = cfgPath + " (absent: the embedded default)"
	}
	log.Info("stackagent "+version+" starting", "config", conf, "layout", processLayout().describe(),
		"state_dir", cfg.StateDir, "source", sourceName(cfg))
}

func sourceName(cfg *Config) string {
	if cfg.QueueURL != "" {
		return cfg.QueueURL
	}
	return "inbox " + inboxDir(cfg)
}

// pollWait is how long one receive may wait: wait_seconds for SQS, the
// inbox's poll window otherwise (a receive open longer is a stall).
func pollWait(cfg *Config) time.Duration {
	if cfg.QueueURL != "" {
		return time.Duration(cfg.WaitSeconds) * time.Second
	}
	return inboxPollWindow
}

func inboxDir(cfg *Config) string {
	if cfg.InboxDir != "" {
		return cfg.InboxDir
	}
	return filepath.Join(cfg.StateDir, "inbox")
}

// wiredDaemon is a lifecycle.Daemon and the engine behind its Converger,
// handed explicitly to what hooks into the engine (telemetry, heal), so
// that nothing asserts the Converger's concrete type.
type wiredDaemon struct {
	*lifecycle.Daemon
	engine *engine
	// reporter (reply_to) and completer (Auto Scaling) back the reply and
	// lifecycle-hook hooks; the watchdog reports with reporter too.
	reporter  lifecycle.Reporter
	completer lifecycle.HookCompleter
}

// buildDaemon wires a lifecycle.Daemon from the config, with its reply
// and lifecycle-hook hooks (setHooks adds the others).
func buildDaemon(ctx context.Context, cfg *Config, log *slog.Logger, out io.Writer) (*wiredDaemon, func(), error) {
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("state_dir: %w", err)
	}
	auto := ohai.Collect(ctx, ohai.Options{IMDSEndpoint: cfg.IMDSEndpoint, Logger: log})
	if len(cfg.Layers) == 0 {
		log.Info("no layers configured: this instance is in the base layer (setup lays out the agent's directories)")
	}
	journal, err := lifecycle.OpenJournal(filepath.Join(cfg.StateDir, "journal.jsonl"), cfg.JournalMaxAge, nil)
	if err != nil {
		return nil, nil, err
	}
	// One AWS config for every client (internal/awsconfig's region order).
	awsCfg, awsErr := awsconfig.Load(ctx, cfg.awsOptions(auto))
	w := &wiredDaemon{Daemon: newDaemon(cfg, auto, journal, log), engine: daemonEngine(cfg, auto, log, out)}
	w.Converger = w.engine
	w.BaseAttributes = func() map[string]any {
		attrs, _ := w.engine.baseAttributes() // an unreadable file fails the Converge that follows
		return attrs
	}
	if awsErr == nil {
		w.engine.secrets = secrets.NewFromConfig(awsCfg)
	}
	closeSource, err := w.setSource(cfg, awsCfg, awsErr, log)
	if err != nil {
		journal.Close()
		return nil, nil, err
	}
	w.setReply(cfg, awsCfg, awsErr, log)
	w.FetchCookbooks = cookbookFetcher(cfg, auto, log)
	w.Upgrade = newUpgrader(cfg, auto, awsCfg, awsErr, log).Upgrade
	w.setHooks()
	return w, func() { closeSource(); journal.Close() }, nil
}

// newDaemon is the daemon of the config, without its engine, source and
// hooks.
func newDaemon(cfg *Config, auto map[string]any, journal *lifecycle.Journal, log *slog.Logger) *lifecycle.Daemon {
	return &lifecycle.Daemon{
		Identity: configIdentity(cfg, auto), Journal: journal, StateDir: cfg.StateDir, Log: log,
		Results:   &lifecycle.ResultStore{Dir: filepath.Join(cfg.StateDir, "runs"), Keep: cfg.KeepRuns},
		BootSetup: cfg.BootSetup, VisibilityExtend: cfg.VisibilityTimeout, ConfigureSettle: cfg.ConfigureSettle,
	}
}

// daemonEngine is the daemon's converge engine: the config's, with the
// plugins and, without a queue, the inbox.
func daemonEngine(cfg *Config, auto map[string]any, log *slog.Logger, out io.Writer) *engine {
	e := configEngine(cfg, auto, "", log, out)
	if cfg.QueueURL == "" {
		e.inboxDir = inboxDir(cfg)
	}
	e.pluginDirs = []string{cfg.PluginDir}
	e.pluginChecksums, _ = cfg.pluginChecksums() // validated with the config
	e.pluginCache = filepath.Join(cfg.StateDir, "plugin-cache")
	return e
}

// setSource sets the event source: the inbox directory, or the SQS queue
// with the Auto Scaling completer and launch hook. close ends it.
func (w *wiredDaemon) setSource(cfg *Config, awsCfg aws.Config, awsErr error, log *slog.Logger) (close func(), err error) {
	if cfg.QueueURL == "" {
		inbox, err := lifecycle.NewInboxSource(inboxDir(cfg), log)
		if err != nil {
			return nil, err
		}
		w.Source = inbox
		return func() { inbox.Close() }, nil
	}
	if awsErr != nil {
		return nil, &ConfigError{Source: "config", Key: "region", Msg: awsErr.Error()}
	}
	src, err := lifecycle.NewSQSSource(sqs.NewFromConfig(awsCfg), cfg.QueueURL, lifecycle.SQSOptions{
		Wait: time.Duration(cfg.WaitSeconds) * time.Second, Visibility: cfg.VisibilityTimeout, Log: log})
	if err != nil {
		return nil, err
	}
	w.Source = src
	w.DrainConfirm = time.Second // an empty short receive does not prove the queue empty
	w.completer = lifecycle.NewLifecycleCompleter(autoscaling.NewFromConfig(awsCfg))
	if cfg.LaunchHook != "" {
		w.BootHook = &lifecycle.LifecycleHook{HookName: cfg.LaunchHook, AutoScalingGroupName: cfg.ASGName}
	}
	return func() {}, nil
}

// setReply sets the reporter of reply_to, when AWS is configured.
func (w *wiredDaemon) setReply(cfg *Config, awsCfg aws.Config, awsErr error, log *slog.Logger) {
	if cfg.ReplyTo == "" {
		return
	}
	if awsErr != nil {
		log.Warn("reply_to is set but AWS is not configured; results stay local", "error", awsErr)
		return
	}
	t, _ := lifecycle.ParseReplyTarget(cfg.ReplyTo)
	w.reporter = t.Reporter(sqs.NewFromConfig(awsCfg), sns.NewFromConfig(awsCfg))
}

// newUpgrader installs upgrade_agent's releases (S3 through AWS, or
// HTTPS).
func newUpgrader(cfg *Config, auto map[string]any, awsCfg aws.Config, awsErr error, log *slog.Logger) *upgrader {
	fam, _ := auto["platform_family"].(string)
	return &upgrader{binary: runningBinary(), stateDir: cfg.StateDir, log: log, family: fam,
		http: &http.Client{Timeout: 10 * time.Minute},
		s3: func() (*s3.Client, error) {
			if awsErr != nil {
				return nil, awsErr
			}
			return newS3Client(awsCfg), nil
		}}
}

// instanceIDFrom takes the EC2 instance id from the automatic attributes,
// or the host name off EC2.
func instanceIDFrom(auto map[string]any) string {
	if ec2, ok := auto["ec2"].(map[string]any); ok {
		if id, ok := ec2["instance_id"].(string); ok && id != "" {
			return id
		}
	}
	if h, ok := auto["hostname"].(string); ok && h != "" {
		return h
	}
	h, _ := os.Hostname()
	return h
}
