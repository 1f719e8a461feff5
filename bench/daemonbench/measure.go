package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// measure takes the figures of a started daemon, then stops it.
func (b *bench) measure(started time.Time) (*results, error) {
	r := &results{}
	// Started: the first long poll is in flight.
	if err := b.waitPoll(30 * time.Second); err != nil {
		return nil, err
	}
	r.startup = time.Since(started)
	fmt.Fprintf(os.Stderr, "daemonbench: daemon pid %d polling after %s; settling %s\n", b.pid, r.startup.Round(time.Millisecond), *settle)
	time.Sleep(*settle)
	if err := b.alive(); err != nil {
		return nil, err
	}
	var err error
	if r.idleMem, err = readMem(b.pid); err != nil {
		return nil, err
	}
	for i := 0; i < *latN; i++ {
		s, err := b.sendOne(true)
		if err != nil {
			return nil, err
		}
		r.lat = append(r.lat, s)
	}
	fmt.Fprintf(os.Stderr, "daemonbench: %d latency events done\n", len(r.lat))
	if err := b.rssSteps(r); err != nil {
		return nil, err
	}
	if err := b.idleWindow(r); err != nil {
		return nil, err
	}
	r.finalMem, _ = readMem(b.pid)
	if err := b.stop(r); err != nil {
		return nil, err
	}
	return r, nil
}

// rssSteps sends events back to back up to rssN and 2*rssN, reading the
// daemon's memory after each step.
func (b *bench) rssSteps(r *results) error {
	for step := 1; step <= 2; step++ {
		for b.seq < step**rssN {
			s, err := b.sendOne(false)
			if err != nil {
				return err
			}
			r.lat2 = append(r.lat2, s)
		}
		if err := b.waitPoll(*eventWait); err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		m, err := readMem(b.pid)
		r.steps = append(r.steps, m)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "daemonbench: %d events done, VmRSS %.1f MB\n", b.seq, mb(r.steps[len(r.steps)-1].RSS))
	}
	return nil
}

// sendOne sends one event and waits for its first and last resource, the
// delete and the next long poll.
func (b *bench) sendOne(gap bool) (sample, error) {
	b.seq++
	seq := b.seq
	if gap {
		time.Sleep(time.Duration(50+rand.IntN(100)) * time.Millisecond)
	}
	if err := b.waitPoll(*eventWait); err != nil {
		return sample{}, err
	}
	counts, _ := b.cnt.snapshot()
	deletes := counts["DeleteMessage"]
	drain(b.firstCh)
	drain(b.lastCh)
	id := fmt.Sprintf("bench-%d-%d", seq, time.Now().UnixNano())
	body := fmt.Sprintf(`{"version":1,"id":%q,"type":"configure","issued_at":%q}`, id, time.Now().UTC().Format(time.RFC3339Nano))
	t0 := time.Now()
	if _, err := b.client.SendMessage(b.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(b.queueURL), MessageBody: aws.String(body)}); err != nil {
		return sample{}, fmt.Errorf("send event %d: %w", seq, err)
	}
	s := sample{send: time.Since(t0)}
	if err := b.waitRun(&s, t0, seq, id); err != nil {
		return s, err
	}
	c, cc := context.WithTimeout(b.ctx, *eventWait)
	defer cc()
	if err := b.cnt.waitFor(c, func() bool { return b.cnt.counts["DeleteMessage"] > deletes }); err != nil {
		return s, fmt.Errorf("event %d (%s): not deleted within %s; log:\n%s", seq, id, *eventWait, b.tail())
	}
	got, err := os.ReadFile(filepath.Join(b.out, "first", "stamp"))
	if err != nil || strings.TrimSpace(string(got)) != id {
		return s, fmt.Errorf("event %d: first/stamp holds %q, want %q (%v)", seq, got, id, err)
	}
	return s, nil
}

// waitRun waits for the first and the last resource of event seq (id),
// sent at t0, and records when they ran.
func (b *bench) waitRun(s *sample, t0 time.Time, seq int, id string) error {
	timeout := time.After(*eventWait)
	select {
	case t := <-b.firstCh:
		s.first = t.Sub(t0)
	case <-timeout:
		if e := b.alive(); e != nil {
			return e
		}
		return fmt.Errorf("event %d (%s): the first resource did not run within %s; log:\n%s", seq, id, *eventWait, b.tail())
	}
	select {
	case t := <-b.lastCh:
		s.last = t.Sub(t0)
	case <-timeout:
		return fmt.Errorf("event %d (%s): the last resource did not run within %s; log:\n%s", seq, id, *eventWait, b.tail())
	}
	return nil
}

// idleWindow leaves the daemon idle for -idle and counts its requests.
func (b *bench) idleWindow(r *results) error {
	if err := b.waitPoll(*eventWait); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "daemonbench: idle for %s, counting SQS requests\n", *idleWindow)
	w0 := time.Now()
	time.Sleep(*idleWindow)
	if err := b.alive(); err != nil {
		return err
	}
	w1 := time.Now()
	r.idle = idleCount(b.cnt.requests(), w0, w1)
	return nil
}

// idleCount takes the rate over whole poll cycles: from the first long
// poll that starts in the window to the last, counting every request in
// between (the last poll belongs to the next cycle). With fewer than two
// polls in the window, over the whole window.
func idleCount(reqs []req, w0, w1 time.Time) idleStats {
	var polls []time.Time
	var inWin []req
	for _, r := range reqs {
		if r.at.Before(w0) || r.at.After(w1) {
			continue
		}
		inWin = append(inWin, r)
		if r.action == "ReceiveMessage" {
			polls = append(polls, r.at)
		}
	}
	st := idleStats{w0: w0, w1: w1, ra: w0, rb: w1}
	if len(polls) >= 2 {
		st.ra, st.rb = polls[0], polls[len(polls)-1]
		st.pollEvery = st.rb.Sub(st.ra) / time.Duration(len(polls)-1)
	}
	byAction := map[string]int{}
	for _, r := range inWin {
		if !r.at.Before(st.ra) && (r.at.Before(st.rb) || st.rb.Equal(w1)) {
			st.reqs++
			byAction[r.action]++
		}
	}
	for k, v := range byAction {
		st.detail = append(st.detail, fmt.Sprintf("%s %d", k, v))
	}
	slices.Sort(st.detail)
	return st
}
