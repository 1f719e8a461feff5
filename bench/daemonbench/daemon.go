package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// startDaemon starts `stackagent daemon` on the queue through the proxy.
func (b *bench) startDaemon(cfgFile, cbs string, stdout, stderr *os.File) error {
	tmp := b.tmp
	cmd := exec.Command(*agentBin, "daemon", "--config", cfgFile,
		"--queue-url", b.queueURL, "--endpoint", b.proxyURL, "--region", region,
		"--state-dir", filepath.Join(tmp, "state"), "--layers", "bench", "--instance-id", "i-daemonbench",
		"--cookbook-dirs", cbs, "--attributes-dir", filepath.Join(tmp, "attrs"),
		"--roles-dir", filepath.Join(tmp, "roles"), "--data-bags-dir", filepath.Join(tmp, "data_bags"),
		"--plugin-dir", filepath.Join(tmp, "plugins"),
		"--boot-setup=false", "--metrics-address", "off", "--log-format", "json")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench",
		"AWS_EC2_METADATA_DISABLED=true")
	if *gcTrace {
		cmd.Env = append(cmd.Env, "GODEBUG=gctrace=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	b.cmd, b.pid = cmd, cmd.Process.Pid
	b.exited = make(chan error, 1)
	go func() { b.exited <- cmd.Wait() }()
	atSignal(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
		}
	})
	return nil
}

// cleanup stops the daemon if it still runs and copies its logs to -keep.
func (b *bench) cleanup() {
	if !b.stopped {
		b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.exited:
		case <-time.After(5 * time.Second):
			b.cmd.Process.Kill()
			<-b.exited
		}
	}
	if *keep != "" {
		os.MkdirAll(*keep, 0o755)
		for _, p := range []string{b.logPath, b.docPath} {
			if data, err := os.ReadFile(p); err == nil {
				os.WriteFile(filepath.Join(*keep, filepath.Base(p)), data, 0o644)
			}
		}
	}
}

// tail is the end of the daemon's log.
func (b *bench) tail() string {
	data, _ := os.ReadFile(b.logPath)
	s := string(data)
	if len(s) > 3000 {
		s = "…" + s[len(s)-3000:]
	}
	return s
}

// alive is an error when the daemon has exited.
func (b *bench) alive() error {
	select {
	case err := <-b.exited:
		b.stopped = true
		return fmt.Errorf("daemon exited (%v); its log:\n%s", err, b.tail())
	default:
		return nil
	}
}

// waitPoll waits up to d for a long poll in flight.
func (b *bench) waitPoll(d time.Duration) error {
	c, cc := context.WithTimeout(b.ctx, d)
	defer cc()
	errc := make(chan error, 1)
	go func() { errc <- b.cnt.waitFor(c, func() bool { return b.cnt.inflight > 0 }) }()
	select {
	case err := <-errc:
		if err != nil {
			if e := b.alive(); e != nil {
				return e
			}
			return fmt.Errorf("the daemon did not poll the queue within %s; its log:\n%s", d, b.tail())
		}
		return nil
	case err := <-b.exited:
		b.stopped = true
		return fmt.Errorf("daemon exited (%v); its log:\n%s", err, b.tail())
	}
}

// stop sends SIGTERM and waits up to 10 s for the exit.
func (b *bench) stop(r *results) error {
	t := time.Now()
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case r.stopErr = <-b.exited:
		b.stopped = true
	case <-time.After(10 * time.Second):
		return errors.New("the daemon did not stop within 10 s of SIGTERM")
	}
	r.stopTook = time.Since(t)
	return nil
}
