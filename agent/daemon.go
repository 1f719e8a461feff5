package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"time"

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
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	watchLog, err := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return &exitError{1, err}
	}
	changed, stopWatch := newFileWatch(watchLog).file(cfgPath)
	defer stopWatch()
	tel, err := newDaemonTelemetry(prometheus.NewRegistry())
	if err != nil {
		return &exitError{1, err}
	}
	defer tel.shutdown()
	notify := sdnotify.New(os.Getenv)
	wdCtx, stopWatchdog := context.WithCancel(parent)
	defer stopWatchdog()
	go notify.KeepAlive(wdCtx, nil) // WATCHDOG=1 every WATCHDOG_USEC/2 while the daemon lives
	var ready sync.Once
	reloaded := false
	started := false
	for {
		log, err := newLogger(stderr, cfg.LogFormat, cfg.LogLevel)
		if err != nil {
			return &exitError{1, err}
		}
		if !started {
			logStart(log, cfgPath, cfg)
			started = true
		}
		warnings, err := checkStrictModes(cfg, cfgPath, log)
		if err != nil {
			return &exitError{1, err}
		}
		tel.health.SetWarnings(warnings)
		d, cleanup, err := buildDaemon(parent, cfg, log, stdout)
		if err != nil {
			return &exitError{1, err}
		}
		tel.instrument(d.Daemon, d.engine)
		tel.health.SetPollWait(pollWait(cfg))
		stopHeal, buildCleanup := startHeal(parent, cfg, d, tel, log), cleanup
		cleanup = func() { stopHeal(); buildCleanup() }
		if err := tel.serve(parent, cfg.MetricsAddress, log); err != nil {
			if !reloaded {
				cleanup()
				return &exitError{1, err}
			}
			log.Error("metrics and health endpoint not moved", "error", err)
		}
		reloaded = true
		src, prev := sourceName(cfg), d.OnState
		d.OnState = func(state lifecycle.State, ev *lifecycle.Event) {
			if prev != nil {
				prev(state, ev)
			}
			switch state {
			case lifecycle.StatePolling:
				ready.Do(func() { notify.Ready() }) // systemd: started once the source is being polled
				notify.Status("polling " + src)
			case lifecycle.StateConverging:
				if ev != nil {
					notify.Status("converging " + ev.Type + " " + lifecycle.ShortID(ev.ID))
				}
			case lifecycle.StateBackingOff:
				notify.Status("receive failing; backing off")
			}
		}
		drain := make(chan struct{})
		d.Drain = drain
		ctx, cancel := context.WithCancel(parent)
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		log.Info("daemon started", "source", src, "instance", d.Identity.InstanceID, "stack", d.Identity.Stack, "layers", d.Identity.Layers)
		// reloadTo applies a new config once the running converge (if any)
		// has finished; an unchanged or invalid config changes nothing.
		reloadTo := func(why string) (*Config, bool) {
			next, _, err := loadConfig(cfgPath, explicit, os.Getenv, flags)
			if err != nil {
				log.Error(why+" but the config is invalid; keeping the running config", "error", err)
				return nil, false
			}
			if _, err := checkStrictModes(next, cfgPath, log); err != nil {
				log.Error(why+" but strict modes refuse the new config; keeping the running config", "error", err)
				return nil, false
			}
			if reflect.DeepEqual(next, cfg) {
				log.Info(why+"; config unchanged", "file", cfgPath)
				return nil, false
			}
			log.Info(why+"; reloading once the running converge (if any) finishes", "file", cfgPath)
			notify.Reloading()
			return next, true
		}
		var next *Config
	wait:
		for {
			select {
			case err := <-done:
				cancel()
				cleanup()
				if errors.Is(err, lifecycle.ErrRestart) {
					// upgrade_agent installed a new agent: become it.
					log.Info("restarting into the upgraded agent", "binary", runningBinary())
					notify.Reloading()
					return reexec(runningBinary())
				}
				return err
			case <-changed:
				if c, ok := reloadTo("config file changed"); ok {
					next = c
					close(drain)
					break wait
				}
			case s := <-sigs:
				if s == syscall.SIGHUP {
					if c, ok := reloadTo("SIGHUP"); ok {
						next = c
						close(drain)
						break wait
					}
					continue
				}
				log.Info("stopping", "signal", s.String())
				notify.Stopping()
				cancel()
				break wait
			}
		}
		// Wait for the daemon to end (a drain lets the converge finish); a
		// stop signal meanwhile still stops it.
	drained:
		for {
			select {
			case <-done:
				break drained
			case s := <-sigs:
				if s != syscall.SIGHUP {
					log.Info("stopping", "signal", s.String())
					notify.Stopping()
					next = nil
					cancel()
				}
			}
		}
		cancel()
		cleanup()
		if next == nil {
			return nil
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
}

// buildDaemon wires a lifecycle.Daemon from the config.
func buildDaemon(ctx context.Context, cfg *Config, log *slog.Logger, out io.Writer) (*wiredDaemon, func(), error) {
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("state_dir: %w", err)
	}
	auto := ohai.Collect(ctx, ohai.Options{IMDSEndpoint: cfg.IMDSEndpoint, Logger: log})
	id := configIdentity(cfg, auto)
	if len(cfg.Layers) == 0 {
		log.Info("no layers configured: this instance is in the base layer (setup lays out the agent's directories)")
	}
	e := configEngine(cfg, auto, "", log, out)
	if cfg.QueueURL == "" {
		e.inboxDir = inboxDir(cfg)
	}
	journal, err := lifecycle.OpenJournal(filepath.Join(cfg.StateDir, "journal.jsonl"), cfg.JournalMaxAge, nil)
	if err != nil {
		return nil, nil, err
	}
	closers := []func(){func() { journal.Close() }}
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	d := &lifecycle.Daemon{
		Identity: id, Converger: e, Journal: journal, StateDir: cfg.StateDir, Log: log,
		Results:   &lifecycle.ResultStore{Dir: filepath.Join(cfg.StateDir, "runs"), Keep: cfg.KeepRuns},
		BootSetup: cfg.BootSetup, VisibilityExtend: cfg.VisibilityTimeout, ConfigureSettle: cfg.ConfigureSettle,
		BaseAttributes: func() map[string]any {
			attrs, _ := e.baseAttributes() // an unreadable file fails the Converge that follows
			return attrs
		},
	}
	// One AWS config for every client (internal/awsconfig's region order).
	awsCfg, awsErr := awsconfig.Load(ctx, cfg.awsOptions(auto))
	if awsErr == nil {
		e.secrets = secrets.NewFromConfig(awsCfg)
	}
	e.pluginDirs = []string{cfg.PluginDir}
	e.pluginChecksums, _ = cfg.pluginChecksums() // validated with the config
	e.pluginCache = filepath.Join(cfg.StateDir, "plugin-cache")
	if cfg.QueueURL == "" {
		inbox, err := lifecycle.NewInboxSource(inboxDir(cfg), log)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		closers = append(closers, func() { inbox.Close() })
		d.Source = inbox
	} else {
		if awsErr != nil {
			cleanup()
			return nil, nil, &ConfigError{Source: "config", Key: "region", Msg: awsErr.Error()}
		}
		sqsClient := sqs.NewFromConfig(awsCfg)
		src, err := lifecycle.NewSQSSource(sqsClient, cfg.QueueURL, lifecycle.SQSOptions{
			Wait: time.Duration(cfg.WaitSeconds) * time.Second, Visibility: cfg.VisibilityTimeout, Log: log})
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		d.Source = src
		d.DrainConfirm = time.Second // an empty short receive does not prove the queue empty
		d.Hooks = lifecycle.NewLifecycleCompleter(autoscaling.NewFromConfig(awsCfg))
		if cfg.LaunchHook != "" {
			d.BootHook = &lifecycle.LifecycleHook{HookName: cfg.LaunchHook, AutoScalingGroupName: cfg.ASGName}
		}
		if cfg.ReplyTo != "" {
			t, _ := lifecycle.ParseReplyTarget(cfg.ReplyTo)
			d.Reporter = t.Reporter(sqsClient, sns.NewFromConfig(awsCfg))
		}
	}
	if cfg.ReplyTo != "" && d.Reporter == nil {
		if awsErr == nil {
			t, _ := lifecycle.ParseReplyTarget(cfg.ReplyTo)
			d.Reporter = t.Reporter(sqs.NewFromConfig(awsCfg), sns.NewFromConfig(awsCfg))
		} else {
			log.Warn("reply_to is set but AWS is not configured; results stay local", "error", awsErr)
		}
	}
	d.FetchCookbooks = cookbookFetcher(cfg, auto, log)
	fam, _ := auto["platform_family"].(string)
	d.Upgrade = (&upgrader{binary: runningBinary(), stateDir: cfg.StateDir, log: log, family: fam,
		http: &http.Client{Timeout: 10 * time.Minute},
		s3: func() (*s3.Client, error) {
			if awsErr != nil {
				return nil, awsErr
			}
			return newS3Client(awsCfg), nil
		}}).Upgrade
	return &wiredDaemon{Daemon: d, engine: e}, cleanup, nil
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
