// Package lifecycle turns the stack's lifecycle events into converges:
// event sources (SQS, the local inbox directory), the event schema and its
// validation, dispatch of an event to a run list, the processed-event
// journal, visibility heartbeats, result reporting and Auto Scaling
// lifecycle-hook completion. It renders no templates and touches no app
// files: converging is the recipes engine's job, reached through Converger.
package lifecycle

import (
	"context"
	"errors"
	"time"
)

// Event types (OpsWorks lifecycle events and ad-hoc commands).
const (
	TypeSetup                 = "setup"
	TypeConfigure             = "configure"
	TypeDeploy                = "deploy"
	TypeUndeploy              = "undeploy"
	TypeShutdown              = "shutdown"
	TypeExecuteRecipes        = "execute_recipes"
	TypeUpdateCustomCookbooks = "update_custom_cookbooks"
	// TypeUpgradeAgent installs another version of the agent itself and
	// restarts it (OpsWorks' agent_version).
	TypeUpgradeAgent = "upgrade_agent"
)

// Event is a validated lifecycle event, schema version 1. Unknown JSON
// fields are ignored.
type Event struct {
	Version   int      `json:"version"`
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	Stack     string   `json:"stack,omitempty"`
	Layers    []string `json:"layers,omitempty"`
	Instances []string `json:"instances,omitempty"`
	// App and Command: for deploy (command deploy, rollback, undeploy,
	// start, stop, restart; default deploy) and undeploy.
	App     string `json:"app,omitempty"`
	Command string `json:"command,omitempty"`
	// RollbackTo names the release a rollback goes to (default: the one
	// before current).
	RollbackTo string `json:"rollback_to,omitempty"`
	// Recipes: the run list of execute_recipes.
	Recipes []string `json:"recipes,omitempty"`
	// AgentVersion and PackageURL: for upgrade_agent, the agent version
	// to run (OpsWorks' agent_version) and where its package is (a .deb, an .rpm or the bare binary: an
	// http(s) URL, s3://bucket/key or a local path); without a URL the
	// platform's package manager installs that version from its
	// repositories.
	AgentVersion string `json:"agent_version,omitempty"`
	PackageURL   string `json:"package_url,omitempty"`
	// Attributes: the stack configuration and deployment JSON, merged at
	// normal level for the run.
	Attributes map[string]any `json:"attributes,omitempty"`
	IssuedAt   time.Time      `json:"issued_at"`
	// Sequence is an optional number the controller sets, increasing with
	// every event it issues; when two events both carry one it orders them
	// instead of IssuedAt (see Newer).
	Sequence uint64 `json:"sequence,omitempty"`

	// Hook is set when the event came from an Auto Scaling lifecycle hook:
	// the run's result completes the lifecycle action.
	Hook *LifecycleHook `json:"hook,omitempty"`
	// Envelope says how the event arrived: "event" (plain v1 JSON), "sns",
	// "asg" (lifecycle hook), "eventbridge", possibly nested ("sns+asg").
	Envelope string `json:"envelope,omitempty"`
}

// LifecycleHook is what CompleteLifecycleAction needs.
type LifecycleHook struct {
	HookName             string `json:"hook_name"`
	AutoScalingGroupName string `json:"auto_scaling_group_name"`
	Token                string `json:"token"`
	InstanceID           string `json:"instance_id"`
	Transition           string `json:"transition"` // autoscaling:EC2_INSTANCE_LAUNCHING / _TERMINATING
}

// ErrMalformed means a message body cannot be understood as an event at
// all (not JSON, no envelope recognised). Such a message is left on the
// queue so its redrive policy moves it to the dead-letter queue.
var ErrMalformed = errors.New("malformed message")

// ErrRefused means the message is a well-formed event this agent will not
// run (unknown type or version, missing fields). It is reported with the
// reason and deleted; it never runs.
var ErrRefused = errors.New("event refused")

// ErrTestNotification is returned for Auto Scaling's test notification
// (sent when a hook is created): acknowledged and deleted, nothing runs.
var ErrTestNotification = errors.New("auto scaling test notification")

// Message is one delivery of a source.
type Message struct {
	// ID is the source's message id (SQS MessageId, the inbox file name).
	ID   string
	Body []byte
	// ReceiveCount is how many times the source has delivered it (SQS
	// ApproximateReceiveCount; 1 for the inbox).
	ReceiveCount int
	Received     time.Time
	// Handle is the source's own handle (SQS receipt handle, inbox path).
	Handle string
}

// Source delivers messages. Receive blocks until at least one message is
// there, the source's poll ends empty (it may return none), or ctx is done.
// Delete acknowledges a message so it is never delivered again.
type Source interface {
	Receive(ctx context.Context) ([]*Message, error)
	Delete(ctx context.Context, m *Message) error
}

// VisibilityExtender is a Source whose deliveries time out (SQS): Extend
// keeps m invisible to other receivers for d more.
type VisibilityExtender interface {
	Extend(ctx context.Context, m *Message, d time.Duration) error
}

// Releaser is a Source that can hand a message back at once for redelivery
// (SQS: visibility timeout 0), as the daemon does on SIGTERM.
type Releaser interface {
	Release(ctx context.Context, m *Message) error
}

// Status is what became of an event (Result.Status) or how a converge
// ended (Outcome.Status). Its values are part of the wire formats: the
// runs/ files, replies, the journal and the metrics labels.
type Status string

// Result statuses.
const (
	StatusSuccess    Status = "success"
	StatusFailed     Status = "failed"
	StatusSkipped    Status = "skipped"
	StatusSuperseded Status = "superseded"
	StatusRefused    Status = "refused"
	// StatusInterrupted is an Outcome cut short by the daemon's stop (the
	// event is handed back; no Result carries it).
	StatusInterrupted Status = "interrupted"
	// statusRestart is an Outcome of upgrade_agent that needs the agent
	// to restart to finish.
	statusRestart Status = "restart"
)

// State is what the daemon is doing, told to each StateHook (health,
// metrics, systemd status). Its values are the metrics' state labels.
type State string

// Daemon states.
const (
	StatePolling    State = "polling"
	StateConverging State = "converging"
	StateBackingOff State = "backing-off"
	StateStopped    State = "stopped"
)

// Result is what became of one event on one instance.
type Result struct {
	EventID    string    `json:"event_id"`
	EventType  string    `json:"event_type,omitempty"`
	App        string    `json:"app,omitempty"`
	Command    string    `json:"command,omitempty"`
	InstanceID string    `json:"instance_id"`
	Stack      string    `json:"stack,omitempty"`
	Status     Status    `json:"status"`
	Reason     string    `json:"reason,omitempty"`
	ExitCode   int       `json:"exit_code"`
	RunList    []string  `json:"run_list,omitempty"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Updated    int       `json:"resources_updated"`
	Total      int       `json:"resources_total"`
	// Output is the last 2 KiB of the run's output, secrets redacted.
	Output string `json:"output,omitempty"`
	// Periodic: a drift-correction run the daemon started itself
	// (envelope "drift"); Drift: such a run changed resources, so the host
	// had drifted from its cookbooks.
	Periodic bool `json:"periodic,omitempty"`
	Drift    bool `json:"drift,omitempty"`
}

// Reporter sends a result somewhere (a reply SQS queue, an SNS topic).
type Reporter interface {
	Report(ctx context.Context, r *Result) error
}

// Job is one converge the daemon asks for.
type Job struct {
	Event   *Event
	RunList []string
	// Attributes are merged at normal level for the run (the event's stack
	// configuration and what the run is: stackagent.event, …).
	Attributes map[string]any
	// Interrupt is closed when the daemon is asked to stop: the converge
	// ends before its next resource, leaving the event for redelivery.
	Interrupt <-chan struct{}
}

// Outcome is how a converge ended.
type Outcome struct {
	// Status is StatusSuccess, StatusFailed or StatusInterrupted.
	Status   Status
	ExitCode int
	Updated  int
	Total    int
	// Output is the run's output (the daemon keeps its last 2 KiB); the
	// converger redacts sensitive values.
	Output string
	Err    error
	// RunList is what ran (filled in by the daemon).
	RunList []string
}

// ErrRestart is returned by Daemon.Run when the agent must restart itself
// (after upgrade_agent installed a new version); by Upgrade to ask for it.
var ErrRestart = errors.New("agent restart requested")

// Converger runs jobs; the agent wires the recipes engine (and the
// host-wide converge lock) behind it.
type Converger interface {
	Converge(ctx context.Context, job *Job) *Outcome
}

// Rejecter is a Source that sets aside a message that is not an event
// (the inbox moves it to failed/). SQS has no Reject: such a message is
// left for the queue's redrive policy.
type Rejecter interface {
	Reject(ctx context.Context, m *Message, reason string) error
}

// ResultRecorder is a Source that keeps the result with the message (the
// inbox writes processed/NAME.result.json).
type ResultRecorder interface {
	RecordResult(m *Message, r *Result) error
}

// HookCompleter completes Auto Scaling lifecycle actions.
type HookCompleter interface {
	Complete(ctx context.Context, hook *LifecycleHook, result string) error
	Heartbeat(ctx context.Context, hook *LifecycleHook) error
}
