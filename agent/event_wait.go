package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/stackagent/stackagent/lifecycle"
)

// --wait: collecting the agents' results from the reply queue.

// resultWaiter collects the results of one event from a reply queue.
type resultWaiter struct {
	client    lifecycle.SQSAPI
	queueURL  string
	eventID   string
	expect    int
	instances []string // when set, only these instances' results count
	out, log  io.Writer

	seen   map[string]bool // instances whose result arrived
	failed int             // of them, failed or refused
}

// wait polls until expect results arrived or timeout passed. It returns
// nil when every result is success, skipped or superseded.
func (w *resultWaiter) wait(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	w.seen = map[string]bool{}
	idle := &lifecycle.Backoff{Base: idlePauseBase, Max: idlePauseMax}
	failures := 0
	for len(w.seen) < w.expect {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return w.timedOut(timeout)
		}
		ours, others, err := w.poll(ctx, remaining)
		switch {
		case err != nil && ctx.Err() != nil:
			return &exitError{code: 1, err: fmt.Errorf("wait for results of %s: %w", w.eventID, ctx.Err())}
		case err != nil:
			failures++
			if failures >= maxReceiveFailures {
				return &exitError{code: 1, err: fmt.Errorf("wait for results of %s: %w", w.eventID, err)}
			}
			fmt.Fprintf(w.log, "warning: %v (retrying)\n", err)
			sleepCtx(ctx, min(idle.Next(), time.Until(deadline)))
		case ours == 0 && others > 0:
			failures = 0
			sleepCtx(ctx, min(idle.Next(), time.Until(deadline)))
		default:
			failures = 0
			idle.Reset()
		}
	}
	if w.failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("event %s: %d of %d results failed or refused", w.eventID, w.failed, len(w.seen))}
	}
	fmt.Fprintf(w.log, "event %s: %d of %d results ok\n", w.eventID, len(w.seen), w.expect)
	return nil
}

func (w *resultWaiter) timedOut(timeout time.Duration) error {
	msg := fmt.Sprintf("event %s: timed out after %s: %d of %d results arrived", w.eventID, timeout, len(w.seen), w.expect)
	if w.failed > 0 {
		msg += fmt.Sprintf(", %d failed or refused", w.failed)
	}
	return &exitError{code: 1, err: errors.New(msg)}
}

// poll long-polls the reply queue once (at most remaining, at least 1 s),
// deletes and records this event's results and makes the others visible
// again. It returns how many of each it saw.
func (w *resultWaiter) poll(ctx context.Context, remaining time.Duration) (ours, others int, err error) {
	wait := max(min(remaining, lifecycle.DefaultSQSWait).Truncate(time.Second), time.Second)
	src, err := lifecycle.NewSQSSource(w.client, w.queueURL, lifecycle.SQSOptions{Wait: wait, Visibility: resultVisibility})
	if err != nil {
		return 0, 0, err
	}
	pctx, cancel := context.WithTimeout(ctx, wait+15*time.Second)
	defer cancel()
	msgs, err := src.Receive(pctx)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range msgs {
		r := parseResult(m.Body)
		if r == nil || r.EventID != w.eventID {
			others++
			if err := src.Release(ctx, m); err != nil {
				fmt.Fprintf(w.log, "warning: %v\n", err)
			}
			continue
		}
		ours++
		if err := src.Delete(ctx, m); err != nil {
			fmt.Fprintf(w.log, "warning: %v\n", err)
		}
		w.record(r)
	}
	return ours, others, nil
}

// record prints r and counts it, once per instance (delivery is at least
// once, so a result may arrive twice).
func (w *resultWaiter) record(r *lifecycle.Result) {
	if len(w.instances) > 0 && !slices.Contains(w.instances, r.InstanceID) {
		fmt.Fprintf(w.out, "%s (not an --instance, not counted)\n", formatResult(r))
		return
	}
	if w.seen[r.InstanceID] {
		return
	}
	w.seen[r.InstanceID] = true
	fmt.Fprintln(w.out, formatResult(r))
	switch r.Status {
	case lifecycle.StatusSuccess, lifecycle.StatusSkipped, lifecycle.StatusSuperseded:
		return
	}
	w.failed++
	if out := strings.TrimRight(r.Output, "\n"); out != "" {
		for line := range strings.SplitSeq(out, "\n") {
			fmt.Fprintf(w.out, "    | %s\n", line)
		}
	}
}

// formatResult is one result's line: instance, status, exit code,
// resources updated/total, duration, and the reason when there is one.
func formatResult(r *lifecycle.Result) string {
	d := r.End.Sub(r.Start)
	if r.Start.IsZero() || r.End.IsZero() || d < 0 {
		d = 0
	}
	s := fmt.Sprintf("%s  %s  exit %d  %d/%d resources updated  %s",
		orDefault(r.InstanceID, "(no instance id)"), r.Status, r.ExitCode, r.Updated, r.Total, d.Round(100*time.Millisecond))
	if r.Reason != "" {
		s += "  " + r.Reason
	}
	return s
}

// parseResult reads a reply: a lifecycle.Result as JSON, raw or inside an
// SNS notification (a queue subscribed to a topic without raw delivery).
// It returns nil for anything else.
func parseResult(body []byte) *lifecycle.Result {
	var n struct {
		Type    string
		Message *string
	}
	if json.Unmarshal(body, &n) == nil && n.Type == "Notification" && n.Message != nil {
		body = []byte(*n.Message)
	}
	var r lifecycle.Result
	if json.Unmarshal(body, &r) != nil || r.EventID == "" {
		return nil
	}
	return &r
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
