package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stackagent/stackagent/lifecycle"
)

// --wait and event status: reading the agents' results from a reply queue.
//
// The reply queue is the mailbox of one controller host. Every result read
// from it, of any event, is filed in the local result book and deleted
// from the queue, so each result is received once: waiting for an event
// costs the same with 1 or 1,000 stale results on the queue (the old way,
// putting other events' results back, re-read them on every poll). A
// message that is not a result stays hidden for replyHide and goes to the
// queue's dead-letter queue after its maxReceiveCount.

// replyQueueAPI is the part of *sqs.Client the reply reader uses.
type replyQueueAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

var _ replyQueueAPI = (*sqs.Client)(nil)

const (
	// replyHide is the visibility of a received reply: results are
	// deleted at once; anything else stays hidden this long.
	replyHide          = 60 * time.Second
	maxReceiveFailures = 5
	retryPause         = time.Second
)

// replyReader files the results on a reply queue into a book.
type replyReader struct {
	client   replyQueueAPI
	queueURL string
	book     *resultBook
	log      io.Writer
}

// receive long-polls once (wait, whole seconds, 0–20), files and deletes
// every result it got. It returns how many messages it received.
func (rd *replyReader) receive(ctx context.Context, wait time.Duration) (int, error) {
	secs := int32(min(max(wait, 0), lifecycle.DefaultSQSWait) / time.Second)
	pctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+15*time.Second)
	defer cancel()
	out, err := rd.client.ReceiveMessage(pctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(rd.queueURL), MaxNumberOfMessages: 10,
		WaitTimeSeconds: secs, VisibilityTimeout: int32(replyHide / time.Second),
	})
	if err != nil {
		return 0, fmt.Errorf("receive results from %s: %w", rd.queueURL, err)
	}
	var done []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		r := parseResult([]byte(aws.ToString(m.Body)))
		if r == nil {
			continue // not a result: hidden for replyHide, then the redrive policy's
		}
		if err := rd.book.file(r); err != nil {
			fmt.Fprintf(rd.log, "warning: %v (the result stays on the queue)\n", err)
			continue
		}
		done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
	}
	if len(done) > 0 {
		res, err := rd.client.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(rd.queueURL), Entries: done})
		switch {
		case err != nil:
			fmt.Fprintf(rd.log, "warning: delete results from %s: %v\n", rd.queueURL, err)
		case len(res.Failed) > 0:
			fmt.Fprintf(rd.log, "warning: delete results from %s: %d failed (%s)\n", rd.queueURL, len(res.Failed), aws.ToString(res.Failed[0].Message))
		}
	}
	return len(out.Messages), nil
}

// drain receives until the queue has nothing visible left: a 1 s long
// poll comes back empty (a short poll samples only some of SQS's servers,
// so its empty answer proves nothing).
func (rd *replyReader) drain(ctx context.Context) error {
	for {
		n, err := rd.receive(ctx, time.Second)
		if err != nil || n == 0 {
			return err
		}
	}
}

// waitFor polls the reply queue until every target of the event has
// answered or the deadline passes, printing each new result with show. It
// returns the event's report either way.
func (rd *replyReader) waitFor(ctx context.Context, t eventTargets, deadline time.Time, show func(*lifecycle.Result)) (*eventReport, error) {
	shown := map[string]bool{}
	failures := 0
	for {
		rep := buildReport(t, rd.book.results(t.eventID))
		for _, h := range rep.Hosts {
			if h.result != nil && !shown[h.Instance] {
				shown[h.Instance] = true
				show(h.result)
			}
		}
		remaining := time.Until(deadline)
		if rep.complete() || remaining <= 0 {
			return rep, nil
		}
		_, err := rd.receive(ctx, remaining)
		switch {
		case err != nil && ctx.Err() != nil:
			return rep, fmt.Errorf("wait for results of %s: %w", t.eventID, ctx.Err())
		case err != nil:
			if failures++; failures >= maxReceiveFailures {
				return rep, fmt.Errorf("wait for results of %s: %w", t.eventID, err)
			}
			fmt.Fprintf(rd.log, "warning: %v (retrying)\n", err)
			sleepCtx(ctx, min(retryPause, time.Until(deadline)))
		default:
			failures = 0
		}
	}
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
	if json.Unmarshal(body, &r) != nil || r.EventID == "" || r.Status == "" {
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
