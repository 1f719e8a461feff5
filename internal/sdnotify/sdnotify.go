// Package sdnotify is a small client of systemd's service notification
// protocol (sd_notify(3)): a service of Type=notify tells systemd it is
// ready, that it is alive (the watchdog), that it is stopping or reloading,
// and a one-line status that systemctl status shows.
//
// Messages go as one datagram to the unix socket named by $NOTIFY_SOCKET:
// a path, or an abstract socket when it starts with "@". Without
// $NOTIFY_SOCKET (not started by systemd, or not Type=notify) every call
// is a no-op that returns nil, so callers need no special case.
package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// The states sd_notify(3) defines that this package sends.
const (
	StateReady     = "READY=1"
	StateWatchdog  = "WATCHDOG=1"
	StateStopping  = "STOPPING=1"
	StateReloading = "RELOADING=1"
)

// ErrUnsupportedSocket is returned for a $NOTIFY_SOCKET this client cannot
// reach (systemd 253+ may name an AF_VSOCK address, "vsock:CID:PORT").
var ErrUnsupportedSocket = errors.New("unsupported NOTIFY_SOCKET")

// Notifier sends notifications to one socket, and knows the watchdog
// interval systemd asked for. The zero Notifier is a no-op.
type Notifier struct {
	socket   string        // $NOTIFY_SOCKET; "" means no-op
	watchdog time.Duration // 0: no watchdog for this process
}

// New reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID through
// getenv (os.Getenv in the agent; a map in tests). The watchdog interval
// is honoured only when $WATCHDOG_PID is unset or is this process's pid,
// as sd_watchdog_enabled(3) does.
func New(getenv func(string) string) *Notifier {
	n := &Notifier{socket: getenv("NOTIFY_SOCKET")}
	usec, err := strconv.ParseUint(getenv("WATCHDOG_USEC"), 10, 63)
	if err != nil || usec == 0 {
		return n
	}
	if p := getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(os.Getpid()) {
		return n
	}
	n.watchdog = time.Duration(usec) * time.Microsecond
	return n
}

// Enabled reports whether notifications go anywhere.
func (n *Notifier) Enabled() bool { return n != nil && n.socket != "" }

// Notify sends the given newline-separated assignments in one datagram,
// e.g. Notify("READY=1", "STATUS=polling"). Without a socket it does
// nothing and returns nil.
func (n *Notifier) Notify(states ...string) error {
	if !n.Enabled() || len(states) == 0 {
		return nil
	}
	name := n.socket
	if strings.HasPrefix(name, "vsock:") {
		return fmt.Errorf("sd_notify %s: %w", name, ErrUnsupportedSocket)
	}
	if name[0] != '/' && name[0] != '@' {
		return fmt.Errorf("sd_notify %s: %w (want an absolute path or @abstract)", name, ErrUnsupportedSocket)
	}
	// Go's net package maps a leading "@" to the abstract namespace.
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify %s: %w", name, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(strings.Join(states, "\n"))); err != nil {
		return fmt.Errorf("sd_notify %s: %w", name, err)
	}
	return nil
}

// Ready says start-up is finished (READY=1).
func (n *Notifier) Ready() error { return n.Notify(StateReady) }

// Watchdog keeps the watchdog from firing (WATCHDOG=1).
func (n *Notifier) Watchdog() error { return n.Notify(StateWatchdog) }

// Stopping says the service is shutting down (STOPPING=1).
func (n *Notifier) Stopping() error { return n.Notify(StateStopping) }

// Reloading says the configuration is being reloaded (RELOADING=1);
// systemctl shows "reloading" until the next Ready.
func (n *Notifier) Reloading() error { return n.Notify(StateReloading) }

// Status sets the free-form status line systemctl status shows. Newlines
// would end the assignment, so they become spaces.
func (n *Notifier) Status(s string) error {
	return n.Notify("STATUS=" + strings.ReplaceAll(s, "\n", " "))
}

// WatchdogInterval is WatchdogSec= of the unit as systemd passed it, or 0
// when there is no watchdog for this process. Send Watchdog at least twice
// per interval (KeepAlive does).
func (n *Notifier) WatchdogInterval() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog
}

// KeepAlive sends WATCHDOG=1 every half watchdog interval until ctx is
// done, but only while alive() says the service is working; when it says
// otherwise the pings stop and systemd's watchdog fires (SIGABRT, then the
// unit's Restart=). It returns at once without a watchdog.
func (n *Notifier) KeepAlive(ctx context.Context, alive func() bool) {
	every := n.WatchdogInterval() / 2
	if every <= 0 || !n.Enabled() {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if alive == nil || alive() {
			n.Watchdog() // a lost ping is retried at the next tick
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// The package-level functions use this process's environment.

// Ready sends READY=1 to $NOTIFY_SOCKET.
func Ready() error { return New(os.Getenv).Ready() }

// Watchdog sends WATCHDOG=1 to $NOTIFY_SOCKET.
func Watchdog() error { return New(os.Getenv).Watchdog() }

// Stopping sends STOPPING=1 to $NOTIFY_SOCKET.
func Stopping() error { return New(os.Getenv).Stopping() }

// Status sends STATUS=s to $NOTIFY_SOCKET.
func Status(s string) error { return New(os.Getenv).Status(s) }

// WatchdogInterval is the interval from $WATCHDOG_USEC ($WATCHDOG_PID
// honoured), or 0.
func WatchdogInterval() time.Duration { return New(os.Getenv).WatchdogInterval() }
