package lifecycle

import (
	"context"
	"time"
)

var _ Waiter = (*InboxSource)(nil)

// ReceiveWait returns the event files waiting in the inbox, waiting up to
// wait for one (0: at once, but a file still settling is waited for, at
// most Settle).
func (s *InboxSource) ReceiveWait(ctx context.Context, wait time.Duration) ([]*Message, error) {
	if wait > 0 {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		return s.Receive(wctx)
	}
	msgs, settling, err := s.scan()
	if err != nil || len(msgs) > 0 || settling <= 0 {
		return msgs, err
	}
	select {
	case <-ctx.Done():
		return nil, nil
	case <-time.After(min(settling, s.Settle)):
	}
	msgs, _, err = s.scan()
	return msgs, err
}
