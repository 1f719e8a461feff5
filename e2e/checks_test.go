package e2e

// What the WordPress test checks after each step.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkEFS: the stand-in is mounted by the real mount code at efsMount
// and /etc/fstab has exactly the line the efs cookbook writes for it
// (for a real EFS file system the line is
// "fs-12345678.efs.us-east-1.amazonaws.com:/ /mnt/efs nfs4 nfsvers=4.1,…,_netdev 0 0",
// checked by cookbooks' TestEFSMount).
func checkEFS(t *testing.T, device string) {
	t.Helper()
	if !mounted(efsMount) {
		t.Errorf("%s is not mounted after setup", efsMount)
	}
	want := fmt.Sprintf("%s %s none bind 0 0", device, efsMount)
	n := 0
	for _, l := range fstabLines(t) {
		if strings.Contains(l, efsMount) {
			n++
			if l != want {
				t.Errorf("fstab line %q, want %q", l, want)
			}
		}
	}
	if n != 1 {
		t.Errorf("fstab has %d lines for %s, want 1", n, efsMount)
	}
	if l, err := os.Readlink(deployTo + "/shared"); err != nil || !strings.HasSuffix(l, efsMount+"/"+app+"/shared") {
		t.Errorf("%s/shared -> %q (%v), want a link to %s/%s/shared", deployTo, l, err, efsMount, app)
	}
}

// checkServedFrom: the site serves the release current points to, whose
// marker is marker — a static file and PHP's own path.
func checkServedFrom(t *testing.T, marker string) {
	t.Helper()
	link, err := os.Readlink(deployTo + "/current")
	if err != nil {
		t.Fatalf("current: %v", err)
	}
	release := filepath.Base(link)
	if got := markerOf(t, release); got != marker {
		t.Fatalf("current is %s with marker %q, want %q", release, got, marker)
	}
	eventually(t, "serve the current release "+release, func() error {
		if body := getOK(t, "/"+markerFile); body != marker+"\n" {
			return fmt.Errorf("/%s = %q, want %q", markerFile, body, marker+"\n")
		}
		want := filepath.Join(deployTo, "releases", release, wherePHP) + "\n"
		if body := getOK(t, "/"+wherePHP); body != want {
			return fmt.Errorf("PHP runs %q, want %q", body, want)
		}
		return nil
	})
}

// markerOf reads a release's marker from disk.
func markerOf(t *testing.T, release string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployTo, "releases", release, markerFile))
	if err != nil {
		t.Fatalf("marker of %s: %v", release, err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// checkInstallPage: / redirects to WordPress's install page, which
// reached the database (an unreachable one gives "Error establishing a
// database connection" instead).
func checkInstallPage(t *testing.T) {
	t.Helper()
	status, body, final, err := get("/")
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	if strings.Contains(body, dbErrorMsg) {
		t.Fatalf("GET /: %q: WordPress does not reach MariaDB", dbErrorMsg)
	}
	if status != 200 || !strings.HasSuffix(strings.SplitN(final, "?", 2)[0], "/wp-admin/install.php") {
		t.Fatalf("GET / ended at %s with %d, want the install page\n%.1000s", final, status, body)
	}
	// The installation's first form (en_US: no language step).
	for _, s := range []string{"<title>WordPress &rsaquo; Installation</title>",
		"Welcome to the famous five-minute WordPress installation process!",
		`<form id="setup" method="post" action="install.php?step=2"`} {
		if !strings.Contains(body, s) {
			t.Fatalf("the install page has no %s\n%.2000s", s, body)
		}
	}
}

// checkUpload: the upload is served, through current, from the shared
// dir.
func checkUpload(t *testing.T, content string) {
	t.Helper()
	if body := getOK(t, uploadPath); body != content {
		t.Fatalf("%s = %q, want %q", uploadPath, body, content)
	}
}

type release struct {
	Name    string `json:"name"`
	Current bool   `json:"current"`
}

// releases lists the app's releases with `stackagent releases --json`.
func releases(t *testing.T, a *agent) []release {
	t.Helper()
	out, err := a.cli(t, "releases", app, "--json")
	if err != nil {
		t.Fatalf("stackagent releases %s --json: %v\n%s", app, err, out)
	}
	var rs []release
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("stackagent releases --json: %v\n%s", err, out)
	}
	return rs
}

func current(t *testing.T, rs []release) string {
	t.Helper()
	for _, r := range rs {
		if r.Current {
			return r.Name
		}
	}
	t.Fatalf("no current release in %+v", rs)
	return ""
}

// previous is the release before current (where a rollback goes).
func previous(t *testing.T, rs []release) string {
	t.Helper()
	for i, r := range rs {
		if r.Current && i > 0 {
			return rs[i-1].Name
		}
	}
	t.Fatalf("no release before current in %+v", rs)
	return ""
}

// checkNoPassword: the password is in no output, report or log: the
// daemon's log, the CLI's output, everything under the state dir (run
// reports, results, journal), the app's Apache logs.
func checkNoPassword(t *testing.T, password string, a *agent) {
	t.Helper()
	if strings.Contains(a.outputs.String(), password) {
		t.Errorf("the password is in the CLI's output")
	}
	files := []string{a.logPath}
	filepath.WalkDir(a.stateDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	logs, _ := filepath.Glob("/var/log/apache2/" + app + "-*.log")
	files = append(files, logs...)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("read %s: %v", f, err)
		}
		n++
		if strings.Contains(string(b), password) {
			t.Errorf("the password is in %s", f)
		}
	}
	t.Logf("the password is in none of %d output, report and log files", n)
}
