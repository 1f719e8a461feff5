package recipes

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// ResourceError is a resource action that failed and stopped the run.
type ResourceError struct {
	Resource *Resource
	Action   string
	Err      error
	display  string // the ID with sensitive values hidden
}

func (e *ResourceError) Error() string {
	id := e.display
	if id == "" {
		id = e.Resource.ID()
	}
	return fmt.Sprintf("%s action %s (%s): %v", id, e.Action, e.Resource.Decl, e.Err)
}

func (e *ResourceError) Unwrap() error { return e.Err }

// converger runs the converge phase over the compiled collection.
type converger struct {
	rt   *runtime
	rc   *RunContext
	opts *Options
	rep  *Report

	delayed     []*Notification
	delayedBy   []*Resource
	delayedSeen map[string]bool

	depth   int  // 0 for the run's collection, 1 inside a custom resource…
	updated bool // whether a resource of the collection updated
	// hidden are the sensitive values of the custom resources this
	// collection runs inside: inner resources never show them either.
	hidden redactor
}

// run converges the run's collection, then the deferred work.
func (c *converger) run(ctx context.Context) error {
	failure := c.runCollection(ctx, c.rt.collection)
	if err := c.rc.runDeferred(ctx); err != nil && failure == nil {
		failure = err
	}
	return failure
}

// runCollection converges every resource in order, then the delayed
// notifications. Delayed notifications queued before a failure still run,
// as in Chef.
func (c *converger) runCollection(ctx context.Context, coll []*Resource) error {
	var failure error
outer:
	for _, r := range coll {
		for _, a := range r.Actions {
			if err := c.stopped(ctx); err != nil {
				failure = err
				break outer
			}
			if _, err := c.runAction(ctx, r, a, nil); err != nil {
				failure = err
				break outer
			}
		}
	}
	for i := 0; i < len(c.delayed); i++ {
		if err := ctx.Err(); err != nil {
			if failure == nil {
				failure = err
			}
			break
		}
		n := c.delayed[i]
		if _, err := c.runAction(ctx, n.Target, n.Action, c.delayedBy[i]); err != nil && failure == nil {
			failure = err
		}
	}
	return failure
}

// stopped says whether the run must stop before the next resource.
func (c *converger) stopped(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.opts.Interrupt:
		return ErrInterrupted
	default:
		return nil
	}
}

// runAction converges one action of one resource, with guards, retries,
// notifications and reporting. It returns whether the resource updated.
func (c *converger) runAction(ctx context.Context, r *Resource, action string, by *Resource) (bool, error) {
	start := time.Now()
	rd := c.redactor(r)
	rr := ResourceReport{ID: rd.apply(r.ID()), Kind: r.Kind.Name, Name: rd.apply(r.Name), Action: action, Recipe: r.Recipe,
		Source: r.Decl.String(), Sensitive: r.Sensitive, Depth: c.depth, resource: r}
	if r.Cookbook != nil {
		rr.Cookbook = r.Cookbook.Name
	}
	if by != nil {
		rr.NotifiedBy = by.ID()
	}
	c.opts.Events.ResourceStarted(&rr)
	updated, err := c.converge(ctx, r, action, &rr)
	rr.ElapsedSeconds = time.Since(start).Seconds()
	if err != nil {
		rd = c.redactor(r) // r may have become sensitive, a secret been read
		rr.Status = StatusFailed
		rr.Error = rd.apply(err.Error())
		rr.declaration = rd.apply(r.Redacted())
		if r.IgnoreFailure {
			rr.IgnoredFailure, rr.QuietFailure = true, r.QuietFailure
			err = nil
		} else {
			err = &ResourceError{Resource: r, Action: action, Err: errors.New(rr.Error), display: rr.ID}
			if errors.Is(ctx.Err(), context.Canceled) {
				err = fmt.Errorf("%w: %w", ctx.Err(), err)
			}
		}
	}
	c.rep.Resources = append(c.rep.Resources, rr)
	c.opts.Events.ResourceFinished(&rr)
	if err != nil || !updated {
		return updated, err
	}
	c.updated = true
	return true, c.notify(ctx, r, "immediately")
}

// converge does the work of runAction and fills rr's status and changes.
func (c *converger) converge(ctx context.Context, r *Resource, action string, rr *ResourceReport) (bool, error) {
	if action == "nothing" {
		rr.Status, rr.SkippedBy = StatusSkipped, "action nothing"
		return false, nil
	}
	if err := c.rc.beforeResource(ctx, r.Kind.Name); err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.ResourceTimeout)
	defer cancel()
	reads := c.rt.secretReads
	res, err := c.resolve(ctx, r)
	if err != nil {
		return false, err
	}
	skip, err := c.guarded(ctx, res)
	if err != nil {
		return false, err
	}
	if skip != "" {
		rr.Status, rr.SkippedBy = StatusSkipped, skip
		return false, nil
	}
	if r.Kind.custom != nil {
		var updated bool
		err := c.retry(ctx, r, res, action, rr, func() error {
			rr.Changes = nil
			var err error
			updated, err = c.convergeCustom(ctx, res, action, rr)
			return err
		})
		return updated, err
	}
	steps, err := c.attempt(ctx, r, res, action, rr)
	// A resource holding a secret is sensitive as to its content: no diff
	// (it would show the old value too), no content. Its other values stay
	// shown: the secrets themselves are hidden everywhere anyway.
	rr.Sensitive = r.Sensitive || c.holdsSecret(res, reads, steps)
	rd := c.redactor(res)
	reportSteps(rr, rd, steps)
	if err != nil {
		if c.opts.WhyRun && len(steps) == 0 {
			// In why-run an earlier resource would have changed the host
			// (installed the package a service needs…): say so and go on.
			rr.Status = StatusUnknown
			rr.Changes = append(rr.Changes, "cannot tell in why-run: "+rd.apply(err.Error())+" (assuming an earlier resource would have made this possible)")
			return false, nil
		}
		return false, err
	}
	if len(steps) == 0 {
		rr.Status = StatusUpToDate
		return false, nil
	}
	rr.Status = StatusUpdated
	return true, nil
}

// attempt plans and applies res, retrying a failure r.Retries times
// after r.RetryDelay (default 2 s); rr counts the attempts.
func (c *converger) attempt(ctx context.Context, r, res *Resource, action string, rr *ResourceReport) ([]Step, error) {
	var steps []Step
	err := c.retry(ctx, r, res, action, rr, func() error {
		var err error
		steps, err = c.planAndApply(ctx, res, action)
		return err
	})
	return steps, err
}

// retry runs try until it succeeds or r's retries are spent.
func (c *converger) retry(ctx context.Context, r, res *Resource, action string, rr *ResourceReport, try func() error) error {
	for attempt := 0; ; attempt++ {
		rr.Attempts = attempt + 1
		err := try()
		if err == nil || attempt >= r.Retries || ctx.Err() != nil {
			return err
		}
		c.opts.Log.Warn("retrying resource", "resource", c.redactor(res).apply(r.ID()), "action", action, "attempt", attempt+1, "error", c.redactor(res).apply(err.Error()))
		delay := time.Duration(r.RetryDelay * float64(time.Second))
		if r.RetryDelay == 0 {
			delay = 2 * time.Second
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
}

// reportSteps adds the steps' changes, and their diffs unless rr is
// sensitive, to rr, redacted.
func reportSteps(rr *ResourceReport, rd redactor, steps []Step) {
	for _, s := range steps {
		rr.Changes = append(rr.Changes, rd.apply(s.Desc))
		if s.Diff != "" && !rr.Sensitive {
			rr.Diffs = append(rr.Diffs, rd.apply(s.Diff))
		}
	}
}

// planAndApply asks the provider for the steps, runs "before" notifications
// when there is something to do, then applies the steps (not in why-run).
func (c *converger) planAndApply(ctx context.Context, r *Resource, action string) ([]Step, error) {
	steps, err := c.safePlan(ctx, r, action)
	if err != nil || len(steps) == 0 {
		return nil, err
	}
	if err := c.notify(ctx, r, "before"); err != nil {
		return nil, err
	}
	if c.opts.WhyRun {
		return steps, nil
	}
	for i, s := range steps {
		if s.Apply == nil {
			continue
		}
		if err := safeCall(func() error { return s.Apply(ctx) }); err != nil {
			return steps[:i], fmt.Errorf("%s: %w", s.Desc, err)
		}
	}
	return steps, nil
}

func (c *converger) safePlan(ctx context.Context, r *Resource, action string) (steps []Step, err error) {
	err = safeCall(func() error {
		var e error
		steps, e = r.Kind.Provider.Plan(ctx, c.rc, r, action)
		return e
	})
	return steps, err
}

// safeCall turns a provider's panic into an error.
func safeCall(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("provider panic: %v\n%s", p, debug.Stack())
		}
	}()
	return f()
}

// resolve computes lazy properties, and lazy values inside tables, and
// checks their types.
func (c *converger) resolve(ctx context.Context, r *Resource) (*Resource, error) {
	var res *Resource
	for name, v := range r.props {
		lz, ok := v.(*Lazy)
		if !ok && !hasLazy(v) {
			continue
		}
		if res == nil {
			res = r.clone()
		}
		if !ok {
			nv, err := c.resolveNested(ctx, v, name)
			if err != nil {
				return nil, err
			}
			res.props[name] = nv
			continue
		}
		got, err := c.rt.call(ctx, lz.fn)
		if err != nil {
			return nil, fmt.Errorf("lazy %s: %w", name, err)
		}
		p, _ := r.Kind.prop(name)
		cv, err := coerce(p.Type, got)
		if err == nil {
			err = p.checkOneOf(cv)
		}
		if err != nil {
			return nil, fmt.Errorf("lazy %s (%s): %w", name, lz.fn.src, err)
		}
		res.props[name] = cv
	}
	if res == nil {
		return r, nil
	}
	return res, nil
}

// guarded evaluates only_if and not_if in order and returns which one
// skips the resource, or "".
func (c *converger) guarded(ctx context.Context, r *Resource) (string, error) {
	for _, g := range r.Guards {
		ok, err := c.evalGuard(ctx, r, g)
		if err != nil {
			return "", fmt.Errorf("%s: %w", g.Kind, err)
		}
		if (g.Kind == "only_if" && !ok) || (g.Kind == "not_if" && ok) {
			return g.Kind, nil
		}
	}
	return "", nil
}

func (c *converger) evalGuard(ctx context.Context, r *Resource, g Guard) (bool, error) {
	if g.Fn != nil {
		v, err := c.rt.call(ctx, g.Fn)
		if err != nil {
			return false, err
		}
		return v != nil && v != false, nil
	}
	var cmd Command
	if r.Kind.GuardBase != nil {
		cmd = r.Kind.GuardBase(r)
	}
	cmd.Path, cmd.Args = "/bin/sh", []string{"-c", g.Command}
	res, err := c.opts.Runner.Run(ctx, cmd)
	if err != nil {
		return false, err
	}
	return res.ExitCode == 0, nil
}

// notify runs (immediately, before) or queues (delayed) the notifications
// of an updated resource for the given timing.
func (c *converger) notify(ctx context.Context, r *Resource, timing string) error {
	for _, n := range r.Notifies {
		if n.Timing == "delayed" && timing == "immediately" {
			key := n.Action + " " + n.Target.ID()
			if !c.delayedSeen[key] {
				c.delayedSeen[key] = true
				c.delayed = append(c.delayed, n)
				c.delayedBy = append(c.delayedBy, r)
			}
			continue
		}
		if n.Timing != timing {
			continue
		}
		if _, err := c.runAction(ctx, n.Target, n.Action, r); err != nil {
			return err
		}
	}
	return nil
}

// redactor hides r's sensitive values and the run's secrets.
func (c *converger) redactor(r *Resource) redactor {
	return append(append(newRedactor(r), c.hidden...), c.rt.secretRedactor()...).with()
}
