package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS limits and the defaults SQSSource uses.
const (
	DefaultSQSWait       = 20 * time.Second // longest long poll SQS allows
	DefaultSQSVisibility = 60 * time.Second
	maxSQSVisibility     = 12 * time.Hour
	maxSQSBatch          = 10
	// DefaultSQSCallTimeout bounds each call but ReceiveMessage (delete,
	// change visibility); a receive gets its long poll plus
	// DefaultSQSReceiveGrace.
	DefaultSQSCallTimeout  = 10 * time.Second
	DefaultSQSReceiveGrace = 10 * time.Second
)

// ErrStalled is returned (wrapped) when SQS did not answer a call within
// its deadline: the connection was accepted but never answered, a black
// hole on the way, a proxy that hangs.
var ErrStalled = errors.New("no answer from SQS within the deadline")

// SQSAPI is the part of *sqs.Client that SQSSource uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// SQSOptions tune an SQSSource; the zero value takes the defaults.
type SQSOptions struct {
	// Wait is the long poll of one Receive, whole seconds, 1 s to 20 s
	// (default 20 s).
	Wait time.Duration
	// Visibility is how long a received message stays invisible to other
	// receivers before Extend is needed, whole seconds (default 60 s).
	Visibility time.Duration
	// MaxMessages is the most messages one Receive returns, 1 to 10
	// (default 10).
	MaxMessages int
	// Log receives Heartbeat's warnings (default: discarded).
	Log *slog.Logger
	// Now is the clock stamped on Message.Received (default time.Now).
	Now func() time.Time
	// CallTimeout bounds DeleteMessage and ChangeMessageVisibility
	// (default 10 s); ReceiveMessage gets its wait plus 10 s.
	CallTimeout time.Duration
	// ReceiveGrace is how long past its wait a receive may take before it
	// counts as stalled (default 10 s).
	ReceiveGrace time.Duration
}

// SQSSource is a Source reading one SQS queue with long polling. Its
// messages time out (VisibilityExtender) and can be handed back at once
// (Releaser). It is safe for concurrent use.
type SQSSource struct {
	client   SQSAPI
	queueURL string
	opts     SQSOptions
}

var (
	_ Waiter             = (*SQSSource)(nil)
	_ Source             = (*SQSSource)(nil)
	_ VisibilityExtender = (*SQSSource)(nil)
	_ Releaser           = (*SQSSource)(nil)
)

// NewSQSSource returns a source for the queue at queueURL. It refuses
// options outside SQS's limits.
func NewSQSSource(client SQSAPI, queueURL string, opts SQSOptions) (*SQSSource, error) {
	if client == nil || queueURL == "" {
		return nil, errors.New("sqs source: client and queue url are required")
	}
	if opts.Wait == 0 {
		opts.Wait = DefaultSQSWait
	}
	if opts.Visibility == 0 {
		opts.Visibility = DefaultSQSVisibility
	}
	if opts.MaxMessages == 0 {
		opts.MaxMessages = maxSQSBatch
	}
	switch {
	case opts.Wait < time.Second || opts.Wait > DefaultSQSWait:
		return nil, fmt.Errorf("sqs source %s: wait %s out of range 1s..20s", queueURL, opts.Wait)
	case opts.Visibility < time.Second || opts.Visibility > maxSQSVisibility:
		return nil, fmt.Errorf("sqs source %s: visibility %s out of range 1s..12h", queueURL, opts.Visibility)
	case opts.MaxMessages < 1 || opts.MaxMessages > maxSQSBatch:
		return nil, fmt.Errorf("sqs source %s: max messages %d out of range 1..10", queueURL, opts.MaxMessages)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultSQSCallTimeout
	}
	if opts.ReceiveGrace <= 0 {
		opts.ReceiveGrace = DefaultSQSReceiveGrace
	}
	return &SQSSource{client: client, queueURL: queueURL, opts: opts}, nil
}

// QueueURL is the queue the source reads.
func (s *SQSSource) QueueURL() string { return s.queueURL }

// Logger is where Heartbeat logs for this source.
func (s *SQSSource) Logger() *slog.Logger { return s.opts.Log }

// Receive long-polls the queue once. It returns no messages and no error
// when the poll ends empty. A poll SQS does not answer within its wait
// plus 10 s fails with ErrStalled.
func (s *SQSSource) Receive(ctx context.Context) ([]*Message, error) {
	return s.ReceiveWait(ctx, s.opts.Wait)
}

// ReceiveWait polls the queue once, waiting up to wait (whole seconds, at
// most 20 s; 0: a short receive that returns at once with what is there).
func (s *SQSSource) ReceiveWait(ctx context.Context, wait time.Duration) ([]*Message, error) {
	wait = min(max(wait, 0), DefaultSQSWait)
	out, err := withDeadline(ctx, time.Duration(seconds(wait))*time.Second+s.opts.ReceiveGrace, func(ctx context.Context) (*sqs.ReceiveMessageOutput, error) {
		return s.client.ReceiveMessage(ctx, s.receiveInput(wait))
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", s.queueURL, err)
	}
	return s.messages(ctx, out), nil
}

func (s *SQSSource) receiveInput(wait time.Duration) *sqs.ReceiveMessageInput {
	return &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(s.queueURL),
		MaxNumberOfMessages: int32(s.opts.MaxMessages),
		WaitTimeSeconds:     seconds(wait),
		VisibilityTimeout:   seconds(s.opts.Visibility),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
			sqstypes.MessageSystemAttributeNameApproximateReceiveCount,
			sqstypes.MessageSystemAttributeNameSentTimestamp,
		},
	}
}

func (s *SQSSource) messages(ctx context.Context, out *sqs.ReceiveMessageOutput) []*Message {
	now := s.opts.Now()
	msgs := make([]*Message, 0, len(out.Messages))
	for _, m := range out.Messages {
		msg := &Message{
			ID:           aws.ToString(m.MessageId),
			Body:         []byte(aws.ToString(m.Body)),
			ReceiveCount: receiveCount(m.Attributes),
			Received:     now,
			Handle:       aws.ToString(m.ReceiptHandle),
		}
		s.opts.Log.DebugContext(ctx, "sqs message received", "queue", s.queueURL, "id", msg.ID,
			"receive_count", msg.ReceiveCount, "age", queueAge(m.Attributes, now))
		msgs = append(msgs, msg)
	}
	return msgs
}

// withDeadline runs call with a deadline of limit; when the deadline (not
// ctx) ends it, the error wraps ErrStalled.
func withDeadline[T any](ctx context.Context, limit time.Duration, call func(context.Context) (T, error)) (T, error) {
	cctx, cancel := context.WithTimeoutCause(ctx, limit, ErrStalled)
	defer cancel()
	out, err := call(cctx)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(cctx), ErrStalled) {
		err = fmt.Errorf("%w (%s): %w", ErrStalled, limit, err)
	}
	return out, err
}

// Delete acknowledges m: SQS never delivers it again.
func (s *SQSSource) Delete(ctx context.Context, m *Message) error {
	_, err := withDeadline(ctx, s.opts.CallTimeout, func(ctx context.Context) (*sqs.DeleteMessageOutput, error) {
		return s.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
			QueueUrl: aws.String(s.queueURL), ReceiptHandle: aws.String(m.Handle),
		})
	})
	if err != nil {
		return fmt.Errorf("delete message %s from %s: %w", m.ID, s.queueURL, err)
	}
	return nil
}

// Extend makes m invisible for d from now (whole seconds, rounded up, at
// most 12 h; SQS also caps the total at 12 h from the first receive).
func (s *SQSSource) Extend(ctx context.Context, m *Message, d time.Duration) error {
	if d < time.Second {
		d = time.Second
	}
	if d > maxSQSVisibility {
		d = maxSQSVisibility
	}
	return s.changeVisibility(ctx, m, seconds(d), "extend")
}

// Release makes m visible again at once (visibility timeout 0), so another
// receive gets it.
func (s *SQSSource) Release(ctx context.Context, m *Message) error {
	return s.changeVisibility(ctx, m, 0, "release")
}

func (s *SQSSource) changeVisibility(ctx context.Context, m *Message, secs int32, op string) error {
	_, err := withDeadline(ctx, s.opts.CallTimeout, func(ctx context.Context) (*sqs.ChangeMessageVisibilityOutput, error) {
		return s.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(s.queueURL), ReceiptHandle: aws.String(m.Handle), VisibilityTimeout: secs,
		})
	})
	if err != nil {
		return fmt.Errorf("%s message %s on %s: %w", op, m.ID, s.queueURL, err)
	}
	return nil
}

// receiveCount reads ApproximateReceiveCount; a message that was received
// has been delivered at least once.
func receiveCount(attrs map[string]string) int {
	n, err := strconv.Atoi(attrs[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// queueAge is how long the message waited since it was sent (SentTimestamp,
// epoch milliseconds), 0 when unknown.
func queueAge(attrs map[string]string, now time.Time) time.Duration {
	ms, err := strconv.ParseInt(attrs[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64)
	if err != nil {
		return 0
	}
	return now.Sub(time.UnixMilli(ms))
}

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int32 {
	return int32(math.Ceil(d.Seconds()))
}

// Heartbeat keeps m invisible while a converge runs: every `every` it
// extends m's visibility by extendBy (Extend counts from now, so extendBy
// must exceed every; visibility/2 and visibility are the usual pair). A
// failed extension is logged and tried again at the next tick: the
// converge goes on, and at worst the message is delivered again, which the
// journal makes harmless. It logs to ext's Logger() when ext has one.
//
// stop ends the heartbeat and returns once no Extend is in flight, so the
// caller can Delete or Release m right after; it may be called more than
// once. The heartbeat also ends when ctx is done.
func Heartbeat(ctx context.Context, ext VisibilityExtender, m *Message, every, extendBy time.Duration) (stop func()) {
	if every <= 0 || extendBy <= 0 {
		return func() {}
	}
	log := slog.New(slog.DiscardHandler)
	if l, ok := ext.(interface{ Logger() *slog.Logger }); ok && l.Logger() != nil {
		log = l.Logger()
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			// One extension never outlasts the next tick.
			callCtx, callCancel := context.WithTimeout(ctx, every)
			err := ext.Extend(callCtx, m, extendBy)
			callCancel()
			if err != nil && ctx.Err() == nil {
				log.WarnContext(ctx, "visibility heartbeat failed; retrying at next tick",
					"id", m.ID, "every", every, "extend_by", extendBy, "err", err)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}
