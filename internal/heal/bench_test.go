package heal

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportIdleCost reports the CPU time per check and, at the default
// 5 s interval (720 checks an hour), the CPU-seconds per hour per
// watched service.
func reportIdleCost(b *testing.B, cpu time.Duration, checks int) {
	per := float64(cpu.Nanoseconds()) / float64(checks)
	b.ReportMetric(per, "cpu-ns/check")
	b.ReportMetric(per*float64(time.Hour/DefaultInterval)/1e9, "cpu-s/hour/service")
}

// BenchmarkWatchdogCheck: one idle watched service (a real process and
// its pid file), checked by Step: pid file read, kill(pid, 0),
// /proc/PID/stat read, the metrics. CPU time from getrusage.
func BenchmarkWatchdogCheck(b *testing.B) {
	pidfile := filepath.Join(b.TempDir(), "svc.pid")
	startSleep(b, pidfile)
	m, _ := NewMetrics(prometheus.NewRegistry())
	w := &Watchdog{Prober: InitProber{}, Repairer: &countRepairer{}, Metrics: m}
	w.Update(Watches{Services: []Service{{Name: "svc", PIDFile: pidfile, Process: "sleep"}}})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime(b)
	for b.Loop() {
		w.Step(ctx)
	}
	cpu := cpuTime(b) - start
	b.StopTimer()
	if st := w.Status().Services[0]; !st.Up || st.Repairs != 0 {
		b.Fatalf("service not seen up: %+v", st)
	}
	reportIdleCost(b, cpu, b.N)
}

// BenchmarkWatchdogRun: the watchdog as the daemon runs it (Run, its
// ticker, the goroutine's wake-ups), at a 1 ms interval for a bounded
// second, so the idle cost of the loop is in the figure too.
func BenchmarkWatchdogRun(b *testing.B) {
	pidfile := filepath.Join(b.TempDir(), "svc.pid")
	startSleep(b, pidfile)
	m, _ := NewMetrics(prometheus.NewRegistry())
	w := &Watchdog{Interval: time.Millisecond, Prober: InitProber{}, Repairer: &countRepairer{}, Metrics: m}
	w.Update(Watches{Services: []Service{{Name: "svc", PIDFile: pidfile, Process: "sleep"}}})
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		before := testutil.ToFloat64(m.checks)
		start := cpuTime(b)
		w.Run(ctx)
		cpu := cpuTime(b) - start
		cancel()
		checks := int(testutil.ToFloat64(m.checks) - before)
		if checks == 0 {
			b.Fatal("no check ran")
		}
		reportIdleCost(b, cpu, checks)
	}
}
