package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackagent/stackagent/internal/archive/archivetest"
	"github.com/stackagent/stackagent/lifecycle"
)

// The audit's attacks on fetched sources, through the daemon as an
// operator (or whoever sends events) hits them.

// resultText is what a result says, for matching an error message.
func resultText(r *lifecycle.Result) string {
	if r == nil {
		return "<no result>"
	}
	return string(r.Status) + " " + r.Reason + " " + r.Output
}

// An update_custom_cookbooks archive whose template is a chain of links
// out to a secret: refused, nothing made current, the secret never read.
func TestDaemonCustomCookbooksRefuseLinkChain(t *testing.T) {
	t.Parallel()
	e := newDaemonEnv(t)
	writeTree(t, e.root, map[string]string{"secret/key.pem": "PRIVATE"})
	// Links in site/templates; six levels up from there
	// (<state>/custom-cookbooks/.fetch-X/tree/site/templates) is the root.
	entries := append(archivetest.ChainEscape(6, "site/templates/key.erb", "secret/key.pem"),
		archivetest.Entry{Name: "site/recipes/default.lua", Body: `log "x"`})
	for i := range entries[:7] {
		entries[i].Name = "site/templates/" + entries[i].Name
	}
	b, err := archivetest.TarGz(entries...)
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(e.root, "cookbooks.tar.gz")
	if err := os.WriteFile(archive, b, 0o644); err != nil {
		t.Fatal(err)
	}
	inbox := filepath.Join(e.state, "inbox")
	os.MkdirAll(inbox, 0o755)
	startDaemon(t, e.args)
	dropEvent(t, inbox, "fetch", map[string]any{"id": "fetch-chain", "type": "update_custom_cookbooks",
		"attributes": map[string]any{"stackagent": map[string]any{"custom_cookbooks": map[string]any{"type": "archive", "url": archive}}}})
	waitFor(t, "the fetch", 15*time.Second, func() bool { return readResult(t, inbox, "fetch") != nil })
	if r := readResult(t, inbox, "fetch"); r.Status != lifecycle.StatusFailed || !strings.Contains(resultText(r), "unsafe path") {
		t.Fatalf("fetch of a link chain: %s", resultText(r))
	}
	if _, err := os.Lstat(filepath.Join(e.state, "custom-cookbooks", "current")); !os.IsNotExist(err) {
		t.Fatalf("a refused archive became current: %v", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(e.state, "custom-cookbooks", ".fetch-*")); len(leftovers) > 0 {
		t.Fatalf("a refused fetch left %v", leftovers)
	}
}

// Plain http:// sources without a checksum are refused with a message
// saying where the checksum goes: custom cookbooks, and upgrade_agent's
// package_url.
func TestDaemonPlainHTTPNeedsChecksum(t *testing.T) {
	t.Parallel()
	hits := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- r.URL.Path
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	e := newDaemonEnv(t)
	inbox := filepath.Join(e.state, "inbox")
	os.MkdirAll(inbox, 0o755)
	startDaemon(t, e.args)
	dropEvent(t, inbox, "cookbooks", map[string]any{"id": "cc-http", "type": "update_custom_cookbooks",
		"attributes": map[string]any{"stackagent": map[string]any{"custom_cookbooks": map[string]any{"type": "http", "url": srv.URL + "/c.tgz"}}}})
	dropEvent(t, inbox, "upgrade", map[string]any{"id": "up-http", "type": "upgrade_agent", "agent_version": "9.9.9", "package_url": srv.URL + "/agent.deb"})
	for name, want := range map[string]string{
		"cookbooks": "stackagent.custom_cookbooks.checksum: a plain http:// source needs a checksum: add stackagent.custom_cookbooks.checksum",
		"upgrade":   "a plain http:// source needs a checksum: append #sha256=<sha256 of the package> to package_url",
	} {
		waitFor(t, "the "+name+" result", 15*time.Second, func() bool { return readResult(t, inbox, name) != nil })
		if r := readResult(t, inbox, name); r.Status != lifecycle.StatusFailed || !strings.Contains(resultText(r), want) {
			t.Fatalf("%s over plain http: %s, want %q", name, resultText(r), want)
		}
	}
	select {
	case p := <-hits:
		t.Fatalf("%s was downloaded over plain http without a checksum", p)
	default:
	}
}

// agent.yaml raises custom cookbooks' archive limits; a plain http URL
// without a checksum is a config error naming the key.
func TestConfigCustomCookbooksLimitsAndChecksum(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "agent.yaml")
	writeTree(t, dir, map[string]string{"agent.yaml": "custom_cookbooks:\n  type: s3\n  url: s3://b/c.tgz\n  max_size: 2147483648\n  max_entries: 300000\n"})
	cfg, _, err := loadConfig(p, true, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.CustomCookbooks; c.MaxSize != 2<<30 || c.MaxEntries != 300000 {
		t.Fatalf("limits %d, %d", c.MaxSize, c.MaxEntries)
	}
	writeTree(t, dir, map[string]string{"agent.yaml": "custom_cookbooks:\n  type: http\n  url: http://h/c.tgz\n"})
	if _, _, err := loadConfig(p, true, func(string) string { return "" }, nil); err == nil || !strings.Contains(err.Error(), "custom_cookbooks.checksum: a plain http:// source needs a checksum") {
		t.Fatalf("plain http in agent.yaml: %v", err)
	}
}
