package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

func firsts(ss []sample) []time.Duration {
	return collect(ss, func(s sample) time.Duration { return s.first })
}

func lasts(ss []sample) []time.Duration {
	return collect(ss, func(s sample) time.Duration { return s.last })
}

// report prints the table against the targets, then the details.
func (b *bench) report(r *results) {
	p50, p90, pmax := pct(firsts(r.lat), 50), pct(firsts(r.lat), 90), pct(firsts(r.lat), 100)
	ra, rb := r.idle.ra, r.idle.rb
	perHourWin := float64(r.idle.reqs) * float64(time.Hour) / float64(rb.Sub(ra))
	growth := r.steps[1].RSS - r.steps[0].RSS

	fmt.Printf("\nstackagent daemon benchmark (fauxqs %s, %d cores, %s)\n", *endpoint, numCPU(), time.Now().Format("2006-01-02 15:04"))
	fmt.Printf("no peer: the figures are compared with the issue's targets only\n\n")
	fmt.Printf("%-46s %14s %12s %s\n", "measure", "today", "target", "")
	row(fmt.Sprintf("latency p50, send → first resource (n=%d)", len(r.lat)), ms(p50), "≤ 100 ms", p50 <= 100*time.Millisecond)
	fmt.Printf("%-46s %14s\n", "  p90 / max", ms(p90)+" / "+ms(pmax))
	row("idle RSS (VmRSS) after start-up", fmt.Sprintf("%.1f MB", mb(r.idleMem.RSS)), "≤ 20 MB", mb(r.idleMem.RSS) <= 20)
	row(fmt.Sprintf("RSS after %d events", *rssN), fmt.Sprintf("%.1f MB", mb(r.steps[0].RSS)), "≤ 25 MB", mb(r.steps[0].RSS) <= 25)
	row(fmt.Sprintf("RSS growth, %d → %d events", *rssN, 2**rssN), fmt.Sprintf("%+.1f MB", mb(growth)), "≤ +1 MB", mb(growth) <= 1)
	row(fmt.Sprintf("SQS requests per idle hour (%s measured)", rb.Sub(ra).Round(time.Second)), fmt.Sprintf("%.0f", perHourWin), "≤ 180", perHourWin <= 180.5)
	fmt.Println()
	b.details(r)
}

// row is one line of the table.
func row(name, today, target string, ok bool) {
	v := "PASS"
	if !ok {
		v = "MISS"
	}
	fmt.Printf("%-46s %14s %12s %s\n", name, today, target, v)
}

// details prints the figures behind the table.
func (b *bench) details(r *results) {
	sends := collect(r.lat, func(s sample) time.Duration { return s.send })
	fmt.Printf("details:\n")
	fmt.Printf("  daemon start → first long poll        %s\n", r.startup.Round(time.Millisecond))
	fmt.Printf("  SendMessage call itself               p50 %s\n", ms(pct(sends, 50)))
	fmt.Printf("  send → last resource (n=%d)            p50 %s, p90 %s\n", len(r.lat), ms(pct(lasts(r.lat), 50)), ms(pct(lasts(r.lat), 90)))
	fmt.Printf("  back-to-back events (n=%d)            first p50 %s p90 %s; last p50 %s\n", len(r.lat2), ms(pct(firsts(r.lat2), 50)), ms(pct(firsts(r.lat2), 90)), ms(pct(lasts(r.lat2), 50)))
	memLine("idle after start-up", r.idleMem)
	memLine(fmt.Sprintf("after %d events", *rssN), r.steps[0])
	memLine(fmt.Sprintf("after %d events", 2**rssN), r.steps[1])
	memLine("after the idle window", r.finalMem)
	st := r.idle
	fmt.Printf("  idle requests, %s of %s window     %s\n", st.rb.Sub(st.ra).Round(100*time.Millisecond), st.w1.Sub(st.w0).Round(time.Second), strings.Join(st.detail, ", "))
	if st.pollEvery > 0 {
		perHourPoll := float64(time.Hour) / float64(st.pollEvery)
		fmt.Printf("  long poll every                       %s (%.0f per hour)\n", st.pollEvery.Round(time.Millisecond), perHourPoll)
	}
	fmt.Printf("  SIGTERM → exit                        %s (%v)\n", r.stopTook.Round(time.Millisecond), exitText(r.stopErr))
	total, _ := b.cnt.snapshot()
	var all []string
	for k, v := range total {
		all = append(all, fmt.Sprintf("%s %d", k, v))
	}
	slices.Sort(all)
	fmt.Printf("  all requests through the proxy        %s\n", strings.Join(all, ", "))
}

func memLine(name string, m mem) {
	fmt.Printf("  %-36s VmRSS %.1f  VmHWM %.1f  RssAnon %.1f  RssFile %.1f MB, %d threads\n", name, mb(m.RSS), mb(m.HWM), mb(m.Anon), mb(m.File), m.Threads)
}
