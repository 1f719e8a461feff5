package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/stackagent/stackagent/lifecycle"
)

// waitForEvent is event send --wait, once the event is sent: it records
// the event's targets in the result book, reads the reply queue until every
// target answered or the timeout, and prints the report.
func waitForEvent(ctx context.Context, cfg aws.Config, book *resultBook, f *eventFlags, eventID string, expect int, stdout, stderr io.Writer) error {
	t := eventTargets{eventID: eventID, instances: f.instances, expect: expect}
	if err := book.setMeta(eventMeta{EventID: eventID, Instances: f.instances, Expect: expect, SentAt: time.Now().UTC()}); err != nil {
		fmt.Fprintf(stderr, "warning: %v (event status will not know the targets)\n", err)
	}
	if !f.asJSON {
		fmt.Fprintln(stdout, eventID)
	}
	fmt.Fprintf(stderr, "waiting up to %s for %s of %s on %s\n", f.timeout, waitingFor(t, f.expect > 0), eventID, f.replyQueue)
	rd := &replyReader{client: sqs.NewFromConfig(cfg), queueURL: f.replyQueue, book: book, log: stderr}
	show := func(r *lifecycle.Result) {
		if !f.asJSON {
			fmt.Fprintln(stdout, formatResult(r))
		}
	}
	rep, werr := rd.waitFor(ctx, t, time.Now().Add(f.timeout), show)
	if werr == nil && !rep.Complete {
		werr = fmt.Errorf("event %s: timed out after %s: %d of %d host(s) answered; missing: %s",
			eventID, f.timeout, rep.Expected-rep.Counts.Missing, rep.Expected, rep.missingHosts())
	}
	return finishReport(stdout, rep, f.asJSON, werr)
}

// waitingFor says whom --wait waits for.
func waitingFor(t eventTargets, explicit bool) string {
	switch {
	case len(t.instances) > 0:
		return fmt.Sprintf("%d host(s) (%s)", len(t.instances), strings.Join(t.instances, ", "))
	case explicit:
		return fmt.Sprintf("%d host(s)", t.expect)
	}
	return "one host's result (targets unknown: give --instance, or --expect N for a layer or stack of N hosts)"
}

// finishReport prints the report and turns it into the exit status: 1 when
// a targeted host failed or is missing, or when waiting failed.
func finishReport(w io.Writer, rep *eventReport, asJSON bool, waitErr error) error {
	if asJSON {
		if err := rep.printJSON(w); err != nil {
			return err
		}
	} else {
		rep.printText(w)
	}
	switch {
	case waitErr != nil:
		return &exitError{code: 1, err: waitErr}
	case !rep.Complete:
		return &exitError{code: 1, err: fmt.Errorf("event %s: %d of %d host(s) have not answered: %s",
			printable(rep.EventID), rep.Counts.Missing, rep.Expected, rep.missingHosts())}
	case rep.Counts.Failed > 0:
		return &exitError{code: 1, err: fmt.Errorf("%w: event %s: %d host(s) failed", errShown, printable(rep.EventID), rep.Counts.Failed)}
	}
	return nil
}

// statusFlags are the flags of event status.
type statusFlags struct {
	replyQueue, region, endpoint string
	resultsDir                   string
	instances                    []string
	expect                       int
	asJSON                       bool
}

func newEventStatusCmd() *cobra.Command {
	f := &statusFlags{}
	cmd := &cobra.Command{
		Use:     "status EVENT_ID [--reply-queue URL] [--json]",
		Aliases: []string{"results"},
		Short:   "Show the results that have arrived for an event",
		Long: `Show the results of an event: the ones filed in --results-dir by earlier
event send --wait or event status runs, after reading what is waiting on
--reply-queue (when given) into it. Same output as event send --wait.

The hosts waited for are the --instance values (or --expect N), else what
event send --wait recorded for the event, else whoever answered.

Exit codes: 0 every targeted host answered success, superseded or
skipped; 1 a host failed or is missing, or no result of the event is known.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eventStatus(cmd.Context(), f, args[0], cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.replyQueue, "reply-queue", "", "read the results waiting on this SQS queue first")
	fl.StringVar(&f.region, "region", "", "AWS region (default: AWS_REGION, the shared config, or the queue URL's)")
	fl.StringVar(&f.endpoint, "endpoint", "", "AWS endpoint URL for SQS (default: AWS_ENDPOINT_URL)")
	fl.StringVar(&f.resultsDir, "results-dir", "", "where results are filed (default ~/.cache/stackagent/results)")
	fl.StringSliceVar(&f.instances, "instance", nil, "the hosts the event targets (repeatable)")
	fl.IntVar(&f.expect, "expect", 0, "how many hosts the event targets")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON (one object per host)")
	return cmd
}

func eventStatus(ctx context.Context, f *statusFlags, eventID string, stdout io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if f.expect < 0 {
		return usageErr("--expect %d: want at least 1", f.expect)
	}
	book, err := openBook(f.resultsDir)
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if f.replyQueue != "" {
		t, err := lifecycle.ParseReplyTarget(f.replyQueue)
		if err != nil || t.Kind != lifecycle.ReplySQS {
			return usageErr("--reply-queue %q: want an SQS queue URL", f.replyQueue)
		}
		cfg, err := awsConfig(ctx, f.region, f.endpoint, t.Region)
		if err != nil {
			return &exitError{code: 1, err: err}
		}
		rd := &replyReader{client: sqs.NewFromConfig(cfg), queueURL: f.replyQueue, book: book, log: io.Discard}
		if err := rd.drain(ctx); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	t := eventTargets{eventID: eventID, instances: f.instances, expect: f.expect}
	if m := book.meta(eventID); m != nil && len(t.instances) == 0 && t.expect == 0 {
		t.instances, t.expect = m.Instances, m.Expect
	}
	results := book.results(eventID)
	if len(results) == 0 && len(t.instances) == 0 && t.expect == 0 {
		return &exitError{code: 1, err: errors.New("event " + printable(eventID) + ": no result has arrived (read from a reply queue with --reply-queue)")}
	}
	rep := buildReport(t, results)
	if !f.asJSON {
		for _, h := range rep.Hosts {
			if h.result != nil {
				fmt.Fprintln(stdout, formatResult(h.result))
			}
		}
	}
	return finishReport(stdout, rep, f.asJSON, nil)
}
