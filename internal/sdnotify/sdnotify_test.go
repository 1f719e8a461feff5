package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// listen opens a unixgram socket the test reads notifications from, as
// systemd does. An abstract name starts with "@".
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func recv(t *testing.T, c *net.UnixConn, limit time.Duration) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(limit))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no notification within %s: %v", limit, err)
	}
	return string(buf[:n])
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestMessagesToPathSocket(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "notify.sock")
	c := listen(t, path)
	n := New(env(map[string]string{"NOTIFY_SOCKET": path}))
	for _, tc := range []struct {
		send func() error
		want string
	}{
		{n.Ready, "READY=1"},
		{n.Watchdog, "WATCHDOG=1"},
		{n.Stopping, "STOPPING=1"},
		{n.Reloading, "RELOADING=1"},
		{func() error { return n.Status("polling\nhttps://sqs") }, "STATUS=polling https://sqs"},
		{func() error { return n.Notify("READY=1", "STATUS=up") }, "READY=1\nSTATUS=up"},
	} {
		if err := tc.send(); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, c, 2*time.Second); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestAbstractSocket(t *testing.T) {
	t.Parallel()
	name := fmt.Sprintf("@stackagent-sdnotify-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	c := listen(t, name)
	if err := New(env(map[string]string{"NOTIFY_SOCKET": name})).Ready(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, c, 2*time.Second); got != "READY=1" {
		t.Errorf("got %q", got)
	}
}

func TestNoSocketIsNoOp(t *testing.T) {
	t.Parallel()
	n := New(env(nil))
	if n.Enabled() {
		t.Fatal("enabled without NOTIFY_SOCKET")
	}
	for _, f := range []func() error{n.Ready, n.Watchdog, n.Stopping, n.Reloading, func() error { return n.Status("x") }} {
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	var zero *Notifier
	if zero.Enabled() || zero.Notify("READY=1") != nil || zero.WatchdogInterval() != 0 {
		t.Fatal("a nil Notifier must be a no-op")
	}
	done := make(chan struct{})
	go func() { n.KeepAlive(context.Background(), nil); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("KeepAlive without a watchdog must return at once")
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	gone := filepath.Join(t.TempDir(), "nobody-listens.sock")
	if err := New(env(map[string]string{"NOTIFY_SOCKET": gone})).Ready(); err == nil {
		t.Error("no error for a socket nobody listens on")
	}
	for _, s := range []string{"vsock:2:1234", "relative.sock"} {
		err := New(env(map[string]string{"NOTIFY_SOCKET": s})).Ready()
		if !errors.Is(err, ErrUnsupportedSocket) {
			t.Errorf("%s: %v, want ErrUnsupportedSocket", s, err)
		}
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Parallel()
	me := strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		usec, pid string
		want      time.Duration
	}{
		{"", "", 0},
		{"30000000", "", 30 * time.Second},
		{"30000000", me, 30 * time.Second},
		{"30000000", "1", 0}, // meant for another process
		{"0", "", 0},
		{"-5", "", 0},
		{"soon", "", 0},
	} {
		n := New(env(map[string]string{"WATCHDOG_USEC": tc.usec, "WATCHDOG_PID": tc.pid}))
		if got := n.WatchdogInterval(); got != tc.want {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: %s, want %s", tc.usec, tc.pid, got, tc.want)
		}
	}
}

// TestKeepAlive: WATCHDOG=1 at half the interval while alive, none while
// not alive, and none after ctx ends.
func TestKeepAlive(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "notify.sock")
	c := listen(t, path)
	n := New(env(map[string]string{"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"}))
	var alive = make(chan bool, 1)
	alive <- true
	isAlive := func() bool { v := <-alive; alive <- v; return v }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.KeepAlive(ctx, isAlive); close(done) }()

	start := time.Now()
	for i := 0; i < 4; i++ {
		if got := recv(t, c, time.Second); got != "WATCHDOG=1" {
			t.Fatalf("got %q", got)
		}
	}
	// 4 pings: the first at once, then every 100 ms.
	if el := time.Since(start); el < 250*time.Millisecond || el > 900*time.Millisecond {
		t.Errorf("4 pings in %s, want about 300ms", el)
	}
	<-alive
	alive <- false
	time.Sleep(150 * time.Millisecond) // a tick in flight may still ping
	drain(c)
	c.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
	if _, err := c.Read(make([]byte, 64)); err == nil {
		t.Error("pinged while not alive")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("KeepAlive did not return after ctx ended")
	}
}

func drain(c *net.UnixConn) {
	buf := make([]byte, 64)
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
