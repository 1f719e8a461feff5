package lifecycle

import (
	"context"
	"errors"

	"github.com/stackagent/stackagent/internal/jsontree"
)

// Handler runs one type of event to an Outcome. The daemon looks it up by
// event type (handlers); every type without its own handler converges its
// layers' run list (convergeHandler).
type Handler interface {
	Handle(ctx context.Context, ev *Event) *Outcome
}

// HandlerFunc is a function as a Handler.
type HandlerFunc func(ctx context.Context, ev *Event) *Outcome

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev *Event) *Outcome { return f(ctx, ev) }

// handlers is the table of event types and their handlers.
func (d *Daemon) handlers() map[string]Handler {
	conv := HandlerFunc(d.converge)
	return map[string]Handler{
		TypeSetup:                 HandlerFunc(d.setup),
		TypeConfigure:             conv,
		TypeDeploy:                conv,
		TypeUndeploy:              conv,
		TypeShutdown:              conv,
		TypeExecuteRecipes:        conv,
		TypeUpdateCustomCookbooks: HandlerFunc(d.updateCustomCookbooks),
		TypeUpgradeAgent:          HandlerFunc(d.upgradeAgent),
	}
}

// run hands ev to the handler of its type.
func (d *Daemon) run(ctx context.Context, ev *Event) *Outcome {
	h, ok := d.handlers()[ev.Type]
	if !ok {
		h = HandlerFunc(d.converge)
	}
	return h.Handle(ctx, ev)
}

// upgradeAgent runs upgrade_agent through Daemon.Upgrade.
func (d *Daemon) upgradeAgent(ctx context.Context, ev *Event) *Outcome {
	if d.Upgrade == nil {
		return &Outcome{Status: StatusFailed, ExitCode: 1, Err: errors.New("upgrade_agent: this agent cannot upgrade itself")}
	}
	msg, err := d.Upgrade(context.WithoutCancel(ctx), ev)
	switch {
	case errors.Is(err, ErrRestart):
		return &Outcome{Status: statusRestart, Output: msg}
	case err != nil:
		return &Outcome{Status: StatusFailed, ExitCode: 1, Err: err, Output: msg + "\n" + err.Error()}
	}
	return &Outcome{Status: StatusSuccess, Output: msg}
}

// updateCustomCookbooks runs update_custom_cookbooks through
// Daemon.FetchCookbooks.
func (d *Daemon) updateCustomCookbooks(ctx context.Context, ev *Event) *Outcome {
	if d.FetchCookbooks == nil {
		return &Outcome{Status: StatusFailed, ExitCode: 1, Err: errors.New("update_custom_cookbooks: no custom cookbook source configured")}
	}
	msg, err := d.FetchCookbooks(context.WithoutCancel(ctx), ev)
	if err != nil {
		return &Outcome{Status: StatusFailed, ExitCode: 1, Err: err, Output: err.Error()}
	}
	return &Outcome{Status: StatusSuccess, Output: msg}
}

// setup converges setup; an instance coming online (Auto Scaling launch,
// first boot) then deploys the stack's apps, as OpsWorks did, before it
// reports.
func (d *Daemon) setup(ctx context.Context, ev *Event) *Outcome {
	out := d.converge(ctx, ev)
	if out.Status != StatusSuccess || !bringsOnline(ev) {
		return out
	}
	dep := *ev
	dep.Type, dep.App, dep.Command = TypeDeploy, "", CommandDeploy
	more := d.converge(ctx, &dep)
	more.RunList = append(append([]string{}, out.RunList...), more.RunList...)
	more.Updated += out.Updated
	more.Total += out.Total
	more.Output = out.Output + "\n" + more.Output
	return more
}

// bringsOnline tells whether a setup event is an instance coming online.
func bringsOnline(ev *Event) bool {
	return (ev.Hook != nil && ev.Hook.Transition == TransitionLaunching) || ev.Envelope == "boot"
}

// converge builds the event's run list and converges it.
func (d *Daemon) converge(ctx context.Context, ev *Event) *Outcome {
	attrs := d.BaseAttributes()
	jsontree.Merge(attrs, ev.Attributes)
	runList, err := RunList(ev, attrs, d.Identity.Layers)
	if err != nil && !errors.Is(err, ErrNoRunList) {
		return &Outcome{Status: StatusFailed, ExitCode: 1, Err: err, Output: err.Error()}
	}
	if len(runList) == 0 {
		return &Outcome{Status: StatusSuccess, Output: "nothing to run: the run list for " + ev.Type + " is empty"}
	}
	job := &Job{Event: ev, RunList: runList, Attributes: ev.NodeAttributes(d.Identity), Interrupt: ctx.Done()}
	// The converge itself is not cancelled by the stop: Interrupt ends it
	// between resources, so the running resource finishes.
	out := d.Converger.Converge(context.WithoutCancel(ctx), job)
	if out == nil {
		out = &Outcome{Status: StatusFailed, ExitCode: 1, Err: errors.New("converger returned nothing")}
	}
	out.RunList = runList
	return out
}
