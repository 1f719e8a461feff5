package lifecycle

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInboxReleaseWaitsAndLimitsReads: a released file is not taken
// again before RetryDelay (a fault must not spin), and a file larger
// than a message is read only far enough to refuse it.
func TestInboxReleaseWaitsAndLimitsReads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := NewInboxSource(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Settle = 0
	s.RetryDelay = time.Hour
	big := `{"version":1,"id":"big","type":"setup","x":"` + strings.Repeat("y", 1<<20) + `"}`
	os.WriteFile(filepath.Join(dir, "big.json"), []byte(big), 0o644)
	msgs, _, err := s.scan()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("scan: %v %v", msgs, err)
	}
	if len(msgs[0].Body) != MaxMessageBytes+1 {
		t.Fatalf("read %d bytes of a 1 MiB file", len(msgs[0].Body))
	}
	if _, err := Parse(msgs[0].Body, testNow); !errors.Is(err, ErrRefused) {
		t.Fatalf("Parse of an oversize file: %v", err)
	}
	s.Release(context.Background(), msgs[0])
	if msgs, wait, _ := s.scan(); len(msgs) != 0 || wait <= 0 {
		t.Fatalf("released file taken again at once: %d, wait %s", len(msgs), wait)
	}
	s.mu.Lock()
	s.retry["big.json"] = time.Now().Add(-time.Second)
	s.mu.Unlock()
	if msgs, _, _ := s.scan(); len(msgs) != 1 {
		t.Fatal("released file not taken again after its delay")
	}
}
