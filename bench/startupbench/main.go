// Command startupbench times short-lived commands as whole processes:
// it runs each command of a set in turn (interleaved, so that load on the
// machine falls on all of them alike), RUNS rounds after one warm-up, and
// prints per command the median and the minimum of the wall time (fork to
// reap), the CPU time (user+sys) and the peak RSS, from wait4(2) as
// /usr/bin/time reports them. It is the measuring half of
// bench/startup.sh (docs/benchmarks.md, "Start-up").
//
// Usage: startupbench -runs 50 NAME=CMD [NAME=CMD...]
// where CMD is split on spaces (no quoting: the script passes simple
// argv). A command that exits non-zero stops the run with its output.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

type sample struct {
	wall, cpu time.Duration
	rssKB     int64
}

type command struct {
	name    string
	argv    []string
	samples []sample
}

func main() {
	runs := flag.Int("runs", 50, "rounds of each command (after one warm-up)")
	flag.Parse()
	var cmds []*command
	for _, a := range flag.Args() {
		name, cmdline, ok := strings.Cut(a, "=")
		if !ok || name == "" || strings.TrimSpace(cmdline) == "" {
			fail(fmt.Errorf("argument %q: want NAME=COMMAND", a))
		}
		cmds = append(cmds, &command{name: name, argv: strings.Fields(cmdline)})
	}
	if len(cmds) == 0 {
		fail(fmt.Errorf("no command given"))
	}
	for round := 0; round <= *runs; round++ {
		for _, c := range cmds {
			s, err := runOnce(c.argv)
			if err != nil {
				fail(fmt.Errorf("%s: %w", c.name, err))
			}
			if round > 0 { // round 0 warms the page cache
				c.samples = append(c.samples, s)
			}
		}
	}
	fmt.Printf("%-22s %10s %10s %10s %10s %10s\n", "command", "wall p50", "wall min", "CPU p50", "CPU min", "RSS MB p50")
	for _, c := range cmds {
		wall := durations(c.samples, func(s sample) time.Duration { return s.wall })
		cpu := durations(c.samples, func(s sample) time.Duration { return s.cpu })
		rss := make([]int64, len(c.samples))
		for i, s := range c.samples {
			rss[i] = s.rssKB
		}
		slices.Sort(rss)
		fmt.Printf("%-22s %8.2fms %8.2fms %8.2fms %8.2fms %10.1f\n", c.name,
			ms(wall[len(wall)/2]), ms(wall[0]), ms(cpu[len(cpu)/2]), ms(cpu[0]),
			float64(rss[len(rss)/2])/1024)
	}
}

// runOnce runs argv once and measures it with wait4's rusage.
func runOnce(argv []string) (sample, error) {
	var out bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	err := cmd.Wait()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%w\n%s", err, out.Bytes())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, fmt.Errorf("no rusage")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{wall: wall, cpu: cpu, rssKB: ru.Maxrss}, nil
}

func durations(ss []sample, f func(sample) time.Duration) []time.Duration {
	d := make([]time.Duration, len(ss))
	for i, s := range ss {
		d[i] = f(s)
	}
	slices.Sort(d)
	return d
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "startupbench:", err)
	os.Exit(1)
}
